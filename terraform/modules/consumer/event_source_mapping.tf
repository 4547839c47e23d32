# Kinesis -> Lambda. The handler reports partial failures (ReportBatchItemFailures),
# so only the failed suffix of a batch is retried; bisecting isolates a record
# that crashes the function.
#
# Retries are bounded by record age, not by count (maximum_retry_attempts = -1
# by default): the handler dead-letters poison itself, so every retry the
# mapping sees is transient (DynamoDB or the DLQ unavailable, init failing) and
# a count would give up on good records after a few minutes of outage. Records
# older than maximum_record_age_in_seconds go to the on-failure queue as a
# pointer while the stream still holds them; `harness redrive` delivers them.
# Enhanced fan-out (opt-in): a registered consumer with its own 2 MB/s per
# shard, records pushed over HTTP/2 (about 70 ms end to end instead of about
# 200 ms with one polling consumer, by AWS's figures).
resource "aws_kinesis_stream_consumer" "this" {
  count = var.mapping.enhanced_fan_out ? 1 : 0

  name       = "${var.function_name}-consumer"
  stream_arn = var.stream_arn
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn = var.mapping.enhanced_fan_out ? aws_kinesis_stream_consumer.this[0].arn : var.stream_arn
  function_name    = aws_lambda_alias.live.arn
  enabled          = var.mapping.enabled

  batch_size                         = var.mapping.batch_size
  maximum_batching_window_in_seconds = var.mapping.maximum_batching_window_in_seconds
  starting_position                  = var.mapping.starting_position
  starting_position_timestamp        = var.mapping.starting_position == "AT_TIMESTAMP" ? var.mapping.starting_position_timestamp : null

  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = var.mapping.bisect_batch_on_function_error
  maximum_retry_attempts         = var.mapping.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.mapping.maximum_record_age_in_seconds
  parallelization_factor         = var.mapping.parallelization_factor
  tumbling_window_in_seconds     = var.mapping.tumbling_window_in_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }

  # Records matching none of the patterns are dropped before invocation
  # (FilteredOutEventCount); up to 5 patterns, ORed.
  dynamic "filter_criteria" {
    for_each = length(var.mapping.filter_criteria) > 0 ? [var.mapping.filter_criteria] : []

    content {
      dynamic "filter" {
        for_each = filter_criteria.value

        content {
          pattern = filter.value
        }
      }
    }
  }

  # PolledEventCount, InvokedEventCount, FailedInvokeEventCount, DroppedEventCount,
  # OnFailureDestinationDeliveredEventCount, ... (AWS/Lambda, per mapping UUID);
  # the dropped-events alarm needs EventCount.
  dynamic "metrics_config" {
    for_each = length(var.mapping.metrics_config) > 0 ? [var.mapping.metrics_config] : []

    content {
      metrics = metrics_config.value
    }
  }

  # AWS checks the role's Kinesis and SQS permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

}
