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
  description = "The Momento API key (ephemeral: written to SSM through the write-only `value_wo`, never stored in plan or state). Required when `managed_out_of_band` is `false`, on every plan and apply; must be `null` otherwise. Pass it through TF_VAR_, never commit it."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "value_version" {
  description = "Version of the written value. Terraform sends the value to SSM when the parameter is created and whenever this number changes: raise it together with a new `value` to rotate the key. Leave it alone when `managed_out_of_band` is `true` (a change would rewrite the placeholder over the live key)."
  type        = number
  default     = 1

  validation {
    condition     = var.value_version >= 1 && floor(var.value_version) == var.value_version
    error_message = "value_version must be a whole number, 1 or more."
  }
}

variable "managed_out_of_band" {
  description = "`false` (default): Terraform writes `value` (write-only). `true`: Terraform creates the parameter with a placeholder and never writes it again; set the key with `aws ssm put-parameter --overwrite`. Switching either way keeps the parameter and its current value."
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
