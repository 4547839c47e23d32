# The stream's settings come from modules/stack, which holds their defaults
# and checks once; only the two the stack does not expose (shard-level
# metrics, consumer deletion) have defaults here.

variable "name" {
  description = "Name of the Kinesis data stream (1-128 characters: letters, digits, `_`, `-`, `.`)."
  type        = string
}

variable "stream_mode" {
  description = "Capacity mode. Valid values: `ON_DEMAND` (AWS scales shards) or `PROVISIONED` (fixed `shard_count`)."
  type        = string
}

variable "shard_count" {
  description = "Number of shards when `stream_mode` is `PROVISIONED` (1 or more); ignored for `ON_DEMAND`."
  type        = number
}

variable "retention_period_hours" {
  description = "How long records stay readable, in hours. Valid values: 24 to 8760 (24 is the free tier of retention)."
  type        = number
}

variable "kms_key_id" {
  description = "KMS key for server-side encryption: a key ARN, key id, alias ARN or alias name."
  type        = string
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
}
