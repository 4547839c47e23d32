terraform {
  # 1.5: nothing newer is used here (the stack, its only caller, needs 1.11).
  required_version = ">= 1.5"
  required_providers {
    # A floor: the oldest provider this project has tested (metrics_config on
    # the event-source mapping needs 5.x).
    aws = { source = "hashicorp/aws", version = ">= 5.100" }
  }
}
