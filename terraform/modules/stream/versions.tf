terraform {
  required_version = ">= 1.5"
  required_providers {
    # A floor: the oldest provider this project has tested.
    aws = { source = "hashicorp/aws", version = ">= 5.100" }
  }
}
