terraform {
  # 1.11: the write-only value_wo and the ephemeral variable keep the key out
  # of plan and state.
  required_version = ">= 1.11"
  required_providers {
    # A floor, as reusable modules keep: the oldest provider this project has
    # tested, and the first with value_wo on aws_ssm_parameter.
    aws = { source = "hashicorp/aws", version = ">= 5.100" }
  }
}
