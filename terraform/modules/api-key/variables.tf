# Every input comes from modules/stack, which holds the defaults and the
# checks of the stack's one interface; this module adds none of its own.

variable "name" {
  description = "Name (path) of the SSM parameter, e.g. `/kinesis-consumer-model-one/momento-api-key`. A leading `/` makes it hierarchical."
  type        = string
}

variable "description" {
  description = "Description stored with the parameter."
  type        = string
}

variable "value" {
  description = "The Momento API key (ephemeral: written to SSM through the write-only `value_wo`, never stored in plan or state). Required on every plan and apply. Pass it through TF_VAR_, never commit it."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "value_version" {
  description = "Version of the written value. Terraform sends the value to SSM when the parameter is created, whenever this number changes (raise it together with a new `value` to rotate the key) and when `description`, `kms_key_id` or `tier` change (SSM takes those only with the value: the same key is written again)."
  type        = number
}

variable "kms_key_id" {
  description = "ARN of the customer managed KMS key that encrypts the SecureString. `null` uses the AWS-managed `aws/ssm` key. Changing it writes the same key again, encrypted with the new key."
  type        = string
}

variable "tier" {
  description = "Parameter tier. Valid values: `Standard` (free, up to 4 KB), `Advanced`, `Intelligent-Tiering`."
  type        = string
}

variable "tags" {
  description = "Tags added to the parameter (merged with the provider's default_tags)."
  type        = map(string)
}
