//! Sending an invocation's letters: SendMessageBatch, ten letters a call,
//! several calls at once, each letter fitted to the queue's maximum message
//! size, none started after the point the caller must stop at.

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::stream::{self, StreamExt};
use parking_lot::Mutex;
use tokio::time::Instant;

use super::remembered::Remembered;
use super::DeadLetter;

/// Entries per SendMessageBatch call (SQS's limit).
const BATCH_ENTRIES: usize = 10;
/// Most bytes of letters in one call: SQS's limit on a batch's total
/// (256 KiB; 1 MiB since 2025 where queues allow it). A letter larger than
/// this goes alone.
const BATCH_BYTES: usize = 256 * 1024;
/// Calls in flight at once.
const CONCURRENT_CALLS: usize = 8;
/// SQS's default maximum message size, used when none is configured.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// When an invocation's letters must be done: no call starts at or after
/// `start_before`; one still unanswered at `answer_before` is abandoned (its
/// letters count as not sent, though SQS may have stored them).
#[derive(Debug, Clone, Copy)]
pub struct SendWindow {
    pub start_before: Instant,
    pub answer_before: Instant,
}

/// The dead-letter queue.
pub struct DeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    max_message_bytes: usize,
    remembered: Mutex<Remembered>,
}

impl DeadLetters {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            remembered: Mutex::default(),
        }
    }

    /// The queue's maximum message size (its `MaximumMessageSize`); every
    /// letter is fitted to it.
    #[must_use]
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// Sends `letters`; returns, for each, whether it is in the queue:
    /// accepted now, or accepted for the same record by an earlier
    /// invocation of this container (see [`Self::settle`]).
    ///
    /// Ten letters a call, up to eight calls at once, within `window` when
    /// there is one. A call can accept a later entry and refuse an earlier
    /// one, and an abandoned call's letters may be stored. So a letter may
    /// reach the queue twice, never zero times: the caller retries from the
    /// first letter not in the queue, and letters after it that were
    /// accepted are remembered, not sent again, if the retry comes back to
    /// this container.
    pub async fn send(&self, letters: &[&DeadLetter], window: Option<SendWindow>) -> Vec<bool> {
        let mut in_queue = vec![false; letters.len()];
        let mut pending = Vec::with_capacity(letters.len());
        {
            let remembered = self.remembered.lock();
            for (i, letter) in letters.iter().enumerate() {
                if remembered.contains(letter) {
                    in_queue[i] = true;
                } else {
                    pending.push((i, letter.body_within(self.max_message_bytes)));
                }
            }
        }
        let calls = stream::iter(into_calls(pending))
            .map(|call| self.send_call(call, window))
            .buffer_unordered(CONCURRENT_CALLS)
            .collect::<Vec<_>>()
            .await;
        for accepted in calls.into_iter().flatten() {
            in_queue[accepted] = true;
        }
        in_queue
    }

    /// After an invocation: the letters of records it reported for retry
    /// are remembered for that retry; the others' records are done.
    pub fn settle<'a>(
        &self,
        done: impl IntoIterator<Item = &'a DeadLetter>,
        retried: impl IntoIterator<Item = &'a DeadLetter>,
    ) {
        let mut remembered = self.remembered.lock();
        for letter in done {
            remembered.forget(letter);
        }
        for letter in retried {
            remembered.remember(letter);
        }
    }

    /// One SendMessageBatch; returns the indexes SQS accepted.
    async fn send_call(
        &self,
        call: Vec<(usize, String)>,
        window: Option<SendWindow>,
    ) -> Vec<usize> {
        if window.is_some_and(|w| Instant::now() >= w.start_before) {
            return Vec::new();
        }
        let entries = call
            .iter()
            .enumerate()
            .map(|(id, (_, body))| {
                SendMessageBatchRequestEntry::builder()
                    .id(id.to_string())
                    .message_body(body)
                    .build()
                    .expect("id and body are set")
            })
            .collect::<Vec<_>>();
        let request = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send();
        let result = match window {
            None => request.await,
            Some(w) => match tokio::time::timeout_at(w.answer_before, request).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(
                        letters = call.len(),
                        "dead-letter send cut short by the invocation's deadline: its records are retried"
                    );
                    return Vec::new();
                }
            },
        };
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                tracing::warn!(
                    letters = call.len(),
                    error = %DisplayErrorContext(error),
                    "dead-letter send failed: the records from the first refused on are retried"
                );
                return Vec::new();
            }
        };
        for failed in output.failed() {
            tracing::warn!(
                code = failed.code(),
                sender_fault = failed.sender_fault(),
                message = failed.message().unwrap_or_default(),
                "a dead letter was refused: its record and the rest of its shard are retried"
            );
        }
        output
            .successful()
            .iter()
            .filter_map(|entry| entry.id().parse::<usize>().ok())
            .filter_map(|id| call.get(id).map(|(index, _)| *index))
            .collect()
    }
}

/// Groups letters, in order, into calls of at most [`BATCH_ENTRIES`] and
/// [`BATCH_BYTES`] (a larger letter alone).
fn into_calls(letters: Vec<(usize, String)>) -> Vec<Vec<(usize, String)>> {
    let mut calls: Vec<Vec<(usize, String)>> = Vec::new();
    let mut bytes = 0;
    for (index, body) in letters {
        let fits = calls
            .last()
            .is_some_and(|call| call.len() < BATCH_ENTRIES && bytes + body.len() <= BATCH_BYTES);
        if !fits {
            calls.push(Vec::with_capacity(BATCH_ENTRIES));
            bytes = 0;
        }
        bytes += body.len();
        calls
            .last_mut()
            .expect("a call was pushed")
            .push((index, body));
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_hold_ten_letters_in_order_within_the_batch_limit() {
        let small: Vec<(usize, String)> = (0..25).map(|i| (i, "x".repeat(100))).collect();
        let calls = into_calls(small);
        let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 5]);
        let order: Vec<usize> = calls.iter().flatten().map(|(i, _)| *i).collect();
        assert_eq!(order, (0..25).collect::<Vec<_>>());

        let big = vec![
            (0, "a".repeat(200 * 1024)),
            (1, "b".repeat(100 * 1024)),
            (2, "c".repeat(300 * 1024)),
            (3, "d".repeat(10)),
        ];
        let sizes: Vec<usize> = into_calls(big).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 1, 1, 1], "none over 256 KiB but a letter alone");
    }
}
