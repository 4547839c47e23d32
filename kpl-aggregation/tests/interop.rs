//! Interoperability with an implementation we did not write: awslabs'
//! Python `aws-kinesis-agg` (PyPI), installed into `.local/kpl-venv` on
//! first use. Its aggregates, our deaggregation; our aggregates, its
//! deaggregation; and the records neither should unpack, on the same bytes.
//! `cargo test -p kpl-aggregation --features integration --test interop`.
#![cfg(feature = "integration")]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine;
use kpl_aggregation::{deaggregate, Aggregator, Deaggregated, DIGEST_BYTES, MAGIC};
use serde_json::{json, Value};

/// The script's side: `aggregate` packs the user records it is given with
/// `RecordAggregator`; `deaggregate` unpacks Kinesis records with
/// `deaggregate_records`. Bytes travel as base64 in JSON.
const SCRIPT: &str = r#"
import base64, json, sys
from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import deaggregate_records

request = json.load(sys.stdin)
if request["op"] == "aggregate":
    aggregator = RecordAggregator(request["max_bytes"])
    out, full = [], []
    for r in request["records"]:
        done = aggregator.add_user_record(r["pk"], base64.b64decode(r["data"]), r.get("ehk"))
        if done is not None:
            full.append(done)
    last = aggregator.clear_and_get()
    if last is not None and last.get_num_user_records() > 0:
        full.append(last)
    for a in full:
        pk, ehk, data = a.get_contents()
        out.append({"pk": pk, "ehk": ehk, "data": base64.b64encode(data).decode()})
else:
    records = [{"kinesis": {"kinesisSchemaVersion": "1.0", "sequenceNumber": str(i),
                            "approximateArrivalTimestamp": 0, "partitionKey": "outer",
                            "data": d}} for i, d in enumerate(request["records"])]
    out = []
    for r in deaggregate_records(records):
        k = r["kinesis"]
        data = k["data"]
        out.append({"record": int(k["sequenceNumber"]), "pk": k["partitionKey"],
                    "ehk": k.get("explicitHashKey"), "sub": k.get("subSequenceNumber"),
                    "data": data.decode() if isinstance(data, bytes) else data})
json.dump(out, sys.stdout)
"#;

fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        // aws-kinesis-agg imports six without declaring it.
        emulators::install::python_library(
            &emulators::local_dir().join("kpl-venv"),
            &["aws-kinesis-agg==1.2.3", "six"],
            "aws_kinesis_agg.deaggregator",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .0
    })
}

