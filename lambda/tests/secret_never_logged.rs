//! The Momento API key never appears in logs, output, dead letters, errors or
//! `Debug` output: every log line of a full run (all crates, TRACE level) is
//! captured and searched for it, a key rotation included: a running consumer
//! picks up a new key when Momento refuses the old one.
#![cfg(feature = "integration")]

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use cache_client::local_api_key;
use common::{api_key, Env, Events, Logs, SECRET};
use consumer::InitError;

/// Every log line of this test binary, at TRACE (one subscriber per process).
fn capture() -> Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .init();
        logs
    })
    .clone()
}

/// Writes SecureString parameter `name` (over any value it had), as an
/// operator rotating the key does.
async fn put_secure_string(env: &Env, name: &str, value: &str) {
    aws_sdk_ssm::Client::new(&env.sdk)
        .put_parameter()
        .name(name)
        .r#type(ParameterType::SecureString)
        .value(value)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_api_key_appears_nowhere() {
    let logs = capture();

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
    put_secure_string(&env, "/garbage/key", garbage).await;
    bad.api_key_parameter = "/garbage/key".to_owned();
    let invalid = consumer::init(&bad, &env.sdk, consumer::Output::Stdout)
        .await
        .err()
        .unwrap();
    assert!(matches!(invalid, InitError::Momento(_)), "{invalid}");
    // The placeholder Terraform writes in out-of-band mode is refused by name.
    put_secure_string(
        &env,
        "/placeholder/key",
        "placeholder: set the real Momento API key out of band",
    )
    .await;
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

/// A rotation: a new key is put in SSM and the double accepts only it. The
/// running consumer's Momento calls are refused, it reads the parameter
/// again (at most once per interval) and its Momento hits resume, no record
/// failing meanwhile and neither key logged.
#[tokio::test]
async fn a_rotated_key_reaches_the_running_consumer() {
    const NEW_SECRET: &str = "rotated-secret-7c41d0e9";
    const INTERVAL: Duration = Duration::from_secs(1);
    let logs = capture();
    let env = Env::start().await;
    let mut config = env.config();
    config.l1_ttl = Duration::from_millis(1); // every batch reaches Momento
    config.momento_key_refresh = INTERVAL;
    config.momento_timeout = Duration::from_secs(5); // no timeouts under load
    let (consumer, _captured) = env.consumer(&config).await;
    let batch = |round: u32| {
        let mut events = Events::new();
        for location in ["Car", "Diner", "House"] {
            events.record(round, location);
        }
        events.build()
    };
    // Warm: DynamoDB fills Momento, then Momento answers.
    let mut hits = 0;
    for round in 0..20 {
        let result = consumer.handle(batch(round)).await;
        assert!(result.response.batch_item_failures.is_empty());
        hits += result.report.lookups.momento_hits;
        if hits > 0 {
            break;
        }
    }
    assert!(hits > 0, "Momento answers before the rotation");

    let new_key = local_api_key(NEW_SECRET);
    put_secure_string(&env, &config.api_key_parameter, &new_key).await;
    env.double.set_api_keys(Some(vec![NEW_SECRET.to_owned()]));
    let rotated = Instant::now();

    // Counted in batches, not timed: a loaded machine stretches each one.
    let (mut first_refused, mut first_hit) = (None, None);
    let mut round = 100;
    while first_hit.is_none() {
        assert!(
            rotated.elapsed() < Duration::from_secs(20),
            "Momento hits resume after the rotation"
        );
        let result = consumer.handle(batch(round)).await;
        assert!(
            result.response.batch_item_failures.is_empty(),
            "no record fails while the key rotates"
        );
        assert_eq!(result.report.enriched, 3);
        if result.report.lookups.momento_key_refused > 0 {
            first_refused.get_or_insert(round);
        }
        if result.report.lookups.momento_hits > 0 {
            first_hit = Some(round);
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_refused = first_refused.expect("the old key was refused first");
    // The refused batch read SSM at once (never read before) and the next
    // one used the new key.
    assert_eq!(
        first_hit.unwrap(),
        first_refused + 1,
        "the batch after the first refusal hits"
    );
    assert_eq!(consumer.lookup().totals().momento_key_refreshes, 1);

    let logs = logs.text();
    assert!(
        logs.contains("SSM holds a new one"),
        "the rotation was logged"
    );
    for secret in [SECRET, NEW_SECRET, api_key().as_str(), new_key.as_str()] {
        assert!(!logs.contains(secret), "a key leaked into the logs");
    }
}

/// A rotation the other way round: Momento refuses the old key before SSM
/// holds the new one. The consumer reads the parameter again, finds the same
/// key and skips Momento until the next read, again and again (no record
/// failing); the refusals never open the breaker (three in one batch would,
/// were they outages; its cool-down here is far longer than the test), so
/// once SSM holds the new key the next read brings Momento's hits back.
/// Counted, not timed: a loaded machine stretches every step.
#[tokio::test]
async fn a_key_refused_before_ssm_holds_the_new_one_never_opens_the_breaker() {
    const NEW_SECRET: &str = "rotated-secret-52b8e1f3";
    const INTERVAL: Duration = Duration::from_millis(500);
    const PATIENCE: Duration = Duration::from_secs(20);
    let logs = capture();
    let env = Env::start().await;
    let mut config = env.config();
    config.l1_ttl = Duration::from_millis(1); // every batch reaches Momento
    config.momento_key_refresh = INTERVAL;
    config.momento_timeout = Duration::from_secs(5); // no timeouts under load
    config.breaker_failures = 3;
    config.breaker_cooldown = Duration::from_secs(120);
    let (consumer, _captured) = env.consumer(&config).await;
    let mut round = 0;
    let mut handle = async || {
        let mut events = Events::new();
        for location in ["Car", "Diner", "House"] {
            events.record(round, location);
        }
        round += 1;
        let result = consumer.handle(events.build()).await;
        assert!(
            result.response.batch_item_failures.is_empty(),
            "no record fails while Momento refuses the key"
        );
        assert_eq!(result.report.enriched, 3);
        tokio::time::sleep(Duration::from_millis(20)).await;
        result.report.lookups
    };

    // Momento revokes the key; SSM still holds it for three reads.
    env.double.set_api_keys(Some(vec![NEW_SECRET.to_owned()]));
    let revoked = Instant::now();
    let mut refused_batches = 0;
    while refused_batches < 3 {
        assert!(
            revoked.elapsed() < PATIENCE,
            "Momento was asked again after each read of the same key ({refused_batches} refused batches so far)"
        );
        let lookups = handle().await;
        if lookups.momento_key_refused > 0 {
            refused_batches += 1;
        }
    }
    assert_eq!(consumer.lookup().totals().momento_key_refreshes, 0);

    let new_key = local_api_key(NEW_SECRET);
    put_secure_string(&env, &config.api_key_parameter, &new_key).await;
    let updated = Instant::now();
    while handle().await.momento_hits == 0 {
        assert!(
            updated.elapsed() < PATIENCE,
            "Momento hits resume once SSM holds the new key"
        );
    }
    let totals = consumer.lookup().totals();
    assert_eq!(totals.breaker_opened, 0, "refusals are not an outage");
    assert_eq!(totals.momento_key_refreshes, 1);
    let logs = logs.text();
    assert!(logs.contains("Momento refuses the key SSM holds"));
    for secret in [SECRET, NEW_SECRET, api_key().as_str(), new_key.as_str()] {
        assert!(!logs.contains(secret), "a key leaked into the logs");
    }
}
