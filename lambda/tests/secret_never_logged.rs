//! The Momento API key never appears in logs, output, dead letters, errors or
//! `Debug` output: every log line of a full run (all crates, TRACE level) is
//! captured and searched for it.
#![cfg(feature = "integration")]

mod common;

use aws_sdk_ssm::types::ParameterType;
use common::{api_key, Env, Events, Logs, SECRET};
use consumer::InitError;

#[tokio::test]
async fn the_api_key_appears_nowhere() {
    let logs = Logs::default();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .init();

    let env = Env::start().await;
    let mut config = env.config();
    config.l1_ttl = std::time::Duration::from_millis(1); // every round reaches Momento
    let (consumer, captured) = env.consumer(&config).await;
    let mut seen = Vec::new();

    // Cold, warm, poison, and a Momento outage in the last round.
    for round in 0..3 {
        let mut events = Events::new();
        for location in ["Car", "Diner", "House", "Atlantis"] {
            events.record(round, location);
        }
        events.data(round, "pk", b"{broken".to_vec());
        if round == 2 {
            env.double.set_blocked(true);
        }
        let result = consumer.handle(events.build()).await;
        seen.push(format!("{result:?}"));
    }
    seen.extend(
        captured
            .take_lines()
            .iter()
            .map(|l| serde_json::to_string(l).unwrap()),
    );
    seen.extend(
        env.dead_letters()
            .await
            .iter()
            .map(|l| serde_json::to_string(l).unwrap()),
    );
    seen.push(format!("{config:?}"));

    // Failed inits: the errors name the parameter, never its value.
    let ssm = aws_sdk_ssm::Client::new(&env.sdk);
    let plain = "/plain/momento-key";
    ssm.put_parameter()
        .name(plain)
        .r#type(ParameterType::String)
        .value(api_key())
        .send()
        .await
        .unwrap();
    let mut bad = config.clone();
    bad.api_key_parameter = plain.to_owned();
    let not_secure = consumer::init(&bad, &env.sdk, consumer::Output::Stdout)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(not_secure, InitError::NotSecure { .. }),
        "{not_secure}"
    );
    bad.api_key_parameter = "/does/not/exist".to_owned();
    let missing = consumer::init(&bad, &env.sdk, consumer::Output::Stdout)
        .await
        .err()
        .unwrap();
    assert!(missing.to_string().contains("/does/not/exist"), "{missing}");
    let garbage = "not-a-momento-key-but-still-secret";
    ssm.put_parameter()
        .name("/garbage/key")
        .r#type(ParameterType::SecureString)
        .value(garbage)
        .send()
        .await
        .unwrap();
    bad.api_key_parameter = "/garbage/key".to_owned();
    let invalid = consumer::init(&bad, &env.sdk, consumer::Output::Stdout)
        .await
        .err()
        .unwrap();
    assert!(matches!(invalid, InitError::Momento(_)), "{invalid}");
    // The placeholder Terraform writes in out-of-band mode is refused by name.
    ssm.put_parameter()
        .name("/placeholder/key")
        .r#type(ParameterType::SecureString)
        .value("placeholder: set the real Momento API key out of band")
        .send()
        .await
        .unwrap();
    bad.api_key_parameter = "/placeholder/key".to_owned();
    let placeholder = consumer::init(&bad, &env.sdk, consumer::Output::Stdout)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(placeholder, InitError::Placeholder { .. }),
        "{placeholder}"
    );
    assert!(placeholder.to_string().contains("/placeholder/key"));
    for error in [&not_secure, &missing, &invalid, &placeholder] {
        seen.push(error.to_string());
        seen.push(format!("{error:?}"));
    }

    let logs = logs.text();
    assert!(
        logs.contains("GetParameter") && logs.contains("BatchGetItem"),
        "the capture holds the SDKs' trace logs"
    );
    assert!(logs.contains("Momento get failed"), "the outage was logged");
    seen.push(logs);
    let everything = seen.join("\n");
    for secret in [SECRET, api_key().as_str(), garbage] {
        assert!(!everything.contains(secret), "a secret leaked");
    }
}
