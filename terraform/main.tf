# Production root module: the AWS provider (providers.tf) plus the stack.
#
# Everything deployable lives in modules/stack, which has no provider block, so
# terraform/local/ can deploy the very same stack against an emulator with its
# own provider configuration, without touching anything here.

locals {
  # Relative zip paths are relative to this directory, whatever the caller's cwd.
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"
}

module "stack" {
  source = "./modules/stack"

  lambda_zip_path                       = local.lambda_zip_path
  name_prefix                           = var.name_prefix
  stream_name                           = var.stream_name
  stream_mode                           = var.stream_mode
  stream_shard_count                    = var.stream_shard_count
  stream_retention_period_hours         = var.stream_retention_period_hours
  stream_kms_key_arn                    = var.stream_kms_key_arn
  table_name                            = var.table_name
  table_hash_key                        = var.table_hash_key
  table_point_in_time_recovery_enabled  = var.table_point_in_time_recovery_enabled
  table_kms_key_arn                     = var.table_kms_key_arn
  table_deletion_protection_enabled     = var.table_deletion_protection_enabled
  seed_items                            = var.seed_items
  momento_api_key_parameter_name        = var.momento_api_key_parameter_name
  momento_api_key_parameter_description = var.momento_api_key_parameter_description
  momento_api_key                       = var.momento_api_key
  momento_api_key_version               = var.momento_api_key_version
  momento_api_key_parameter_arn         = var.momento_api_key_parameter_arn
  momento_api_key_kms_key_arn           = var.momento_api_key_kms_key_arn
  momento_cache_name                    = var.momento_cache_name
  function_name                         = var.function_name
  lambda_architecture                   = var.lambda_architecture
  lambda_memory_size                    = var.lambda_memory_size
  lambda_timeout                        = var.lambda_timeout
  lambda_reserved_concurrent_executions = var.lambda_reserved_concurrent_executions
  lambda_tracing_mode                   = var.lambda_tracing_mode
  rust_log                              = var.rust_log
  extra_environment_variables           = var.extra_environment_variables
  metrics_namespace                     = var.metrics_namespace
  role_permissions_boundary_arn         = var.role_permissions_boundary_arn
  log_retention_in_days                 = var.log_retention_in_days
  log_group_kms_key_arn                 = var.log_group_kms_key_arn
  dlq_name                              = var.dlq_name
  on_failure_queue_name                 = var.on_failure_queue_name
  dlq_message_retention_seconds         = var.dlq_message_retention_seconds
  queue_kms_key_arn                     = var.queue_kms_key_arn
  event_source_mapping_enabled          = var.event_source_mapping_enabled
  batch_size                            = var.batch_size
  maximum_batching_window_in_seconds    = var.maximum_batching_window_in_seconds
  starting_position                     = var.starting_position
  starting_position_timestamp           = var.starting_position_timestamp
  bisect_batch_on_function_error        = var.bisect_batch_on_function_error
  maximum_retry_attempts                = var.maximum_retry_attempts
  maximum_record_age_in_seconds         = var.maximum_record_age_in_seconds
  tumbling_window_in_seconds            = var.tumbling_window_in_seconds
  filter_criteria                       = var.filter_criteria
  metrics_config                        = var.metrics_config
  enhanced_fan_out                      = var.enhanced_fan_out
  parallelization_factor                = var.parallelization_factor
  alarm_sns_topic_arns                  = var.alarm_sns_topic_arns
  alarm_period_seconds                  = var.alarm_period_seconds
  alarm_evaluation_periods              = var.alarm_evaluation_periods
  iterator_age_alarm_threshold_ms       = var.iterator_age_alarm_threshold_ms
  errors_alarm_threshold                = var.errors_alarm_threshold
  momento_errors_alarm_threshold        = var.momento_errors_alarm_threshold
}
