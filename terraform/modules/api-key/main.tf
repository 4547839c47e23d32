# The Momento API key as an SSM SecureString the consumer reads at start-up.
#
# Two ways to own the value, chosen by var.managed_out_of_band (a plain bool, so
# it can drive count):
#   false: Terraform writes var.value (sensitive; it lands in the state, so keep
#          the state encrypted);
#   true:  Terraform creates the parameter with a placeholder and never touches
#          the value again; an operator sets the real key with
#          `aws ssm put-parameter --overwrite --type SecureString`.
# No real key is ever committed: var.value has no default.

locals {
  placeholder = "placeholder: set the real Momento API key out of band (aws ssm put-parameter --overwrite)"
}

resource "aws_ssm_parameter" "this" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with the AWS-managed aws/ssm key by default (no per-key cost or key policy to run); pass kms_key_id for a customer managed key.
  count = var.managed_out_of_band ? 0 : 1

  name        = var.name
  description = var.description
  type        = "SecureString"
  tier        = var.tier
  key_id      = var.kms_key_id
  value       = var.value

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.value != null
      error_message = "Set the Momento API key (for example TF_VAR_momento_api_key), or set managed_out_of_band = true and put the key into SSM yourself."
    }
  }
}

resource "aws_ssm_parameter" "out_of_band" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with the AWS-managed aws/ssm key by default (no per-key cost or key policy to run); pass kms_key_id for a customer managed key.
  count = var.managed_out_of_band ? 1 : 0

  name        = var.name
  description = var.description
  type        = "SecureString"
  tier        = var.tier
  key_id      = var.kms_key_id
  value       = local.placeholder

  tags = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}

# Attributes are picked before combining: the resources carry the sensitive
# value, and combining whole resource objects would mark every output sensitive.
locals {
  parameter_name = one(concat(aws_ssm_parameter.this[*].name, aws_ssm_parameter.out_of_band[*].name))
  parameter_arn  = one(concat(aws_ssm_parameter.this[*].arn, aws_ssm_parameter.out_of_band[*].arn))
}
