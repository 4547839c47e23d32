//! Applies the whole Terraform stack (`terraform/local`, which calls the same
//! `modules/stack` as production) to moto server with a freshly built consumer
//! zip, checks through the AWS SDK what was created, destroys it and checks
//! that nothing is left. Needs `terraform` on PATH (skipped, saying so, when
//! it is missing).
#![cfg(feature = "integration")]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use aws_config::SdkConfig;
use emulators::{workspace_root, MotoServer, Names};
use serde_json::Value;

use common::terraform::{unzipped, Terraform};

/// The Momento key Terraform writes, and one set out of band: neither may
/// appear in a state file or a saved plan.
const SENTINEL: &str = "sentinel-momento-key-7f3a91c2";
const OUT_OF_BAND: &str = "out-of-band-momento-key-2c8e44d0";
const ROTATED: &str = "rotated-momento-key-9b17e5a3";

/// The consumer zip for arm64 in the dev profile, built once per test
/// process (both tests use it). The emulator never runs it, and the dev
/// build is minutes faster than the release one; it goes to its own folder
/// so a deployable release zip is never replaced by it. What the build needs
/// and the machine lacks (the aarch64 target, cargo-lambda) is installed
/// first, so a failed install fails with the installer's output.
fn fresh_zip() -> PathBuf {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        let root = workspace_root();
        emulators::install::rust_target("aarch64-unknown-linux-gnu")
            .unwrap_or_else(|e| panic!("{e}"));
        emulators::install::cargo_lambda().unwrap_or_else(|e| panic!("{e}"));
        let mut command = Command::new("bash");
        command
            .arg(root.join(".ci/build-lambda.sh"))
            .args(["--arm64", "--dev"]);
        emulators::without_cargo_env(&mut command);
        let status = command.status().unwrap();
        assert!(
            status.success(),
            "cargo lambda build of the zip failed (its output is above)"
        );
        root.join("target/lambda-dev/bootstrap/bootstrap.zip")
    })
    .clone()
}

/// A customer managed key on moto (KMS's JSON protocol, which moto serves
/// unsigned; the tests' crate has no KMS SDK).
async fn create_kms_key(endpoint: &str) -> String {
    let created: Value = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", "TrentService.CreateKey")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap_or_else(|| panic!("CreateKey: {created}"))
        .to_owned()
}

async fn parameter_metadata(
    sdk: &SdkConfig,
    names: &Names,
) -> aws_sdk_ssm::types::ParameterMetadata {
    let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .values(&names.parameter)
        .build()
        .unwrap();
    aws_sdk_ssm::Client::new(sdk)
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .unwrap()
        .parameters()[0]
        .clone()
}

async fn metadata_arn(sdk: &SdkConfig, names: &Names) -> String {
    aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&names.parameter)
        .send()
        .await
        .unwrap()
        .parameter()
        .and_then(|p| p.arn())
        .unwrap()
        .to_owned()
}

