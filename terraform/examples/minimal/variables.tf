variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "lambda_zip_path" {
  description = "Path of the consumer's zip (`cargo lambda build --release --arm64 --output-format zip`)."
  type        = string
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of the SecureString holding the Momento API key (`aws ssm put-parameter --type SecureString ...`)."
  type        = string
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the alarms notify."
  type        = string
}
