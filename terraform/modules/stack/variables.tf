# The stack's interface: one typed object per concern, every attribute
# optional with its default. These defaults are the project's one source:
# the roots and examples/ set only what differs, the modules below take
# every value from here (they have no defaults of their own), and the Rust
# harness's local mapping is checked against this file
# (harness/tests/terraform_defaults.rs). The comment after an attribute is its
# description; .ci/tf-docs.py puts it in the README.

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip (cargo lambda's bootstrap.zip). Resolved by the calling root module."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "naming" {
  description = "Names of the stack's resources. `prefix` goes in front of every one of them (and so of every IAM policy resource): several stages in one account and region."
  type = object({
    prefix     = optional(string, "")                                            # e.g. `prod-`: lowercase letters, digits and `-`, at most 20 characters
    stream     = optional(string, "model-one-stream")                            # the Kinesis data stream the producer writes to
    table      = optional(string, "Locations")                                   # the DynamoDB table of locations
    parameter  = optional(string, "/kinesis-consumer-model-one/momento-api-key") # the SSM SecureString of the Momento key (the prefix goes after a leading `/`)
    cache      = optional(string, "sample-a")                                    # the Momento cache (CACHE_NAME; created with `just momento-cache`, not by Terraform; prefixed too, so stages never share one)
    function   = optional(string, "kinesis-consumer-model-one-rust")             # the consumer function; its role is `<prefix><function>-role`, its log group `/aws/lambda/<prefix><function>`
    dlq        = optional(string, "kinesis-consumer-model-one-dlq")              # the dead-letter queue (poison records with their reason and data)
    on_failure = optional(string, "kinesis-consumer-model-one-on-failure")       # the queue of the mapping's invocation records (pointers for `harness redrive`)
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[a-z0-9-]{0,20}$", var.naming.prefix))
    error_message = "naming.prefix may hold lowercase letters, digits and '-', at most 20 characters (it goes into IAM role and SQS queue names)."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,44}$", var.naming.function)) && length("${var.naming.prefix}${var.naming.function}-role") <= 64
    error_message = "naming.prefix + naming.function may be at most 59 characters of letters, digits, '-' and '_': the execution role is named <prefix><function>-role and IAM role names are at most 64."
  }
  validation {
    condition     = alltrue([for queue in [var.naming.dlq, var.naming.on_failure] : can(regex("^[a-zA-Z0-9_-]{1,60}$", queue))])
    error_message = "naming.dlq and naming.on_failure must be 1-60 characters of letters, digits, '-' and '_' (SQS allows 80, the prefix takes up to 20)."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,235}$", var.naming.table)) && can(regex("^[a-zA-Z0-9_.-]{1,108}$", var.naming.stream))
    error_message = "naming.table must be 3-235 and naming.stream 1-108 characters of letters, digits, '_', '-' and '.'."
  }
  validation {
    condition     = length(var.naming.parameter) <= 990 && can(regex("^[a-zA-Z0-9_./-]+$", var.naming.parameter))
    error_message = "naming.parameter may contain letters, digits, '_', '.', '-' and '/' (at most 990 characters, so that the prefix fits)."
  }
}