async fn parameter_value(sdk: &SdkConfig, names: &Names) -> String {
    aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(&names.parameter)
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter()
        .and_then(|p| p.value())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_stack_applies_to_moto_and_destroys_cleanly() {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not on PATH: skipping the apply test");
        return;
    }
    let zip = fresh_zip();
    let moto = MotoServer::start().await.unwrap();
    // The local root deploys the host's architecture by default; this zip is arm64.
    let terraform = Terraform::new_with(moto.endpoint(), &zip, &["lambda_architecture=arm64"]);
    check_provider_pinned(&terraform);
    let key = format!("momento_api_key={SENTINEL}");

    let started = Instant::now();
    terraform.plan_and_apply("first", &[&key]);
    let applied = started.elapsed();

    let sdk = emulators::sdk_config(moto.endpoint(), "us-east-1").await;
    let names = Names::default();
    assert_eq!(
        parameter_value(&sdk, &names).await,
        SENTINEL,
        "Terraform wrote the key"
    );
    terraform.assert_nowhere(SENTINEL, &["first"]);
    check_created(&sdk, moto.endpoint(), &names, &terraform).await;

    // A reviewer asks for another description and a customer managed key:
    // the apply writes the same key again (SSM takes them only with the
    // value), so the live key is unchanged and still kept nowhere.
    let kms_key = create_kms_key(moto.endpoint()).await;
    let description = "momento_api_key_parameter_description=Momento key, reviewed";
    let kms = format!("momento_api_key_kms_key_arn={kms_key}");
    terraform.plan_and_apply("metadata", &[&key, description, &kms]);
    assert_eq!(parameter_value(&sdk, &names).await, SENTINEL);
    let metadata = parameter_metadata(&sdk, &names).await;
    assert_eq!(
        (metadata.description(), metadata.key_id()),
        (Some("Momento key, reviewed"), Some(kms_key.as_str())),
        "the description and the KMS key changed"
    );
    terraform.assert_nowhere(SENTINEL, &["metadata"]);

    // Someone sets the key out of band; the next apply neither writes the old
    // key back nor reads the new one into its state or plan.
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name(&names.parameter)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .key_id(&kms_key)
        .value(OUT_OF_BAND)
        .overwrite(true)
        .send()
        .await
        .unwrap();
    terraform.plan_and_apply("second", &[&key, description, &kms]);
    assert_eq!(parameter_value(&sdk, &names).await, OUT_OF_BAND);
    for secret in [SENTINEL, OUT_OF_BAND] {
        terraform.assert_nowhere(secret, &["first", "metadata", "second"]);
    }

    // Rotation: a new key with a new version is written, and still not kept.
    let rotated = format!("momento_api_key={ROTATED}");
    let version = "momento_api_key_version=2";
    terraform.plan_and_apply("rotate", &[&rotated, version, description, &kms]);
    assert_eq!(parameter_value(&sdk, &names).await, ROTATED);
    terraform.assert_nowhere(ROTATED, &["rotate"]);

    // The out-of-band mode is gone: a key kept by hand is an existing
    // parameter given by ARN. The move keeps the parameter and the key.
    let parameter_arn = metadata_arn(&sdk, &names).await;
    terraform.run(&[
        "state",
        "rm",
        &format!("-state={}", terraform.state().display()),
        "module.stack.module.api_key[0].aws_ssm_parameter.this",
    ]);
    // By ARN the parameter is not the stack's: another description asked
    // for in the same change touches nothing either.
    let by_arn = format!("momento_api_key_parameter_arn={parameter_arn}");
    let another = "momento_api_key_parameter_description=ignored by ARN";
    terraform.plan("adopt", &[&by_arn, &kms, another]);
    let touches_parameter = terraform.show("adopt")["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "aws_ssm_parameter");
    assert!(!touches_parameter, "the plan leaves the parameter alone");
    terraform.plan_and_apply("adopt", &[&by_arn, &kms, another]);
    assert_eq!(
        parameter_value(&sdk, &names).await,
        ROTATED,
        "the live key is untouched"
    );
    assert_eq!(
        parameter_metadata(&sdk, &names).await.description(),
        Some("Momento key, reviewed"),
        "nor its description"
    );

    let started = Instant::now();
    terraform.destroy(&[&by_arn, &kms]);
    let destroyed = started.elapsed();
    assert_eq!(
        parameter_value(&sdk, &names).await,
        ROTATED,
        "a parameter given by ARN is not the stack's to destroy"
    );
    aws_sdk_ssm::Client::new(&sdk)
        .delete_parameter()
        .name(&names.parameter)
        .send()
        .await
        .unwrap();
    check_gone(&sdk, moto.endpoint(), &names).await;
    println!(
        "terraform apply to moto: {:.1} s; destroy: {:.1} s (zip {} bytes)",
        applied.as_secs_f64(),
        destroyed.as_secs_f64(),
        std::fs::metadata(&zip).unwrap().len()
    );
}

/// Two stages in one account and region: each stack's names carry its
/// prefix, and no IAM policy resource of one names anything of the other.
#[tokio::test]
async fn two_prefixed_stacks_share_one_emulator_without_crossing() {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not on PATH: skipping the prefixed stacks test");
        return;
    }
    let zip = fresh_zip();
    let moto = MotoServer::start().await.unwrap();
    let prefixes = ["blue-", "green-"];
    let stacks: Vec<Terraform> = prefixes
        .iter()
        .map(|p| Terraform::new_with(moto.endpoint(), &zip, &[&format!("name_prefix={p}")]))
        .collect();
    let key = "momento_api_key=stage-key";
    for stack in &stacks {
        stack.plan_and_apply("stage", &[key]);
    }
    let sdk = emulators::sdk_config(moto.endpoint(), "us-east-1").await;
    let names: Vec<(&str, String)> = [
        aws_sdk_kinesis::Client::new(&sdk)
            .list_streams()
            .send()
            .await
            .unwrap()
            .stream_names()
            .iter()
            .map(|n| ("stream", n.clone()))
            .collect::<Vec<_>>(),
        aws_sdk_dynamodb::Client::new(&sdk)
            .list_tables()
            .send()
            .await
            .unwrap()
            .table_names()
            .iter()
            .map(|n| ("table", n.clone()))
            .collect(),
        aws_sdk_lambda::Client::new(&sdk)
            .list_functions()
            .send()
            .await
            .unwrap()
            .functions()
            .iter()
            .map(|f| ("function", f.function_name().unwrap().to_owned()))
            .collect(),
        aws_sdk_sqs::Client::new(&sdk)
            .list_queues()
            .send()
            .await
            .unwrap()
            .queue_urls()
            .iter()
            .map(|u| ("queue", u.rsplit('/').next().unwrap().to_owned()))
            .collect(),
        aws_sdk_iam::Client::new(&sdk)
            .list_roles()
            .send()
            .await
            .unwrap()
            .roles()
            .iter()
            .map(|r| ("role", r.role_name().to_owned()))
            .collect(),
        aws_sdk_ssm::Client::new(&sdk)
            .describe_parameters()
            .send()
            .await
            .unwrap()
            .parameters()
            .iter()
            .map(|p| {
                (
                    "parameter",
                    p.name().unwrap().trim_start_matches('/').to_owned(),
                )
            })
            .collect(),
        describe_alarms(moto.endpoint())
            .await
            .split("<AlarmName>")
            .skip(1)
            .map(|a| ("alarm", a[..a.find('<').unwrap()].to_owned()))
            .collect(),
    ]
    .concat();
    for (kind, name) in &names {
        assert!(
            prefixes.iter().any(|p| name.starts_with(p)),
            "the {kind} {name} carries no stage prefix"
        );
    }
    for kind in [
        "stream",
        "table",
        "function",
        "queue",
        "role",
        "parameter",
        "alarm",
    ] {
        let count = |p: &str| {
            names
                .iter()
                .filter(|(k, n)| *k == kind && n.starts_with(p))
                .count()
        };
        assert!(count(prefixes[0]) > 0, "no {kind} for {}", prefixes[0]);
        assert_eq!(
            count(prefixes[0]),
            count(prefixes[1]),
            "as many {kind}s per stage"
        );
    }
    let iam = aws_sdk_iam::Client::new(&sdk);
    for (mine, other) in [(prefixes[0], prefixes[1]), (prefixes[1], prefixes[0])] {
        let role = format!("{mine}kinesis-consumer-model-one-rust-role");
        for policy in iam
            .list_role_policies()
            .role_name(&role)
            .send()
            .await
            .unwrap()
            .policy_names()
        {
            let document = iam
                .get_role_policy()
                .role_name(&role)
                .policy_name(policy)
                .send()
                .await
                .unwrap()
                .policy_document()
                .to_owned();
            let document: Value = serde_json::from_str(
                &percent_encoding::percent_decode_str(&document)
                    .decode_utf8()
                    .unwrap(),
            )
            .unwrap();
            for statement in as_list(&document["Statement"]) {
                for resource in as_list(&statement["Resource"]) {
                    let resource = resource.as_str().unwrap();
                    assert!(!resource.contains(other), "{role} may reach {resource}");
                    let names_a_resource = [":kinesis:", ":dynamodb:", ":ssm:", ":sqs:", ":logs:"]
                        .iter()
                        .any(|service| resource.contains(service));
                    if names_a_resource {
                        assert!(
                            resource.contains(mine),
                            "{role}: {resource} is not its stage's"
                        );
                    }
                }
            }
        }
    }
    for stack in &stacks {
        stack.destroy(&[key]);
    }
    let left = aws_sdk_kinesis::Client::new(&sdk)
        .list_streams()
        .send()
        .await
        .unwrap();
    assert!(left.stream_names().is_empty());
}

