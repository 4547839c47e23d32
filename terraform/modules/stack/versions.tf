terraform {
  # 1.11: the ephemeral momento_api_key; validations that read other
  # variables need 1.9.
  required_version = ">= 1.11"
  required_providers {
    # A floor: the oldest provider this project has tested. The root modules
    # pin the tested range.
    aws = { source = "hashicorp/aws", version = ">= 5.100" }
  }
}
