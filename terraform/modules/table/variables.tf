# Every input comes from modules/stack, which holds the defaults and the
# checks of the stack's one interface; this module adds none of its own.

variable "name" {
  description = "Name of the DynamoDB table (3-255 characters: letters, digits, `_`, `-`, `.`)."
  type        = string
}

variable "hash_key" {
  description = "Name of the partition key attribute (type S). The consumer looks locations up by this attribute."
  type        = string
}

variable "point_in_time_recovery_enabled" {
  description = "Whether continuous backups (point-in-time recovery, 35 days) are on. Valid values: `true`, `false`."
  type        = bool
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for encryption at rest. `null` uses the AWS-managed `aws/dynamodb` key; either way SSE is on."
  type        = string
}

variable "deletion_protection_enabled" {
  description = "Whether the table refuses deletion (including `terraform destroy`) until this is turned off. Valid values: `true`, `false`."
  type        = bool
}

variable "seed_items" {
  description = "Items written with aws_dynamodb_table_item: one per distinct `location` (the hash key value), with optional `description` and `notes` strings. `[]` writes none."
  type = list(object({
    location    = string
    description = optional(string)
    notes       = optional(string)
  }))
}

variable "tags" {
  description = "Tags added to the table (merged with the provider's default_tags)."
  type        = map(string)
}
