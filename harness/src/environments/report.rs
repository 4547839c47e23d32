//! The lines Lambda writes around each invocation in the function's log
//! (START, END, REPORT), as CloudWatch shows them.

use std::time::Duration;

/// One invocation, measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation<'a> {
    pub request_id: &'a str,
    pub duration: Duration,
    pub memory_size_mb: i32,
    /// Peak resident memory of the environment's process so far.
    pub max_memory_used_mb: u64,
    /// On the first invocation of an environment (a cold start) only.
    pub init: Option<Duration>,
    pub timed_out: bool,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Billed Duration by AWS's rule for a custom runtime: the invocation's
/// duration, plus its environment's init on a cold start, rounded up to the
/// millisecond.
pub fn billed_ms(duration: Duration, init: Option<Duration>) -> u64 {
    let total = duration + init.unwrap_or_default();
    let micros = total.as_micros();
    u64::try_from(micros.div_ceil(1000)).unwrap_or(u64::MAX)
}

pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// `REPORT RequestId: …\tDuration: 12.34 ms\tBilled Duration: 13 ms\t…`
pub fn report_line(invocation: &Invocation<'_>) -> String {
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
        invocation.request_id,
        ms(invocation.duration),
        billed_ms(invocation.duration, invocation.init),
        invocation.memory_size_mb,
        invocation.max_memory_used_mb,
    );
    if let Some(init) = invocation.init {
        line.push_str(&format!("\tInit Duration: {:.2} ms", ms(init)));
    }
    if invocation.timed_out {
        line.push_str("\tStatus: timeout");
    }
    line
}

/// What Lambda answers for an invocation that outlived the timeout.
pub fn timed_out(timeout: Duration) -> String {
    format!("Task timed out after {:.2} seconds", timeout.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cold_start_bills_its_init_and_says_so() {
        let line = report_line(&Invocation {
            request_id: "r-1",
            duration: Duration::from_micros(12_340),
            memory_size_mb: 256,
            max_memory_used_mb: 31,
            init: Some(Duration::from_micros(45_671)),
            timed_out: false,
        });
        assert_eq!(
            line,
            "REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 59 ms\tMemory Size: 256 MB\tMax Memory Used: 31 MB\tInit Duration: 45.67 ms"
        );
    }

    #[test]
    fn a_warm_invocation_bills_its_duration_rounded_up() {
        assert_eq!(billed_ms(Duration::from_micros(12_001), None), 13);
        assert_eq!(billed_ms(Duration::from_micros(12_000), None), 12);
        assert_eq!(billed_ms(Duration::ZERO, None), 0);
        let line = report_line(&Invocation {
            request_id: "r-2",
            duration: Duration::from_secs(3),
            memory_size_mb: 128,
            max_memory_used_mb: 20,
            init: None,
            timed_out: true,
        });
        assert!(!line.contains("Init Duration"), "{line}");
        assert!(line.ends_with("Billed Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: timeout"), "{line}");
        assert_eq!(
            timed_out(Duration::from_secs(3)),
            "Task timed out after 3.00 seconds"
        );
    }
}
