# The production root's own refusals, planned against a mock AWS provider:
# `terraform -chdir=terraform test`.

mock_provider "aws" {}

variables {
  region               = "eu-west-1"
  lambda_zip_path      = "modules/stack/tests/fixture.zip"
  alarm_sns_topic_arns = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
  momento_api_key      = "not-a-real-key"
}

run "a_deployer_who_chose_region_and_alarm_destinations_plans" {
  command = plan

  assert {
    condition     = output.stack.stream_name == "model-one-stream" && output.stack.parameter_name == "/kinesis-consumer-model-one/momento-api-key"
    error_message = "the stack's default names changed"
  }
}

run "a_prefix_and_a_key_kept_by_arn_reach_the_stack" {
  command = plan
  variables {
    name_prefix                   = "prod-"
    momento_api_key               = null
    momento_api_key_parameter_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/momento-api-key"
  }

  assert {
    condition     = output.stack.function_name == "prod-kinesis-consumer-model-one-rust" && output.stack.parameter_arn == "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/momento-api-key"
    error_message = "the root's choices did not reach the stack"
  }
}

run "alarms_that_notify_nobody_are_refused" {
  command = plan
  variables { alarm_sns_topic_arns = [] }
  expect_failures = [var.alarm_sns_topic_arns]
}

run "the_out_of_band_mode_is_refused_with_the_move_that_keeps_the_key" {
  command = plan
  variables { momento_api_key_managed_out_of_band = true }
  expect_failures = [var.momento_api_key_managed_out_of_band]
}
