output "stream_arn" {
  description = "ARN of the stream (the event-source mapping's source)."
  value       = aws_kinesis_stream.this.arn
}

output "stream_name" {
  description = "Name of the stream."
  value       = aws_kinesis_stream.this.name
}

output "stream_mode" {
  description = "Capacity mode of the stream (`ON_DEMAND` or `PROVISIONED`)."
  value       = var.stream_mode
}

output "stream_kms_key_id" {
  description = "KMS key (id, ARN or alias) that encrypts the stream at rest."
  value       = aws_kinesis_stream.this.kms_key_id
}
