# Inputs of the whole stack. Defaults are the project's names and the settings
# a production deployment should start from; the production root declares the
# same defaults (.ci/terraform-check.sh fails if they drift apart), the local
# root overrides a few on purpose (seed data, deletion protection).

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip (cargo lambda's bootstrap.zip). Resolved by the calling root module."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "name_prefix" {
  description = "Prefix of every resource name (stream, table, parameter, function and its role, log group and alarms, queues, dashboard), e.g. `prod-`: several stages in one account and region. Lowercase letters, digits and `-`, at most 20 characters. Default `\"\"`."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[a-z0-9-]{0,20}$", var.name_prefix))
    error_message = "name_prefix may hold lowercase letters, digits and '-', at most 20 characters (it goes into IAM role and SQS queue names)."
  }
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

  validation {
    condition     = var.stream_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.stream_kms_key_arn))
    error_message = "stream_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
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

  validation {
    condition     = var.table_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.table_kms_key_arn))
    error_message = "table_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
}

variable "table_deletion_protection_enabled" {
  description = "Whether the table refuses deletion (also by `terraform destroy`) until this is turned off. Valid values: `true` (default), `false`."
  type        = bool
  default     = true
}

variable "seed_items" {
  description = "Items written into the table (and owned by Terraform): one per distinct `location`, with optional `description` and `notes`. Default `[]`: production data is not Terraform's; the local root seeds the article's Car, Diner and House."
  type = list(object({
    location    = string
    description = optional(string)
    notes       = optional(string)
  }))
  default = []
}

# --- Momento API key and cache ---------------------------------------------------

variable "momento_api_key_parameter_name" {
  description = "Name of the SSM SecureString holding the Momento API key."
  type        = string
  default     = "/kinesis-consumer-model-one/momento-api-key"
}

variable "momento_api_key_parameter_description" {
  description = "Description stored with the key's parameter. Changing it writes the same key again (SSM takes a new description only with the value)."
  type        = string
  default     = "Momento API key for the Kinesis consumer Lambda"
}

variable "momento_api_key" {
  description = "The Momento API key. Ephemeral: sent to SSM through the write-only `value_wo` when the parameter is created or `momento_api_key_version` changes, and kept in neither plan nor state. Required on every plan/apply unless `momento_api_key_parameter_arn` is set (a key you keep yourself). Pass it with TF_VAR_momento_api_key; never commit it."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "momento_api_key_version" {
  description = "Raise it together with a new `momento_api_key` to rotate the key. Terraform writes the key when this changes, and when the parameter's description, KMS key or tier change (the same key again: SSM takes those only with the value)."
  type        = number
  default     = 1
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of an existing SecureString holding the key, kept entirely outside this stack (Terraform never writes it: recommended for production, so CI plan jobs need no key). When set, no parameter is created and the consumer reads this one (the name and KMS key variables of the parameter are ignored). `null` (default): the stack writes `momento_api_key` into its own parameter."
  type        = string
  default     = null

  validation {
    condition     = var.momento_api_key_parameter_arn == null || can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.momento_api_key_parameter_arn))
    error_message = "momento_api_key_parameter_arn must be an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)."
  }
}

variable "momento_api_key_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the SecureString, or `null` for the AWS-managed `aws/ssm` key."
  type        = string
  default     = null

  validation {
    condition     = var.momento_api_key_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.momento_api_key_kms_key_arn))
    error_message = "momento_api_key_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
}

variable "momento_cache_name" {
  description = "Name of the Momento cache the consumer reads through (the CACHE_NAME environment variable)."
  type        = string
  default     = "sample-a"
}

# --- Consumer Lambda ----------------------------------------------------------------

variable "function_name" {
  description = "Name of the consumer Lambda function (its role is `<name_prefix><function_name>-role`)."
  type        = string
  default     = "kinesis-consumer-model-one-rust"

  validation {
    condition     = length("${var.name_prefix}${var.function_name}-role") <= 64
    error_message = "name_prefix + function_name may be at most 59 characters: the execution role is named <prefix><function>-role and IAM role names are at most 64."
  }
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
  description = "Reserved concurrency of the function: `null` (unreserved), `0` (stopped) or a positive cap. AWS refuses a reservation that leaves fewer than 10 unreserved in the account (new accounts have a quota of 10 in all), which the emulators do not check."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrent_executions == null || try(var.lambda_reserved_concurrent_executions >= 0 && floor(var.lambda_reserved_concurrent_executions) == var.lambda_reserved_concurrent_executions, false)
    error_message = "lambda_reserved_concurrent_executions must be null, 0 or a whole positive number."
  }
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
  description = "Additional environment variables for the function (e.g. `L1_TTL_SECONDS`); its own keys (TABLE_NAME, CACHE_NAME, MOMENTO_API_KEY_PARAMETER, DLQ_URL, RUST_LOG, METRICS_NAMESPACE) take precedence."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the consumer's EMF metrics (METRICS_NAMESPACE); its alarms read them there."
  type        = string
  default     = "KinesisConsumer"
}

variable "role_permissions_boundary_arn" {
  description = "ARN of a permissions boundary policy for the consumer's execution role, or `null` for none."
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group. Valid values: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 30
}

