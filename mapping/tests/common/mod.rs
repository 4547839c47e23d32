//! Shared fixture of the mapping tests: moto with a stream and an SQS queue
//! for the on-failure destination, and readers of Kinesis events.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use mapping::{
    Backoff, EventSourceMapping, Function, MappingConfig, MappingSettings, StartingPosition,
};
use serde_json::Value;

pub struct Stream {
    pub moto: emulators::MotoServer,
    pub sdk: SdkConfig,
    pub name: String,
    pub queue_url: String,
}

/// moto with a stream of `shards` shards and an SQS queue for the destination.
pub async fn stream(shards: i32) -> Stream {
    let moto = emulators::MotoServer::start().await.unwrap();
    let sdk = emulators::sdk_config(moto.endpoint(), "us-east-1").await;
    let name = "mapping-test".to_owned();
    aws_sdk_kinesis::Client::new(&sdk)
        .create_stream()
        .stream_name(&name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    let queue_url = aws_sdk_sqs::Client::new(&sdk)
        .create_queue()
        .queue_name("on-failure")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    Stream {
        moto,
        sdk,
        name,
        queue_url,
    }
}

impl Stream {
    /// Puts (partition key, data) pairs in order, one call per 500.
    pub async fn put(&self, records: &[(String, String)]) {
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        for chunk in records.chunks(500) {
            let entries = chunk.iter().map(|(key, data)| {
                PutRecordsRequestEntry::builder()
                    .partition_key(key)
                    .data(Blob::new(data.as_bytes()))
                    .build()
                    .unwrap()
            });
            let out = kinesis
                .put_records()
                .stream_name(&self.name)
                .set_records(Some(entries.collect()))
                .send()
                .await
                .unwrap();
            assert_eq!(out.failed_record_count, Some(0));
        }
    }

    pub fn config(&self, settings: MappingSettings) -> MappingConfig {
        MappingConfig {
            stream: self.name.clone(),
            region: "us-east-1".into(),
            function_name: "test-function".into(),
            settings: MappingSettings {
                on_failure: settings.on_failure.clone().or(Some(self.queue_url.clone())),
                starting_position: StartingPosition::TrimHorizon,
                ..settings
            },
            follow: false,
            checkpoint_file: None,
            poll_interval: None,
            function_timeout: None,
            backoff: Backoff::AWS_LIKE,
            uuid: None,
        }
    }

    pub async fn replay(&self, settings: MappingSettings, function: Function) -> mapping::Summary {
        let replay = Arc::new(
            EventSourceMapping::new(&self.sdk, self.config(settings), function)
                .await
                .unwrap(),
        );
        replay.run().await.unwrap()
    }

    pub async fn destination(&self) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut out = Vec::new();
        loop {
            let page = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = page.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap()).unwrap());
                sqs.delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

pub fn numbered(n: usize, key: impl Fn(usize) -> String) -> Vec<(String, String)> {
    (0..n).map(|i| (key(i), format!("record-{i}"))).collect()
}

/// The decoded `data` of every record in an event, in order.
pub fn payloads(event: &Value) -> Vec<String> {
    use base64::Engine;
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let data = r["kinesis"]["data"].as_str().unwrap();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap(),
            )
            .unwrap()
        })
        .collect()
}

pub fn sequence_numbers(event: &Value) -> Vec<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kinesis"]["sequenceNumber"].as_str().unwrap().to_owned())
        .collect()
}
