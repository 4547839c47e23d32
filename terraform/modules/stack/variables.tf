# Inputs of the whole stack. Defaults are the project's names and settings;
# the root modules (terraform/ and terraform/local/) declare the same defaults,
# and .ci/terraform-check.sh fails if they drift apart.

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip (cargo lambda's bootstrap.zip). Resolved by the calling root module."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# --- Stream -----------------------------------------------------------------------

variable "stream_name" {
  description = "Name of the Kinesis data stream the producer writes to."
  type        = string
  default     = "model-one-stream"
}

variable "stream_mode" {
  description = "Capacity mode of the stream. Valid values: `ON_DEMAND`, `PROVISIONED` (uses `stream_shard_count`)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "stream_shard_count" {
  description = "Shards of a `PROVISIONED` stream (1 or more); ignored for `ON_DEMAND`."
  type        = number
  default     = 1
}

variable "stream_retention_period_hours" {
  description = "Stream retention in hours (24-8760)."
  type        = number
  default     = 24
}

variable "stream_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the stream, or `null` for the AWS-managed `alias/aws/kinesis`."
  type        = string
  default     = null
}

# --- Table ------------------------------------------------------------------------

variable "table_name" {
  description = "Name of the DynamoDB table of locations."
  type        = string
  default     = "Locations"
}

variable "table_hash_key" {
  description = "Partition key (type S) of the locations table."
  type        = string
  default     = "location"
}

variable "table_point_in_time_recovery_enabled" {
  description = "Whether point-in-time recovery is on for the table. Valid values: `true`, `false`."
  type        = bool
  default     = true
}

variable "table_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the table, or `null` for the AWS-managed `aws/dynamodb` key (SSE is on either way)."
  type        = string
  default     = null
}

variable "table_deletion_protection_enabled" {
  description = "Whether the table refuses deletion until this is turned off. Valid values: `true`, `false`."
  type        = bool
  default     = false
}

variable "seed_items" {
  description = "Items written into the table: one per distinct `location`, with optional `description` and `notes`. `[]` writes none. Default: the sample locations Car, Diner and House."
  type = list(object({
    location    = string
    description = optional(string)
    notes       = optional(string)
  }))
  default = [
    { location = "Car", description = "Car description", notes = "Car notes" },
    { location = "Diner", description = "Diner description", notes = "Diner notes" },
    { location = "House", description = "House description", notes = "House notes" },
  ]
}

# --- Momento API key and cache ---------------------------------------------------

variable "momento_api_key_parameter_name" {
  description = "Name of the SSM SecureString holding the Momento API key."
  type        = string
  default     = "/kinesis-consumer-model-one/momento-api-key"
}

variable "momento_api_key" {
  description = "The Momento API key, written into the SecureString. Required unless `momento_api_key_managed_out_of_band` is `true`. Pass it with TF_VAR_momento_api_key; never commit it (it is stored in the state, so keep the state encrypted)."
  type        = string
  default     = null
  sensitive   = true
}

variable "momento_api_key_managed_out_of_band" {
  description = "`true`: Terraform creates the parameter with a placeholder and ignores its value afterwards (set the key with `aws ssm put-parameter --overwrite`); `false`: Terraform writes `momento_api_key`."
  type        = bool
  default     = false
}

variable "momento_api_key_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the SecureString, or `null` for the AWS-managed `aws/ssm` key."
  type        = string
  default     = null
}

variable "momento_cache_name" {
  description = "Name of the Momento cache the consumer reads through (the CACHE_NAME environment variable)."
  type        = string
  default     = "sample-a"
}

# --- Consumer Lambda ----------------------------------------------------------------

variable "function_name" {
  description = "Name of the consumer Lambda function."
  type        = string
  default     = "kinesis-consumer-model-one-rust"
}

variable "lambda_architecture" {
  description = "Instruction set of the function; must match the zip. Valid values: `arm64`, `x86_64`."
  type        = string
  default     = "arm64"
}

variable "lambda_memory_size" {
  description = "Memory of the function in MB (128-10240)."
  type        = number
  default     = 256
}

variable "lambda_timeout" {
  description = "Timeout of one invocation in seconds (1-900)."
  type        = number
  default     = 30
}

variable "lambda_reserved_concurrent_executions" {
  description = "Reserved concurrency of the function: `null` (unreserved), `0` (stopped) or a positive cap."
  type        = number
  default     = null
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing mode. Valid values: `PassThrough`, `Active`."
  type        = string
  default     = "PassThrough"
}

variable "rust_log" {
  description = "RUST_LOG filter of the consumer (e.g. `info`, `debug`, `lambda=debug,info`)."
  type        = string
  default     = "info"
}

variable "extra_environment_variables" {
  description = "Additional environment variables for the function; its own keys (TABLE_NAME, CACHE_NAME, MOMENTO_API_KEY_PARAMETER, DLQ_URL, RUST_LOG) take precedence."
  type        = map(string)
  default     = {}
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group. Valid values: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 30
}

variable "dlq_name" {
  description = "Name of the SQS dead-letter queue (poison records, exhausted batches, failed async invocations)."
  type        = string
  default     = "kinesis-consumer-model-one-dlq"
}

# --- Event-source mapping --------------------------------------------------------

variable "batch_size" {
  description = "Records per invocation (1-10000)."
  type        = number
  default     = 10
}

variable "maximum_batching_window_in_seconds" {
  description = "How long the mapping may wait to fill a batch, in seconds (0-300)."
  type        = number
  default     = 0
}

variable "starting_position" {
  description = "Where a new mapping starts reading. Valid values: `LATEST`, `TRIM_HORIZON`, `AT_TIMESTAMP`."
  type        = string
  default     = "LATEST"
}

variable "starting_position_timestamp" {
  description = "RFC 3339 start time when `starting_position` is `AT_TIMESTAMP`; ignored otherwise."
  type        = string
  default     = null
}

variable "bisect_batch_on_function_error" {
  description = "Whether a failed batch is split in two and retried. Valid values: `true`, `false`."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed batch before it goes to the DLQ: -1 (until expiry) or 0-10000."
  type        = number
  default     = 5
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this go to the DLQ: -1 (never) or 60-604800."
  type        = number
  default     = 3600
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10)."
  type        = number
  default     = 1
}

# --- Alarms -------------------------------------------------------------------------

variable "alarm_sns_topic_arns" {
  description = "SNS topic ARNs notified by the iterator-age, DLQ-depth and errors alarms. `[]` creates the alarms without actions."
  type        = list(string)
  default     = []
}

variable "iterator_age_alarm_threshold_ms" {
  description = "IteratorAge in milliseconds above which the consumer counts as falling behind."
  type        = number
  default     = 60000
}
