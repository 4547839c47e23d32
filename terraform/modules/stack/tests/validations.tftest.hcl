# Every check of the stack's interface refuses its bad input, planned against
# a mock AWS provider (no emulator, no account):
# `terraform -chdir=terraform/modules/stack test`.

mock_provider "aws" {}

variables {
  lambda_zip_path = "tests/fixture.zip"
  momento_api_key = "not-a-real-key"
}

run "customer_managed_key_arns_are_accepted" {
  command = plan
  variables {
    stream = { kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001" }
    table  = { kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000002" }
    key    = { kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-0a1b2c3d00004000800000000003" }
    lambda = { log_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000004", environment_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000006" }
    queues = { kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000005" }
  }
}

# --- naming ---------------------------------------------------------------------

run "a_prefix_that_would_break_a_name_is_refused" {
  command = plan
  variables { naming = { prefix = "Prod_" } }
  expect_failures = [var.naming]
}

run "a_role_name_over_64_characters_is_refused" {
  command = plan
  variables { naming = { prefix = "staging-", function = "a-function-name-long-enough-to-make-the-role-too-long-x" } }
  expect_failures = [var.naming]
}

run "a_queue_name_sqs_refuses_is_refused" {
  command = plan
  variables { naming = { dlq = "dead letters" } }
  expect_failures = [var.naming]
}

run "a_table_name_too_short_is_refused" {
  command = plan
  variables { naming = { table = "ab" } }
  expect_failures = [var.naming]
}

run "a_parameter_name_with_a_space_is_refused" {
  command = plan
  variables { naming = { parameter = "/momento key" } }
  expect_failures = [var.naming]
}

# --- stream -----------------------------------------------------------------------

run "an_unknown_stream_mode_is_refused" {
  command = plan
  variables { stream = { mode = "SERVERLESS" } }
  expect_failures = [var.stream]
}

run "a_retention_under_a_day_is_refused" {
  command = plan
  variables { stream = { retention_period_hours = 12 } }
  expect_failures = [var.stream]
}

run "an_alias_is_refused_as_the_stream_key" {
  command = plan
  variables { stream = { kms_key_arn = "alias/my-key" } }
  expect_failures = [var.stream]
}

# --- table ------------------------------------------------------------------------

run "two_seed_items_with_one_location_are_refused" {
  command = plan
  variables { table = { seed_items = [{ location = "Car" }, { location = "Car" }] } }
  expect_failures = [var.table]
}

run "an_alias_arn_is_refused_as_the_table_key" {
  command = plan
  variables { table = { kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/my-key" } }
  expect_failures = [var.table]
}

# --- key --------------------------------------------------------------------------

run "a_key_parameter_arn_of_another_service_is_refused" {
  command = plan
  variables { key = { parameter_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:momento" } }
  expect_failures = [var.key]
}

run "an_alias_is_refused_as_the_parameter_key" {
  command = plan
  variables { key = { kms_key_arn = "alias/aws/ssm" } }
  expect_failures = [var.key]
}

run "an_unknown_tier_is_refused" {
  command = plan
  variables { key = { tier = "Premium" } }
  expect_failures = [var.key]
}

# --- lambda -----------------------------------------------------------------------

run "an_unknown_architecture_is_refused" {
  command = plan
  variables { lambda = { architecture = "aarch64" } }
  expect_failures = [var.lambda]
}

run "a_timeout_over_15_minutes_is_refused" {
  command = plan
  variables { lambda = { timeout = 901 } }
  expect_failures = [var.lambda]
}

run "a_fractional_reserved_concurrency_is_refused" {
  command = plan
  variables { lambda = { reserved_concurrent_executions = 2.5 } }
  expect_failures = [var.lambda]
}

run "a_retention_cloudwatch_does_not_offer_is_refused" {
  command = plan
  variables { lambda = { log_retention_in_days = 10 } }
  expect_failures = [var.lambda]
}

run "a_key_id_is_refused_as_the_log_group_key" {
  command = plan
  variables { lambda = { log_kms_key_arn = "0a1b2c3d-0000-4000-8000-000000000004" } }
  expect_failures = [var.lambda]
}

# --- queues -----------------------------------------------------------------------

run "a_retention_over_14_days_is_refused" {
  command = plan
  variables { queues = { message_retention_seconds = 1209601 } }
  expect_failures = [var.queues]
}

run "an_alias_is_refused_as_the_queue_key" {
  command = plan
  variables { queues = { kms_key_arn = "alias/queues" } }
  expect_failures = [var.queues]
}

# --- mapping ----------------------------------------------------------------------

run "a_batch_over_10000_records_is_refused" {
  command = plan
  variables { mapping = { batch_size = 10001 } }
  expect_failures = [var.mapping]
}

run "at_timestamp_without_a_timestamp_is_refused" {
  command = plan
  variables { mapping = { starting_position = "AT_TIMESTAMP" } }
  expect_failures = [var.mapping]
}

run "a_parallelization_factor_over_10_is_refused" {
  command = plan
  variables { mapping = { parallelization_factor = 11 } }
  expect_failures = [var.mapping]
}

run "a_record_age_past_the_streams_retention_is_refused" {
  command = plan
  variables { mapping = { maximum_record_age_in_seconds = 86400 } }
  expect_failures = [var.mapping]
}

run "an_unknown_metrics_group_is_refused" {
  command = plan
  variables { mapping = { metrics_config = ["Everything"] } }
  expect_failures = [var.mapping]
}

run "no_metrics_config_is_refused_while_the_dropped_events_alarm_reads_it" {
  command = plan
  variables { mapping = { metrics_config = [] } }
  expect_failures = [var.mapping]
}

run "retries_and_age_both_unbounded_are_refused" {
  command = plan
  variables { mapping = { maximum_retry_attempts = -1, maximum_record_age_in_seconds = -1 } }
  expect_failures = [var.mapping]
}

run "one_bound_is_enough" {
  command = plan
  variables { mapping = { maximum_retry_attempts = 10, maximum_record_age_in_seconds = -1 } }
}

run "a_filter_that_is_not_json_is_refused" {
  command = plan
  variables { mapping = { filter_criteria = ["data.read_location = Car"] } }
  expect_failures = [var.mapping]
}

# --- alarms -----------------------------------------------------------------------

run "an_alarm_destination_that_is_not_a_topic_is_refused" {
  command = plan
  variables { alarms = { sns_topic_arns = ["oncall@example.com"] } }
  expect_failures = [var.alarms]
}

run "alarms_looking_back_more_than_a_day_are_refused" {
  command = plan
  variables { alarms = { period_seconds = 3600, evaluation_periods = 25 } }
  expect_failures = [var.alarms]
}

run "a_negative_threshold_is_refused" {
  command = plan
  variables { alarms = { errors_threshold = -1 } }
  expect_failures = [var.alarms]
}
