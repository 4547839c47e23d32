variable "name" {
  description = "Name of the Kinesis data stream (1-128 characters: letters, digits, `_`, `-`, `.`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.name))
    error_message = "The stream name must be 1-128 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "stream_mode" {
  description = "Capacity mode. Valid values: `ON_DEMAND` (AWS scales shards) or `PROVISIONED` (fixed `shard_count`)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  description = "Number of shards when `stream_mode` is `PROVISIONED` (1 or more); ignored for `ON_DEMAND`."
  type        = number
  default     = 1

  validation {
    condition     = var.shard_count >= 1 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be a whole number of at least 1."
  }
}

variable "retention_period_hours" {
  description = "How long records stay readable, in hours. Valid values: 24 to 8760 (24 is the free tier of retention)."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760
    error_message = "retention_period_hours must be between 24 and 8760."
  }
}

variable "kms_key_id" {
  description = "KMS key for server-side encryption: a key ARN, key id, alias ARN or alias name. Default: the AWS-managed `alias/aws/kinesis`."
  type        = string
  default     = "alias/aws/kinesis"

  validation {
    condition     = length(var.kms_key_id) > 0
    error_message = "kms_key_id must not be empty; encryption is always on."
  }
}

variable "shard_level_metrics" {
  description = "Enhanced shard-level CloudWatch metrics to enable (extra cost). Valid values: `IncomingBytes`, `IncomingRecords`, `OutgoingBytes`, `OutgoingRecords`, `WriteProvisionedThroughputExceeded`, `ReadProvisionedThroughputExceeded`, `IteratorAgeMilliseconds`, `ALL`."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([for m in var.shard_level_metrics : contains([
      "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
      "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
      "IteratorAgeMilliseconds", "ALL",
    ], m)])
    error_message = "Unknown shard-level metric name."
  }
}

variable "enforce_consumer_deletion" {
  description = "Whether `terraform destroy` also deregisters enhanced fan-out consumers (`true`) or fails while any exist (`false`)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to the stream (merged with the provider's default_tags)."
  type        = map(string)
  default     = {}
}
