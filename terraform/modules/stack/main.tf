# The whole production stack, without provider configuration, so that the
# production root (terraform/) and the emulator root (terraform/local/) deploy
# exactly the same resources through their own providers.

locals {
  # Every named resource carries the stage's prefix, so stages share an
  # account and region without colliding (IAM policies name the resources
  # by these names, so they are scoped by the prefix too).
  names = {
    stream     = "${var.name_prefix}${var.stream_name}"
    table      = "${var.name_prefix}${var.table_name}"
    parameter  = startswith(var.momento_api_key_parameter_name, "/") ? "/${var.name_prefix}${trimprefix(var.momento_api_key_parameter_name, "/")}" : "${var.name_prefix}${var.momento_api_key_parameter_name}"
    function   = "${var.name_prefix}${var.function_name}"
    dlq        = "${var.name_prefix}${var.dlq_name}"
    on_failure = "${var.name_prefix}${var.on_failure_queue_name}"
  }
}

module "stream" {
  source = "../stream"

  name                   = local.names.stream
  stream_mode            = var.stream_mode
  shard_count            = var.stream_shard_count
  retention_period_hours = var.stream_retention_period_hours
  kms_key_id             = coalesce(var.stream_kms_key_arn, "alias/aws/kinesis")

  tags = var.tags
}

module "table" {
  source = "../table"

  name                           = local.names.table
  hash_key                       = var.table_hash_key
  point_in_time_recovery_enabled = var.table_point_in_time_recovery_enabled
  kms_key_arn                    = var.table_kms_key_arn
  deletion_protection_enabled    = var.table_deletion_protection_enabled
  seed_items                     = var.seed_items

  tags = var.tags
}

# The Momento key's parameter, unless the caller brings its own.
module "api_key" {
  source = "../api-key"
  count  = var.momento_api_key_parameter_arn == null ? 1 : 0

  name          = local.names.parameter
  description   = var.momento_api_key_parameter_description
  value         = var.momento_api_key
  value_version = var.momento_api_key_version
  kms_key_id    = var.momento_api_key_kms_key_arn

  tags = var.tags
}

moved {
  from = module.api_key
  to   = module.api_key[0]
}

locals {
  # SSM's GetParameter takes the ARN as a name, so an existing parameter is
  # passed to the consumer by its ARN.
  api_key_parameter_arn  = coalesce(var.momento_api_key_parameter_arn, one(module.api_key[*].parameter_arn))
  api_key_parameter_name = var.momento_api_key_parameter_arn != null ? var.momento_api_key_parameter_arn : one(module.api_key[*].parameter_name)
}

module "consumer" {
  source = "../consumer"

  function_name                  = local.names.function
  lambda_zip_path                = var.lambda_zip_path
  architecture                   = var.lambda_architecture
  memory_size                    = var.lambda_memory_size
  timeout                        = var.lambda_timeout
  reserved_concurrent_executions = var.lambda_reserved_concurrent_executions
  tracing_mode                   = var.lambda_tracing_mode
  rust_log                       = var.rust_log
  extra_environment_variables    = var.extra_environment_variables
  metrics_namespace              = var.metrics_namespace
  role_permissions_boundary_arn  = var.role_permissions_boundary_arn
  log_retention_in_days          = var.log_retention_in_days
  log_group_kms_key_arn          = var.log_group_kms_key_arn

  stream_arn             = module.stream.stream_arn
  stream_kms_key_arn     = var.stream_kms_key_arn
  table_name             = module.table.table_name
  table_arn              = module.table.table_arn
  table_kms_key_arn      = var.table_kms_key_arn
  cache_name             = var.momento_cache_name
  api_key_parameter_name = local.api_key_parameter_name
  api_key_parameter_arn  = local.api_key_parameter_arn
  api_key_kms_key_arn    = var.momento_api_key_kms_key_arn

  dlq_name                      = local.names.dlq
  on_failure_queue_name         = local.names.on_failure
  dlq_message_retention_seconds = var.dlq_message_retention_seconds
  queue_kms_key_arn             = var.queue_kms_key_arn

  event_source_mapping_enabled = var.event_source_mapping_enabled

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  starting_position                  = var.starting_position
  starting_position_timestamp        = var.starting_position_timestamp
  bisect_batch_on_function_error     = var.bisect_batch_on_function_error
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  parallelization_factor             = var.parallelization_factor
  tumbling_window_in_seconds         = var.tumbling_window_in_seconds
  filter_criteria                    = var.filter_criteria
  metrics_config                     = var.metrics_config
  enhanced_fan_out                   = var.enhanced_fan_out

  alarm_sns_topic_arns            = var.alarm_sns_topic_arns
  alarm_period_seconds            = var.alarm_period_seconds
  alarm_evaluation_periods        = var.alarm_evaluation_periods
  iterator_age_alarm_threshold_ms = var.iterator_age_alarm_threshold_ms
  errors_alarm_threshold          = var.errors_alarm_threshold
  momento_errors_alarm_threshold  = var.momento_errors_alarm_threshold

  tags = var.tags
}
