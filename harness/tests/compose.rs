//! The Docker path cannot run here (no Docker engine), so its file is checked
//! by reading it: a pinned LocalStack, the double built from its Dockerfile,
//! healthchecks, and every port published on 127.0.0.1 only.

use serde_yaml::Value;

fn compose() -> Value {
    let path = emulators::workspace_root().join("docker-compose.yml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap())
        .expect("docker-compose.yml parses")
}

#[test]
fn localstack_is_pinned_and_serves_what_the_system_uses() {
    let compose = compose();
    let localstack = &compose["services"]["localstack"];
    let image = localstack["image"].as_str().unwrap();
    let (name, tag) = image.split_once(':').expect("image has a tag");
    assert_eq!(name, "localstack/localstack");
    assert!(
        tag.split('.').count() == 3 && tag.split('.').all(|p| p.parse::<u32>().is_ok()),
        "tag {tag} is an exact version"
    );
    let services = localstack["environment"]["SERVICES"].as_str().unwrap();
    // What the harness calls (SNS and S3 as on-failure destinations) and
    // every endpoint terraform/local points at the emulator.
    let mut needed: Vec<String> = ["kinesis", "dynamodb", "ssm", "sqs", "sns", "s3"]
        .map(String::from)
        .to_vec();
    let providers =
        std::fs::read_to_string(emulators::workspace_root().join("terraform/local/providers.tf"))
            .unwrap();
    let endpoints = providers
        .split("endpoints {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("terraform/local/providers.tf has an endpoints block");
    for line in endpoints.lines() {
        let Some((name, _)) = line.trim().split_once('=') else {
            continue;
        };
        // Terraform's endpoint names → LocalStack's service names.
        needed.push(match name.trim() {
            "cloudwatchlogs" => "logs".to_owned(),
            other => other.to_owned(),
        });
    }
    assert!(needed.len() > 8, "{needed:?}");
    for service in needed {
        assert!(
            services.split(',').any(|s| s == service.as_str()),
            "{service} is used but not in LocalStack's SERVICES ({services})"
        );
    }
    assert!(localstack["healthcheck"]["test"].is_sequence());
}

#[test]
fn the_double_is_built_from_its_dockerfile() {
    let compose = compose();
    let double = &compose["services"]["cache-double"];
    assert_eq!(double["build"]["dockerfile"], "cache-double/Dockerfile");
    assert_eq!(double["build"]["context"], ".");
    assert!(emulators::workspace_root()
        .join("cache-double/Dockerfile")
        .exists());
    let health: Vec<&str> = double["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(health.contains(&"--probe-health"), "{health:?}");
}

#[test]
fn every_port_is_published_on_loopback_only() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let mut ports = 0;
    for (name, service) in services {
        for port in service["ports"].as_sequence().into_iter().flatten() {
            let port = port.as_str().expect("ports are written as strings");
            assert!(port.starts_with("127.0.0.1:"), "{name:?} publishes {port}");
            ports += 1;
        }
    }
    assert_eq!(ports, 3);
}
