# Emulator provider: every service the stack uses goes to one local endpoint
# (moto server or LocalStack), with fake credentials and none of the checks
# that need real AWS (credential validation, account lookup, instance metadata).
provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    dynamodb       = var.endpoint
    iam            = var.endpoint
    kinesis        = var.endpoint
    kms            = var.endpoint
    lambda         = var.endpoint
    sqs            = var.endpoint
    ssm            = var.endpoint
    sts            = var.endpoint
  }

  default_tags {
    tags = { Project = "kinesis-consumer-model-one", ManagedBy = "terraform", Emulated = "true" }
  }
}
