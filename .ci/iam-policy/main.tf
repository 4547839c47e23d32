# Renders the consumer's execution-role policy on an emulator, so that
# .ci/terraform-check.sh can lint the exact JSON Terraform sends to IAM with
# parliament. Two instances: the defaults, and every optional statement
# switched on (customer managed keys, X-Ray, enhanced fan-out). Only the role policy and what it
# depends on are applied (-target); nothing here is deployed anywhere real.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
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
    iam            = var.endpoint
    kinesis        = var.endpoint
    sqs            = var.endpoint
    sts            = var.endpoint
  }
}

locals {
  account = "123456789012"
  arn     = "arn:aws:%s:us-east-1:${local.account}:%s"
}

module "defaults" {
  source = "../../terraform/modules/consumer"

  function_name          = "policy-defaults"
  lambda_zip_path        = "unused.zip"
  stream_arn             = format(local.arn, "kinesis", "stream/model-one-stream")
  table_name             = "Locations"
  table_arn              = format(local.arn, "dynamodb", "table/Locations")
  cache_name             = "sample-a"
  api_key_parameter_name = "/kinesis-consumer-model-one/momento-api-key"
  api_key_parameter_arn  = format(local.arn, "ssm", "parameter/kinesis-consumer-model-one/momento-api-key")
  dlq_name               = "policy-defaults-dlq"
  on_failure_queue_name  = "policy-defaults-on-failure"
}

# The fan-out consumer needs a stream to register with.
resource "aws_kinesis_stream" "fan_out" {
  #checkov:skip=CKV_AWS_43:Rendering only, on an emulator.
  #checkov:skip=CKV_AWS_185:Rendering only, on an emulator.
  name        = "policy-render"
  shard_count = 1
}

module "everything" {
  source = "../../terraform/modules/consumer"

  function_name          = "policy-everything"
  lambda_zip_path        = "unused.zip"
  tracing_mode           = "Active"
  enhanced_fan_out       = true
  stream_arn             = aws_kinesis_stream.fan_out.arn
  stream_kms_key_arn     = format(local.arn, "kms", "key/11111111-1111-1111-1111-111111111111")
  table_name             = "Locations"
  table_arn              = format(local.arn, "dynamodb", "table/Locations")
  table_kms_key_arn      = format(local.arn, "kms", "key/22222222-2222-2222-2222-222222222222")
  cache_name             = "sample-a"
  api_key_parameter_name = "/kinesis-consumer-model-one/momento-api-key"
  api_key_parameter_arn  = format(local.arn, "ssm", "parameter/kinesis-consumer-model-one/momento-api-key")
  api_key_kms_key_arn    = format(local.arn, "kms", "key/33333333-3333-3333-3333-333333333333")
  dlq_name               = "policy-everything-dlq"
  on_failure_queue_name  = "policy-everything-on-failure"
}

output "policies" {
  description = "The role policy JSON of each instance."
  value = {
    defaults   = module.defaults.role_policy_json
    everything = module.everything.role_policy_json
  }
}
