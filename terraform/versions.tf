terraform {
  # 1.11: write-only arguments and ephemeral variables keep the Momento key out
  # of plan and state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The tested range: 5.100 is what this project's checks and the apply
      # test run (.terraform.lock.hcl records it). 6.x is excluded until it has
      # been tested here; widen the pin only together with that.
      version = "~> 5.100"
    }
  }

  # State holds no secret (the key is write-only), but it maps the whole
  # deployment: keep it in an encrypted, locked, versioned bucket rather than
  # on a laptop. Uncomment, fill in, then `terraform init -migrate-state`:
  #
  # backend "s3" {
  #   bucket       = "my-terraform-state"            # versioning on, public access blocked
  #   key          = "kinesis-consumer-model-one/terraform.tfstate"
  #   region       = "us-east-1"
  #   encrypt      = true                            # SSE on the state object
  #   use_lockfile = true                            # S3-native locking (Terraform >= 1.10), no DynamoDB table
  #   # kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/..."   # SSE-KMS with your own key
  # }
}
