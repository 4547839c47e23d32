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
  description = "The Momento API key. Required when `managed_out_of_band` is `false`; must be `null` (ignored) otherwise. Pass it through TF_VAR_ or a git-ignored tfvars file, never commit it."
  type        = string
  default     = null
  sensitive   = true
}

variable "managed_out_of_band" {
  description = "`true`: create the parameter with a placeholder and ignore later changes to its value (set the key with the AWS CLI/console). `false`: Terraform writes `value`."
  type        = bool
  default     = false
}

variable "kms_key_id" {
  description = "KMS key (ARN, id or alias) that encrypts the SecureString. `null` (default) uses the AWS-managed `aws/ssm` key."
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