/// The production root as committed, planned against moto with the inputs a
/// deployer must give: it is the hardened configuration (a customer managed
/// key on the stream, table, log group, queues and the function's
/// environment, and for the key parameter's grant; 365-day logs, 7-day
/// retention, X-Ray, reserved concurrency; the stage's prefix on every name,
/// the Momento cache's included), seeds nothing, protects the table, has no
/// `momento_api_key` input at all, and its S3 backend encrypts and locks.
#[tokio::test]
async fn the_production_root_is_the_hardened_configuration() {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not on PATH: skipping the production plan test");
        return;
    }
    let zip = fresh_zip();
    let moto = MotoServer::start().await.unwrap();
    let terraform = Terraform::production(moto.endpoint(), &zip).await;
    check_provider_pinned(&terraform);
    check_backend_fixed(&terraform);
    let key_arn = create_kms_key(moto.endpoint()).await;
    let parameter_arn =
        "arn:aws:ssm:us-east-1:123456789012:parameter/prod-kinesis-consumer-model-one/momento-api-key";
    let inputs = [
        format!("kms_key_arn={key_arn}"),
        format!("momento_api_key_parameter_arn={parameter_arn}"),
    ];
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();

    // A key given to the production root is refused: it has no such input.
    let mut refused = inputs.clone();
    let key = format!("momento_api_key={SENTINEL}");
    refused.push(&key);
    let mut args = vec!["plan".to_owned(), "-no-color".into()];
    args.extend(terraform.var_args(&refused));
    let output = terraform
        .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && said.contains("momento_api_key")
            && said.contains("undeclared variable"),
        "the production root takes no key: {said}"
    );
    assert!(!said.contains(SENTINEL));

    terraform.plan("production", &inputs);
    let plan = terraform.show("production");
    let changes = plan["resource_changes"].as_array().unwrap();
    let of_type = |kind: &str| -> Vec<&Value> {
        changes
            .iter()
            .filter(|c| c["type"] == kind)
            .map(|c| &c["change"]["after"])
            .collect()
    };
    let one = |kind: &str| -> &Value {
        let all = of_type(kind);
        assert_eq!(all.len(), 1, "one {kind}");
        all[0]
    };
    assert!(
        of_type("aws_dynamodb_table_item").is_empty(),
        "production seeds nothing"
    );
    assert!(
        of_type("aws_ssm_parameter").is_empty(),
        "the key's parameter is the deployer's, never Terraform's"
    );
    let stream = one("aws_kinesis_stream");
    assert_eq!(
        (
            &stream["kms_key_id"],
            &stream["encryption_type"],
            &stream["retention_period"]
        ),
        (
            &Value::from(key_arn.clone()),
            &Value::from("KMS"),
            &Value::from(168)
        ),
        "the stream: the customer managed key, 7 days"
    );
    let table = one("aws_dynamodb_table");
    assert_eq!(table["deletion_protection_enabled"], true);
    assert_eq!(
        table["server_side_encryption"][0]["kms_key_arn"], key_arn,
        "the table: the customer managed key"
    );
    let logs = one("aws_cloudwatch_log_group");
    assert_eq!(
        (&logs["kms_key_id"], &logs["retention_in_days"]),
        (&Value::from(key_arn.clone()), &Value::from(365)),
        "the log group: the customer managed key, a year"
    );
    let queues = of_type("aws_sqs_queue");
    assert_eq!(queues.len(), 2);
    for queue in queues {
        assert_eq!(queue["kms_master_key_id"], key_arn, "{}", queue["name"]);
    }
    let function = one("aws_lambda_function");
    assert_eq!(
        function["kms_key_arn"], key_arn,
        "the environment: the customer managed key"
    );
    assert_eq!(function["tracing_config"][0]["mode"], "Active");
    assert_eq!(function["reserved_concurrent_executions"], 10);
    // The environment is known only at apply (the queue's URL); the stack's
    // outputs say what goes into it.
    let stack = &plan["output_changes"]["stack"]["after"];
    assert_eq!(
        stack["cache_name"], "prod-sample-a",
        "stages never share a cache"
    );
    assert_eq!(stack["parameter_arn"], parameter_arn);

    // Every name the plan knows carries the stage's prefix.
    for change in changes {
        let after = &change["change"]["after"];
        for field in ["name", "function_name", "alarm_name", "dashboard_name"] {
            let Some(name) = after[field].as_str() else {
                continue;
            };
            if change["type"] == "aws_lambda_alias" && field == "name" {
                continue; // `live`, inside the function's own name
            }
            let name = name.trim_start_matches("/aws/lambda/");
            assert!(
                name.starts_with("prod-"),
                "{} {field} {name} lacks the stage's prefix",
                change["address"]
            );
        }
    }
    let mapping = one("aws_lambda_event_source_mapping");
    assert_eq!(
        (
            &mapping["maximum_retry_attempts"],
            &mapping["maximum_record_age_in_seconds"]
        ),
        (&serde_json::json!(-1), &serde_json::json!(21600))
    );
    assert_eq!(mapping["starting_position"], "TRIM_HORIZON");
    assert_eq!(of_type("aws_cloudwatch_metric_alarm").len(), 13);
    let oldest = of_type("aws_cloudwatch_metric_alarm")
        .into_iter()
        .find(|a| a["metric_name"] == "ApproximateAgeOfOldestMessage")
        .expect("an alarm on the oldest pointer");
    assert_eq!(oldest["threshold"], 302_400.0, "half of 7 days");
    let contents = unzipped(&terraform.plan_file("production"));
    assert!(!contents
        .windows(SENTINEL.len())
        .any(|w| w == SENTINEL.as_bytes()));
    assert!(!plan.to_string().contains(SENTINEL));
}

