variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "stage" {
  description = "The stage, e.g. `prod`: `<stage>-` goes in front of every name."
  type        = string
}

variable "lambda_zip_path" {
  description = "Path of the consumer's zip (`cargo lambda build --release --arm64 --output-format zip`)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the stage's customer managed KMS key. Its key policy must let the function's role use it through Kinesis, DynamoDB, SSM and SQS (the role's policy names the key, with kms:ViaService conditions) and allow `logs.<region>.amazonaws.com` to encrypt the log group."
  type        = string
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of the SecureString holding the Momento API key, encrypted with `kms_key_arn`."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "ARN of the permissions boundary your account requires on every role."
  type        = string
}

variable "alarm_sns_topic_arn" {
  description = "The on-call SNS topic the alarms notify."
  type        = string
}
