//! Starts moto server and the cache double, provisions twice, reads it all back.
#![cfg(feature = "integration")]

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kinesis::types::StreamMode;
use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_ssm::types::ParameterType;
use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use emulators::{provision, sdk_config, Double, MotoServer, Names};
use momento::cache::GetResponse;

const SECRET: &str = "emulators-test-secret";

#[tokio::test]
async fn provisions_everything_idempotently() -> anyhow::Result<()> {
    let moto = MotoServer::start().await?;
    let double = Double::in_process(SECRET, "unused").await?;
    let names = Names::default();
    let sdk = sdk_config(moto.endpoint(), &names.region).await;
    let key = local_api_key(SECRET);
    let cache = connect(&ClientSettings::new(
        Some(&double.endpoint()),
        ApiKey::new(key.clone()),
    ))?;

    let first = provision(&sdk, &cache, &names, &key).await?;
    let second = provision(&sdk, &cache, &names, &key).await?;
    assert_eq!(first.stream_arn, second.stream_arn);
    assert_eq!(first.dead_letter_queue_url, second.dead_letter_queue_url);
    assert_eq!(first.on_failure_queue_url, second.on_failure_queue_url);
    assert_ne!(first.on_failure_queue_url, first.dead_letter_queue_url);
    assert!(
        first.stream_arn.ends_with(":stream/model-one-stream"),
        "{}",
        first.stream_arn
    );

    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let streams = kinesis.list_streams().send().await?;
    assert_eq!(streams.stream_names(), ["model-one-stream"]);
    let summary = kinesis
        .describe_stream_summary()
        .stream_name(&names.stream)
        .send()
        .await?;
    let mode = summary
        .stream_description_summary()
        .and_then(|s| s.stream_mode_details())
        .map(|m| m.stream_mode().clone());
    assert_eq!(mode, Some(StreamMode::OnDemand));

    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let scan = dynamodb.scan().table_name("Locations").send().await?;
    assert_eq!(scan.count(), 3, "seeding twice leaves three items");
    let car = dynamodb
        .get_item()
        .table_name("Locations")
        .key("location", AttributeValue::S("Car".into()))
        .send()
        .await?;
    let item = car.item().expect("Car exists");
    assert_eq!(
        item["description"],
        AttributeValue::S("Car description".into())
    );
    assert_eq!(item["notes"], AttributeValue::S("Car notes".into()));

    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let parameter = ssm
        .get_parameter()
        .name(&names.parameter)
        .with_decryption(true)
        .send()
        .await?
        .parameter
        .expect("parameter exists");
    assert_eq!(parameter.r#type(), Some(&ParameterType::SecureString));
    assert_eq!(parameter.value(), Some(key.as_str()));

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for (url, arn) in [
        (&first.dead_letter_queue_url, &first.dead_letter_queue_arn),
        (&first.on_failure_queue_url, &first.on_failure_queue_arn),
    ] {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await?;
        let attributes = attributes.attributes().expect("attributes");
        assert_eq!(
            attributes[&QueueAttributeName::SqsManagedSseEnabled],
            "true"
        );
        assert_eq!(&attributes[&QueueAttributeName::QueueArn], arn);
    }

    let caches: Vec<String> = cache
        .list_caches()
        .await?
        .caches
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(caches.contains(&names.cache), "{caches:?}");
    cache.set(&names.cache, "k", "v").await?;
    assert!(matches!(
        cache.get(&names.cache, "k").await?,
        GetResponse::Hit { .. }
    ));
    Ok(())
}

#[tokio::test]
async fn moto_stops_when_dropped() -> anyhow::Result<()> {
    let moto = MotoServer::start().await?;
    let pid = moto.pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(moto);
    let gone = !std::path::Path::new(&format!("/proc/{pid}")).exists();
    assert!(gone, "moto_server {pid} still runs after drop");
    Ok(())
}

#[tokio::test]
async fn child_process_double_serves_the_sdk_and_stops_on_drop() -> anyhow::Result<()> {
    let binary =
        Double::built_binary().expect("cargo builds cache-double before running the tests");
    let double = Double::spawn(&binary, SECRET, "child-cache").await?;
    let cache = connect(&ClientSettings::new(
        Some(&double.endpoint()),
        ApiKey::new(local_api_key(SECRET)),
    ))?;
    cache.set("child-cache", "k", "v").await?;
    assert!(matches!(
        cache.get("child-cache", "k").await?,
        GetResponse::Hit { .. }
    ));
    let wrong = connect(&ClientSettings::new(
        Some(&double.endpoint()),
        ApiKey::new(local_api_key("nope")),
    ))?;
    assert!(
        wrong.get("child-cache", "k").await.is_err(),
        "the key given through the environment is enforced"
    );

    let pid = double.pid().expect("a child");
    drop(double);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    Ok(())
}
