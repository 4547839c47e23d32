# An alarm on every way a record can be late, failed, skipped or lost, and on
# the cache quietly not working. Thresholds and periods are variables; the
# README's alarm table says what each one means and what to do.

locals {
  alarm_prefix = coalesce(var.alarm_name_prefix, var.function_name)

  # Sums of one metric of the function over a period. `periods` = 1 fires on
  # the first period (something was lost or given up on); the sustained ones
  # wait `alarm_evaluation_periods`, so one transient blip does not page;
  # errors fire when `datapoints` of those periods had errors.
  function_sum_alarms = {
    errors = {
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      threshold   = var.errors_alarm_threshold
      periods     = var.alarm_evaluation_periods
      datapoints  = min(3, var.alarm_evaluation_periods)
      description = "Invocations of ${var.function_name} failed as a whole (crash, timeout, init failure, e.g. an unreadable Momento key) in ${min(3, var.alarm_evaluation_periods)} of ${var.alarm_evaluation_periods} periods: the mapping retries, bisecting the batch, but it keeps failing."
    }
    throttles = {
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      threshold   = 0
      periods     = var.alarm_evaluation_periods
      description = "Invocations of ${var.function_name} are throttled (account or reserved concurrency): the stream backs up."
    }
    destination_delivery_failures = {
      namespace   = "AWS/Lambda"
      metric      = "DestinationDeliveryFailures"
      threshold   = 0
      periods     = 1
      description = "The mapping could not write an invocation record to the on-failure queue ${var.on_failure_queue_name}: records were skipped with no pointer left to redrive them."
    }
    batch_item_failures = {
      namespace   = var.metrics_namespace
      metric      = "BatchItemFailures"
      threshold   = 0
      periods     = var.alarm_evaluation_periods
      description = "${var.function_name} keeps reporting batchItemFailures (DynamoDB or the DLQ unavailable): its shards are retrying and falling behind."
    }
    dynamodb_failures = {
      namespace   = var.metrics_namespace
      metric      = "DynamoDbFailures"
      threshold   = 0
      periods     = var.alarm_evaluation_periods
      description = "DynamoDB reads of ${var.function_name} keep failing: records wait for retries."
    }
    momento_errors = {
      namespace   = var.metrics_namespace
      metric      = "MomentoErrors"
      threshold   = var.momento_errors_alarm_threshold
      periods     = var.alarm_evaluation_periods
      description = "Momento calls of ${var.function_name} keep failing or timing out: records are enriched from DynamoDB (slower, costlier), none fails."
    }
    momento_cache_missing = {
      namespace   = var.metrics_namespace
      metric      = "MomentoCacheMissing"
      threshold   = 0
      periods     = 1
      description = "The Momento cache ${var.cache_name} does not exist: ${var.function_name} runs on DynamoDB alone. Create it (`just momento-cache`)."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = local.function_sum_alarms

  alarm_name        = "${local.alarm_prefix}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace   = each.value.namespace
  metric_name = each.value.metric
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = lookup(each.value, "datapoints", each.value.periods)
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_sns_topic_arns
  ok_actions      = var.alarm_sns_topic_arns

  tags = var.tags
}

moved {
  from = aws_cloudwatch_metric_alarm.errors
  to   = aws_cloudwatch_metric_alarm.function["errors"]
}

# Falling behind: the records the mapping reads are old. A quiet stream has
# no IteratorAge data, and that is not a failure (missing = not breaching);
# a mapping that reads nothing at all is the stalled alarm's.
resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name        = "${local.alarm_prefix}-iterator-age"
  alarm_description = "The ${var.function_name} mapping is more than ${var.iterator_age_alarm_threshold_ms} ms behind the stream for ${var.alarm_evaluation_periods} periods. Records older than ${var.maximum_record_age_in_seconds} s go to the on-failure queue."

  namespace   = "AWS/Lambda"
  metric_name = "IteratorAge"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_alarm_threshold_ms
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_sns_topic_arns
  ok_actions      = var.alarm_sns_topic_arns

  tags = var.tags
}

# Stalled: records keep arriving in the stream while the function is invoked
# not at all. A quiet stream (nothing arriving) never trips it; a mapping
# that is disabled, broken, or without permission does, which the iterator-age
# alarm cannot see (no invocation, no IteratorAge). Only while the mapping is
# enabled.
resource "aws_cloudwatch_metric_alarm" "stalled" {
  alarm_name          = "${local.alarm_prefix}-stalled"
  alarm_description   = "Records arrive in the stream of ${var.function_name} but the mapping invoked it not once in ${var.alarm_evaluation_periods} periods: the mapping is stalled (disabled by error, broken, or missing a permission)."
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "stalled"
    expression  = "IF(incoming > 0 AND FILL(invocations, 0) == 0, 1, 0)"
    label       = "records arriving, no invocation"
    return_data = true
  }
  metric_query {
    id = "incoming"
    metric {
      namespace   = "AWS/Kinesis"
      metric_name = "IncomingRecords"
      dimensions  = { StreamName = local.stream_name }
      stat        = "Sum"
      period      = var.alarm_period_seconds
    }
  }
  metric_query {
    id = "invocations"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      stat        = "Sum"
      period      = var.alarm_period_seconds
    }
  }

  actions_enabled = var.event_source_mapping_enabled
  alarm_actions   = var.alarm_sns_topic_arns
  ok_actions      = var.alarm_sns_topic_arns

  tags = var.tags
}

# Records the mapping dropped without an on-failure record (EventCount metrics,
# per mapping).
resource "aws_cloudwatch_metric_alarm" "dropped_events" {
  alarm_name        = "${local.alarm_prefix}-dropped-events"
  alarm_description = "The ${var.function_name} event-source mapping dropped records (DroppedEventCount): they were neither processed nor recorded in ${var.on_failure_queue_name}."

  namespace   = "AWS/Lambda"
  metric_name = "DroppedEventCount"
  dimensions = {
    EventSourceMappingUUID = aws_lambda_event_source_mapping.this.uuid
  }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_sns_topic_arns
  ok_actions      = var.alarm_sns_topic_arns

  tags = var.tags
}

# Messages waiting in either queue: poison for a human to read (DLQ), or
# pointers to records for `harness redrive` (on-failure queue).
resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  for_each = {
    dlq_depth = {
      queue       = aws_sqs_queue.dlq.name
      description = "Messages wait in ${var.dlq_name}: poison records the consumer could not enrich (each with its reason and data), or failed asynchronous invocations."
    }
    on_failure_depth = {
      queue       = aws_sqs_queue.on_failure.name
      description = "Invocation records wait in ${var.on_failure_queue_name}: the mapping gave up on records after ${var.maximum_record_age_in_seconds} s. Fix the cause, then run `harness redrive` while the stream still holds them."
    }
  }

  alarm_name        = "${local.alarm_prefix}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = each.value.queue
  }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_sns_topic_arns
  ok_actions      = var.alarm_sns_topic_arns

  tags = var.tags
}

moved {
  from = aws_cloudwatch_metric_alarm.dlq_depth
  to   = aws_cloudwatch_metric_alarm.queue_depth["dlq_depth"]
}
