//! What a mapping counts: its own summary and AWS's EventCount metrics.

use serde::Serialize;

/// Counts of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Records read from the stream (each counted once, however often retried).
    pub records: u64,
    /// Batches formed from them (before retries and bisection).
    pub batches: u64,
    pub invocations: u64,
    /// Re-invocations of a failed (part of a) batch.
    pub retries: u64,
    pub bisections: u64,
    pub function_errors: u64,
    /// Invocations that never reached the function (throttled, unreachable).
    pub service_errors: u64,
    pub partial_failures: u64,
    /// Records handed to the on-failure destination.
    pub sent_to_destination: u64,
    /// Records given up on with no destination configured, or refused by it
    /// (AWS drops them too).
    pub discarded: u64,
    /// Of `discarded`: records whose invocation record the destination
    /// refused (AWS counts them in the function's
    /// `DestinationDeliveryFailures`).
    pub destination_delivery_failures: u64,
    /// Shards a drain could not read (their position kept), with the last
    /// error: the run failed for them.
    pub unreadable: std::collections::BTreeMap<String, String>,
    /// Records the function processed successfully.
    pub processed: u64,
    /// Tumbling windows closed with a final invocation.
    pub windows_closed: u64,
    pub metrics: EventCountMetrics,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub wall_seconds: f64,
}

/// AWS's EventCount metrics of a mapping (`metrics_config`), with their
/// meanings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventCountMetrics {
    /// Records read from the stream.
    pub polled_event_count: u64,
    /// Records the filter criteria dropped.
    pub filtered_out_event_count: u64,
    /// Records sent to the function, each time they were (retries count again).
    pub invoked_event_count: u64,
    /// Records of invocations that failed or reported batch item failures.
    pub failed_invoke_event_count: u64,
    /// Records given up on without reaching a destination (none configured,
    /// or its delivery failed).
    pub dropped_event_count: u64,
    /// Records recorded in the on-failure destination.
    pub on_failure_destination_delivered_event_count: u64,
}

impl std::fmt::Display for EventCountMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PolledEventCount={} FilteredOutEventCount={} InvokedEventCount={} FailedInvokeEventCount={} DroppedEventCount={} OnFailureDestinationDeliveredEventCount={}",
            self.polled_event_count,
            self.filtered_out_event_count,
            self.invoked_event_count,
            self.failed_invoke_event_count,
            self.dropped_event_count,
            self.on_failure_destination_delivered_event_count
        )
    }
}
