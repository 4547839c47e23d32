output "stack" {
  description = "Everything the stack outputs (modules/stack/outputs.tf): names, ARNs and URLs of the stream, table, parameter, function, alias, queues, alarms and dashboard."
  value       = module.stack
}
