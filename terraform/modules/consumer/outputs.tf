output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "function_environment_variables" {
  description = "Environment variables the function runs with."
  value       = local.environment_variables
}

output "role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the execution role."
  value       = aws_iam_role.this.name
}

output "role_policy_json" {
  description = "The execution role's inline policy document, as sent to IAM."
  value       = aws_iam_role_policy.this.policy
}

output "role_policy_statements" {
  description = "The statements of the execution role's inline policy, as Terraform values (what `terraform test` checks)."
  value       = local.role_policy_statements
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "stream_consumer_arn" {
  description = "ARN of the enhanced fan-out consumer the mapping reads through, or `null` without enhanced fan-out."
  value       = one(aws_kinesis_stream_consumer.this[*].arn)
}

output "event_source_mapping_uuid" {
  description = "UUID of the Kinesis event-source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "event_source_mapping" {
  description = "The event-source mapping as configured (batch size, starting position, retries, destination, function response types, ...)."
  value       = aws_lambda_event_source_mapping.this
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue (the mapping's on-failure destination)."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue (the DLQ_URL environment variable)."
  value       = aws_sqs_queue.dlq.url
}

output "on_failure_queue_url" {
  description = "URL of the on-failure queue (the mapping's invocation records; `harness redrive --queue-url`)."
  value       = aws_sqs_queue.on_failure.url
}

output "on_failure_queue_arn" {
  description = "ARN of the on-failure queue."
  value       = aws_sqs_queue.on_failure.arn
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by purpose: `iterator_age`, `stalled`, `dropped_events`, `dlq_depth`, `on_failure_depth`, `on_failure_age`, `errors`, `throttles`, `destination_delivery_failures`, `batch_item_failures`, `dynamodb_failures`, `momento_errors`, `momento_cache_missing`."
  value       = { for name, alarm in aws_cloudwatch_metric_alarm.this : name => alarm.arn }
}

output "alarms" {
  description = "Each alarm's metric and threshold, by purpose (for tests and reviews)."
  value = { for name, alarm in aws_cloudwatch_metric_alarm.this : name => {
    metric_name = alarm.metric_name
    threshold   = alarm.threshold
  } }
}

output "alias_name" {
  description = "Name of the alias the event-source mapping invokes (`live`)."
  value       = aws_lambda_alias.live.name
}

output "alias_arn" {
  description = "ARN of the `live` alias the event-source mapping invokes (move it to roll back)."
  value       = aws_lambda_alias.live.arn
}

output "dashboard_name" {
  description = "Name of the pipeline's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
