# Emulator root module: the production stack (../modules/stack, the same module
# the production root deploys) with every name and setting at its default,
# except what only makes sense on an emulator: the article's sample items are
# seeded and the table may be destroyed.

locals {
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"
}

module "stack" {
  source = "../modules/stack"

  lambda_zip_path = local.lambda_zip_path

  name_prefix                           = var.name_prefix
  momento_api_key_parameter_description = var.momento_api_key_parameter_description
  momento_api_key_kms_key_arn           = var.momento_api_key_kms_key_arn
  momento_api_key_parameter_arn         = var.momento_api_key_parameter_arn
  momento_api_key                       = var.momento_api_key
  momento_api_key_version               = var.momento_api_key_version
  alarm_sns_topic_arns                  = var.alarm_sns_topic_arns

  seed_items                        = var.seed_items
  table_deletion_protection_enabled = var.table_deletion_protection_enabled

  event_source_mapping_enabled  = var.event_source_mapping_enabled
  maximum_retry_attempts        = var.maximum_retry_attempts
  maximum_record_age_in_seconds = var.maximum_record_age_in_seconds
}
