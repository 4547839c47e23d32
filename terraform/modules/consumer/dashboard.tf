# One page for the pipeline: what comes in and goes out, how far behind, what
# fails, how the cache does, and every alarm's state. The consumer's own
# metrics (namespace lambda.metrics_namespace, dimension FunctionName) are the
# EMF names lambda/src/metrics.rs records; a test checks them against it.

locals {
  function  = aws_lambda_function.this.function_name
  namespace = var.lambda.metrics_namespace

  # Each metric: [namespace, metric, dimension name, dimension value].
  dashboard_widgets = [
    {
      title = "Records: in the stream, invocations, processed (user records of KPL aggregates apart)"
      metrics = [
        ["AWS/Kinesis", "IncomingRecords", "StreamName", local.stream_name],
        ["AWS/Lambda", "Invocations", "FunctionName", local.function],
        [local.namespace, "Records", "FunctionName", local.function],
        [local.namespace, "Aggregates", "FunctionName", local.function],
        [local.namespace, "UserRecords", "FunctionName", local.function],
        [local.namespace, "Enriched", "FunctionName", local.function],
      ]
      stat = "Sum"
    },
    {
      title = "Behind: iterator age (ms)"
      metrics = [
        ["AWS/Lambda", "IteratorAge", "FunctionName", local.function],
        [local.namespace, "OldestRecordAge", "FunctionName", local.function],
      ]
      stat = "Maximum"
    },
    {
      title = "Failures: function errors, batch item failures, dead letters, queues"
      metrics = [
        ["AWS/Lambda", "Errors", "FunctionName", local.function],
        ["AWS/Lambda", "Throttles", "FunctionName", local.function],
        [local.namespace, "BatchItemFailures", "FunctionName", local.function],
        [local.namespace, "DeadLettered", "FunctionName", local.function],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dlq.name],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.on_failure.name],
      ]
      stat = "Sum"
    },
    {
      title = "Momento: hits, misses, errors, skipped (breaker open)"
      metrics = [
        [local.namespace, "L1Hits", "FunctionName", local.function],
        [local.namespace, "MomentoHits", "FunctionName", local.function],
        [local.namespace, "MomentoMisses", "FunctionName", local.function],
        [local.namespace, "MomentoErrors", "FunctionName", local.function],
        [local.namespace, "MomentoSkipped", "FunctionName", local.function],
        [local.namespace, "MomentoCacheMissing", "FunctionName", local.function],
      ]
      stat = "Sum"
    },
    {
      title = "DynamoDB: reads found, missing, failed"
      metrics = [
        [local.namespace, "DynamoDbHits", "FunctionName", local.function],
        [local.namespace, "DynamoDbMisses", "FunctionName", local.function],
        [local.namespace, "DynamoDbFailures", "FunctionName", local.function],
      ]
      stat = "Sum"
    },
    {
      title = "Duration (ms): invocation and handler"
      metrics = [
        ["AWS/Lambda", "Duration", "FunctionName", local.function],
        [local.namespace, "ProcessingTime", "FunctionName", local.function],
      ]
      stat = "p99"
    },
  ]

}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.function
  dashboard_body = jsonencode({
    widgets = concat(
      [
        {
          type   = "alarm"
          x      = 0
          y      = 0
          width  = 24
          height = 4
          properties = {
            title  = "Alarms"
            alarms = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
          }
        },
      ],
      [
        for i, w in local.dashboard_widgets : {
          type   = "metric"
          x      = (i % 2) * 12
          y      = 4 + floor(i / 2) * 6
          width  = 12
          height = 6
          properties = {
            title   = w.title
            region  = local.region
            stat    = w.stat
            period  = var.alarms.period_seconds
            view    = "timeSeries"
            metrics = w.metrics
          }
        }
      ],
    )
  })
}
