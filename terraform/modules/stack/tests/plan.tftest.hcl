# The plan's shape, against a mock AWS provider (`terraform -chdir=
# terraform/modules/stack test`): the mapping's settings, the role's
# statements and their resources, the prefix on every name, and the key in
# none of the values Terraform keeps.

# The provider checks that ARNs it is given look like ARNs: the mocked ones
# must. The stream's places the module's other ARNs (eu-west-1, the account).
mock_provider "aws" {
  mock_resource "aws_kinesis_stream" {
    defaults = { arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/mocked" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mocked" }
  }
  mock_resource "aws_lambda_alias" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mocked:live" }
  }
}

variables {
  lambda_zip_path = "tests/fixture.zip"
  momento_api_key = "sentinel-momento-key"
}

run "the_mapping_is_configured_as_the_defaults_say" {
  assert {
    condition = (
      module.consumer.event_source_mapping.batch_size == 10 &&
      module.consumer.event_source_mapping.starting_position == "TRIM_HORIZON" &&
      module.consumer.event_source_mapping.maximum_batching_window_in_seconds == 0 &&
      module.consumer.event_source_mapping.maximum_retry_attempts == -1 &&
      module.consumer.event_source_mapping.maximum_record_age_in_seconds == 21600 &&
      module.consumer.event_source_mapping.bisect_batch_on_function_error &&
      module.consumer.event_source_mapping.parallelization_factor == 1 &&
      module.consumer.event_source_mapping.enabled
    )
    error_message = "the mapping's settings are not the stack's defaults"
  }
  assert {
    condition     = module.consumer.event_source_mapping.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the mapping must let the handler report partial failures"
  }
  assert {
    condition     = module.consumer.event_source_mapping.function_name == module.consumer.alias_arn
    error_message = "the mapping must invoke the live alias, not $LATEST"
  }
  assert {
    condition     = module.consumer.event_source_mapping.destination_config[0].on_failure[0].destination_arn == module.consumer.on_failure_queue_arn
    error_message = "given-up records must leave a pointer in the on-failure queue"
  }
  assert {
    condition     = module.consumer.event_source_mapping.metrics_config[0].metrics == toset(["EventCount"])
    error_message = "the dropped-events alarm needs the EventCount metrics"
  }
}

run "the_role_has_exactly_its_statements_each_on_its_own_resources" {
  assert {
    condition = [for s in module.consumer.role_policy_statements : s.Sid] == [
      "ReadStream", "ReadLocations", "ReadMomentoApiKey",
      "DecryptMomentoApiKey", "DecryptStreamRecords", "SendToDeadLetterQueues", "WriteOwnLogs",
    ]
    error_message = "the default statements changed"
  }
  assert {
    condition = { for s in module.consumer.role_policy_statements : s.Sid => s.Resource } == {
      ReadStream             = [module.stream.stream_arn]
      ReadLocations          = [module.table.table_arn]
      ReadMomentoApiKey      = [module.api_key[0].parameter_arn]
      DecryptMomentoApiKey   = ["arn:aws:kms:eu-west-1:123456789012:key/*"]
      DecryptStreamRecords   = ["arn:aws:kms:eu-west-1:123456789012:key/*"]
      SendToDeadLetterQueues = [module.consumer.dlq_arn, module.consumer.on_failure_queue_arn]
      WriteOwnLogs           = ["${module.consumer.log_group_arn}:*"]
    }
    error_message = "a statement names a resource that is not its own"
  }
  assert {
    condition     = alltrue(flatten([for s in module.consumer.role_policy_statements : [for a in s.Action : !strcontains(a, "*")]]))
    error_message = "no statement may grant a wildcard action"
  }
  assert {
    condition     = !contains(flatten([for s in module.consumer.role_policy_statements : s.Action]), "kinesis:ListStreams")
    error_message = "the mapping names its stream: no kinesis:ListStreams (it exists only on Resource \"*\")"
  }
}

