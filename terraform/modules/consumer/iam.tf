# Execution role: exactly the actions the consumer and its event-source mapping
# use, each on exactly its own resource. No wildcard actions, and no resource
# "*" but for X-Ray, which has no resource types.
#
# The statements are plain Terraform values rendered with jsonencode, so
# `terraform test` reads them (output role_policy_statements) without AWS.

locals {
  # Customer managed keys are named when given; otherwise (AWS-managed keys)
  # the statement names any key of this account and region and the encryption
  # context condition pins it to this one stream/parameter/table.
  any_key_in_account = "arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"

  # Decryption only through the named service, only for the named resource.
  decrypt_via = { for service, context in {
    ssm      = { "kms:EncryptionContext:PARAMETER_ARN" = var.api_key_parameter_arn }
    kinesis  = { "kms:EncryptionContext:aws:kinesis:arn" = var.stream_arn }
    dynamodb = { "kms:EncryptionContext:aws:dynamodb:tableName" = var.table_name }
    sqs      = { "kms:EncryptionContext:aws:sqs:arn" = [aws_sqs_queue.dlq.arn, aws_sqs_queue.on_failure.arn] }
    lambda   = {}
  } : service => { StringEquals = merge({ "kms:ViaService" = "${service}.${local.region}.amazonaws.com" }, context) } }

  role_policy_statements = concat(
    # The event-source mapping polls the stream with the function's role.
    [{
      Sid      = "ReadStream"
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
      Resource = [var.stream_arn]
    }],
    # Enhanced fan-out: the mapping subscribes through the registered consumer.
    # A consumer's ARN ends in its creation time (".../consumer/NAME:1525898737");
    # the ":*" covers that suffix for this one consumer name, including after
    # a re-creation, and does not depend on an emulator filling it in.
    var.mapping.enhanced_fan_out ? [{
      Sid      = "ReadThroughFanOutConsumer"
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
      Resource = ["${var.stream_arn}/consumer/${aws_kinesis_stream_consumer.this[0].name}:*"]
    }] : [],
    # No kinesis:ListStreams: the mapping names its stream, and the action
    # exists only on Resource "*".
    [{
      Sid      = "ReadLocations"
      Effect   = "Allow"
      Action   = ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
      Resource = [var.table_arn]
    }],
    [{
      Sid      = "ReadMomentoApiKey"
      Effect   = "Allow"
      Action   = ["ssm:GetParameter"]
      Resource = [var.api_key_parameter_arn]
    }],
    # SecureString decryption: only through SSM, only for this parameter.
    [{
      Sid       = "DecryptMomentoApiKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [coalesce(var.api_key_kms_key_arn, local.any_key_in_account)]
      Condition = local.decrypt_via.ssm
    }],
    # Stream record decryption: only through Kinesis, only for this stream.
    [{
      Sid       = "DecryptStreamRecords"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [coalesce(var.stream_kms_key_arn, local.any_key_in_account)]
      Condition = local.decrypt_via.kinesis
    }],
    # Only with a customer managed table key (the AWS-managed aws/dynamodb key
    # needs no IAM grant): only through DynamoDB, only for this table.
    var.table_kms_key_arn == null ? [] : [{
      Sid       = "DecryptTableItems"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.table_kms_key_arn]
      Condition = local.decrypt_via.dynamodb
    }],
    # Poison records (from the handler) and failed async invocations
    # (dead_letter_config) to the DLQ; the event-source mapping's invocation
    # records (pointers to records it gave up on) to the on-failure queue.
    [{
      Sid      = "SendToDeadLetterQueues"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.dlq.arn, aws_sqs_queue.on_failure.arn]
    }],
    # Only with a customer managed queue key: sending to an encrypted queue
    # needs the data key; only through SQS, only for these two queues.
    var.queues.kms_key_arn == null ? [] : [{
      Sid       = "EncryptQueueMessages"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = [var.queues.kms_key_arn]
      Condition = local.decrypt_via.sqs
    }],
    # Only with a customer managed key for the environment: Lambda decrypts
    # the function's variables at start-up with it, only through Lambda.
    var.lambda.environment_kms_key_arn == null ? [] : [{
      Sid       = "DecryptEnvironment"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.lambda.environment_kms_key_arn]
      Condition = local.decrypt_via.lambda
    }],
    # The log group is created by Terraform, so no logs:CreateLogGroup.
    [{
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
    }],
    # X-Ray has no resource-level permissions; only with tracing_mode "Active".
    var.lambda.tracing_mode == "Active" ? [{
      Sid      = "WriteTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      Resource = ["*"]
    }] : [],
  )
}

resource "aws_iam_role" "this" {
  name        = "${var.function_name}-role"
  description = "Execution role of the ${var.function_name} Kinesis consumer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssumeRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
  permissions_boundary = var.lambda.permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.role_policy_statements })
}
