# The whole production stack, without provider configuration, so that the
# production root (terraform/), the emulator root (terraform/local/) and the
# examples deploy exactly the same resources through their own providers.

locals {
  # A key's ARN, not an alias: an alias cannot be an IAM policy resource.
  kms_key_arn_pattern = "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$"

  # Every named resource carries the stage's prefix, so stages share an
  # account and region without colliding (IAM policies name the resources
  # by these names, so they are scoped by the prefix too).
  prefix = var.naming.prefix
  names = {
    stream     = "${local.prefix}${var.naming.stream}"
    table      = "${local.prefix}${var.naming.table}"
    parameter  = startswith(var.naming.parameter, "/") ? "/${local.prefix}${trimprefix(var.naming.parameter, "/")}" : "${local.prefix}${var.naming.parameter}"
    function   = "${local.prefix}${var.naming.function}"
    cache      = "${local.prefix}${var.naming.cache}"
    dlq        = "${local.prefix}${var.naming.dlq}"
    on_failure = "${local.prefix}${var.naming.on_failure}"
  }
}

module "stream" {
  source = "../stream"

  name                   = local.names.stream
  stream_mode            = var.stream.mode
  shard_count            = var.stream.shard_count
  retention_period_hours = var.stream.retention_period_hours
  kms_key_id             = coalesce(var.stream.kms_key_arn, "alias/aws/kinesis")

  tags = var.tags
}

module "table" {
  source = "../table"

  name                           = local.names.table
  hash_key                       = var.table.hash_key
  point_in_time_recovery_enabled = var.table.point_in_time_recovery_enabled
  kms_key_arn                    = var.table.kms_key_arn
  deletion_protection_enabled    = var.table.deletion_protection_enabled
  seed_items                     = var.table.seed_items

  tags = var.tags
}

# The Momento key's parameter, unless the caller brings its own.
module "api_key" {
  source = "../api-key"
  count  = var.key.parameter_arn == null ? 1 : 0

  name          = local.names.parameter
  description   = var.key.description
  value         = var.momento_api_key
  value_version = var.key.version
  kms_key_id    = var.key.kms_key_arn
  tier          = var.key.tier

  tags = var.tags
}

moved {
  from = module.api_key
  to   = module.api_key[0]
}

locals {
  # SSM's GetParameter takes the ARN as a name, so an existing parameter is
  # passed to the consumer by its ARN.
  api_key_parameter_arn  = coalesce(var.key.parameter_arn, one(module.api_key[*].parameter_arn))
  api_key_parameter_name = coalesce(var.key.parameter_arn, one(module.api_key[*].parameter_name))
}

module "consumer" {
  source = "../consumer"

  function_name   = local.names.function
  lambda_zip_path = var.lambda_zip_path
  lambda          = var.lambda

  stream_arn             = module.stream.stream_arn
  stream_kms_key_arn     = var.stream.kms_key_arn
  stream_retention_hours = var.stream.retention_period_hours
  table_name             = module.table.table_name
  table_arn              = module.table.table_arn
  table_kms_key_arn      = var.table.kms_key_arn
  cache_name             = local.names.cache
  api_key_parameter_name = local.api_key_parameter_name
  api_key_parameter_arn  = local.api_key_parameter_arn
  api_key_kms_key_arn    = var.key.kms_key_arn

  dlq_name              = local.names.dlq
  on_failure_queue_name = local.names.on_failure
  queues                = var.queues

  mapping = var.mapping
  alarms  = var.alarms

  tags = var.tags
}
