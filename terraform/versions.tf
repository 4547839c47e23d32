terraform {
  # 1.11: write-only arguments and ephemeral variables keep the Momento key out
  # of plan and state.
  required_version = ">= 1.11"
  required_providers {
    # The tested range: 5.100 is what this project's checks and the apply
    # test run (.terraform.lock.hcl records it). 6.x is excluded until it has
    # been tested here; widen the pin only together with that.
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }

  # State holds no secret (the key is never Terraform's), but it maps the
  # whole deployment: it lives in an encrypted, locked, versioned S3 bucket,
  # never on the operator's machine. Encryption and locking are fixed here;
  # where the state lives comes at init:
  #   cp backend.hcl.example backend.hcl   # fill in bucket, key, region
  #   terraform init -backend-config=backend.hcl
  # (`terraform init` without them stops, asking for the bucket.)
  backend "s3" {
    encrypt      = true # SSE on the state object
    use_lockfile = true # S3-native locking (Terraform >= 1.10): no DynamoDB table
  }
}
