output "parameter_name" {
  description = "Name of the SSM parameter holding the Momento API key."
  value       = aws_ssm_parameter.this.name
}

output "parameter_arn" {
  description = "ARN of the SSM parameter (the consumer's ssm:GetParameter resource, and its KMS encryption context)."
  value       = aws_ssm_parameter.this.arn
}

output "parameter_type" {
  description = "Type of the parameter (always `SecureString`)."
  value       = "SecureString"
}

output "parameter_value_version" {
  description = "The `value_version` last written by Terraform."
  value       = var.value_version
}

output "written_version" {
  description = "The write-only version Terraform sent the key with: it moves with `value_version`, the description, the KMS key and the tier."
  value       = aws_ssm_parameter.this.value_wo_version
}
