terraform {
  # 1.5, and optional() attributes in seed_items' type (1.3).
  required_version = ">= 1.5"
  required_providers {
    # A floor: the oldest provider this project has tested.
    aws = { source = "hashicorp/aws", version = ">= 5.100" }
  }
}
