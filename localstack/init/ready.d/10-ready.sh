#!/bin/bash
# LocalStack runs this once its services are up. It only logs: resources are
# created by `cargo run -p harness -- provision` (after `harness up --backend
# docker`), so the Docker path and the other backends share one definition.
set -euo pipefail

echo "LocalStack is ready (kinesis, dynamodb, ssm, sqs, sns, s3, iam, lambda, logs, cloudwatch, kms, sts)."
echo "Create the resources with \`cargo run -p harness -- provision\` (the Terraform defaults):"
echo "  Kinesis stream:       model-one-stream"
echo "  DynamoDB table:       Locations"
echo "  SSM SecureString:     /kinesis-consumer-model-one/momento-api-key"
echo "  SQS queue (DLQ):      kinesis-consumer-model-one-dlq"
echo "  SQS on-failure queue: kinesis-consumer-model-one-on-failure"
echo "  Momento cache:        sample-a (on the cache-double service)"