variable "stream" {
  description = "The Kinesis data stream."
  type = object({
    mode                   = optional(string, "ON_DEMAND") # `ON_DEMAND` (AWS scales shards) or `PROVISIONED` (`shard_count` shards)
    shard_count            = optional(number, 1)           # shards of a `PROVISIONED` stream (1 or more); ignored for `ON_DEMAND`
    retention_period_hours = optional(number, 24)          # how long records stay readable (24-8760 hours)
    kms_key_arn            = optional(string)              # a customer managed key's ARN, or `null` for the AWS-managed `alias/aws/kinesis`
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream.mode) && var.stream.shard_count >= 1 && floor(var.stream.shard_count) == var.stream.shard_count
    error_message = "stream.mode must be ON_DEMAND or PROVISIONED, and stream.shard_count a whole number of at least 1."
  }
  validation {
    condition     = var.stream.retention_period_hours >= 24 && var.stream.retention_period_hours <= 8760
    error_message = "stream.retention_period_hours must be between 24 and 8760."
  }
  validation {
    condition     = var.stream.kms_key_arn == null || can(regex(local.kms_key_arn_pattern, var.stream.kms_key_arn))
    error_message = "stream.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
}

variable "table" {
  description = "The DynamoDB table of locations (on demand, SSE always on)."
  type = object({
    hash_key                       = optional(string, "location") # the partition key (type S) the consumer looks locations up by
    point_in_time_recovery_enabled = optional(bool, true)         # continuous backups, 35 days
    kms_key_arn                    = optional(string)             # a customer managed key's ARN, or `null` for the AWS-managed `aws/dynamodb` key
    deletion_protection_enabled    = optional(bool, true)         # the table refuses deletion (also by `terraform destroy`) until this is turned off
    seed_items = optional(list(object({                           # items Terraform writes and owns, one per distinct location; production data is not Terraform's
      location    = string
      description = optional(string)
      notes       = optional(string)
    })), [])
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.table.hash_key) > 0 && length(distinct([for item in var.table.seed_items : item.location])) == length(var.table.seed_items)
    error_message = "table.hash_key must not be empty, and each of table.seed_items needs a distinct location."
  }
  validation {
    condition     = var.table.kms_key_arn == null || can(regex(local.kms_key_arn_pattern, var.table.kms_key_arn))
    error_message = "table.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
}

variable "key" {
  description = "Where the Momento API key lives. `parameter_arn` set: a SecureString you keep (Terraform never writes it; recommended for production). Otherwise the stack's own parameter, written with `momento_api_key`."
  type = object({
    parameter_arn = optional(string)                                                    # an existing SecureString's ARN; the attributes below are then ignored, but for `kms_key_arn`, which the role may decrypt with
    description   = optional(string, "Momento API key for the Kinesis consumer Lambda") # stored with the stack's parameter
    kms_key_arn   = optional(string)                                                    # a customer managed key's ARN, or `null` for the AWS-managed `aws/ssm` key
    tier          = optional(string, "Standard")                                        # `Standard` (free, up to 4 KB), `Advanced` or `Intelligent-Tiering`
    version       = optional(number, 1)                                                 # raise it with a new `momento_api_key` to rotate; a change of description, KMS key or tier writes the same key again (SSM takes them only with the value)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.key.parameter_arn == null || can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.key.parameter_arn))
    error_message = "key.parameter_arn must be an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)."
  }
  validation {
    condition     = var.key.kms_key_arn == null || can(regex(local.kms_key_arn_pattern, var.key.kms_key_arn))
    error_message = "key.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
  validation {
    condition     = contains(["Standard", "Advanced", "Intelligent-Tiering"], var.key.tier) && var.key.version >= 1 && floor(var.key.version) == var.key.version
    error_message = "key.tier must be Standard, Advanced or Intelligent-Tiering, and key.version a whole number, 1 or more."
  }
}

variable "momento_api_key" {
  description = "The Momento API key, when the stack keeps it (`key.parameter_arn` unset). Ephemeral: sent to SSM through the write-only `value_wo` and kept in neither plan nor state; needed on every plan and apply. Pass it with TF_VAR_momento_api_key; never commit it."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "lambda" {
  description = "The consumer function and its log group."
  type = object({
    architecture                   = optional(string, "arm64")           # `arm64` or `x86_64`; must match the zip
    memory_size                    = optional(number, 256)               # MB (128-10240); CPU share grows with it
    timeout                        = optional(number, 30)                # seconds per invocation (1-900)
    reserved_concurrent_executions = optional(number)                    # `null` (unreserved), `0` (stopped) or a cap; AWS refuses one that leaves fewer than 10 unreserved in the account, which emulators do not check
    tracing_mode                   = optional(string, "PassThrough")     # X-Ray: `PassThrough` or `Active`
    rust_log                       = optional(string, "info")            # RUST_LOG filter, e.g. `info`, `consumer=debug,info`
    extra_environment_variables    = optional(map(string), {})           # more environment (e.g. `L1_TTL_SECONDS`); the consumer's own keys take precedence
    metrics_namespace              = optional(string, "KinesisConsumer") # CloudWatch namespace of the consumer's EMF metrics; the alarms and dashboard read them there
    permissions_boundary_arn       = optional(string)                    # a permissions boundary policy for the execution role, or `null`
    log_retention_in_days          = optional(number, 30)                # 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653
    log_kms_key_arn                = optional(string)                    # a customer managed key's ARN for the log group (its key policy must allow logs.<region>.amazonaws.com), or `null`
    environment_kms_key_arn        = optional(string)                    # a customer managed key's ARN for the function's environment variables (the role may decrypt with it, through Lambda only), or `null` for Lambda's own key
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda.architecture) && contains(["PassThrough", "Active"], var.lambda.tracing_mode)
    error_message = "lambda.architecture must be arm64 or x86_64, and lambda.tracing_mode PassThrough or Active."
  }
  validation {
    condition     = var.lambda.memory_size >= 128 && var.lambda.memory_size <= 10240 && var.lambda.timeout >= 1 && var.lambda.timeout <= 900
    error_message = "lambda.memory_size must be 128-10240 (MB) and lambda.timeout 1-900 (seconds)."
  }
  validation {
    condition     = var.lambda.reserved_concurrent_executions == null || try(var.lambda.reserved_concurrent_executions >= 0 && floor(var.lambda.reserved_concurrent_executions) == var.lambda.reserved_concurrent_executions, false)
    error_message = "lambda.reserved_concurrent_executions must be null, 0 or a whole positive number."
  }
  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.lambda.log_retention_in_days)
    error_message = "lambda.log_retention_in_days must be one of CloudWatch Logs' retention values (0, 1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
  validation {
    condition     = alltrue([for arn in [var.lambda.log_kms_key_arn, var.lambda.environment_kms_key_arn] : arn == null || can(regex(local.kms_key_arn_pattern, arn))])
    error_message = "lambda.log_kms_key_arn and lambda.environment_kms_key_arn must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<key id>): an alias cannot be an IAM policy resource, and an alias ARN never authorises kms:Decrypt."
  }
}

variable "queues" {
  description = "The dead-letter and on-failure queues (both hold record data or pointers to it: encrypted, TLS only)."
  type = object({
    message_retention_seconds = optional(number, 1209600) # how long a message stays (60-1209600 s); default 14 days, the maximum
    kms_key_arn               = optional(string)          # a customer managed key's ARN (the role gets kms:GenerateDataKey and kms:Decrypt on it, through SQS only), or `null` for SSE-SQS
    dlq_max_message_size      = optional(number, 262144)  # the dead-letter queue's maximum message size (1024-262144 bytes, the provider's range); the consumer fits every letter to it (DLQ_MAX_MESSAGE_BYTES)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.queues.message_retention_seconds >= 60 && var.queues.message_retention_seconds <= 1209600
    error_message = "queues.message_retention_seconds must be between 60 and 1209600."
  }
  validation {
    condition     = var.queues.dlq_max_message_size >= 1024 && var.queues.dlq_max_message_size <= 262144
    error_message = "queues.dlq_max_message_size must be between 1024 and 262144 (bytes)."
  }
  validation {
    condition     = var.queues.kms_key_arn == null || can(regex(local.kms_key_arn_pattern, var.queues.kms_key_arn))
    error_message = "queues.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias."
  }
}

variable "mapping" {
  description = "The Kinesis event-source mapping. ReportBatchItemFailures is always on (the handler reports partial failures) and failures go to the on-failure queue."
  type = object({
    enabled                            = optional(bool, true)                   # `false` pauses polling without losing the position (e.g. until the key is in place)
    batch_size                         = optional(number, 10)                   # records per invocation (1-10000)
    maximum_batching_window_in_seconds = optional(number, 0)                    # how long to wait to fill a batch (0-300)
    starting_position                  = optional(string, "TRIM_HORIZON")       # `TRIM_HORIZON` (the stack creates its stream, so this misses nothing), `LATEST` or `AT_TIMESTAMP`
    starting_position_timestamp        = optional(string)                       # RFC 3339, with `AT_TIMESTAMP`
    bisect_batch_on_function_error     = optional(bool, true)                   # split a failed batch in two, isolating a record that crashes the function
    maximum_retry_attempts             = optional(number, -1)                   # -1 (retries bounded by record age instead: every retry here is transient) or 0-10000
    maximum_record_age_in_seconds      = optional(number, 21600)                # older records go to the on-failure queue as a pointer: -1 (never) or 60-604800, below the stream's retention
    parallelization_factor             = optional(number, 1)                    # concurrent batches per shard (1-10); a partition key's records stay in order
    tumbling_window_in_seconds         = optional(number, 0)                    # 0-900; this consumer does not aggregate, so 0
    filter_criteria                    = optional(list(string), [])             # up to 5 FilterCriteria patterns (AWS's JSON syntax); records matching none are dropped
    metrics_config                     = optional(list(string), ["EventCount"]) # `["EventCount"]`: the dropped-events alarm reads it, so it is required
    enhanced_fan_out                   = optional(bool, false)                  # read through a registered stream consumer (dedicated throughput, records pushed)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.mapping.batch_size >= 1 && var.mapping.batch_size <= 10000 && var.mapping.maximum_batching_window_in_seconds >= 0 && var.mapping.maximum_batching_window_in_seconds <= 300
    error_message = "mapping.batch_size must be 1-10000 and mapping.maximum_batching_window_in_seconds 0-300."
  }
  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"], var.mapping.starting_position) && (var.mapping.starting_position != "AT_TIMESTAMP" || can(timeadd(var.mapping.starting_position_timestamp, "0s")))
    error_message = "mapping.starting_position must be LATEST, TRIM_HORIZON or AT_TIMESTAMP; AT_TIMESTAMP needs mapping.starting_position_timestamp (RFC 3339)."
  }
  validation {
    condition     = var.mapping.maximum_retry_attempts >= -1 && var.mapping.maximum_retry_attempts <= 10000 && var.mapping.parallelization_factor >= 1 && var.mapping.parallelization_factor <= 10
    error_message = "mapping.maximum_retry_attempts must be -1 to 10000 and mapping.parallelization_factor 1-10."
  }
  validation {
    condition     = var.mapping.maximum_record_age_in_seconds == -1 || (var.mapping.maximum_record_age_in_seconds >= 60 && var.mapping.maximum_record_age_in_seconds <= 604800 && var.mapping.maximum_record_age_in_seconds < var.stream.retention_period_hours * 3600)
    error_message = "mapping.maximum_record_age_in_seconds must be -1, or 60-604800 and below the stream's retention (stream.retention_period_hours * 3600): a pointer must not name records the stream no longer holds."
  }
  validation {
    condition     = var.mapping.tumbling_window_in_seconds >= 0 && var.mapping.tumbling_window_in_seconds <= 900
    error_message = "mapping.tumbling_window_in_seconds must be 0-900."
  }
  validation {
    condition     = toset(var.mapping.metrics_config) == toset(["EventCount"])
    error_message = "mapping.metrics_config must be [\"EventCount\"]: the dropped-events alarm reads the mapping's DroppedEventCount, which AWS publishes only with it; without it that alarm could never fire."
  }
  validation {
    condition     = var.mapping.maximum_retry_attempts != -1 || var.mapping.maximum_record_age_in_seconds != -1
    error_message = "mapping.maximum_retry_attempts and mapping.maximum_record_age_in_seconds cannot both be -1: a failing record would then be retried until the stream trims it, and no pointer would ever be written to redrive it. Bound one of them."
  }
  validation {
    condition     = length(var.mapping.filter_criteria) <= 5 && alltrue([for pattern in var.mapping.filter_criteria : can(jsondecode(pattern))])
    error_message = "mapping.filter_criteria takes at most 5 patterns, each a JSON document."
  }
}

variable "alarms" {
  description = "The CloudWatch alarms (one per failure path; the consumer module's README says what each means) and the dashboard."
  type = object({
    sns_topic_arns            = optional(list(string), []) # topics notified when an alarm fires and recovers; `[]` notifies nobody (the production root refuses it)
    period_seconds            = optional(number, 60)       # period of every alarm's statistic (a multiple of 60)
    evaluation_periods        = optional(number, 5)        # periods the sustained alarms look at (errors fire on 3 of them); period x periods at most one day
    iterator_age_threshold_ms = optional(number, 60000)    # IteratorAge above which the consumer counts as falling behind
    errors_threshold          = optional(number, 0)        # function Errors per period above which a period counts for the errors alarm
    momento_errors_threshold  = optional(number, 0)        # MomentoErrors per period above which the cache-degraded alarm counts a period
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for arn in var.alarms.sns_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", arn))])
    error_message = "alarms.sns_topic_arns must hold SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)."
  }
  validation {
    condition     = var.alarms.period_seconds >= 60 && var.alarms.period_seconds % 60 == 0 && var.alarms.evaluation_periods >= 1 && var.alarms.period_seconds * var.alarms.evaluation_periods <= 86400
    error_message = "alarms.period_seconds must be a multiple of 60, alarms.evaluation_periods at least 1, and their product at most 86400 (one day), as CloudWatch requires."
  }
  validation {
    condition     = var.alarms.iterator_age_threshold_ms > 0 && var.alarms.errors_threshold >= 0 && var.alarms.momento_errors_threshold >= 0
    error_message = "alarms.iterator_age_threshold_ms must be positive, and the errors thresholds 0 or more."
  }
}
