variable "name" {
  description = "Name of the DynamoDB table (3-255 characters: letters, digits, `_`, `-`, `.`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "The table name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "hash_key" {
  description = "Name of the partition key attribute (type S). The consumer looks locations up by this attribute."
  type        = string
  default     = "location"

  validation {
    condition     = length(var.hash_key) > 0
    error_message = "hash_key must not be empty."
  }
}

variable "point_in_time_recovery_enabled" {
  description = "Whether continuous backups (point-in-time recovery, 35 days) are on. Valid values: `true`, `false`."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for encryption at rest. `null` (default) uses the AWS-managed `aws/dynamodb` key; either way SSE is on."
  type        = string
  default     = null
}

variable "deletion_protection_enabled" {
  description = "Whether the table refuses deletion (including `terraform destroy`) until this is turned off. Valid values: `true`, `false`."
  type        = bool
  default     = false
}

variable "seed_items" {
  description = "Items written with aws_dynamodb_table_item: one per distinct `location` (the hash key value), with optional `description` and `notes` strings. `[]` writes none."
  type = list(object({
    location    = string
    description = optional(string)
    notes       = optional(string)
  }))
  default = []

  validation {
    condition     = length(distinct([for i in var.seed_items : i.location])) == length(var.seed_items)
    error_message = "Each seed item needs a distinct location."
  }
}

variable "tags" {
  description = "Tags added to the table (merged with the provider's default_tags)."
  type        = map(string)
  default     = {}
}
