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
  description = "Value written into the Momento API key SecureString; any string works for the emulator (e.g. the cache double's fake key). Never a real key."
  type        = string
  sensitive   = true
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
