//! Tumbling windows (`TumblingWindowInSeconds`): records are grouped by the
//! window their arrival time falls in (windows of the given length, aligned
//! to the Unix epoch, as AWS's example shows), the function gets the
//! window's running `state` with each batch and returns the new one, and a
//! final invocation with no records (`isFinalInvokeForWindow`) hands it the
//! finished state. A response without `state` is a failed invocation; a
//! state over 1 MB ends the window early (`isWindowTerminatedEarly`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::records::rfc3339;

/// AWS's limit on a window's state, per shard.
pub const MAX_STATE_BYTES: usize = 1024 * 1024;

/// One window: `[start, end)` in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

impl Window {
    /// The window of `length` that holds `arrival`.
    pub fn of(arrival: f64, length: Duration) -> Self {
        let length = length.as_secs_f64();
        let start = (arrival / length).floor() * length;
        Self {
            start,
            end: start + length,
        }
    }
}

/// A window in progress on one shard, with the state the function returned last.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenWindow {
    pub window: Window,
    pub state: Value,
}

impl OpenWindow {
    pub fn new(window: Window) -> Self {
        Self {
            window,
            state: json!({}),
        }
    }
}

/// What a window invocation adds to the Kinesis event.
pub struct WindowFields<'a> {
    pub window: &'a OpenWindow,
    pub shard_id: &'a str,
    pub stream_arn: &'a str,
    pub final_invoke: bool,
    pub terminated_early: bool,
}

impl WindowFields<'_> {
    /// Adds `window`, `state`, `shardId`, `eventSourceARN`,
    /// `isFinalInvokeForWindow` and `isWindowTerminatedEarly` to `event`.
    pub fn decorate(&self, event: &mut Value) {
        let window = &self.window.window;
        event["window"] = json!({
            "start": rfc3339_seconds(window.start),
            "end": rfc3339_seconds(window.end),
        });
        event["state"] = self.window.state.clone();
        event["shardId"] = self.shard_id.into();
        event["eventSourceARN"] = self.stream_arn.into();
        event["isFinalInvokeForWindow"] = self.final_invoke.into();
        event["isWindowTerminatedEarly"] = self.terminated_early.into();
    }
}

/// The state a window response carries; `None` (no `state`) is a failure.
pub fn state_of(response: &Value) -> Option<Value> {
    response.get("state").filter(|s| !s.is_null()).cloned()
}

/// The state's size as the function's JSON response carries it.
pub fn state_size(state: &Value) -> usize {
    state.to_string().len()
}

/// `2020-12-09T07:04:00Z`: window boundaries are whole seconds.
fn rfc3339_seconds(seconds: f64) -> String {
    let text = rfc3339(seconds);
    match text.split_once('.') {
        Some((whole, _)) => format!("{whole}Z"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_to_the_epoch_as_in_aws_example() {
        // AWS's sample: a record at 07:04:35Z in a 120 s window → 07:04:00Z–07:06:00Z.
        let window = Window::of(1_607_497_475.0, Duration::from_secs(120));
        let open = OpenWindow::new(window);
        let mut event = json!({ "Records": [] });
        WindowFields {
            window: &open,
            shard_id: "shardId-000000000006",
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
            final_invoke: false,
            terminated_early: false,
        }
        .decorate(&mut event);
        assert_eq!(event["window"]["start"], "2020-12-09T07:04:00Z");
        assert_eq!(event["window"]["end"], "2020-12-09T07:06:00Z");
        assert_eq!(event["state"], json!({}));
        assert_eq!(event["shardId"], "shardId-000000000006");
        assert_eq!(event["isFinalInvokeForWindow"], false);
        assert_eq!(
            Window::of(1_607_497_559.9, Duration::from_secs(120)),
            window
        );
        assert_ne!(
            Window::of(1_607_497_560.0, Duration::from_secs(120)),
            window
        );
    }

    #[test]
    fn a_response_without_state_is_a_failure() {
        assert_eq!(state_of(&json!({"state": {"1": 2}})), Some(json!({"1": 2})));
        assert_eq!(state_of(&json!({"batchItemFailures": []})), None);
        assert_eq!(state_of(&json!({"state": null})), None);
        assert_eq!(state_of(&Value::Null), None);
    }
}
