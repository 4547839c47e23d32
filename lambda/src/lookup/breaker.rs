//! A circuit breaker for the Momento tier: after `threshold` consecutive
//! failures, skip Momento for `cooldown`, then let calls through again as a
//! probe; one success closes it, one failure re-opens it.

use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether to call Momento now. An open breaker whose cool-down has
    /// passed turns half-open and lets the call through as a probe.
    pub fn allow(&self) -> bool {
        let mut state = self.state.lock();
        match *state {
            State::Closed { .. } | State::HalfOpen => true,
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } => false,
        }
    }

    /// Records one call's outcome. Returns true when this failure opened the breaker.
    pub fn record(&self, ok: bool) -> bool {
        let mut state = self.state.lock();
        match (&*state, ok) {
            (_, true) => {
                *state = State::Closed { failures: 0 };
                false
            }
            (State::Closed { failures }, false) if failures + 1 < self.threshold => {
                *state = State::Closed {
                    failures: failures + 1,
                };
                false
            }
            (State::Open { .. }, false) => false,
            (_, false) => {
                *state = State::Open {
                    until: Instant::now() + self.cooldown,
                };
                true
            }
        }
    }

    pub fn state(&self) -> BreakerState {
        match *self.state.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_then_probes_after_cooldown() {
        let breaker = Breaker::new(3, Duration::from_secs(5));
        assert!(!breaker.record(false));
        assert!(!breaker.record(false));
        assert!(breaker.allow());
        assert!(breaker.record(false), "third failure opens it");
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!breaker.allow());

        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(breaker.allow(), "cool-down over: probe");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.record(false), "failed probe re-opens");
        assert!(!breaker.allow());

        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(breaker.allow());
        breaker.record(true);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn a_success_resets_the_count() {
        let breaker = Breaker::new(2, Duration::from_secs(5));
        breaker.record(false);
        breaker.record(true);
        breaker.record(false);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
