//! Records to replay that come from a file, not a stream: the producer's
//! `--output` (JSON lines of `ModelOne`) or captured Kinesis events.

use base64::Engine;
use mapping::records::now_seconds;
use mapping::StreamRecord;
use serde_json::Value;

/// Reads records to replay from a file: the producer's JSON lines (one
/// `ModelOne` per line) or captured Kinesis events (`{"Records": [...]}`, one
/// per line or the whole file). Records without a shard go to
/// `shardId-000000000000`, numbered in file order.
///
/// # Errors
/// [`ReadError`] naming the file and line that cannot be read or is neither form.
pub fn read_file(path: &std::path::Path) -> Result<Vec<StreamRecord>, ReadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReadError::new(format!("cannot read {}: {e}", path.display())))?;
    let whole: Option<Value> = serde_json::from_str(&text).ok();
    let documents: Vec<(usize, Value)> = match whole {
        Some(value) if value.get("Records").is_some() => vec![(1, value)],
        _ => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map(|v| (i + 1, v)).map_err(|e| {
                    ReadError::new(format!("{}:{}: not JSON: {e}", path.display(), i + 1))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut records = Vec::new();
    for (line, document) in documents {
        match document.get("Records").and_then(Value::as_array) {
            Some(event) => {
                for record in event {
                    records.push(from_event_record(record).ok_or_else(|| {
                        ReadError::new(format!(
                            "{}:{line}: a record lacks kinesis.sequenceNumber/data",
                            path.display()
                        ))
                    })?);
                }
            }
            None => {
                let model: model::ModelOne = serde_json::from_value(document).map_err(|e| {
                    ReadError::new(format!(
                        "{}:{line}: neither a Kinesis event nor a ModelOne: {e}",
                        path.display()
                    ))
                })?;
                records.push(StreamRecord {
                    shard_id: "shardId-000000000000".into(),
                    sequence_number: format!("{:056}", records.len() + 1),
                    partition_key: model.id.clone(),
                    data: model.to_json(),
                    arrival: now_seconds(),
                });
            }
        }
    }
    Ok(records)
}

fn from_event_record(record: &Value) -> Option<StreamRecord> {
    let kinesis = record.get("kinesis")?;
    let sequence_number = kinesis.get("sequenceNumber")?.as_str()?.to_owned();
    let data = base64::engine::general_purpose::STANDARD
        .decode(kinesis.get("data")?.as_str()?)
        .ok()?;
    let shard_id = record
        .get("eventID")
        .and_then(Value::as_str)
        .and_then(|id| id.split_once(':'))
        .map_or("shardId-000000000000", |(shard, _)| shard)
        .to_owned();
    let arrival = match kinesis.get("approximateArrivalTimestamp") {
        Some(Value::Number(n)) => n.as_f64()?,
        Some(Value::String(s)) => s.parse().ok()?,
        _ => now_seconds(),
    };
    Some(StreamRecord {
        shard_id,
        sequence_number,
        partition_key: kinesis
            .get("partitionKey")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        data,
        arrival,
    })
}

/// Why a replay file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(String);

impl ReadError {
    fn new(message: String) -> Self {
        Self(message)
    }
}

#[cfg(test)]
mod tests {
    use mapping::EventSource;

    use super::*;

    #[test]
    fn reads_producer_lines_and_captured_events() {
        let dir = std::env::temp_dir().join(format!("replay-file-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let lines = dir.join("records.jsonl");
        let a = model::ModelOne::new("Car");
        let b = model::ModelOne::new("Diner");
        std::fs::write(
            &lines,
            format!(
                "{}\n\n{}\n",
                String::from_utf8(a.to_json()).unwrap(),
                String::from_utf8(b.to_json()).unwrap()
            ),
        )
        .unwrap();
        let records = read_file(&lines).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].partition_key, b.id);
        assert_eq!(records[0].data, a.to_json());
        assert!(mapping::sequence::compare(
            &records[0].sequence_number,
            &records[1].sequence_number
        )
        .is_lt());

        let source = EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:1:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::1:role/r".into(),
        };
        let event = dir.join("event.json");
        std::fs::write(
            &event,
            serde_json::to_string_pretty(&source.event(&records)).unwrap(),
        )
        .unwrap();
        assert_eq!(
            read_file(&event).unwrap(),
            records,
            "a captured event reads back the same records"
        );

        let bad = dir.join("bad.jsonl");
        std::fs::write(&bad, "{\"id\":1}\n").unwrap();
        let err = read_file(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.jsonl:1"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
