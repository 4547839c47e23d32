terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
  # Add `backend "s3" {}` and ../../backend.hcl.example's settings for a real
  # deployment (see ../../README.md, "State").
}
