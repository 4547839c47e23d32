//! How a failed invocation is read and retried.
//!
//! - A response's `batchItemFailures` name the records to retry; the lowest
//!   one and everything after it in the batch are retried, and an empty,
//!   null or unknown identifier fails the whole batch (as AWS treats it).
//! - A partial failure that made progress (its first failed record is not
//!   the batch's first) does not count against `MaximumRetryAttempts`: the
//!   failed rest is a new batch, delivered 1 + MaximumRetryAttempts more
//!   times at most (recorded against AWS with MaximumRetryAttempts 3: the
//!   failed record arrived 5 times in all, its on-failure record saying
//!   `approximateInvokeCount` 4).
//! - Splitting a batch (BisectBatchOnFunctionError) does not consume the
//!   retry quota (AWS's documentation says so); each half is a new batch,
//!   invoked at once.
//! - A throttle or an unreachable function is retried until the records are
//!   too old, never counted as a retry.
//! - Between retries of the same records the mapping waits, doubling each
//!   time: [`Backoff::AWS_LIKE`].

use serde_json::Value;

use crate::records::StreamRecord;

/// Exponential backoff between retries of the same records: the `n`-th
/// retry (n ≥ 1) waits `first × 2^(n-1)`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Seconds before the first retry.
    pub first: f64,
    /// The longest wait, in seconds.
    pub max: f64,
}

impl Backoff {
    /// 0.25 s, 0.5 s, 1 s, ... up to 60 s: a failure that lasts gets 8
    /// invocations in its first minute (at 0, 0.25, 0.75, 1.75, 3.75, 7.75,
    /// 15.75 and 31.75 s), the 8 recorded against AWS, then one a minute.
    /// AWS does not publish its schedule; this one matches what was observed
    /// and holds a long outage to about one invocation a minute per shard
    /// and lane.
    pub const AWS_LIKE: Backoff = Backoff {
        first: 0.25,
        max: 60.0,
    };

    /// Seconds before the `retry`-th retry (1 for the first).
    pub fn delay(&self, retry: u32) -> f64 {
        let doublings = retry.saturating_sub(1).min(30);
        (self.first * f64::from(1u32 << doublings)).min(self.max)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::AWS_LIKE
    }
}

/// What came back from one invocation of a batch, as the retry rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// It never reached the function (throttled, unreachable).
    Throttled,
    /// The function failed as a whole.
    FunctionError,
    /// The function answered; `failed_from`: the first record to retry.
    Responded { failed_from: Option<usize> },
}

/// What to do with a batch after an invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Every record succeeded.
    Done,
    /// Split the batch in two halves, each a new batch, invoked at once.
    Split,
    /// The first `done` records succeeded; the rest is a new batch, invoked
    /// after `wait` seconds with its own retries ahead.
    Rest { done: usize, wait: f64 },
    /// Invoke the same records again after `wait` seconds.
    Again { wait: f64 },
    /// Out of retries: give the batch up after `invocations` failed ones.
    GiveUp { invocations: u32 },
}

/// The rules above, for one mapping (or one redrive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryRules {
    pub bisect_on_error: bool,
    /// `None`: retry until the records are too old.
    pub maximum_retry_attempts: Option<u32>,
    pub backoff: Backoff,
}

impl RetryRules {
    /// What follows `returned` for a batch of `len` records that has failed
    /// `attempts` times without progress and been throttled `throttles`
    /// times in a row (both updated here).
    pub fn next(
        &self,
        returned: Returned,
        len: usize,
        attempts: &mut u32,
        throttles: &mut u32,
    ) -> Next {
        if returned == Returned::Throttled {
            *throttles += 1;
            return Next::Again {
                wait: self.backoff.delay(*throttles),
            };
        }
        *throttles = 0;
        match returned {
            Returned::Responded { failed_from: None } => return Next::Done,
            Returned::Responded {
                failed_from: Some(done),
            } if done > 0 => {
                return Next::Rest {
                    done,
                    wait: self.backoff.delay(1),
                }
            }
            Returned::FunctionError if self.bisect_on_error && len > 1 => return Next::Split,
            _ => {}
        }
        *attempts += 1;
        if self
            .maximum_retry_attempts
            .is_some_and(|max| *attempts > max)
        {
            return Next::GiveUp {
                invocations: *attempts,
            };
        }
        Next::Again {
            wait: self.backoff.delay(*attempts),
        }
    }
}

/// The index of the first record to retry, from `batchItemFailures`; `None`
/// when the response reports none. `position` finds a sequence number in
/// the batch.
pub fn first_failure(response: &Value, position: impl Fn(&str) -> Option<usize>) -> Option<usize> {
    let failures = response.get("batchItemFailures")?.as_array()?;
    failures
        .iter()
        .map(|failure| {
            let id = failure.get("itemIdentifier").and_then(Value::as_str);
            id.filter(|id| !id.is_empty())
                .and_then(&position)
                .unwrap_or(0)
        })
        .min()
}

/// [`first_failure`] for a batch of records.
pub fn first_failure_in(response: &Value, batch: &[StreamRecord]) -> Option<usize> {
    first_failure(response, |id| {
        batch.iter().position(|r| r.sequence_number == id)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn batch(n: usize) -> Vec<StreamRecord> {
        (0..n)
            .map(|i| StreamRecord {
                shard_id: "s".into(),
                sequence_number: format!("{i}"),
                partition_key: "pk".into(),
                data: Vec::new(),
                arrival: 0.0,
            })
            .collect()
    }

    #[test]
    fn reads_batch_item_failures_as_aws_does() {
        let b = batch(5);
        assert_eq!(first_failure_in(&json!(null), &b), None);
        assert_eq!(
            first_failure_in(&json!({"batchItemFailures": []}), &b),
            None
        );
        assert_eq!(
            first_failure_in(&json!({"batchItemFailures": null}), &b),
            None
        );
        assert_eq!(first_failure_in(&json!({}), &b), None);
        assert_eq!(first_failure_in(&json!(""), &b), None);
        let two = json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]});
        assert_eq!(first_failure_in(&two, &b), Some(2), "the lowest one");
        for malformed in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "99"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": 123}]}),
            json!({"batchItemFailures": [{}]}),
            json!({"batchItemFailures": [{"foo": "1"}]}),
        ] {
            assert_eq!(first_failure_in(&malformed, &b), Some(0), "{malformed}");
        }
    }

    #[test]
    fn the_backoff_doubles_to_a_minute() {
        let b = Backoff::AWS_LIKE;
        let delays: Vec<f64> = (1..=9).map(|n| b.delay(n)).collect();
        assert_eq!(delays, [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0]);
        let mut at = 0.0;
        let mut in_first_minute = 1; // the first invocation
        for n in 1.. {
            at += b.delay(n);
            if at >= 60.0 {
                break;
            }
            in_first_minute += 1;
        }
        assert_eq!(in_first_minute, 8, "the 8 attempts AWS made");
        let per_minute_later = 60.0 / b.delay(20);
        assert_eq!(per_minute_later, 1.0);
        assert_eq!(b.delay(u32::MAX), 60.0);
    }
}
