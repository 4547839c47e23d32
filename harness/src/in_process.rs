//! The consumer library as the mapping's function, called in this process:
//! the event parsed as the consumer's input, its response serialized back.

use std::sync::Arc;

use consumer::{Consumer, KinesisInput};
use mapping::{Function, InvokeError};

/// The consumer, invoked directly, with the invocation's deadline when the
/// mapping has a function timeout (as the bootstrap gets it from Lambda's
/// context). An event it cannot parse is a function error, as the Lambda
/// runtime would make it.
pub fn in_process(consumer: Arc<Consumer>) -> Function {
    Function::service_until(move |event, deadline| {
        let consumer = consumer.clone();
        async move {
            let input: KinesisInput = serde_json::from_value(event)
                .map_err(|e| InvokeError::Function(format!("event does not parse: {e}")))?;
            let result = consumer.handle_until(input, deadline).await;
            serde_json::to_value(result.response).map_err(|e| InvokeError::Function(e.to_string()))
        }
    })
}

#[cfg(test)]
mod tests {
    use mapping::{EventSource, StreamRecord};

    #[test]
    fn the_consumer_reads_the_mappings_events() {
        let source = EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/f-role".into(),
        };
        let record = StreamRecord {
            shard_id: "shardId-000000000001".into(),
            sequence_number: "49590338271490256608559692538361571095921575989136588898".into(),
            partition_key: "pk".into(),
            data: b"hello".to_vec(),
            arrival: 1_795_687_200.25,
        };
        let input: consumer::KinesisInput =
            serde_json::from_value(source.event(&[record])).unwrap();
        assert_eq!(input.records[0].shard_id(), "shardId-000000000001");
        assert_eq!(
            input.records[0].kinesis.approximate_arrival_timestamp,
            Some(1_795_687_200.25)
        );
    }
}
