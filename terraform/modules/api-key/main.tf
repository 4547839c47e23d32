# The Momento API key as an SSM SecureString the consumer reads at start-up.
#
# The key reaches SSM through the provider's write-only argument `value_wo`,
# fed by an ephemeral variable: Terraform sends it in the PutParameter call and
# keeps it in neither the plan nor the state (the read-back `value` attribute
# stays empty). It is sent when the parameter is created and whenever
# `value_version` changes, never on a refresh or an unrelated apply.
#
# One resource serves both ways of owning the key (var.managed_out_of_band),
# so switching between them changes no address: nothing is destroyed or
# recreated, and the key in SSM stays as it is unless `value_version` moves.

locals {
  placeholder = "placeholder: set the real Momento API key out of band (aws ssm put-parameter --overwrite)"
}

resource "aws_ssm_parameter" "this" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with the AWS-managed aws/ssm key by default (no per-key cost or key policy to run); pass kms_key_id for a customer managed key.
  name        = var.name
  description = var.description
  type        = "SecureString"
  tier        = var.tier
  key_id      = var.kms_key_id

  # Terraform-managed: the key itself. Out of band: a placeholder, written only
  # when the parameter is created (the consumer refuses to start on it).
  value_wo         = var.managed_out_of_band ? local.placeholder : var.value
  value_wo_version = var.value_version

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.managed_out_of_band || var.value != null
      error_message = "Pass the Momento API key (TF_VAR_momento_api_key, an ephemeral variable: it is sent to SSM and kept in neither plan nor state), or set managed_out_of_band = true and put the key into SSM yourself."
    }
    precondition {
      condition     = !var.managed_out_of_band || var.value == null
      error_message = "managed_out_of_band = true: Terraform does not write the key, so do not pass one (unset TF_VAR_momento_api_key)."
    }
  }
}

# The two resources of earlier versions (`this[0]` for a Terraform-written key,
# `out_of_band[0]` for a placeholder) are the one resource above now.
moved {
  from = aws_ssm_parameter.this[0]
  to   = aws_ssm_parameter.this
}
