# Two queues with two different readers:
#   - the dead-letter queue holds what a human must look at: poison records the
#     consumer itself sends (DLQ_URL, with a reason and the record's data) and
#     failed asynchronous invocations (dead_letter_config);
#   - the on-failure queue holds the event-source mapping's invocation records
#     (shard id and sequence range of records it gave up on, no data), which
#     `harness redrive` reads to deliver those records again.
resource "aws_sqs_queue" "dlq" {
  name                      = var.dlq_name
  message_retention_seconds = var.dlq_message_retention_seconds

  # SSE-SQS: encrypted at rest without a KMS key, so senders need no kms permissions.
  sqs_managed_sse_enabled = true

  tags = var.tags
}

resource "aws_sqs_queue" "on_failure" {
  name                      = var.on_failure_queue_name
  message_retention_seconds = var.dlq_message_retention_seconds

  sqs_managed_sse_enabled = true

  tags = var.tags
}
