# Every input validation of the stack refuses its bad input with its message,
# planned against a mock AWS provider (no emulator, no account):
# `terraform -chdir=terraform/modules/stack test`.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # Policies are rendered by the provider; any valid document will do here.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  lambda_zip_path = "tests/fixture.zip"
  momento_api_key = "not-a-real-key"
}

run "customer_managed_key_arns_are_accepted" {
  command = plan

  variables {
    stream_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001"
    table_kms_key_arn           = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000002"
    momento_api_key_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-0a1b2c3d00004000800000000003"
    log_group_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000004"
    queue_kms_key_arn           = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000005"
  }
}

run "an_alias_is_refused_as_the_stream_key" {
  command = plan
  variables { stream_kms_key_arn = "alias/my-key" }
  expect_failures = [var.stream_kms_key_arn]
}

run "an_alias_arn_is_refused_as_the_table_key" {
  command = plan
  variables { table_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/my-key" }
  expect_failures = [var.table_kms_key_arn]
}

run "an_alias_is_refused_as_the_parameter_key" {
  command = plan
  variables { momento_api_key_kms_key_arn = "alias/aws/ssm" }
  expect_failures = [var.momento_api_key_kms_key_arn]
}

run "a_key_id_is_refused_as_the_log_group_key" {
  command = plan
  variables { log_group_kms_key_arn = "0a1b2c3d-0000-4000-8000-000000000004" }
  expect_failures = [var.log_group_kms_key_arn]
}

run "an_alias_is_refused_as_the_queue_key" {
  command = plan
  variables { queue_kms_key_arn = "alias/queues" }
  expect_failures = [var.queue_kms_key_arn]
}

run "a_prefix_that_would_break_a_name_is_refused" {
  command = plan
  variables { name_prefix = "Prod_" }
  expect_failures = [var.name_prefix]
}

run "a_role_name_over_64_characters_is_refused" {
  command = plan
  variables {
    name_prefix   = "staging-"
    function_name = "a-function-name-long-enough-to-make-the-role-too-long-x"
  }
  expect_failures = [var.function_name]
}

run "alarms_looking_back_more_than_a_day_are_refused" {
  command = plan
  variables {
    alarm_period_seconds     = 3600
    alarm_evaluation_periods = 25
  }
  expect_failures = [var.alarm_evaluation_periods]
}

run "a_fractional_reserved_concurrency_is_refused" {
  command = plan
  variables { lambda_reserved_concurrent_executions = 2.5 }
  expect_failures = [var.lambda_reserved_concurrent_executions]
}

run "the_prefix_reaches_every_name" {
  command = plan
  variables { name_prefix = "stage-b-" }

  assert {
    condition     = module.stream.stream_name == "stage-b-model-one-stream"
    error_message = "the stream is not prefixed"
  }
  assert {
    condition     = module.table.table_name == "stage-b-Locations"
    error_message = "the table is not prefixed"
  }
  assert {
    condition     = module.api_key[0].parameter_name == "/stage-b-kinesis-consumer-model-one/momento-api-key"
    error_message = "the parameter is not prefixed"
  }
  assert {
    condition     = module.consumer.function_name == "stage-b-kinesis-consumer-model-one-rust"
    error_message = "the function is not prefixed"
  }
  assert {
    condition     = module.consumer.dlq_name == "stage-b-kinesis-consumer-model-one-dlq"
    error_message = "the dead-letter queue is not prefixed"
  }
}
