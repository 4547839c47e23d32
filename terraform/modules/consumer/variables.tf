# --- Function -----------------------------------------------------------------

variable "function_name" {
  description = "Name of the Lambda function (1-64 characters: letters, digits, `-`, `_`). Also names its log group `/aws/lambda/<name>`, role and alarms."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' or '_'."
  }
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
  default     = "Kinesis consumer: enriches ModelOne records through a Momento read-through cache over DynamoDB"
}

variable "lambda_zip_path" {
  description = "Path of the deployment zip holding the `bootstrap` executable (cargo lambda's `target/lambda/bootstrap/bootstrap.zip`). Relative paths resolve against the directory Terraform runs in."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the function. Valid values: `arm64` (Graviton, cheaper per GB-s) or `x86_64`; must match the zip."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240); CPU scales with it."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "timeout" {
  description = "Maximum run time of one invocation (one batch), in seconds (1-900)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency: `null` (default) leaves the function unreserved, `0` stops it, a positive number caps and guarantees it."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null ? true : var.reserved_concurrent_executions >= 0
    error_message = "reserved_concurrent_executions must be null or 0 and above."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing. Valid values: `PassThrough` (default; traces only when the caller sampled) or `Active` (adds xray:PutTraceSegments/PutTelemetryRecords to the role)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "rust_log" {
  description = "RUST_LOG filter for the consumer's tracing subscriber, e.g. `info`, `warn`, `lambda=debug,info`."
  type        = string
  default     = "info"
}

variable "extra_environment_variables" {
  description = "Additional environment variables (e.g. `L1_TTL_SECONDS`, `MOMENTO_TIMEOUT_MS`). The consumer's own keys (TABLE_NAME, CACHE_NAME, MOMENTO_API_KEY_PARAMETER, DLQ_URL, RUST_LOG, METRICS_NAMESPACE) always take precedence."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the consumer's EMF metrics (the METRICS_NAMESPACE environment variable); the consumer alarms read them from here, by FunctionName."
  type        = string
  default     = "KinesisConsumer"
}

# --- What the function reads ------------------------------------------------------

variable "stream_arn" {
  description = "ARN of the Kinesis stream to consume."
  type        = string
}

variable "stream_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the stream, or `null` for the AWS-managed `aws/kinesis` key."
  type        = string
  default     = null
}

variable "table_name" {
  description = "Name of the DynamoDB locations table (the TABLE_NAME environment variable)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the DynamoDB locations table."
  type        = string
}

variable "table_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the table, or `null` for the AWS-managed `aws/dynamodb` key (needs no IAM grant)."
  type        = string
  default     = null
}

variable "cache_name" {
  description = "Name of the Momento cache (the CACHE_NAME environment variable)."
  type        = string
}

variable "api_key_parameter_name" {
  description = "Name of the SSM SecureString holding the Momento API key (the MOMENTO_API_KEY_PARAMETER environment variable)."
  type        = string
}

variable "api_key_parameter_arn" {
  description = "ARN of that SSM parameter."
  type        = string
}

variable "api_key_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the parameter, or `null` for the AWS-managed `aws/ssm` key."
  type        = string
  default     = null
}

# --- IAM ------------------------------------------------------------------------------

variable "role_name" {
  description = "Name of the execution role. `null` (default) uses `<function_name>-role`."
  type        = string
  default     = null
}

variable "role_permissions_boundary_arn" {
  description = "ARN of a permissions boundary policy for the execution role, or `null` for none."
  type        = string
  default     = null
}

# --- Logs -----------------------------------------------------------------------------

variable "log_retention_in_days" {
  description = "Retention of the `/aws/lambda/<function_name>` log group. Valid values: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of the values CloudWatch Logs accepts."
  }
}

variable "log_group_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the log group (its key policy must allow logs.<region>.amazonaws.com), or `null` for CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

# --- Dead-letter queue -----------------------------------------------------------

variable "dlq_name" {
  description = "Name of the SQS dead-letter queue (1-80 characters: letters, digits, `-`, `_`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.dlq_name))
    error_message = "dlq_name must be 1-80 characters of letters, digits, '-' or '_'."
  }
}

variable "on_failure_queue_name" {
  description = "Name of the SQS queue the event-source mapping sends its invocation records to (pointers to records it gave up on; `harness redrive` reads it). 1-80 characters: letters, digits, `-`, `_`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.on_failure_queue_name))
    error_message = "on_failure_queue_name must be 1-80 characters of letters, digits, '-' or '_'."
  }
}

variable "queue_kms_key_arn" {
  description = "ARN of a customer managed KMS key for both queues, or `null` for SSE-SQS."
  type        = string
  default     = null
}

variable "dlq_message_retention_seconds" {
  description = "How long the DLQ and the on-failure queue keep a message, in seconds (60-1209600). Default: 14 days, the maximum."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600."
  }
}

# --- Event-source mapping --------------------------------------------------------

variable "event_source_mapping_enabled" {
  description = "Whether the mapping polls the stream. `false` pauses consumption without losing the position (e.g. a first deploy whose key parameter is filled in afterwards). While `false`, the stalled alarm notifies nobody."
  type        = bool
  default     = true
}

