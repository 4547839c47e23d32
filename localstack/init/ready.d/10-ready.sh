#!/bin/bash
# LocalStack runs this once its services are up. It only logs: resources are
# created by `cargo run -p harness -- provision --backend docker`, so the
# Docker path and the other backends share one definition of them.
set -euo pipefail

echo "LocalStack is ready (kinesis, dynamodb, ssm, sqs)."
echo "Resources are created by the harness's provision command, with the Terraform defaults:"
echo "  Kinesis stream:       model-one-stream"
echo "  DynamoDB table:       Locations"
echo "  SSM SecureString:     /kinesis-consumer-model-one/momento-api-key"
echo "  SQS queue (DLQ):      kinesis-consumer-model-one-dlq"
echo "  Momento cache:        sample-a (on the cache-double service)"
