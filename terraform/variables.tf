# What a deployer of the production root chooses. The root deploys the
# hardened configuration: one customer managed KMS key for every resource, the
# stage's prefix on every name, the Momento key in a parameter you own (never
# written by Terraform), reserved concurrency, X-Ray, a year of logs and a
# week of stream retention. Everything else is the stack's default
# (modules/stack/variables.tf).

variable "region" {
  description = "AWS region to deploy to. Required: a missing tfvars file must not deploy to a default region."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default = {
    Project   = "kinesis-consumer-model-one"
    ManagedBy = "terraform"
  }
}

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip. A relative path is resolved against this directory (terraform/); the default is where `cargo lambda build --release --arm64 --output-format zip` writes it."
  type        = string
  default     = "../target/lambda/bootstrap/bootstrap.zip"
}

variable "name_prefix" {
  description = "The stage's prefix on every name, the Momento cache's included, e.g. `prod-` or `staging-`. Required: alarms and dashboards are created by name, so two unprefixed stages in one account and region would take over each other's, and share a cache."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix must be 1-20 lowercase letters, digits and '-', e.g. \"prod-\": every stage in an account and region needs its own names."
  }
}

variable "kms_key_arn" {
  description = "A customer managed KMS key's ARN, for the stream, the table, the Momento key's parameter (it must be a SecureString encrypted with this key, so reading it takes a second grant besides ssm:GetParameter), the log group, both queues and the function's environment. The key policy must allow the services that use it: logs.<region>.amazonaws.com for the log group (terraform/README.md shows the statements)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias: an alias cannot be an IAM policy resource."
  }
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of the SecureString (encrypted with `kms_key_arn`) that holds the Momento API key. You write it (`aws ssm put-parameter`); Terraform never does, so no plan job needs the key and no change of this stack can overwrite a rotated one."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.momento_api_key_parameter_arn))
    error_message = "momento_api_key_parameter_arn must be an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrent executions reserved for the consumer. Size it as the mapping's concurrency at peak: the stream's shards at peak x the parallelization factor (1 by default), plus a few for redrive; it must leave at least 10 unreserved in the account's concurrency quota (1,000 by default). Too low throttles the stream (the throttles alarm fires); reserving also stops other functions from starving this one."
  type        = number

  validation {
    # try: null (set explicitly, or a default of null) fails here too.
    condition     = try(var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be a whole number of at least 1 (0 would stop the consumer; none would let it take the account's unreserved pool)."
  }
}

variable "log_retention_in_days" {
  description = "How long the function's logs are kept (a CloudWatch Logs retention value)."
  type        = number
  default     = 365
}

variable "stream_retention_hours" {
  description = "How long the stream keeps records (24-8760 hours): the time there is to redrive what the mapping gave up on. The on-failure queue's age alarm fires at half of it."
  type        = number
  default     = 168
}

variable "permissions_boundary_arn" {
  description = "A permissions boundary policy for the execution role, if your organisation requires one."
  type        = string
  default     = null
}

variable "alarm_sns_topic_arns" {
  description = "SNS topic ARNs notified when an alarm fires or recovers. Required in production: alarms that notify nobody protect nobody."
  type        = list(string)

  validation {
    condition     = length(var.alarm_sns_topic_arns) > 0
    error_message = "alarm_sns_topic_arns must name at least one SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>): in production every alarm must reach someone."
  }
}
