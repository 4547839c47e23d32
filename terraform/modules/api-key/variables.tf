variable "name" {
  description = "Name (path) of the SSM parameter, e.g. `/kinesis-consumer-model-one/momento-api-key`. A leading `/` makes it hierarchical."
  type        = string

  validation {
    condition     = length(var.name) <= 1011 && can(regex("^[a-zA-Z0-9_./-]+$", var.name))
    error_message = "The parameter name may contain letters, digits, '_', '.', '-' and '/' (at most 1011 characters)."
  }
}

variable "description" {
  description = "Description stored with the parameter."
  type        = string
  default     = "Momento API key for the Kinesis consumer Lambda"
}

variable "value" {
  description = "The Momento API key (ephemeral: written to SSM through the write-only `value_wo`, never stored in plan or state). Required on every plan and apply. Pass it through TF_VAR_, never commit it."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "value_version" {
  description = "Version of the written value. Terraform sends the value to SSM when the parameter is created, whenever this number changes (raise it together with a new `value` to rotate the key) and when `description`, `kms_key_id` or `tier` change (SSM takes those only with the value: the same key is written again)."
  type        = number
  default     = 1

  validation {
    condition     = var.value_version >= 1 && floor(var.value_version) == var.value_version
    error_message = "value_version must be a whole number, 1 or more."
  }
}

variable "kms_key_id" {
  description = "ARN of the customer managed KMS key that encrypts the SecureString. `null` (default) uses the AWS-managed `aws/ssm` key. Changing it writes the same key again, encrypted with the new key."
  type        = string
  default     = null
}

variable "tier" {
  description = "Parameter tier. Valid values: `Standard` (free, up to 4 KB), `Advanced`, `Intelligent-Tiering`."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Standard", "Advanced", "Intelligent-Tiering"], var.tier)
    error_message = "tier must be Standard, Advanced or Intelligent-Tiering."
  }
}

variable "tags" {
  description = "Tags added to the parameter (merged with the provider's default_tags)."
  type        = map(string)
  default     = {}
}
