# Execution role: exactly the actions the consumer and its event-source mapping
# use, each on exactly its own resource. No wildcard actions.

locals {
  # Customer managed keys are named when given; otherwise (AWS-managed keys)
  # the statement names any key of this account and region and the encryption
  # context condition pins it to this one stream/parameter/table.
  any_key_in_account = "arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = coalesce(var.role_name, "${var.function_name}-role")
  description          = "Execution role of the ${var.function_name} Kinesis consumer"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  # The event-source mapping polls the stream with the function's role.
  statement {
    sid    = "ReadStream"
    effect = "Allow"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [var.stream_arn]
  }

  # Enhanced fan-out: the mapping subscribes through the registered consumer.
  # A consumer's ARN ends in its creation time (".../consumer/NAME:1525898737");
  # the ":*" covers that suffix for this one consumer name, including after
  # a re-creation, and does not depend on an emulator filling it in.
  dynamic "statement" {
    for_each = var.enhanced_fan_out ? [1] : []

    content {
      sid       = "ReadThroughFanOutConsumer"
      effect    = "Allow"
      actions   = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
      resources = ["${var.stream_arn}/consumer/${aws_kinesis_stream_consumer.this[0].name}:*"]
    }
  }

  # kinesis:ListStreams is an account-level List action with no resource type
  # (the Service Authorization Reference lists none), so IAM only matches it on
  # Resource "*"; a stream ARN here would silently deny it. The tightest scope
  # AWS allows is the condition below: this region only.
  statement {
    sid       = "ListStreamsInRegion"
    effect    = "Allow"
    actions   = ["kinesis:ListStreams"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

  statement {
    sid       = "ReadLocations"
    effect    = "Allow"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
    resources = [var.table_arn]
  }

  statement {
    sid       = "ReadMomentoApiKey"
    effect    = "Allow"
    actions   = ["ssm:GetParameter"]
    resources = [var.api_key_parameter_arn]
  }

  # SecureString decryption: only through SSM, only for this parameter.
  statement {
    sid       = "DecryptMomentoApiKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [coalesce(var.api_key_kms_key_arn, local.any_key_in_account)]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [var.api_key_parameter_arn]
    }
  }

  # Stream record decryption: only through Kinesis, only for this stream.
  statement {
    sid       = "DecryptStreamRecords"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [coalesce(var.stream_kms_key_arn, local.any_key_in_account)]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["kinesis.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:kinesis:arn"
      values   = [var.stream_arn]
    }
  }

  # Only with a customer managed table key (the AWS-managed aws/dynamodb key
  # needs no IAM grant): only through DynamoDB, only for this table.
  dynamic "statement" {
    for_each = var.table_kms_key_arn == null ? [] : [var.table_kms_key_arn]

    content {
      sid       = "DecryptTableItems"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:dynamodb:tableName"
        values   = [var.table_name]
      }
    }
  }

  # Poison records (from the handler) and failed async invocations
  # (dead_letter_config) to the DLQ; the event-source mapping's invocation
  # records (pointers to records it gave up on) to the on-failure queue.
  statement {
    sid       = "SendToDeadLetterQueues"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn, aws_sqs_queue.on_failure.arn]
  }

  # Only with a customer managed queue key: sending to an encrypted queue
  # needs the data key; only through SQS.
  dynamic "statement" {
    for_each = var.queue_kms_key_arn == null ? [] : [var.queue_kms_key_arn]

    content {
      sid       = "EncryptQueueMessages"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }

  # The log group is created by Terraform, so no logs:CreateLogGroup.
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  # X-Ray has no resource-level permissions; only present with tracing_mode = "Active".
  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []

    content {
      sid       = "WriteTraces"
      effect    = "Allow"
      actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