/// The S3 backend `init` configured encrypts the state and locks it, with
/// no setting of the deployer's saying so.
fn check_backend_fixed(terraform: &Terraform) {
    let backend: Value = serde_json::from_str(
        &std::fs::read_to_string(terraform.work.path().join("data/terraform.tfstate")).unwrap(),
    )
    .unwrap();
    let config = &backend["backend"]["config"];
    assert_eq!(backend["backend"]["type"], "s3");
    assert_eq!(
        (&config["encrypt"], &config["use_lockfile"]),
        (&Value::from(true), &Value::from(true)),
        "{config}"
    );
}

/// `init` installed the provider release the committed lock file names,
/// within the roots' tested range (5.x from 5.100, never 6.x untested).
fn check_provider_pinned(terraform: &Terraform) {
    let version: Value = serde_json::from_str(&terraform.run(&["version", "-json"])).unwrap();
    let selected = version["provider_selections"]["registry.terraform.io/hashicorp/aws"]
        .as_str()
        .unwrap_or_else(|| panic!("no aws provider selected: {version}"))
        .to_owned();
    let root = workspace_root();
    for root_module in ["terraform", "terraform/local"] {
        let lock = std::fs::read_to_string(root.join(root_module).join(".terraform.lock.hcl"))
            .unwrap_or_else(|e| panic!("{root_module}/.terraform.lock.hcl is committed: {e}"));
        assert!(
            lock.contains(&format!("version     = \"{selected}\"")),
            "{root_module}'s lock file names {selected}: {lock}"
        );
        assert!(
            lock.contains("~> 5.100"),
            "{root_module} pins ~> 5.100: {lock}"
        );
    }
    let (major, minor) = selected.split_once('.').unwrap();
    let minor: u32 = minor.split('.').next().unwrap().parse().unwrap();
    assert!(major == "5" && minor >= 100, "provider {selected}");
}

