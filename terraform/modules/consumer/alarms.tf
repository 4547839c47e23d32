# Three signals that need a human: the consumer falls behind the stream,
# records end up in the DLQ, or invocations fail.

locals {
  alarm_prefix = coalesce(var.alarm_name_prefix, var.function_name)
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name        = "${local.alarm_prefix}-iterator-age"
  alarm_description = "Age of the last record the ${var.function_name} mapping read is above ${var.iterator_age_alarm_threshold_ms} ms: the consumer is falling behind the stream."

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

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name        = "${local.alarm_prefix}-dlq-depth"
  alarm_description = "Messages are waiting in ${var.dlq_name}: records the consumer could not process."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dlq.name
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

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name        = "${local.alarm_prefix}-errors"
  alarm_description = "Invocations of ${var.function_name} failed (the whole batch is retried)."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.errors_alarm_threshold
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = var.alarm_sns_topic_arns
  ok_actions      = var.alarm_sns_topic_arns

  tags = var.tags
}
