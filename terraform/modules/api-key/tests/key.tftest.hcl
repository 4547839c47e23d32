# The key's parameter against a mock AWS provider (`terraform -chdir=
# terraform/modules/api-key test`): the key is write-only, and a change SSM
# takes only with the value (description, KMS key, tier) sends it again.

mock_provider "aws" {}

variables {
  name          = "/kinesis-consumer-model-one/momento-api-key"
  description   = "Momento API key for the Kinesis consumer Lambda"
  value         = "sentinel-momento-key"
  value_version = 1
  kms_key_id    = null
  tier          = "Standard"
  tags          = {}
}

run "the_key_is_write_only" {
  assert {
    condition     = aws_ssm_parameter.this.value_wo == null && aws_ssm_parameter.this.type == "SecureString"
    error_message = "the key must reach SSM only through the write-only value_wo"
  }
}

run "a_new_description_sends_the_key_again" {
  variables {
    description = "Momento key, reviewed"
  }
  assert {
    condition     = aws_ssm_parameter.this.value_wo_version != run.the_key_is_write_only.written_version
    error_message = "SSM refuses a new description without the value: the write-only version must move with it"
  }
}

run "a_customer_managed_key_sends_the_key_again" {
  variables {
    description = "Momento key, reviewed"
    kms_key_id  = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000003"
  }
  assert {
    condition     = aws_ssm_parameter.this.value_wo_version != run.a_new_description_sends_the_key_again.written_version
    error_message = "SSM refuses a new KMS key without the value: the write-only version must move with it"
  }
}

run "nothing_changed_sends_nothing" {
  variables {
    description = "Momento key, reviewed"
    kms_key_id  = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000003"
  }
  assert {
    condition     = aws_ssm_parameter.this.value_wo_version == run.a_customer_managed_key_sends_the_key_again.written_version
    error_message = "an apply without a change must not write the key again"
  }
}
