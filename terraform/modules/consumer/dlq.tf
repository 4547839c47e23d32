# Two queues with two different readers:
#   - the dead-letter queue holds what a human must look at: poison records the
#     consumer itself sends (DLQ_URL, with a reason and the record's data) and
#     failed asynchronous invocations (dead_letter_config);
#   - the on-failure queue holds the event-source mapping's invocation records
#     (shard id and sequence range of records it gave up on, no data), which
#     `harness redrive` reads to deliver those records again.
#
# Both hold record data or pointers to it: encrypted at rest (SSE-SQS, or the
# customer managed key queues.kms_key_arn) and reachable only over TLS.
resource "aws_sqs_queue" "dlq" {
  name                      = var.dlq_name
  message_retention_seconds = var.queues.message_retention_seconds
  # The consumer fits every letter to this (DLQ_MAX_MESSAGE_BYTES): a letter
  # SQS refused would block its shard.
  max_message_size = var.queues.dlq_max_message_size

  # SSE-SQS needs no key policy and no kms permissions for senders.
  sqs_managed_sse_enabled = var.queues.kms_key_arn == null ? true : null
  kms_master_key_id       = var.queues.kms_key_arn

  tags = var.tags
}

resource "aws_sqs_queue" "on_failure" {
  name                      = var.on_failure_queue_name
  message_retention_seconds = var.queues.message_retention_seconds

  sqs_managed_sse_enabled = var.queues.kms_key_arn == null ? true : null
  kms_master_key_id       = var.queues.kms_key_arn

  tags = var.tags
}

# Anything but TLS is refused, whoever asks.
resource "aws_sqs_queue_policy" "tls_only" {
  for_each = { dlq = aws_sqs_queue.dlq, on_failure = aws_sqs_queue.on_failure }

  queue_url = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyWithoutTls"
      Effect    = "Deny"
      Action    = "sqs:*"
      Resource  = each.value.arn
      Principal = "*"
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
