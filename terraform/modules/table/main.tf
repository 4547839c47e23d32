# The DynamoDB table behind the cache: one item per location, keyed by its name.
resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on by default (the stack's table.point_in_time_recovery_enabled = true); checkov cannot follow the value through the stack's object input.
  #checkov:skip=CKV_AWS_119:SSE is always on; the default key is the AWS-managed aws/dynamodb key (no per-key cost or key policy to run). Pass kms_key_arn for a customer managed key.
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.hash_key

  attribute {
    name = var.hash_key
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  # enabled = true always encrypts with KMS: the AWS-managed aws/dynamodb key when
  # kms_key_arn is null, the given customer managed key otherwise.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection_enabled

  tags = var.tags
}
