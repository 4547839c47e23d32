//! A circuit breaker for the Momento tier: after `threshold` consecutive
//! failures, skip Momento for `cooldown`; then let exactly one call through
//! as a probe while every other call keeps skipping. The probe's success
//! closes the breaker, its failure re-opens it. A probe that never reports
//! (its lookup was dropped) is replaced by a new one after another `cooldown`.

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

/// What a caller may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: call Momento.
    Call,
    /// Half-open and this caller is the one probe: one Momento request.
    Probe,
    /// Open, or another caller is probing: go straight to DynamoDB.
    Skip,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_started: Instant },
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

    /// Whether (and how) to call Momento now. The first caller after the
    /// cool-down becomes the probe; the breaker is half-open until it reports.
    pub fn allow(&self) -> Permit {
        let mut state = self.state.lock();
        let now = Instant::now();
        match *state {
            State::Closed { .. } => Permit::Call,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { probe_started: now };
                Permit::Probe
            }
            State::HalfOpen { probe_started } if now >= probe_started + self.cooldown => {
                *state = State::HalfOpen { probe_started: now };
                Permit::Probe
            }
            State::Open { .. } | State::HalfOpen { .. } => Permit::Skip,
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
            State::HalfOpen { .. } => BreakerState::HalfOpen,
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
        assert_eq!(breaker.allow(), Permit::Call);
        assert!(breaker.record(false), "third failure opens it");
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(breaker.allow(), Permit::Skip);

        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.allow(), Permit::Probe, "cool-down over: probe");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.record(false), "failed probe re-opens");
        assert_eq!(breaker.allow(), Permit::Skip);

        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.allow(), Permit::Probe);
        breaker.record(true);
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.allow(), Permit::Call);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_lets_exactly_one_probe_through() {
        let breaker = Breaker::new(1, Duration::from_secs(5));
        breaker.record(false);
        tokio::time::advance(Duration::from_secs(5)).await;
        let permits: Vec<Permit> = (0..8).map(|_| breaker.allow()).collect();
        assert_eq!(permits[0], Permit::Probe);
        assert!(
            permits[1..].iter().all(|p| *p == Permit::Skip),
            "{permits:?}"
        );

        // A probe that never reports is replaced after another cool-down.
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.allow(), Permit::Probe);
        assert_eq!(breaker.allow(), Permit::Skip);
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
