# The Momento API key as an SSM SecureString the consumer reads at start-up,
# written by Terraform. (A key someone else owns is the stack's other mode:
# an existing parameter by ARN, which this module is not used for.)
#
# The key reaches SSM through the provider's write-only argument `value_wo`,
# fed by an ephemeral variable: Terraform sends it in the PutParameter call and
# keeps it in neither the plan nor the state (the read-back `value` attribute
# stays empty).
#
# SSM changes a parameter's description, KMS key or tier only through a
# PutParameter that carries the value, and the value is not in the state: the
# provider would send an empty one, which SSM refuses. So the write-only
# version moves with them: a change of any of the three, or of
# `value_version`, sends the key passed in (every plan and apply has it), and
# nothing else does.

locals {
  written_version = parseint(substr(sha256(jsonencode([var.value_version, var.description, var.kms_key_id, var.tier])), 0, 12), 16)
}

resource "aws_ssm_parameter" "this" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with the AWS-managed aws/ssm key by default (no per-key cost or key policy to run); pass kms_key_id for a customer managed key.
  name        = var.name
  description = var.description
  type        = "SecureString"
  tier        = var.tier
  key_id      = var.kms_key_id

  value_wo         = var.value
  value_wo_version = local.written_version

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.value != null
      error_message = "Pass the Momento API key (TF_VAR_momento_api_key, an ephemeral variable: it is sent to SSM and kept in neither plan nor state), or keep the key yourself and give the stack its parameter's ARN (momento_api_key_parameter_arn)."
    }
  }
}

# The two resources of earlier versions (`this[0]` for a Terraform-written key,
# `out_of_band[0]` for a placeholder) are the one resource above now.
moved {
  from = aws_ssm_parameter.this[0]
  to   = aws_ssm_parameter.this
}
