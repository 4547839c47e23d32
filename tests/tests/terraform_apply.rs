//! Applies the whole Terraform stack (`terraform/local`, which calls the same
//! `modules/stack` as production) to moto server with a freshly built consumer
//! zip, checks through the AWS SDK what was created, destroys it and checks
//! that nothing is left. Needs `terraform` on PATH (skipped, saying so, when
//! it is missing).
#![cfg(feature = "integration")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aws_config::SdkConfig;
use emulators::{workspace_root, MotoServer, Names};
use serde_json::Value;

const API_KEY_VALUE: &str = "terraform-apply-test-key";

/// The consumer zip, built now (cargo's own freshness check makes this a
/// no-op when nothing changed, e.g. right after `.ci/run` built it).
fn fresh_zip() -> PathBuf {
    let root = workspace_root();
    let mut command = Command::new("bash");
    command.arg(root.join(".ci/build-lambda.sh")).arg("--arm64");
    e2e::without_cargo_test_env(&mut command);
    let status = command.status().unwrap();
    assert!(status.success(), "the zip build failed");
    root.join("target/lambda/bootstrap/bootstrap.zip")
}

/// `terraform -chdir=terraform/local <args>` with its data and state in `work`.
fn terraform(work: &Path, args: &[&str]) {
    let root = workspace_root();
    let mut command = Command::new("terraform");
    command
        .arg(format!("-chdir={}", root.join("terraform/local").display()))
        .args(args)
        .env("TF_DATA_DIR", work.join("data"))
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0");
    if Path::new("/opt/tf-plugins").is_dir() {
        command.env("TF_CLI_CONFIG_FILE", root.join("terraform/offline.tfrc"));
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "terraform {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn apply_args<'a>(work: &'a Path, variables: &'a [String], destroy: bool) -> Vec<String> {
    let mut args = vec!["apply".to_owned()];
    if destroy {
        args.push("-destroy".into());
    }
    args.extend(["-auto-approve".into(), "-no-color".into()]);
    args.push(format!(
        "-state={}",
        work.join("terraform.tfstate").display()
    ));
    for variable in variables {
        args.push("-var".into());
        args.push(variable.clone());
    }
    args
}

#[tokio::test]
async fn the_stack_applies_to_moto_and_destroys_cleanly() {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not on PATH: skipping the apply test");
        return;
    }
    let zip = fresh_zip();
    let moto = MotoServer::start().await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let variables = vec![
        format!("endpoint={}", moto.endpoint()),
        format!("momento_api_key={API_KEY_VALUE}"),
        format!("lambda_zip_path={}", zip.display()),
    ];
    terraform(work.path(), &["init", "-input=false", "-no-color"]);

    let started = Instant::now();
    let args = apply_args(work.path(), &variables, false);
    terraform(
        work.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let applied = started.elapsed();

    let sdk = emulators::sdk_config(moto.endpoint(), "us-east-1").await;
    let names = Names::default();
    check_created(&sdk, moto.endpoint(), &names).await;

    let started = Instant::now();
    let args = apply_args(work.path(), &variables, true);
    terraform(
        work.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let destroyed = started.elapsed();
    check_gone(&sdk, moto.endpoint(), &names).await;
    println!(
        "terraform apply to moto: {:.1} s; destroy: {:.1} s (zip {} bytes)",
        applied.as_secs_f64(),
        destroyed.as_secs_f64(),
        std::fs::metadata(&zip).unwrap().len()
    );
}

async fn check_created(sdk: &SdkConfig, endpoint: &str, names: &Names) {
    // Stream: on-demand, KMS-encrypted.
    let stream = aws_sdk_kinesis::Client::new(sdk)
        .describe_stream_summary()
        .stream_name(&names.stream)
        .send()
        .await
        .unwrap();
    let stream = stream.stream_description_summary().unwrap();
    assert_eq!(
        stream
            .stream_mode_details()
            .map(|m| m.stream_mode().as_str()),
        Some("ON_DEMAND")
    );
    assert_eq!(stream.encryption_type().map(|e| e.as_str()), Some("KMS"));
    let stream_arn = stream.stream_arn().to_owned();

    // Table: `location` (S) as hash key, on demand.
    let table = aws_sdk_dynamodb::Client::new(sdk)
        .describe_table()
        .table_name(&names.table)
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    let key = &table.key_schema()[0];
    assert_eq!(
        (key.attribute_name(), key.key_type().as_str()),
        ("location", "HASH")
    );
    let definition = &table.attribute_definitions()[0];
    assert_eq!(definition.attribute_type().as_str(), "S");
    let table_arn = table.table_arn().unwrap().to_owned();

    // The Momento key: a SecureString.
    let parameter = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&names.parameter)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let parameter = parameter.parameter().unwrap();
    assert_eq!(parameter.r#type().map(|t| t.as_str()), Some("SecureString"));
    assert_eq!(parameter.value(), Some(API_KEY_VALUE));

    // The function and its mapping.
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let function = lambda
        .get_function()
        .function_name(&names.function)
        .send()
        .await
        .unwrap();
    let configuration = function.configuration().unwrap();
    assert_eq!(
        configuration.runtime().map(|r| r.as_str()),
        Some("provided.al2023")
    );
    assert_eq!(configuration.handler(), Some("bootstrap"));
    assert_eq!(
        configuration
            .architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["arm64"]
    );
    let environment = configuration
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    for variable in [
        "TABLE_NAME",
        "CACHE_NAME",
        "MOMENTO_API_KEY_PARAMETER",
        "DLQ_URL",
    ] {
        assert!(environment.contains_key(variable), "{variable} not set");
    }
    assert_eq!(environment["TABLE_NAME"], names.table);
    let role_arn = configuration.role().unwrap().to_owned();

    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&names.function)
        .send()
        .await
        .unwrap();
    let mapping = &mappings.event_source_mappings()[0];
    assert_eq!(mapping.event_source_arn(), Some(stream_arn.as_str()));
    assert_eq!(mapping.batch_size(), Some(10));
    assert_eq!(
        mapping
            .function_response_types()
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>(),
        ["ReportBatchItemFailures"]
    );
    assert_eq!(mapping.bisect_batch_on_function_error(), Some(true));
    assert_eq!(mapping.maximum_retry_attempts(), Some(5));
    assert_eq!(mapping.maximum_record_age_in_seconds(), Some(3600));
    let queue_arn = aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(queue_url(sdk, names).await.unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .unwrap();
    assert_eq!(
        mapping
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(queue_arn.as_str())
    );

    // The role's policy: no wildcard action, every resource its own.
    let role_name = role_arn.rsplit('/').next().unwrap();
    let iam = aws_sdk_iam::Client::new(sdk);
    let policies = iam
        .list_role_policies()
        .role_name(role_name)
        .send()
        .await
        .unwrap();
    assert!(
        !policies.policy_names().is_empty(),
        "the role has an inline policy"
    );
    let attached = iam
        .list_attached_role_policies()
        .role_name(role_name)
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "no managed policies such as AmazonDynamoDBFullAccess"
    );
    let mut statements = Vec::new();
    for policy in policies.policy_names() {
        let document = iam
            .get_role_policy()
            .role_name(role_name)
            .policy_name(policy)
            .send()
            .await
            .unwrap()
            .policy_document()
            .to_owned();
        let decoded = percent_encoding::percent_decode_str(&document)
            .decode_utf8()
            .unwrap();
        let document: Value = serde_json::from_str(&decoded).unwrap();
        statements.extend(as_list(&document["Statement"]));
    }
    check_least_privilege(&statements, &stream_arn, &table_arn, &queue_arn);

    // Alarms on iterator age, DLQ depth and errors.
    let mut alarm_names = alarm_names(endpoint).await;
    alarm_names.sort();
    let prefix = &names.function;
    assert_eq!(
        alarm_names,
        [
            format!("{prefix}-dlq-depth"),
            format!("{prefix}-errors"),
            format!("{prefix}-iterator-age")
        ]
    );
}

/// CloudWatch's DescribeAlarms through its Query API: the Rust SDK speaks
/// CloudWatch's newer RPC v2 CBOR protocol, which moto does not serve.
async fn alarm_names(endpoint: &str) -> Vec<String> {
    let body = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("Action=DescribeAlarms&Version=2010-08-01")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("DescribeAlarmsResponse"), "{body}");
    body.split("<AlarmName>")
        .skip(1)
        .filter_map(|rest| {
            rest.split_once("</AlarmName>")
                .map(|(name, _)| name.to_owned())
        })
        .collect()
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn check_least_privilege(statements: &[Value], stream: &str, table: &str, queue: &str) {
    let mut granted: Vec<(String, String)> = Vec::new();
    for statement in statements {
        let actions: Vec<String> = as_list(&statement["Action"])
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let resources: Vec<String> = as_list(&statement["Resource"])
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        for action in &actions {
            assert!(!action.contains('*'), "wildcard action {action}");
        }
        for resource in &resources {
            if resource == "*" {
                // The two documented exceptions: ListStreams has no resource
                // type (scoped by a region condition), X-Ray has none at all.
                let allowed = actions
                    .iter()
                    .all(|a| a == "kinesis:ListStreams" || a.starts_with("xray:"));
                assert!(allowed, "{actions:?} on every resource");
                if actions.iter().any(|a| a == "kinesis:ListStreams") {
                    assert!(
                        statement.get("Condition").is_some(),
                        "ListStreams is scoped by a condition"
                    );
                }
            }
            for action in &actions {
                granted.push((action.clone(), resource.clone()));
            }
        }
    }
    let has =
        |action: &str, resource: &str| granted.iter().any(|(a, r)| a == action && r == resource);
    assert!(has("kinesis:GetRecords", stream), "{granted:?}");
    assert!(has("kinesis:GetShardIterator", stream));
    assert!(has("dynamodb:BatchGetItem", table));
    assert!(has("dynamodb:GetItem", table));
    assert!(has("sqs:SendMessage", queue));
    assert!(granted.iter().any(|(a, r)| a == "ssm:GetParameter"
        && r.ends_with(":parameter/kinesis-consumer-model-one/momento-api-key")));
    assert!(
        !granted
            .iter()
            .any(|(a, _)| a.starts_with("dynamodb:Put") || a.starts_with("ssm:Put")),
        "read-only where it reads"
    );
}

async fn queue_url(sdk: &SdkConfig, names: &Names) -> Option<String> {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_url()
        .queue_name(&names.dead_letter_queue)
        .send()
        .await
        .ok()?
        .queue_url
}

async fn check_gone(sdk: &SdkConfig, endpoint: &str, names: &Names) {
    let streams = aws_sdk_kinesis::Client::new(sdk)
        .list_streams()
        .send()
        .await
        .unwrap();
    assert!(
        streams.stream_names().is_empty(),
        "{:?}",
        streams.stream_names()
    );
    let tables = aws_sdk_dynamodb::Client::new(sdk)
        .list_tables()
        .send()
        .await
        .unwrap();
    assert!(
        tables.table_names().is_empty(),
        "{:?}",
        tables.table_names()
    );
    let parameter = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&names.parameter)
        .send()
        .await;
    assert!(parameter.is_err(), "the parameter is gone");
    let functions = aws_sdk_lambda::Client::new(sdk)
        .list_functions()
        .send()
        .await
        .unwrap();
    assert!(functions.functions().is_empty());
    let mappings = aws_sdk_lambda::Client::new(sdk)
        .list_event_source_mappings()
        .send()
        .await
        .unwrap();
    assert!(mappings.event_source_mappings().is_empty());
    assert!(queue_url(sdk, names).await.is_none(), "the queue is gone");
    assert!(
        alarm_names(endpoint).await.is_empty(),
        "the alarms are gone"
    );
    let roles = aws_sdk_iam::Client::new(sdk)
        .list_roles()
        .send()
        .await
        .unwrap();
    assert!(
        !roles
            .roles()
            .iter()
            .any(|r| r.role_name().contains(&names.function)),
        "the role is gone"
    );
}
