# A stage for a regulated account: the stage's prefix on every name, one
# customer managed KMS key for the stream, table, key parameter, log group
# and queues, a permissions boundary on the role, X-Ray, a year of logs, a
# week of stream retention, and the alarms to the on-call topic. Everything
# not set here is the stack's default.

provider "aws" {
  region = var.region
  default_tags {
    tags = { Stage = var.stage, DataClassification = "internal" }
  }
}

module "stack" {
  source = "../../modules/stack"

  lambda_zip_path = var.lambda_zip_path
  naming          = { prefix = "${var.stage}-" }
  stream          = { kms_key_arn = var.kms_key_arn, retention_period_hours = 168 }
  table           = { kms_key_arn = var.kms_key_arn }
  key             = { parameter_arn = var.momento_api_key_parameter_arn, kms_key_arn = var.kms_key_arn }
  queues          = { kms_key_arn = var.kms_key_arn }
  alarms          = { sns_topic_arns = [var.alarm_sns_topic_arn] }
  lambda = {
    permissions_boundary_arn = var.permissions_boundary_arn
    log_kms_key_arn          = var.kms_key_arn
    log_retention_in_days    = 365
    tracing_mode             = "Active"
  }
}

output "stack" {
  description = "Everything the stack outputs."
  value       = module.stack
}
