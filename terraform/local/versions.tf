terraform {
  # 1.11: write-only arguments and ephemeral variables (the Momento key).
  required_version = ">= 1.11"
  required_providers {
    # The tested range, as in the production root (see ../versions.tf).
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
}
