# Inputs of the consumer. No defaults and no validations here, on purpose:
# the module is used only through modules/stack, whose typed objects hold
# every default and every check once (see README.md). The object types below
# are the stack's, without `optional`.

variable "function_name" {
  description = "Name of the function (with the stage's prefix); its role is `<name>-role`, its log group `/aws/lambda/<name>`, its alarms `<name>-...`, its dashboard `<name>`."
  type        = string
}

variable "lambda_zip_path" {
  description = "Path of the deployment zip (cargo lambda's bootstrap.zip)."
  type        = string
}

variable "lambda" {
  description = "The function and its log group: the stack's `lambda` object."
  type = object({
    architecture                   = string
    memory_size                    = number
    timeout                        = number
    reserved_concurrent_executions = number
    tracing_mode                   = string
    rust_log                       = string
    extra_environment_variables    = map(string)
    metrics_namespace              = string
    permissions_boundary_arn       = string
    log_retention_in_days          = number
    log_kms_key_arn                = string
    environment_kms_key_arn        = string
  })
}

variable "stream_arn" {
  description = "ARN of the Kinesis stream the mapping reads (its partition, region and account place every other ARN of the module)."
  type        = string
}

variable "stream_kms_key_arn" {
  description = "The stream's customer managed key, or `null` for the AWS-managed one."
  type        = string
}

variable "stream_retention_hours" {
  description = "How long the stream keeps records: the on-failure queue's age alarm fires at half of it, while its pointers can still be redriven."
  type        = number
}

variable "table_name" {
  description = "Name of the locations table (TABLE_NAME)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the locations table."
  type        = string
}

variable "table_kms_key_arn" {
  description = "The table's customer managed key, or `null` for the AWS-managed one."
  type        = string
}

variable "cache_name" {
  description = "Name of the Momento cache (CACHE_NAME)."
  type        = string
}

variable "api_key_parameter_name" {
  description = "Name (or ARN) of the SecureString the consumer reads the Momento key from (MOMENTO_API_KEY_PARAMETER)."
  type        = string
}

variable "api_key_parameter_arn" {
  description = "ARN of that SecureString (the role's ssm:GetParameter resource and kms:Decrypt encryption context)."
  type        = string
}

variable "api_key_kms_key_arn" {
  description = "The SecureString's customer managed key, or `null` for the AWS-managed `aws/ssm`."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue."
  type        = string
}

variable "on_failure_queue_name" {
  description = "Name of the queue receiving the mapping's invocation records."
  type        = string
}

variable "queues" {
  description = "Both queues' retention and key: the stack's `queues` object."
  type = object({
    message_retention_seconds = number
    kms_key_arn               = string
    dlq_max_message_size      = number
  })
}

variable "mapping" {
  description = "The event-source mapping's settings: the stack's `mapping` object."
  type = object({
    enabled                            = bool
    batch_size                         = number
    maximum_batching_window_in_seconds = number
    starting_position                  = string
    starting_position_timestamp        = string
    bisect_batch_on_function_error     = bool
    maximum_retry_attempts             = number
    maximum_record_age_in_seconds      = number
    parallelization_factor             = number
    tumbling_window_in_seconds         = number
    filter_criteria                    = list(string)
    metrics_config                     = list(string)
    enhanced_fan_out                   = bool
  })
}

variable "alarms" {
  description = "The alarms' destinations, periods and thresholds: the stack's `alarms` object."
  type = object({
    sns_topic_arns            = list(string)
    period_seconds            = number
    evaluation_periods        = number
    iterator_age_threshold_ms = number
    errors_threshold          = number
    momento_errors_threshold  = number
  })
}

variable "tags" {
  description = "Tags added to every resource of this module (on top of the provider's default_tags)."
  type        = map(string)
}
