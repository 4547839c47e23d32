output "stream_name" {
  description = "Name of the Kinesis stream."
  value       = module.stack.stream_name
}

output "stream_arn" {
  description = "ARN of the Kinesis stream."
  value       = module.stack.stream_arn
}

output "table_name" {
  description = "Name of the DynamoDB locations table."
  value       = module.stack.table_name
}

output "table_arn" {
  description = "ARN of the DynamoDB locations table."
  value       = module.stack.table_arn
}

output "parameter_name" {
  description = "Name of the SSM SecureString holding the Momento API key."
  value       = module.stack.parameter_name
}

output "parameter_arn" {
  description = "ARN of the SSM SecureString holding the Momento API key."
  value       = module.stack.parameter_arn
}

output "cache_name" {
  description = "Name of the Momento cache the consumer reads through (created in Momento with `just momento-cache`, not by Terraform)."
  value       = module.stack.cache_name
}

output "function_name" {
  description = "Name of the consumer Lambda function."
  value       = module.stack.function_name
}

output "function_arn" {
  description = "ARN of the consumer Lambda function."
  value       = module.stack.function_arn
}

output "role_arn" {
  description = "ARN of the consumer's execution role."
  value       = module.stack.role_arn
}

output "log_group_name" {
  description = "Name of the consumer's log group."
  value       = module.stack.log_group_name
}

output "stream_consumer_arn" {
  description = "ARN of the enhanced fan-out consumer, or `null` without enhanced fan-out."
  value       = module.stack.stream_consumer_arn
}

output "event_source_mapping_uuid" {
  description = "UUID of the Kinesis event-source mapping."
  value       = module.stack.event_source_mapping_uuid
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = module.stack.dlq_url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.stack.dlq_arn
}

output "on_failure_queue_url" {
  description = "URL of the on-failure queue: the mapping's pointers to records it gave up on (`harness redrive --queue-url`)."
  value       = module.stack.on_failure_queue_url
}

output "on_failure_queue_arn" {
  description = "ARN of the on-failure queue."
  value       = module.stack.on_failure_queue_arn
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by purpose (see modules/consumer/README.md)."
  value       = module.stack.alarm_arns
}

output "region" {
  description = "Region the stack is deployed to."
  value       = var.region
}

output "alias_arn" {
  description = "ARN of the `live` alias the event-source mapping invokes (move it to roll back)."
  value       = module.stack.alias_arn
}

output "dashboard_name" {
  description = "Name of the pipeline's CloudWatch dashboard."
  value       = module.stack.dashboard_name
}
