# Production root module: the AWS provider (providers.tf), the S3 backend
# (versions.tf) and the stack with what a deployer chooses; every other
# setting is the stack's default (modules/stack/variables.tf).

locals {
  # Relative zip paths are relative to this directory, whatever the caller's cwd.
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"
}

module "stack" {
  source = "./modules/stack"

  lambda_zip_path = local.lambda_zip_path
  naming          = { prefix = var.name_prefix }
  key             = { parameter_arn = var.momento_api_key_parameter_arn, version = var.momento_api_key_version }
  momento_api_key = var.momento_api_key
  alarms          = { sns_topic_arns = var.alarm_sns_topic_arns }
}
