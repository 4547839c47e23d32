# The production root's own refusals, planned against a mock AWS provider:
# `terraform -chdir=terraform test`. What it deploys (the keys on every
# resource, retention, the refused key input) is checked on its plan against
# moto (tests/tests/terraform_apply.rs).

mock_provider "aws" {
  mock_resource "aws_kinesis_stream" {
    defaults = { arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/mocked" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mocked" }
  }
  mock_resource "aws_lambda_alias" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mocked:live" }
  }
}

variables {
  region                         = "eu-west-1"
  lambda_zip_path                = "modules/stack/tests/fixture.zip"
  name_prefix                    = "prod-"
  kms_key_arn                    = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001"
  momento_api_key_parameter_arn  = "arn:aws:ssm:eu-west-1:123456789012:parameter/prod-kinesis-consumer-model-one/momento-api-key"
  reserved_concurrent_executions = 10
  alarm_sns_topic_arns           = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
}

run "the_production_root_is_the_hardened_configuration" {
  command = plan

  assert {
    condition = (
      module.stack.stream_name == "prod-model-one-stream" &&
      module.stack.function_name == "prod-kinesis-consumer-model-one-rust" &&
      module.stack.cache_name == "prod-sample-a" &&
      module.stack.parameter_arn == var.momento_api_key_parameter_arn
    )
    error_message = "the stage's prefix must reach every name, the cache's included, and the key parameter must be the one given"
  }
}

run "an_unprefixed_stage_is_refused" {
  command = plan
  variables { name_prefix = "" }
  expect_failures = [var.name_prefix]
}

run "an_alias_is_refused_as_the_key" {
  command = plan
  variables { kms_key_arn = "alias/aws/kinesis" }
  expect_failures = [var.kms_key_arn]
}

run "no_reserved_concurrency_is_refused" {
  command = plan
  variables { reserved_concurrent_executions = 0 }
  expect_failures = [var.reserved_concurrent_executions]
}

run "unreserved_concurrency_is_refused" {
  command = plan
  variables { reserved_concurrent_executions = null }
  expect_failures = [var.reserved_concurrent_executions]
}

run "alarms_that_notify_nobody_are_refused" {
  command = plan
  variables { alarm_sns_topic_arns = [] }
  expect_failures = [var.alarm_sns_topic_arns]
}