async fn check_created(sdk: &SdkConfig, endpoint: &str, names: &Names, terraform: &Terraform) {
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
        .send()
        .await
        .unwrap();
    let parameter = parameter.parameter().unwrap();
    assert_eq!(parameter.r#type().map(|t| t.as_str()), Some("SecureString"));

    // The local root seeds the article's locations (production seeds none).
    let seeded = aws_sdk_dynamodb::Client::new(sdk)
        .scan()
        .table_name(&names.table)
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.count(), 3);

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
    // The consumer fits its letters to the queue's own limit.
    {
        use aws_sdk_sqs::types::QueueAttributeName::MaximumMessageSize;
        let attributes = aws_sdk_sqs::Client::new(sdk)
            .get_queue_attributes()
            .queue_url(queue_url(sdk, &names.dead_letter_queue).await.unwrap())
            .attribute_names(MaximumMessageSize)
            .send()
            .await
            .unwrap();
        assert_eq!(
            attributes
                .attributes()
                .and_then(|a| a.get(&MaximumMessageSize)),
            Some(&environment["DLQ_MAX_MESSAGE_BYTES"]),
            "DLQ_MAX_MESSAGE_BYTES is the queue's MaximumMessageSize"
        );
        assert_eq!(
            environment["DLQ_MAX_MESSAGE_BYTES"],
            emulators::DEAD_LETTER_MAX_MESSAGE_BYTES.to_string()
        );
    }
    let role_arn = configuration.role().unwrap().to_owned();

    // Listed by stream: the mapping names the alias, not the bare function.
    let mappings = lambda
        .list_event_source_mappings()
        .event_source_arn(&stream_arn)
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
    // Retries bounded by age (6 h), not by count.
    assert_eq!(mapping.maximum_retry_attempts(), Some(-1));
    assert_eq!(mapping.maximum_record_age_in_seconds(), Some(21_600));
    assert_eq!(
        mapping.metrics_config().map(|m| m
            .metrics()
            .iter()
            .map(|x| x.as_str())
            .collect::<Vec<_>>()),
        Some(vec!["EventCount"])
    );
    let dlq_arn = queue_arn(sdk, &names.dead_letter_queue).await.unwrap();
    let on_failure_arn = queue_arn(sdk, &names.on_failure_queue).await.unwrap();
    assert_eq!(
        mapping
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(on_failure_arn.as_str()),
        "pointers go to their own queue, not among the poison letters"
    );
    let mapping_uuid = mapping.uuid().unwrap().to_owned();
    // The mapping invokes the `live` alias of a published version (moto
    // reports the version the alias points at; AWS the alias), so a bad
    // deploy rolls back by moving the alias.
    let alias = lambda
        .get_alias()
        .function_name(&names.function)
        .name("live")
        .send()
        .await
        .unwrap();
    let version = alias.function_version().unwrap();
    assert_ne!(version, "$LATEST");
    let invoked = mapping.function_arn().unwrap();
    assert!(
        invoked.ends_with(&format!(":{version}")) || invoked == alias.alias_arn().unwrap(),
        "the mapping invokes the alias, not $LATEST: {invoked}"
    );
    // As configured (moto reports the version in state too): the alias's ARN.
    let references = esm_function_references(&terraform.show("first")["configuration"]);
    assert!(
        references.iter().any(|r| r == "aws_lambda_alias.live.arn"),
        "the mapping is configured with the alias: {references:?}"
    );

    // Both queues refuse anything but TLS.
    for queue in [&names.dead_letter_queue, &names.on_failure_queue] {
        use aws_sdk_sqs::types::QueueAttributeName::Policy;
        let attributes = aws_sdk_sqs::Client::new(sdk)
            .get_queue_attributes()
            .queue_url(queue_url(sdk, queue).await.unwrap())
            .attribute_names(Policy)
            .send()
            .await
            .unwrap();
        let policy = attributes
            .attributes()
            .and_then(|a| a.get(&Policy))
            .unwrap_or_else(|| panic!("{queue} has no queue policy"));
        let policy: Value = serde_json::from_str(policy).unwrap();
        let denies_plain = as_list(&policy["Statement"]).iter().any(|s| {
            s["Effect"] == "Deny"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                && as_list(&s["Action"]).contains(&Value::from("sqs:*"))
        });
        assert!(denies_plain, "{queue} denies non-TLS access: {policy}");
    }
    check_dashboard(endpoint, names).await;

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
    check_least_privilege(
        &statements,
        &stream_arn,
        &table_arn,
        &[&dlq_arn, &on_failure_arn],
    );
    check_alarms(endpoint, names, &mapping_uuid).await;
}

