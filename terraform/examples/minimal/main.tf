# The smallest production deployment: every setting at the stack's default,
# the Momento key in a SecureString you keep, the alarms to one topic.

provider "aws" {
  region = var.region
}

module "stack" {
  source = "../../modules/stack"

  lambda_zip_path = var.lambda_zip_path
  key             = { parameter_arn = var.momento_api_key_parameter_arn }
  alarms          = { sns_topic_arns = [var.alarm_sns_topic_arn] }
}

output "stack" {
  description = "Everything the stack outputs."
  value       = module.stack
}
