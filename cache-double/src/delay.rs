//! Injected latency that is what it says. Tokio's timer has 1 ms ticks, so
//! `tokio::time::sleep(1.8 ms)` costs 2–3 ms, and a benchmark that charges
//! Momento "1.8 ms per call" would charge more. [`sleep`] waits on Tokio's
//! timer for all but the last [`FINE`], then hands the rest to one timer
//! thread that sleeps with the operating system's precision (tens of
//! microseconds), and wakes the task [`SPIN`] early: waking a parked worker
//! costs about that much on a busy 2-core machine (measured: +0.28 ms at p50
//! on a 1.8 ms delay without it), so the task spends the last stretch
//! yielding until the deadline. No worker thread is ever blocked.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The part of a delay left to the timer thread: Tokio's sleep ends up to a
/// tick (1 ms) late, so it may only cover what lies at least that far ahead.
const FINE: Duration = Duration::from_millis(2);

/// How early the timer thread wakes the task, which then yields until the
/// deadline: covers the wake-up of a parked worker, costs at most this much
/// of a worker's time per delay.
const SPIN: Duration = Duration::from_micros(250);

/// Waits for `delay`, accurate to the operating system's timer rather than
/// Tokio's millisecond ticks.
pub async fn sleep(delay: Duration) {
    if delay.is_zero() {
        return;
    }
    let deadline = Instant::now() + delay;
    if delay > FINE {
        tokio::time::sleep(delay - FINE).await;
    }
    if let Some(early) = deadline.checked_sub(SPIN).filter(|e| *e > Instant::now()) {
        let (wake, woken) = oneshot::channel();
        timer().schedule(early, wake);
        let _ = woken.await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// Deadlines waiting to be woken, earliest first.
struct Timer {
    queue: Mutex<BinaryHeap<Reverse<Entry>>>,
    changed: Condvar,
}

struct Entry {
    deadline: Instant,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.deadline.cmp(&other.deadline)
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(BinaryHeap::new()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("cache-double-delay".into())
            .spawn(move || timer.run())
            .expect("the delay timer thread starts");
        timer
    })
}

impl Timer {
    fn schedule(&self, deadline: Instant, wake: oneshot::Sender<()>) {
        let mut queue = self.queue.lock().expect("timer queue");
        queue.push(Reverse(Entry { deadline, wake }));
        drop(queue);
        self.changed.notify_one();
    }

    /// Wakes every entry whose deadline has passed, then sleeps until the
    /// earliest one left (or a new one arrives).
    fn run(&self) {
        let mut queue = self.queue.lock().expect("timer queue");
        loop {
            let now = Instant::now();
            while queue.peek().is_some_and(|Reverse(e)| e.deadline <= now) {
                let Reverse(entry) = queue.pop().expect("peeked");
                let _ = entry.wake.send(());
            }
            queue = match queue.peek() {
                Some(Reverse(next)) => {
                    let wait = next.deadline.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(queue, wait)
                        .expect("timer queue")
                        .0
                }
                None => self.changed.wait(queue).expect("timer queue"),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_wakes_early_and_keeps_order() {
        let started = Instant::now();
        let (a, b) = tokio::join!(
            async {
                sleep(Duration::from_micros(1800)).await;
                started.elapsed()
            },
            async {
                sleep(Duration::from_micros(300)).await;
                started.elapsed()
            }
        );
        assert!(a >= Duration::from_micros(1800), "{a:?}");
        assert!(b >= Duration::from_micros(300), "{b:?}");
        sleep(Duration::ZERO).await;
    }
}
