# The production root's own refusals, planned against a mock AWS provider:
# `terraform -chdir=terraform test`.

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
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  region               = "eu-west-1"
  lambda_zip_path      = "modules/stack/tests/fixture.zip"
  alarm_sns_topic_arns = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
  momento_api_key      = "not-a-real-key"
}

run "a_deployer_who_chose_region_and_alarm_destinations_plans" {
  command = plan

  assert {
    condition     = output.stream_name == "model-one-stream"
    error_message = "the default names changed"
  }
}

run "alarms_that_notify_nobody_are_refused" {
  command = plan
  variables { alarm_sns_topic_arns = [] }
  expect_failures = [var.alarm_sns_topic_arns]
}

run "an_alarm_destination_that_is_not_a_topic_is_refused" {
  command = plan
  variables { alarm_sns_topic_arns = ["oncall@example.com"] }
  expect_failures = [var.alarm_sns_topic_arns]
}

run "the_out_of_band_mode_is_refused_with_the_move_that_keeps_the_key" {
  command = plan
  variables { momento_api_key_managed_out_of_band = true }
  expect_failures = [var.momento_api_key_managed_out_of_band]
}