run "every_optional_statement_names_its_own_key" {
  variables {
    table  = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/table" }
    queues = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/queues" }
    lambda = { tracing_mode = "Active", environment_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/environment" }
  }
  assert {
    condition = { for s in module.consumer.role_policy_statements : s.Sid => s.Resource if contains(["DecryptTableItems", "EncryptQueueMessages", "DecryptEnvironment", "WriteTraces"], s.Sid) } == {
      DecryptTableItems    = ["arn:aws:kms:eu-west-1:123456789012:key/table"]
      EncryptQueueMessages = ["arn:aws:kms:eu-west-1:123456789012:key/queues"]
      DecryptEnvironment   = ["arn:aws:kms:eu-west-1:123456789012:key/environment"]
      WriteTraces          = ["*"]
    }
    error_message = "the optional statements are missing or name the wrong resources"
  }
  assert {
    condition = one([for s in module.consumer.role_policy_statements : s.Condition if s.Sid == "EncryptQueueMessages"]) == {
      StringEquals = {
        "kms:ViaService"                    = "sqs.eu-west-1.amazonaws.com"
        "kms:EncryptionContext:aws:sqs:arn" = [module.consumer.dlq_arn, module.consumer.on_failure_queue_arn]
      }
    }
    error_message = "the queue key is usable only through SQS, only for the stack's two queues"
  }
  assert {
    condition     = one([for s in module.consumer.role_policy_statements : s.Condition if s.Sid == "DecryptEnvironment"]) == { StringEquals = { "kms:ViaService" = "lambda.eu-west-1.amazonaws.com" } }
    error_message = "the environment key is usable only through Lambda"
  }
}

run "the_prefix_reaches_every_name" {
  variables {
    naming = { prefix = "stage-b-" }
  }
  assert {
    condition = [
      output.stream_name, output.table_name, output.parameter_name, output.function_name,
      module.consumer.role_name, output.log_group_name, module.consumer.dlq_name, output.dashboard_name,
      ] == [
      "stage-b-model-one-stream", "stage-b-Locations", "/stage-b-kinesis-consumer-model-one/momento-api-key",
      "stage-b-kinesis-consumer-model-one-rust", "stage-b-kinesis-consumer-model-one-rust-role",
      "/aws/lambda/stage-b-kinesis-consumer-model-one-rust", "stage-b-kinesis-consumer-model-one-dlq",
      "stage-b-kinesis-consumer-model-one-rust",
    ]
    error_message = "a name lacks the stage's prefix"
  }
  assert {
    condition     = output.cache_name == "stage-b-sample-a" && module.consumer.function_environment_variables["CACHE_NAME"] == "stage-b-sample-a"
    error_message = "stages must not share a Momento cache: its name carries the prefix"
  }
  assert {
    condition     = output.redrive_command == "cargo run -p harness -- redrive --deployed --queue stage-b-kinesis-consumer-model-one-on-failure --function-name stage-b-kinesis-consumer-model-one-rust --qualifier live"
    error_message = "the runbook's redrive command names this stage's queue and function, and the alias the mapping invokes"
  }
  assert {
    condition     = length(output.alarm_arns) == 13
    error_message = "thirteen alarms"
  }
}

run "the_key_is_in_no_value_terraform_keeps" {
  assert {
    condition     = !strcontains(jsonencode(module.api_key[0]), "sentinel-momento-key") && !strcontains(jsonencode(module.consumer.function_environment_variables), "sentinel-momento-key")
    error_message = "the Momento key reached a value Terraform keeps"
  }
}

run "the_on_failure_age_alarm_fires_at_half_the_stream_retention" {
  variables {
    stream = { retention_period_hours = 168 }
  }
  assert {
    condition     = module.consumer.alarms["on_failure_age"].threshold == 302400 && module.consumer.alarms["on_failure_age"].metric_name == "ApproximateAgeOfOldestMessage"
    error_message = "the oldest pointer must page at half of the stream's 7 days (302,400 s), while its records can still be redriven"
  }
}