variable "batch_size" {
  description = "Largest number of records per invocation (1-10000)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long the mapping may wait to fill a batch, in seconds (0-300). 0 invokes as soon as records arrive."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "starting_position" {
  description = "Where a new mapping starts reading. Valid values: `TRIM_HORIZON` (default), `LATEST`, `AT_TIMESTAMP` (with `starting_position_timestamp`)."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], var.starting_position)
    error_message = "starting_position must be LATEST, TRIM_HORIZON or AT_TIMESTAMP."
  }
}

variable "starting_position_timestamp" {
  description = "RFC 3339 timestamp to start from when `starting_position` is `AT_TIMESTAMP`; ignored otherwise."
  type        = string
  default     = null
}

variable "bisect_batch_on_function_error" {
  description = "Whether a failed batch is split in two and retried, isolating a poison record."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed batch before its records go to the on-failure queue: -1 (default: bounded by `maximum_record_age_in_seconds` instead) or 0-10000. Every retry this consumer causes is transient (poison goes to the DLQ in the handler), so a count only skips good records during an outage."
  type        = number
  default     = -1

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between -1 and 10000."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this go to the on-failure queue (as a pointer) instead of the function: -1 (never: retried until the stream drops them, with no trace) or 60-604800. Default 6 h: an outage shorter than that heals by itself, in order; a longer one leaves pointers that `harness redrive` can use while the stream (24 h by default) still holds the records, at least 18 h."
  type        = number
  default     = 21600

  validation {
    condition     = var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800)
    error_message = "maximum_record_age_in_seconds must be -1 or between 60 and 604800."
  }
}

variable "tumbling_window_in_seconds" {
  description = "Tumbling window length in seconds (0-900; 0 = none). With a window, the function receives and must return a per-window `state` (this consumer does not aggregate; keep 0 unless your function does)."
  type        = number
  default     = 0

  validation {
    condition     = var.tumbling_window_in_seconds >= 0 && var.tumbling_window_in_seconds <= 900
    error_message = "tumbling_window_in_seconds must be between 0 and 900."
  }
}

variable "filter_criteria" {
  description = "FilterCriteria patterns (AWS's JSON filter syntax, e.g. `jsonencode({ data = { read_location = [\"Car\"] } })`); a record is delivered if any matches, the others are dropped before invocation. At most 5. `[]` (default) delivers everything."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.filter_criteria) <= 5 && alltrue([for p in var.filter_criteria : can(jsondecode(p))])
    error_message = "filter_criteria holds at most 5 patterns, each a JSON object."
  }
}

variable "metrics_config" {
  description = "Metric groups of the mapping (`metrics_config`). Valid values: `EventCount` (Kinesis's only group). Default `[\"EventCount\"]`: the dropped-events alarm reads it; `[]` turns it off (and that alarm sees nothing)."
  type        = list(string)
  default     = ["EventCount"]

  validation {
    condition     = alltrue([for m in var.metrics_config : m == "EventCount"])
    error_message = "metrics_config may only hold EventCount for a Kinesis mapping."
  }
}

variable "enhanced_fan_out" {
  description = "`true`: register a stream consumer (`aws_kinesis_stream_consumer`) and map it instead of the stream: dedicated throughput per shard and pushed records (about 70 ms end to end vs about 200 ms polled), at the cost of consumer-shard hours. Default `false`."
  type        = bool
  default     = false
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10). Ordering per partition key is kept at any value."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10
    error_message = "parallelization_factor must be between 1 and 10."
  }
}

# --- Alarms ----------------------------------------------------------------------------

variable "alarm_sns_topic_arns" {
  description = "SNS topic ARNs notified when an alarm fires or recovers. `[]` (default) creates the alarms without actions."
  type        = list(string)
  default     = []
}

variable "alarm_name_prefix" {
  description = "Prefix of the alarm names. `null` (default) uses the function name."
  type        = string
  default     = null
}

variable "alarm_period_seconds" {
  description = "Period over which each alarm's statistic is computed, in seconds (a multiple of 60)."
  type        = number
  default     = 60

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a positive multiple of 60."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive periods over threshold before the sustained-condition alarms fire (iterator age, batch item failures, DynamoDB failures, Momento errors, throttles; 1 or more). The alarms on lost or given-up records fire on the first period."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_evaluation_periods >= 1
    error_message = "alarm_evaluation_periods must be at least 1."
  }
}

variable "iterator_age_alarm_threshold_ms" {
  description = "IteratorAge (milliseconds) above which the consumer counts as falling behind."
  type        = number
  default     = 60000

  validation {
    condition     = var.iterator_age_alarm_threshold_ms > 0
    error_message = "iterator_age_alarm_threshold_ms must be positive."
  }
}

variable "errors_alarm_threshold" {
  description = "Function Errors (whole-batch failures: crash, timeout, init failure) in one period above which the errors alarm fires; 0 (default) fires on any error, in the first period."
  type        = number
  default     = 0

  validation {
    condition     = var.errors_alarm_threshold >= 0
    error_message = "errors_alarm_threshold must not be negative."
  }
}

variable "momento_errors_alarm_threshold" {
  description = "MomentoErrors per period above which the cache-degraded alarm fires (after `alarm_evaluation_periods`). Records never fail on Momento errors (DynamoDB answers), so this is a cost and latency signal."
  type        = number
  default     = 0

  validation {
    condition     = var.momento_errors_alarm_threshold >= 0
    error_message = "momento_errors_alarm_threshold must not be negative."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module (merged with the provider's default_tags)."
  type        = map(string)
  default     = {}
}
