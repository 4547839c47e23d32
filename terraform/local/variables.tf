variable "endpoint" {
  description = "URL of the AWS API emulator serving every service of the stack, e.g. `http://127.0.0.1:5000` (moto server) or `http://127.0.0.1:4566` (LocalStack)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.endpoint))
    error_message = "endpoint must be an http:// or https:// URL."
  }
}

variable "region" {
  description = "Region the emulator is addressed as (part of every ARN)."
  type        = string
  default     = "us-east-1"
}

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip. A relative path is resolved against this directory (terraform/local/); absolute paths are used as given."
  type        = string
  default     = "../../target/lambda/bootstrap/bootstrap.zip"
}

variable "momento_api_key" {
  description = "Value written into the Momento API key SecureString (write-only: kept in neither plan nor state); any string works for the emulator, e.g. the cache double's fake key. Never a real key. Required."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "momento_api_key_parameter_description" {
  description = "Description stored with the key's parameter (see the production root)."
  type        = string
  default     = "Momento API key for the Kinesis consumer Lambda"
}

variable "momento_api_key_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the key's parameter (see the production root)."
  type        = string
  default     = null
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of an existing parameter holding the key, which Terraform never writes (see the production root)."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name (see the production root): several stacks side by side on one emulator."
  type        = string
  default     = ""
}

variable "alarm_sns_topic_arns" {
  description = "SNS topics the alarms notify; `[]` (default) on an emulator, where nobody listens."
  type        = list(string)
  default     = []
}

variable "momento_api_key_version" {
  description = "Raise it to write `momento_api_key` again (see the production root)."
  type        = number
  default     = 1
}

variable "seed_items" {
  description = "Items written into the table. Default: the article's Car, Diner and House, which the producer's records refer to (the production root seeds nothing)."
  type = list(object({
    location    = string
    description = optional(string)
    notes       = optional(string)
  }))
  default = [
    { location = "Car", description = "Car description", notes = "Car notes" },
    { location = "Diner", description = "Diner description", notes = "Diner notes" },
    { location = "House", description = "House description", notes = "House notes" },
  ]
}

variable "table_deletion_protection_enabled" {
  description = "Whether the table refuses deletion. Default `false` here: an emulator's stack is created and destroyed at will (production defaults to `true`)."
  type        = bool
  default     = false
}

variable "event_source_mapping_enabled" {
  description = "Whether the mapping polls the stream (see the production root)."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed batch (see the production root): -1 or 0-10000."
  type        = number
  default     = -1
}

variable "maximum_record_age_in_seconds" {
  description = "Records older than this go to the on-failure queue (see the production root): -1 or 60-604800."
  type        = number
  default     = 21600
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default = {
    Project   = "kinesis-consumer-model-one"
    ManagedBy = "terraform"
    Emulated  = "true"
  }
}
