terraform {
  # 1.11: write-only arguments and ephemeral variables (the Momento key).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # A floor, as reusable modules keep: the oldest release this project
      # has tested (value_wo on aws_ssm_parameter, metrics_config on the
      # event-source mapping). The root modules pin the tested range.
      version = ">= 5.100"
    }
  }
}