variable "log_group_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the function's log group (its key policy must allow logs.<region>.amazonaws.com), or `null` for CloudWatch Logs' default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_group_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_group_kms_key_arn))
    error_message = "log_group_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
}

variable "dlq_name" {
  description = "Name of the SQS dead-letter queue (poison records with their reason and data; failed async invocations)."
  type        = string
  default     = "kinesis-consumer-model-one-dlq"
}

variable "on_failure_queue_name" {
  description = "Name of the SQS queue receiving the mapping's invocation records (pointers to records it gave up on), read by `harness redrive`."
  type        = string
  default     = "kinesis-consumer-model-one-on-failure"
}

variable "queue_kms_key_arn" {
  description = "ARN of a customer managed KMS key for both queues (they hold record data and pointers), or `null` (default) for SSE-SQS. Its key policy must let the function's role use it (kms:GenerateDataKey, kms:Decrypt; the role's policy grants them on this key)."
  type        = string
  default     = null

  validation {
    condition     = var.queue_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.queue_kms_key_arn))
    error_message = "queue_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long both queues keep a message, in seconds (60-1209600). Default: 14 days, the maximum."
  type        = number
  default     = 1209600
}

# --- Event-source mapping --------------------------------------------------------

variable "event_source_mapping_enabled" {
  description = "Whether the mapping polls the stream. `false` pauses it without losing its position: a first deploy whose key parameter (given by ARN) is filled in afterwards starts paused, then enables it once the key is in SSM."
  type        = bool
  default     = true
}

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
  description = "Where a new mapping starts reading. Valid values: `TRIM_HORIZON` (default: the stack creates its own stream, so this costs nothing, and a new or replaced mapping, which takes minutes to start polling, misses nothing), `LATEST`, `AT_TIMESTAMP`."
  type        = string
  default     = "TRIM_HORIZON"
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
  description = "Retries of a failed batch before its records go to the on-failure queue: -1 (default: bounded by `maximum_record_age_in_seconds` instead, since every retry here is transient) or 0-10000."
  type        = number
  default     = -1
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this go to the on-failure queue as a pointer: -1 (never: retried until the stream drops them, with no trace) or 60-604800, below the stream's retention. Default 6 h: shorter outages heal by themselves, in order; after longer ones `harness redrive` has at least retention - 6 h to deliver the rest."
  type        = number
  default     = 21600

  validation {
    condition     = var.maximum_record_age_in_seconds == -1 || var.maximum_record_age_in_seconds < var.stream_retention_period_hours * 3600
    error_message = "maximum_record_age_in_seconds must be below the stream's retention (stream_retention_period_hours * 3600), or a pointer could name records the stream no longer holds."
  }
}

variable "tumbling_window_in_seconds" {
  description = "Tumbling window length in seconds (0-900; 0 = none). This consumer does not aggregate, so keep 0 unless your function returns window `state`."
  type        = number
  default     = 0
}

variable "filter_criteria" {
  description = "FilterCriteria patterns (AWS's JSON filter syntax); records matching none are dropped before invocation. At most 5; `[]` delivers everything."
  type        = list(string)
  default     = []
}

variable "metrics_config" {
  description = "Metric groups of the mapping: `[\"EventCount\"]` (default; the dropped-events alarm reads it) or `[]`."
  type        = list(string)
  default     = ["EventCount"]
}

variable "enhanced_fan_out" {
  description = "`true`: read through a registered stream consumer (enhanced fan-out: dedicated throughput, pushed records, about 70 ms instead of about 200 ms end to end). Default `false`."
  type        = bool
  default     = false
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10)."
  type        = number
  default     = 1
}

# --- Alarms -------------------------------------------------------------------------

variable "alarm_sns_topic_arns" {
  description = "SNS topic ARNs notified when an alarm fires or recovers. `[]` creates the alarms without actions."
  type        = list(string)
  default     = []
}

variable "alarm_period_seconds" {
  description = "Period of every alarm's statistic, in seconds (a multiple of 60)."
  type        = number
  default     = 60
}

variable "alarm_evaluation_periods" {
  description = "Periods the sustained-condition alarms look at (iterator age, stalled mapping, batch item failures, DynamoDB failures, Momento errors, throttles; errors fire on 3 of them). Period x evaluation periods may not exceed one day."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && var.alarm_period_seconds * var.alarm_evaluation_periods <= 86400
    error_message = "alarm_period_seconds x alarm_evaluation_periods may be at most 86400 (one day), as CloudWatch requires; and alarm_evaluation_periods at least 1."
  }
}

variable "iterator_age_alarm_threshold_ms" {
  description = "IteratorAge in milliseconds above which the consumer counts as falling behind. Default 60 s: far below the 6 h at which records are given up on."
  type        = number
  default     = 60000
}

variable "errors_alarm_threshold" {
  description = "Function Errors per period above which a period counts for the errors alarm; it fires when 3 of `alarm_evaluation_periods` periods do (one error the mapping retries by itself pages nobody)."
  type        = number
  default     = 0
}

variable "momento_errors_alarm_threshold" {
  description = "MomentoErrors per period above which the cache-degraded alarm fires (after `alarm_evaluation_periods`)."
  type        = number
  default     = 0
}
