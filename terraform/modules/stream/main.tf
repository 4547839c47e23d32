# The Kinesis data stream the producer writes ModelOne records to.
#
# Encryption at rest is always on (encryption_type = "KMS"); the key is the
# AWS-managed alias/aws/kinesis unless the caller passes a customer managed key.
resource "aws_kinesis_stream" "this" {
  #checkov:skip=CKV_AWS_185:Default key is the AWS-managed alias/aws/kinesis (no per-key cost or key policy to run); a customer managed key is one variable away (kms_key_id).
  name             = var.name
  retention_period = var.retention_period_hours

  # ON_DEMAND streams manage their own shards; the API rejects a shard count for them.
  shard_count = var.stream_mode == "PROVISIONED" ? var.shard_count : null

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  encryption_type = "KMS"
  kms_key_id      = var.kms_key_id

  shard_level_metrics       = var.shard_level_metrics
  enforce_consumer_deletion = var.enforce_consumer_deletion

  tags = var.tags
}
