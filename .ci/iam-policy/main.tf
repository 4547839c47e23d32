# Renders the consumer's execution-role policy on an emulator, so that
# .ci/terraform-check.sh can lint the exact JSON Terraform sends to IAM with
# parliament. Two instances: the defaults, and every optional statement
# switched on (customer managed keys, X-Ray, enhanced fan-out), both through
# the stack's interface. Only the role policy and what it depends on are
# applied (-target); nothing here is deployed anywhere real.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
}

variable "endpoint" {
  description = "URL of the AWS API emulator (moto server)."
  type        = string
}

provider "aws" {
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {
    cloudwatchlogs = var.endpoint
    dynamodb       = var.endpoint
    iam            = var.endpoint
    kinesis        = var.endpoint
    kms            = var.endpoint
    sqs            = var.endpoint
    ssm            = var.endpoint
    sts            = var.endpoint
  }
}

# Customer managed keys for every input that takes one, made on the emulator.
resource "aws_kms_key" "this" {
  #checkov:skip=CKV_AWS_7:Rendering only, on an emulator.
  #checkov:skip=CKV2_AWS_64:Rendering only, on an emulator.
  for_each = toset(["stream", "table", "key", "logs", "queues", "environment"])

  description = "policy rendering: ${each.key}"
}

module "defaults" {
  source = "../../terraform/modules/stack"

  lambda_zip_path = "unused.zip"
  momento_api_key = "unused"
  naming          = { prefix = "defaults-" }
}

module "everything" {
  source = "../../terraform/modules/stack"

  lambda_zip_path = "unused.zip"
  momento_api_key = "unused"
  naming          = { prefix = "everything-" }
  stream          = { kms_key_arn = aws_kms_key.this["stream"].arn }
  table           = { kms_key_arn = aws_kms_key.this["table"].arn }
  key             = { kms_key_arn = aws_kms_key.this["key"].arn }
  lambda          = { tracing_mode = "Active", log_kms_key_arn = aws_kms_key.this["logs"].arn, environment_kms_key_arn = aws_kms_key.this["environment"].arn }
  queues          = { kms_key_arn = aws_kms_key.this["queues"].arn }
  mapping         = { enhanced_fan_out = true }
}

output "policies" {
  description = "The role policy JSON of each instance."
  value = {
    defaults   = module.defaults.role_policy_json
    everything = module.everything.role_policy_json
  }
}
