# Production root module: the AWS provider (providers.tf), the S3 backend
# (versions.tf) and the stack, hardened: what a security reviewer at a
# regulated company asks for is the default here, not an example. Every
# other setting is the stack's default (modules/stack/variables.tf).

locals {
  # Relative zip paths are relative to this directory, whatever the caller's cwd.
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"
}

module "stack" {
  source = "./modules/stack"

  lambda_zip_path = local.lambda_zip_path
  naming          = { prefix = var.name_prefix }
  stream          = { kms_key_arn = var.kms_key_arn, retention_period_hours = var.stream_retention_hours }
  table           = { kms_key_arn = var.kms_key_arn }
  key             = { parameter_arn = var.momento_api_key_parameter_arn, kms_key_arn = var.kms_key_arn }
  queues          = { kms_key_arn = var.kms_key_arn }
  alarms          = { sns_topic_arns = var.alarm_sns_topic_arns }
  lambda = {
    reserved_concurrent_executions = var.reserved_concurrent_executions
    tracing_mode                   = "Active"
    log_retention_in_days          = var.log_retention_in_days
    log_kms_key_arn                = var.kms_key_arn
    environment_kms_key_arn        = var.kms_key_arn
    permissions_boundary_arn       = var.permissions_boundary_arn
  }
}
