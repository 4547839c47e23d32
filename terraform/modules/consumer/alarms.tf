# An alarm on every way a record can be late, failed, skipped or lost, and on
# the cache quietly not working: one resource, one row each. The README's
# alarm table says what each means and what to do.

locals {
  periods     = var.alarms.evaluation_periods
  by_function = { FunctionName = aws_lambda_function.this.function_name }
  own_metrics = var.lambda.metrics_namespace

  # A row: the metric (namespace, name, statistic, dimensions) or, for
  # `stalled`, metric math; `periods` 1 fires on the first period (something
  # was lost or given up on), the sustained ones wait the evaluation periods so
  # a transient blip pages nobody; `datapoints` fewer than `periods` fire on
  # M of N. Missing data never breaches: a quiet stream is not a failure.
  alarms = {
    iterator_age = {
      metric      = ["AWS/Lambda", "IteratorAge", "Maximum", local.by_function]
      threshold   = var.alarms.iterator_age_threshold_ms
      periods     = local.periods
      description = "The ${var.function_name} mapping is more than ${var.alarms.iterator_age_threshold_ms} ms behind the stream for ${local.periods} periods. Records older than ${var.mapping.maximum_record_age_in_seconds} s go to the on-failure queue."
    }
    # Records keep arriving while the function is invoked not at all: a
    # mapping disabled by error, broken, or missing a permission, which the
    # iterator-age alarm cannot see (nothing invoked publishes no IteratorAge).
    # A quiet stream, nothing arriving, never trips it.
    stalled = {
      expression  = "IF(incoming > 0 AND FILL(invocations, 0) == 0, 1, 0)"
      threshold   = 0
      periods     = local.periods
      description = "Records arrive in the stream of ${var.function_name} but the mapping invoked it not once in ${local.periods} periods: the mapping is stalled (disabled by error, broken, or missing a permission)."
    }
    errors = {
      metric      = ["AWS/Lambda", "Errors", "Sum", local.by_function]
      threshold   = var.alarms.errors_threshold
      periods     = local.periods
      datapoints  = min(3, local.periods)
      description = "Invocations of ${var.function_name} failed as a whole (crash, timeout, init failure, e.g. an unreadable Momento key) in ${min(3, local.periods)} of ${local.periods} periods: the mapping retries, bisecting the batch, but it keeps failing."
    }
    throttles = {
      metric      = ["AWS/Lambda", "Throttles", "Sum", local.by_function]
      threshold   = 0
      periods     = local.periods
      description = "Invocations of ${var.function_name} are throttled (account or reserved concurrency): the stream backs up."
    }
    destination_delivery_failures = {
      metric      = ["AWS/Lambda", "DestinationDeliveryFailures", "Sum", local.by_function]
      threshold   = 0
      periods     = 1
      description = "The mapping could not write an invocation record to the on-failure queue ${var.on_failure_queue_name}: records were skipped with no pointer left to redrive them."
    }
    dropped_events = {
      metric      = ["AWS/Lambda", "DroppedEventCount", "Sum", { EventSourceMappingUUID = aws_lambda_event_source_mapping.this.uuid }]
      threshold   = 0
      periods     = 1
      description = "The ${var.function_name} event-source mapping dropped records (DroppedEventCount): they were neither processed nor recorded in ${var.on_failure_queue_name}."
    }
    batch_item_failures = {
      metric      = [local.own_metrics, "BatchItemFailures", "Sum", local.by_function]
      threshold   = 0
      periods     = local.periods
      description = "${var.function_name} keeps reporting batchItemFailures (DynamoDB or the DLQ unavailable): its shards are retrying and falling behind."
    }
    dynamodb_failures = {
      metric      = [local.own_metrics, "DynamoDbFailures", "Sum", local.by_function]
      threshold   = 0
      periods     = local.periods
      description = "DynamoDB reads of ${var.function_name} keep failing: records wait for retries."
    }
    momento_errors = {
      metric      = [local.own_metrics, "MomentoErrors", "Sum", local.by_function]
      threshold   = var.alarms.momento_errors_threshold
      periods     = local.periods
      description = "Momento calls of ${var.function_name} keep failing or timing out: records are enriched from DynamoDB (slower, costlier), none fails."
    }
    momento_cache_missing = {
      metric      = [local.own_metrics, "MomentoCacheMissing", "Sum", local.by_function]
      threshold   = 0
      periods     = 1
      description = "The Momento cache ${var.cache_name} does not exist: ${var.function_name} runs on DynamoDB alone. Create it (`just momento-cache`)."
    }
    dlq_depth = {
      metric      = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", { QueueName = aws_sqs_queue.dlq.name }]
      threshold   = 0
      periods     = 1
      description = "Messages wait in ${var.dlq_name}: poison records the consumer could not enrich (each with its reason and data), or failed asynchronous invocations."
    }
    # Pointers name records the stream keeps for stream_retention_hours only:
    # warned at half of it, there is time left to fix the cause and redrive.
    on_failure_age = {
      metric      = ["AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", { QueueName = aws_sqs_queue.on_failure.name }]
      threshold   = var.stream_retention_hours * 3600 / 2
      periods     = 1
      description = "The oldest pointer in ${var.on_failure_queue_name} is more than ${var.stream_retention_hours / 2} hours old: its records leave the stream ${var.stream_retention_hours} hours after they were written. Redrive them now (`harness redrive --deployed`), before they are gone."
    }
    on_failure_depth = {
      metric      = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", { QueueName = aws_sqs_queue.on_failure.name }]
      threshold   = 0
      periods     = 1
      description = "Invocation records wait in ${var.on_failure_queue_name}: the mapping gave up on records after ${var.mapping.maximum_record_age_in_seconds} s. Fix the cause, then run `harness redrive` while the stream still holds them."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = "${var.function_name}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace   = try(each.value.metric[0], null)
  metric_name = try(each.value.metric[1], null)
  statistic   = try(each.value.metric[2], null)
  dimensions  = try(each.value.metric[3], null)
  period      = can(each.value.metric) ? var.alarms.period_seconds : null

  evaluation_periods  = each.value.periods
  datapoints_to_alarm = try(each.value.datapoints, each.value.periods)
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"

  # The stalled alarm's metric math: the stream's incoming records against
  # the function's invocations.
  dynamic "metric_query" {
    for_each = can(each.value.expression) ? [each.value.expression] : []

    content {
      id          = "stalled"
      expression  = metric_query.value
      label       = "records arriving, no invocation"
      return_data = true
    }
  }
  dynamic "metric_query" {
    for_each = can(each.value.expression) ? {
      incoming    = ["AWS/Kinesis", "IncomingRecords", { StreamName = local.stream_name }]
      invocations = ["AWS/Lambda", "Invocations", local.by_function]
    } : {}

    content {
      id = metric_query.key
      metric {
        namespace   = metric_query.value[0]
        metric_name = metric_query.value[1]
        dimensions  = metric_query.value[2]
        stat        = "Sum"
        period      = var.alarms.period_seconds
      }
    }
  }

  # A paused mapping invokes nothing on purpose: only the stalled alarm
  # would notice, and it stays quiet then.
  actions_enabled = each.key != "stalled" || var.mapping.enabled
  alarm_actions   = var.alarms.sns_topic_arns
  ok_actions      = var.alarms.sns_topic_arns

  tags = var.tags
}

# Where each alarm was before it became a row of the one resource above.
moved {
  from = aws_cloudwatch_metric_alarm.iterator_age
  to   = aws_cloudwatch_metric_alarm.this["iterator_age"]
}
moved {
  from = aws_cloudwatch_metric_alarm.stalled
  to   = aws_cloudwatch_metric_alarm.this["stalled"]
}
moved {
  from = aws_cloudwatch_metric_alarm.dropped_events
  to   = aws_cloudwatch_metric_alarm.this["dropped_events"]
}
moved {
  from = aws_cloudwatch_metric_alarm.queue_depth["dlq_depth"]
  to   = aws_cloudwatch_metric_alarm.this["dlq_depth"]
}
moved {
  from = aws_cloudwatch_metric_alarm.queue_depth["on_failure_depth"]
  to   = aws_cloudwatch_metric_alarm.this["on_failure_depth"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["errors"]
  to   = aws_cloudwatch_metric_alarm.this["errors"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["throttles"]
  to   = aws_cloudwatch_metric_alarm.this["throttles"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["destination_delivery_failures"]
  to   = aws_cloudwatch_metric_alarm.this["destination_delivery_failures"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["batch_item_failures"]
  to   = aws_cloudwatch_metric_alarm.this["batch_item_failures"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["dynamodb_failures"]
  to   = aws_cloudwatch_metric_alarm.this["dynamodb_failures"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["momento_errors"]
  to   = aws_cloudwatch_metric_alarm.this["momento_errors"]
}
moved {
  from = aws_cloudwatch_metric_alarm.function["momento_cache_missing"]
  to   = aws_cloudwatch_metric_alarm.this["momento_cache_missing"]
}