/// One alarm as DescribeAlarms returns it.
#[derive(Debug, PartialEq)]
struct Alarm {
    name: String,
    namespace: String,
    metric: String,
    statistic: String,
    dimension: (String, String),
    threshold: f64,
    evaluation_periods: u32,
    treat_missing_data: String,
}

/// Every alarm on every failure path, with the metric, threshold, periods
/// and missing-data treatment its description promises.
async fn check_alarms(endpoint: &str, names: &Names, mapping_uuid: &str) {
    let mut alarms = alarms(endpoint).await;
    alarms.sort_by(|a, b| a.name.cmp(&b.name));
    let function = ("FunctionName".to_owned(), names.function.clone());
    let queue = |name: &str| ("QueueName".to_owned(), name.to_owned());
    let expect = |suffix: &str,
                  namespace: &str,
                  metric: &str,
                  statistic: &str,
                  dimension: (String, String),
                  evaluation_periods: u32,
                  threshold: f64,
                  treat_missing_data: &str| Alarm {
        name: format!("{}-{suffix}", names.function),
        namespace: namespace.into(),
        metric: metric.into(),
        statistic: statistic.into(),
        dimension,
        threshold,
        evaluation_periods,
        treat_missing_data: treat_missing_data.into(),
    };
    let consumer = "KinesisConsumer";
    let mut expected = vec![
        expect(
            "batch-item-failures",
            consumer,
            "BatchItemFailures",
            "Sum",
            function.clone(),
            5,
            0.0,
            "notBreaching",
        ),
        expect(
            "destination-delivery-failures",
            "AWS/Lambda",
            "DestinationDeliveryFailures",
            "Sum",
            function.clone(),
            1,
            0.0,
            "notBreaching",
        ),
        expect(
            "dlq-depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            queue(&names.dead_letter_queue),
            1,
            0.0,
            "notBreaching",
        ),
        expect(
            "dropped-events",
            "AWS/Lambda",
            "DroppedEventCount",
            "Sum",
            ("EventSourceMappingUUID".into(), mapping_uuid.into()),
            1,
            0.0,
            "notBreaching",
        ),
        expect(
            "dynamodb-failures",
            consumer,
            "DynamoDbFailures",
            "Sum",
            function.clone(),
            5,
            0.0,
            "notBreaching",
        ),
        // Errors over several periods: one the mapping retries pages nobody.
        expect(
            "errors",
            "AWS/Lambda",
            "Errors",
            "Sum",
            function.clone(),
            5,
            0.0,
            "notBreaching",
        ),
        // A quiet stream has no IteratorAge: not a failure (the stalled
        // alarm, checked below, watches a mapping that reads nothing).
        expect(
            "iterator-age",
            "AWS/Lambda",
            "IteratorAge",
            "Maximum",
            function.clone(),
            5,
            60_000.0,
            "notBreaching",
        ),
        expect(
            "momento-cache-missing",
            consumer,
            "MomentoCacheMissing",
            "Sum",
            function.clone(),
            1,
            0.0,
            "notBreaching",
        ),
        expect(
            "momento-errors",
            consumer,
            "MomentoErrors",
            "Sum",
            function.clone(),
            5,
            0.0,
            "notBreaching",
        ),
        // At half the stream's retention (24 h here): while the records its
        // pointers name can still be redriven.
        expect(
            "on-failure-age",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "Maximum",
            queue(&names.on_failure_queue),
            1,
            43_200.0,
            "notBreaching",
        ),
        expect(
            "on-failure-depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            queue(&names.on_failure_queue),
            1,
            0.0,
            "notBreaching",
        ),
        expect(
            "throttles",
            "AWS/Lambda",
            "Throttles",
            "Sum",
            function.clone(),
            5,
            0.0,
            "notBreaching",
        ),
    ];
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(alarms, expected);
    // Moto does not evaluate alarms: the stalled alarm is checked as
    // configuration (records arriving in the stream, no invocation).
    let body = describe_alarms(endpoint).await;
    let stalled = body
        .split("<AlarmName>")
        .find(|a| a.starts_with(&format!("{}-stalled<", names.function)))
        .expect("a stalled-mapping alarm");
    for part in [
        "IF(incoming &gt; 0 AND FILL(invocations, 0) == 0, 1, 0)",
        "<MetricName>IncomingRecords</MetricName>",
        "<MetricName>Invocations</MetricName>",
        &format!("<Value>{}</Value>", names.stream),
        "<TreatMissingData>notBreaching</TreatMissingData>",
    ] {
        assert!(
            stalled.contains(part),
            "the stalled alarm has {part}: {stalled}"
        );
    }
    let errors = body
        .split("<AlarmName>")
        .find(|a| a.starts_with(&format!("{}-errors<", names.function)))
        .unwrap();
    assert!(
        errors.contains("<DatapointsToAlarm>3</DatapointsToAlarm>"),
        "{errors}"
    );
}