fn awslabs(request: Value) -> Vec<Value> {
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "aws-kinesis-agg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// A user record as both sides describe it.
#[derive(Debug, Clone, PartialEq)]
struct User {
    pk: String,
    ehk: Option<String>,
    data: Vec<u8>,
}

/// Records with awkward keys and data: unicode, empty, repeated keys, long.
fn users(with_ehk: bool) -> Vec<User> {
    (0..600)
        .map(|i| User {
            pk: match i % 5 {
                0 => format!("key-{i}"),
                1 => "shared key".into(),
                2 => format!("ключ-{i}-é"),
                3 => "x".repeat(200),
                _ => format!("{i}"),
            },
            ehk: with_ehk.then(|| (u128::MAX / 600 * i as u128).to_string()),
            data: match i % 4 {
                0 => Vec::new(),
                1 => format!("{{\"id\":{i}}}").into_bytes(),
                2 => (0..=255u8).collect(),
                _ => vec![b'z'; i * 7],
            },
        })
        .collect()
}

fn request_records(users: &[User]) -> Value {
    users
        .iter()
        .map(|u| json!({"pk": u.pk, "ehk": u.ehk, "data": b64(&u.data)}))
        .collect()
}

#[test]
fn their_aggregates_unpack_here_identically() {
    for with_ehk in [false, true] {
        let users = users(with_ehk);
        let aggregates = awslabs(json!({
            "op": "aggregate",
            "max_bytes": 20_000,
            "records": request_records(&users),
        }));
        assert!(
            aggregates.len() > 5,
            "several aggregates: {}",
            aggregates.len()
        );
        let mut unpacked = Vec::new();
        for aggregate in &aggregates {
            let Deaggregated::Aggregated(records) =
                deaggregate(&unb64(aggregate["data"].as_str().unwrap()))
            else {
                panic!("their aggregate does not unpack here");
            };
            assert_eq!(records[0].partition_key, aggregate["pk"].as_str().unwrap());
            for (i, record) in records.into_iter().enumerate() {
                assert_eq!(record.subsequence_number, i as u64);
                unpacked.push(User {
                    pk: record.partition_key,
                    ehk: record.explicit_hash_key,
                    data: record.data,
                });
            }
        }
        assert_eq!(unpacked, users, "with explicit hash keys: {with_ehk}");
    }
}

#[test]
fn our_aggregates_unpack_there_identically() {
    for with_ehk in [false, true] {
        let users = users(with_ehk);
        let mut aggregator = Aggregator::new(20_000).unwrap();
        let mut aggregates = Vec::new();
        for user in &users {
            aggregates.extend(
                aggregator
                    .add(&user.pk, user.ehk.as_deref(), &user.data)
                    .unwrap(),
            );
        }
        aggregates.extend(aggregator.finish());
        assert!(aggregates.len() > 5);
        let unpacked = awslabs(json!({
            "op": "deaggregate",
            "records": aggregates.iter().map(|a| b64(&a.data)).collect::<Vec<_>>(),
        }));
        let mut expected_sub = Vec::new();
        for (i, aggregate) in aggregates.iter().enumerate() {
            expected_sub.extend((0..aggregate.user_records).map(|sub| (i as u64, sub as u64)));
        }
        let theirs: Vec<User> = unpacked
            .iter()
            .map(|r| User {
                pk: r["pk"].as_str().unwrap().to_owned(),
                ehk: r["ehk"].as_str().map(str::to_owned),
                data: unb64(r["data"].as_str().unwrap()),
            })
            .collect();
        assert_eq!(theirs, users, "with explicit hash keys: {with_ehk}");
        let numbers: Vec<(u64, u64)> = unpacked
            .iter()
            .map(|r| (r["record"].as_u64().unwrap(), r["sub"].as_u64().unwrap()))
            .collect();
        assert_eq!(numbers, expected_sub, "record and subsequence numbers");
    }
}

#[test]
fn what_they_pass_on_whole_is_not_unpacked_here_either() {
    let mut aggregator = Aggregator::new(4096).unwrap();
    aggregator.add("a", None, b"one").unwrap();
    aggregator.add("b", None, b"two").unwrap();
    let good = aggregator.finish().unwrap().data;
    let mut bad_magic = good.clone();
    bad_magic[0] = b'{';
    let mut bad_checksum = good.clone();
    *bad_checksum.last_mut().unwrap() ^= 1;
    let body = &good[MAGIC.len()..good.len() - DIGEST_BYTES];
    let cut = &body[..body.len() - 2];
    let mut truncated = MAGIC.to_vec();
    truncated.extend_from_slice(cut);
    truncated.extend_from_slice(&md5_of(cut));
    let plain = br#"{"id":"plain"}"#.to_vec();
    let cases = [bad_magic, bad_checksum, truncated, plain, MAGIC.to_vec()];

    let theirs = awslabs(json!({
        "op": "deaggregate",
        "records": cases.iter().map(|c| b64(c)).collect::<Vec<_>>(),
    }));
    assert_eq!(theirs.len(), cases.len(), "each comes back as one record");
    for (case, their) in cases.iter().zip(&theirs) {
        assert_eq!(their["sub"], Value::Null, "they did not unpack it");
        assert_eq!(
            unb64(their["data"].as_str().unwrap()),
            *case,
            "they pass it on as it is"
        );
        assert!(
            matches!(
                deaggregate(case),
                Deaggregated::Plain | Deaggregated::Corrupt(_)
            ),
            "we do not unpack it either"
        );
    }
}

fn md5_of(bytes: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(bytes).into()
}
