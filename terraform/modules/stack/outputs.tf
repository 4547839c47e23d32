output "stream_name" {
  description = "Name of the Kinesis stream."
  value       = module.stream.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis stream."
  value       = module.stream.stream_arn
}

output "table_name" {
  description = "Name of the DynamoDB locations table."
  value       = module.table.table_name
}

output "table_arn" {
  description = "ARN of the DynamoDB locations table."
  value       = module.table.table_arn
}

output "parameter_name" {
  description = "Name of the SSM SecureString holding the Momento API key (its ARN when `momento_api_key_parameter_arn` is set)."
  value       = local.api_key_parameter_name
}

output "parameter_arn" {
  description = "ARN of the SSM SecureString holding the Momento API key."
  value       = local.api_key_parameter_arn
}

output "cache_name" {
  description = "Name of the Momento cache the consumer reads through, with the stage's prefix (created in Momento with `just momento-cache`, not by Terraform)."
  value       = local.names.cache
}

output "function_name" {
  description = "Name of the consumer Lambda function."
  value       = module.consumer.function_name
}

output "function_arn" {
  description = "ARN of the consumer Lambda function."
  value       = module.consumer.function_arn
}

output "role_arn" {
  description = "ARN of the consumer's execution role."
  value       = module.consumer.role_arn
}

output "log_group_name" {
  description = "Name of the consumer's log group."
  value       = module.consumer.log_group_name
}

output "stream_consumer_arn" {
  description = "ARN of the enhanced fan-out consumer, or `null` without enhanced fan-out."
  value       = module.consumer.stream_consumer_arn
}

output "event_source_mapping_uuid" {
  description = "UUID of the Kinesis event-source mapping."
  value       = module.consumer.event_source_mapping_uuid
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.consumer.dlq_url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.consumer.dlq_arn
}

output "on_failure_queue_url" {
  description = "URL of the on-failure queue (`harness redrive --queue-url`)."
  value       = module.consumer.on_failure_queue_url
}

output "on_failure_queue_arn" {
  description = "ARN of the on-failure queue."
  value       = module.consumer.on_failure_queue_arn
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by purpose (see the consumer module's README)."
  value       = module.consumer.alarm_arns
}

output "alias_arn" {
  description = "ARN of the `live` alias the event-source mapping invokes (move it to roll back)."
  value       = module.consumer.alias_arn
}

output "dashboard_name" {
  description = "Name of the pipeline's CloudWatch dashboard."
  value       = module.consumer.dashboard_name
}

output "role_policy_json" {
  description = "The consumer role's inline policy document, as sent to IAM (what a reviewer reads; CI lints it with parliament)."
  value       = module.consumer.role_policy_json
}

output "redrive_command" {
  description = "The redrive runbook's command for this stage: its on-failure queue, its function and the alias the mapping invokes (add `--dry-run` first)."
  value       = "cargo run -p harness -- redrive --deployed --queue ${local.names.on_failure} --function-name ${local.names.function} --qualifier ${module.consumer.alias_name}"
}

output "rollback_command" {
  description = "The rollback for this stage: point the `live` alias at a previous version (`aws lambda list-versions-by-function --function-name <function>` lists them)."
  value       = "aws lambda update-alias --function-name ${local.names.function} --name ${module.consumer.alias_name} --function-version <previous>"
}
