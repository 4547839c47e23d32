# Dead-letter queue. Three producers, one queue:
#   - the consumer itself sends poison records (with a reason) to DLQ_URL;
#   - the event-source mapping's on-failure destination sends the shard/sequence
#     range of a batch that exhausted its retries or its maximum record age;
#   - Lambda sends failed asynchronous invocations (dead_letter_config).
resource "aws_sqs_queue" "dlq" {
  name                      = var.dlq_name
  message_retention_seconds = var.dlq_message_retention_seconds

  # SSE-SQS: encrypted at rest without a KMS key, so senders need no kms permissions.
  sqs_managed_sse_enabled = true

  tags = var.tags
}
