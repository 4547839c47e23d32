//! Delivers invocation records to the on-failure [`Destination`]: SQS,
//! SNS, or an S3 object with the event as its payload, as AWS does.

use aws_config::SdkConfig;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::destination::{s3_key, Destination};

/// Why a destination refused an invocation record.
#[derive(Debug, thiserror::Error)]
#[error("{service} refused the invocation record: {message}")]
pub struct SendError {
    pub service: &'static str,
    pub message: String,
}

/// Sends invocation records to a [`Destination`].
#[derive(Clone)]
pub struct Sender {
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
    s3: aws_sdk_s3::Client,
}

impl Sender {
    pub fn new(sdk: &SdkConfig) -> Self {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(sdk)
                // Emulators serve buckets by path, not by virtual host.
                .force_path_style(true)
                .build(),
        );
        Self {
            sqs: aws_sdk_sqs::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            s3,
        }
    }

    /// Delivers `record` (an [`invocation_record`](crate::destination::invocation_record)); for S3, with `event` as
    /// its escaped JSON `payload`, under the key AWS uses.
    ///
    /// # Errors
    /// [`SendError`] with the service's error.
    pub async fn send(
        &self,
        destination: &Destination,
        mapping_uuid: &str,
        record: &Value,
        event: &Value,
    ) -> Result<(), SendError> {
        match destination {
            Destination::Sqs(queue) => {
                let url = if queue.starts_with("arn:") {
                    self.queue_url(queue).await?
                } else {
                    queue.clone()
                };
                self.sqs
                    .send_message()
                    .queue_url(url)
                    .message_body(record.to_string())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        service: "sqs",
                        message: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
                    })
            }
            Destination::Sns(topic) => self
                .sns
                .publish()
                .topic_arn(topic)
                .message(record.to_string())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| SendError {
                    service: "sns",
                    message: aws_sdk_sns::error::DisplayErrorContext(e).to_string(),
                }),
            Destination::S3(bucket) => {
                let mut object = record.clone();
                object["payload"] = event.to_string().into();
                let shard = record["KinesisBatchInfo"]["shardId"]
                    .as_str()
                    .unwrap_or_default();
                let at = record["timestamp"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
                self.s3
                    .put_object()
                    .bucket(bucket)
                    .key(s3_key(mapping_uuid, shard, at))
                    .content_type("application/json")
                    .body(object.to_string().into_bytes().into())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        service: "s3",
                        message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
                    })
            }
        }
    }

    async fn queue_url(&self, arn: &str) -> Result<String, SendError> {
        let name = arn.rsplit(':').next().unwrap_or_default();
        let account = arn.split(':').nth(4).unwrap_or_default();
        self.sqs
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| SendError {
                service: "sqs",
                message: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?
            .queue_url
            .ok_or_else(|| SendError {
                service: "sqs",
                message: format!("no URL for {arn}"),
            })
    }
}
