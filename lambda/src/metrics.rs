//! Per-batch CloudWatch metrics, recorded through the `metrics` facade. The
//! bootstrap installs `metrics_cloudwatch_embedded`, which writes them as one
//! EMF document per invocation; without a recorder (tests, the harness) the
//! calls cost nothing.

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};

use crate::BatchReport;

/// Registers units, so EMF documents carry them. Call once, after installing the recorder.
pub fn describe() {
    for (name, what) in [
        ("Records", "Kinesis records received"),
        ("Aggregates", "Kinesis records that were KPL aggregates"),
        (
            "UserRecords",
            "user records received (a plain record is one)",
        ),
        ("Enriched", "user records emitted enriched"),
        (
            "DeadLettered",
            "poison user records sent to the dead-letter queue",
        ),
        ("BatchItemFailures", "Kinesis records reported for retry"),
        (
            "UserRecordsRetried",
            "user records of the Kinesis records reported for retry",
        ),
        ("L1Hits", "keys answered from the container's memory"),
        ("MomentoHits", "keys answered by Momento"),
        ("MomentoMisses", "keys Momento did not have"),
        ("MomentoErrors", "Momento gets that failed or timed out"),
        (
            "MomentoSkipped",
            "keys that skipped Momento while the breaker was open",
        ),
        ("DynamoDbHits", "keys found in DynamoDB"),
        ("DynamoDbMisses", "keys DynamoDB does not have"),
        ("DynamoDbFailures", "keys DynamoDB could not answer"),
        (
            "DynamoDbMalformed",
            "items in the table that are not location documents",
        ),
        ("MomentoSetFailures", "write-backs to Momento that failed"),
        (
            "MomentoKeyRefused",
            "Momento calls refused for the key (a rotation revoked it)",
        ),
        (
            "MomentoKeyRefreshes",
            "times the key was read again from SSM and a new client built",
        ),
        (
            "MomentoCacheMissing",
            "batches run while the Momento cache does not exist",
        ),
    ] {
        describe_counter!(name, Unit::Count, what);
    }
    describe_histogram!(
        "ProcessingTime",
        Unit::Milliseconds,
        "handler time per batch"
    );
    describe_gauge!(
        "OldestRecordAge",
        Unit::Milliseconds,
        "age of the batch's oldest record"
    );
    describe_gauge!(
        "MaxProducerLatency",
        Unit::Milliseconds,
        "largest created_at→processed latency in the batch"
    );
}

pub(crate) fn record(report: &BatchReport) {
    let lookups = &report.lookups;
    let count = |v: usize| v as u64;
    counter!("Records").increment(count(report.records));
    counter!("Aggregates").increment(count(report.aggregates));
    counter!("UserRecords").increment(count(report.user_records));
    counter!("Enriched").increment(count(report.enriched));
    counter!("DeadLettered").increment(count(report.dead_lettered));
    counter!("BatchItemFailures").increment(count(report.failed));
    counter!("UserRecordsRetried").increment(count(report.retried));
    counter!("L1Hits").increment(lookups.l1_hits + lookups.l1_negative_hits);
    counter!("MomentoHits").increment(lookups.momento_hits);
    counter!("MomentoMisses").increment(lookups.momento_misses + lookups.momento_corrupt);
    counter!("MomentoErrors").increment(lookups.momento_errors);
    counter!("MomentoSkipped").increment(lookups.momento_skipped);
    counter!("DynamoDbHits").increment(lookups.dynamodb_found);
    counter!("DynamoDbMisses").increment(lookups.dynamodb_missing);
    counter!("DynamoDbFailures").increment(lookups.dynamodb_failed);
    counter!("DynamoDbMalformed").increment(lookups.dynamodb_malformed);
    counter!("MomentoSetFailures").increment(lookups.momento_set_failures);
    counter!("MomentoKeyRefused").increment(lookups.momento_key_refused);
    counter!("MomentoKeyRefreshes").increment(lookups.momento_key_refreshes);
    counter!("MomentoCacheMissing").increment(u64::from(report.momento_cache_missing));
    histogram!("ProcessingTime").record(report.processing_ms);
    if let Some(age) = report.oldest_record_age_ms {
        gauge!("OldestRecordAge").set(age);
    }
    if let Some(latency) = report.max_producer_latency_ms {
        gauge!("MaxProducerLatency").set(latency);
    }
}
