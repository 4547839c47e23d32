# The consumer Lambda (Rust, custom runtime) and its log group.

locals {
  # arn:<partition>:kinesis:<region>:<account>:stream/<name>: the stream the
  # stack created places every ARN this module writes, without a lookup.
  stream_arn_parts = split(":", var.stream_arn)
  partition        = local.stream_arn_parts[1]
  region           = local.stream_arn_parts[3]
  account_id       = local.stream_arn_parts[4]
  stream_name      = trimprefix(local.stream_arn_parts[5], "stream/")

  # Fixed keys win over extra_environment_variables: the consumer's contract
  # must not be overridden by accident.
  environment_variables = merge(var.lambda.extra_environment_variables, {
    TABLE_NAME                = var.table_name
    CACHE_NAME                = var.cache_name
    MOMENTO_API_KEY_PARAMETER = var.api_key_parameter_name
    DLQ_URL                   = aws_sqs_queue.dlq.url
    DLQ_MAX_MESSAGE_BYTES     = tostring(aws_sqs_queue.dlq.max_message_size)
    RUST_LOG                  = var.lambda.rust_log
    METRICS_NAMESPACE         = var.lambda.metrics_namespace
  })
}

# Created by Terraform (not by Lambda on first invoke) so it has a retention
# and the role needs no logs:CreateLogGroup.
resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest with service-owned keys; a customer managed key (lambda.log_kms_key_arn) needs a key policy for logs.<region>.amazonaws.com, which this module does not own.
  #checkov:skip=CKV_AWS_338:Operational logs with one line per batch/record; retention is a setting (lambda.log_retention_in_days, default 30 days) so deployments with a one-year audit requirement set 365.
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.lambda.log_retention_in_days
  kms_key_id        = var.lambda.log_kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:Not in a VPC on purpose: the function only calls public AWS endpoints (Kinesis, DynamoDB, SSM, SQS) and Momento over TLS; a VPC would add NAT cost and cold-start latency without narrowing any path.
  #checkov:skip=CKV_AWS_50:X-Ray is a setting (lambda.tracing_mode, PassThrough by default: traces cost per segment and the EMF metrics and JSON logs cover the pipeline); the production root turns it on.
  #checkov:skip=CKV_AWS_272:Code signing is not used: the zip is built by cargo lambda in the same pipeline that applies it, and source_code_hash pins the exact artifact.
  #checkov:skip=CKV_AWS_173:A customer managed key for the environment is lambda.environment_kms_key_arn (the production root sets it); the environment holds only resource names, the log level and a queue URL, the one secret (the Momento key) lives in an SSM SecureString fetched at start-up.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is a setting (lambda.reserved_concurrent_executions, default unreserved): Kinesis already bounds concurrency to shards x parallelization_factor, and reserving capacity fails in new accounts whose quota is 10.
  function_name = var.function_name
  description   = "Kinesis consumer: enriches ModelOne records through a Momento read-through cache over DynamoDB"
  role          = aws_iam_role.this.arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.lambda.architecture]

  # The zip from `cargo lambda build --release --output-format zip`.
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)

  memory_size                    = var.lambda.memory_size
  timeout                        = var.lambda.timeout
  reserved_concurrent_executions = var.lambda.reserved_concurrent_executions

  environment {
    variables = local.environment_variables
  }
  kms_key_arn = var.lambda.environment_kms_key_arn

  # Only asynchronous invocations (e.g. a manual `aws lambda invoke --invocation-type Event`)
  # land here; stream batches use the event-source mapping's on-failure destination.
  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  tracing_config {
    mode = var.lambda.tracing_mode
  }

  # Each apply of a new zip publishes a version; the mapping invokes the
  # `live` alias, so a bad deploy rolls back by moving the alias.
  publish = true

  tags = var.tags

  # The log group must exist before the first invocation, and the role must be
  # able to write to it and to the DLQ.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

# What the mapping invokes. Roll back: `aws lambda update-alias --function-name
# <function> --name live --function-version <previous>` (terraform/README.md).
resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "The version the event-source mapping invokes"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}
