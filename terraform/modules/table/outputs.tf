output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table (the consumer's GetItem/BatchGetItem resource)."
  value       = aws_dynamodb_table.this.arn
}

output "table_hash_key" {
  description = "Name of the partition key attribute."
  value       = aws_dynamodb_table.this.hash_key
}

output "table_item_keys" {
  description = "Hash key values of the seed items written by this module."
  value       = sort(keys(aws_dynamodb_table_item.seed))
}
