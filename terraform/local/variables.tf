# What the emulator root takes: where the emulator is, the zip, and the key's
# settings the apply test changes. Everything else is the stack's default
# (../modules/stack/variables.tf); `null` means "the stack's default".

variable "endpoint" {
  description = "URL of the AWS API emulator serving every service of the stack, e.g. `http://127.0.0.1:5000` (moto server) or `http://127.0.0.1:4566` (LocalStack)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.endpoint))
    error_message = "endpoint must be an http:// or https:// URL."
  }
}

variable "region" {
  description = "Region the emulator is addressed as (part of every ARN); the harness's region."
  type        = string
  default     = "us-east-1"
}

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip, built for this machine: `harness run` runs it here (`harness package` writes the default; `just build`'s arm64 zip is for AWS). A relative path is resolved against this directory (terraform/local/); absolute paths are used as given."
  type        = string
  default     = "../../target/lambda-host/bootstrap/bootstrap.zip"
}

variable "lambda_architecture" {
  description = "The function's architecture: the machine's that runs the zip (`just deploy-local` passes `uname -m`'s), `x86_64` or `arm64`."
  type        = string
  default     = "x86_64"
}

variable "name_prefix" {
  description = "Prefix of every resource name (the stack's `naming.prefix`): several stacks side by side on one emulator."
  type        = string
  default     = null
}

variable "momento_api_key" {
  description = "Value written into the Momento API key SecureString (write-only: kept in neither plan nor state); any string works for the emulator, e.g. the cache double's fake key. Never a real key. Required unless `momento_api_key_parameter_arn` is set."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of an existing parameter holding the key, which Terraform never writes (the stack's `key.parameter_arn`)."
  type        = string
  default     = null
}

variable "momento_api_key_version" {
  description = "Raise it to write `momento_api_key` again (the stack's `key.version`)."
  type        = number
  default     = null
}

variable "momento_api_key_parameter_description" {
  description = "Description stored with the key's parameter (the stack's `key.description`)."
  type        = string
  default     = null
}

variable "momento_api_key_kms_key_arn" {
  description = "Customer managed KMS key of the key's parameter (the stack's `key.kms_key_arn`)."
  type        = string
  default     = null
}

variable "mapping" {
  description = "The event-source mapping's settings (the stack's `mapping`, validated there), e.g. `{ batch_size = 50, filter_criteria = [...] }`; `harness run --follow` applies a change from the next batch."
  type        = any
  default     = {}
}
