# What a deployer of the production root chooses. Everything else (names,
# mapping settings, alarm thresholds, keys) is the stack's, with its defaults
# in modules/stack/variables.tf; to change one of those, write your own root
# that sets it (examples/hardened shows how).

variable "region" {
  description = "AWS region to deploy to. Required: a missing tfvars file must not deploy to a default region."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default = {
    Project   = "kinesis-consumer-model-one"
    ManagedBy = "terraform"
  }
}

variable "lambda_zip_path" {
  description = "Path of the consumer's deployment zip. A relative path is resolved against this directory (terraform/); the default is where `cargo lambda build --release --arm64 --output-format zip` writes it."
  type        = string
  default     = "../target/lambda/bootstrap/bootstrap.zip"
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. `prod-` or `staging-`: several stages in one account and region (the stack's `naming.prefix`). `null`: none."
  type        = string
  default     = null
}

variable "momento_api_key_parameter_arn" {
  description = "ARN of a SecureString you keep the Momento key in (recommended: Terraform never writes it, and CI plan jobs need no key). `null`: the stack keeps the key in its own parameter, written from `momento_api_key`."
  type        = string
  default     = null
}

variable "momento_api_key" {
  description = "The Momento API key, when the stack keeps it. Ephemeral: sent to SSM through the write-only `value_wo` and kept in neither plan nor state; needed on every plan and apply (every CI plan job too). Pass it with TF_VAR_momento_api_key; never commit it."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "momento_api_key_version" {
  description = "Raise it together with a new `momento_api_key` to rotate the key the stack keeps. `null`: the stack's default (1)."
  type        = number
  default     = null
}

variable "momento_api_key_managed_out_of_band" {
  description = "Gone: a key kept out of band is an existing parameter given by `momento_api_key_parameter_arn`. Only `false` (default) is accepted; `true` is refused with the move that keeps the key."
  type        = bool
  default     = false

  validation {
    condition     = !var.momento_api_key_managed_out_of_band
    error_message = "momento_api_key_managed_out_of_band is gone: a key kept out of band is now an existing parameter given by ARN, which Terraform never writes (so no description, KMS or tier change can overwrite it). To move without touching the key: terraform state rm 'module.stack.module.api_key[0].aws_ssm_parameter.this', then set momento_api_key_parameter_arn to the parameter's ARN and remove this setting (terraform/README.md, \"The Momento API key\")."
  }
}

variable "alarm_sns_topic_arns" {
  description = "SNS topic ARNs notified when an alarm fires or recovers. Required in production: alarms that notify nobody protect nobody."
  type        = list(string)

  validation {
    condition     = length(var.alarm_sns_topic_arns) > 0
    error_message = "alarm_sns_topic_arns must name at least one SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>): in production every alarm must reach someone."
  }
}