/// What the event-source mapping's `function_name` refers to in a plan's
/// configuration, wherever in the module tree it is.
fn esm_function_references(configuration: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut modules = vec![&configuration["root_module"]];
    while let Some(module) = modules.pop() {
        for resource in module["resources"].as_array().into_iter().flatten() {
            if resource["type"] == "aws_lambda_event_source_mapping" {
                for r in resource["expressions"]["function_name"]["references"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    found.push(r.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        if let Some(calls) = module["module_calls"].as_object() {
            modules.extend(calls.values().map(|call| &call["module"]));
        }
    }
    found
}

/// Every metric of the consumer's namespace on the dashboard is one the
/// consumer emits: the names its EMF code (lambda/src/metrics.rs) records.
async fn check_dashboard(endpoint: &str, names: &Names) {
    let source = std::fs::read_to_string(workspace_root().join("lambda/src/metrics.rs")).unwrap();
    let emitted: Vec<String> = ["counter!(\"", "histogram!(\"", "gauge!(\""]
        .iter()
        .flat_map(|call| {
            source
                .match_indices(call)
                .map(|(i, _)| {
                    let rest = &source[i + call.len()..];
                    rest[..rest.find('"').unwrap()].to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(emitted.len() > 10, "{emitted:?}");
    let body = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(format!("Action=GetDashboard&Version=2010-08-01&DashboardName={}", names.function))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json = body
        .split("<DashboardBody>")
        .nth(1)
        .and_then(|b| b.split("</DashboardBody>").next())
        .unwrap_or_else(|| panic!("GetDashboard: {body}"))
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let dashboard: Value = serde_json::from_str(&json).unwrap();
    let mut own = Vec::new();
    for widget in dashboard["widgets"].as_array().unwrap() {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if metric[0] == "KinesisConsumer" {
                own.push(metric[1].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        own.len() >= 10,
        "the dashboard shows the consumer's metrics: {own:?}"
    );
    for name in &own {
        assert!(
            emitted.contains(name),
            "the dashboard shows {name}, which the consumer never emits ({emitted:?})"
        );
    }
    let alarms = dashboard["widgets"][0]["properties"]["alarms"]
        .as_array()
        .unwrap();
    assert_eq!(alarms.len(), 13, "every alarm's state on the page");
}

/// DescribeAlarms through CloudWatch's Query API (the Rust SDK speaks
/// CloudWatch's newer RPC v2 CBOR protocol, which moto does not serve).
async fn alarms(endpoint: &str) -> Vec<Alarm> {
    let body = describe_alarms(endpoint).await;
    // Each alarm's <member> starts with its <AlarmName>.
    body.split("<AlarmName>")
        .skip(1)
        .filter(|alarm| !alarm.contains("<Expression>"))
        .map(|alarm| {
            let tag = |name: &str| -> String {
                let open = format!("<{name}>");
                let start = alarm.find(&open).map(|i| i + open.len()).unwrap_or(0);
                let rest = &alarm[start..];
                rest[..rest.find('<').unwrap_or(0)].to_owned()
            };
            Alarm {
                name: alarm[..alarm.find('<').unwrap()].to_owned(),
                namespace: tag("Namespace"),
                metric: tag("MetricName"),
                statistic: tag("Statistic"),
                dimension: (tag("Name"), tag("Value")),
                threshold: tag("Threshold").parse().unwrap(),
                evaluation_periods: tag("EvaluationPeriods").parse().unwrap(),
                treat_missing_data: tag("TreatMissingData"),
            }
        })
        .collect()
}

async fn describe_alarms(endpoint: &str) -> String {
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
    body
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn check_least_privilege(statements: &[Value], stream: &str, table: &str, queues: &[&str]) {
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
                // The one exception: X-Ray has no resource types at all.
                let allowed = actions.iter().all(|a| a.starts_with("xray:"));
                assert!(allowed, "{actions:?} on every resource");
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
    for queue in queues {
        assert!(has("sqs:SendMessage", queue), "{queue}");
    }
    assert!(granted.iter().any(|(a, r)| a == "ssm:GetParameter"
        && r.ends_with(":parameter/kinesis-consumer-model-one/momento-api-key")));
    assert!(
        !granted
            .iter()
            .any(|(a, _)| a.starts_with("dynamodb:Put") || a.starts_with("ssm:Put")),
        "read-only where it reads"
    );
}

async fn queue_url(sdk: &SdkConfig, name: &str) -> Option<String> {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .ok()?
        .queue_url
}

async fn queue_arn(sdk: &SdkConfig, name: &str) -> Option<String> {
    use aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(queue_url(sdk, name).await?)
        .attribute_names(QueueArn)
        .send()
        .await
        .ok()?
        .attributes()?
        .get(&QueueArn)
        .cloned()
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
    for queue in [&names.dead_letter_queue, &names.on_failure_queue] {
        assert!(queue_url(sdk, queue).await.is_none(), "{queue} is gone");
    }
    assert!(
        !describe_alarms(endpoint).await.contains("<AlarmName>"),
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
