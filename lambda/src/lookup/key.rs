//! The Momento key, read again from SSM when Momento refuses it.
//!
//! The consumer reads the key once per container at init. After a rotation
//! (a new value put in the parameter, the old key revoked), a warm
//! container's Momento calls are refused; rather than run on DynamoDB alone
//! until Lambda recycles it, the container reads the parameter again, at
//! most once per interval however many calls are refused, and builds a new
//! client when the key changed. The key is in no log, error or metric.

use std::time::Duration;

use cache_client::{connect, ClientSettings};
use momento::CacheClient;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::init::read_api_key;

/// What a refresh found.
pub enum Refreshed {
    /// The parameter holds another key: a client built with it.
    NewKey(Box<CacheClient>),
    /// The parameter holds the key Momento refuses.
    SameKey,
    /// Read less than an interval ago, or being read now.
    NotYet,
    /// SSM or the new client failed (the message never holds the key).
    Failed(String),
}

/// Where the key comes from, and the settings to build a client with it.
pub struct KeySource {
    ssm: aws_sdk_ssm::Client,
    parameter: String,
    /// The settings of the client in use, its key included.
    settings: Mutex<ClientSettings>,
    interval: Duration,
    /// When the parameter may be read again.
    next_read: Mutex<Option<Instant>>,
    reading: tokio::sync::Mutex<()>,
}

impl KeySource {
    pub fn new(
        ssm: aws_sdk_ssm::Client,
        parameter: &str,
        settings: ClientSettings,
        interval: Duration,
    ) -> Self {
        Self {
            ssm,
            parameter: parameter.to_owned(),
            settings: Mutex::new(settings),
            interval,
            next_read: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The refresh interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Reads the parameter again unless it was read less than an interval
    /// ago (or is being read by another batch).
    pub async fn refresh(&self) -> Refreshed {
        let Ok(_reading) = self.reading.try_lock() else {
            return Refreshed::NotYet;
        };
        {
            let mut next = self.next_read.lock();
            if next.is_some_and(|at| Instant::now() < at) {
                return Refreshed::NotYet;
            }
            *next = Some(Instant::now() + self.interval);
        }
        let key = match read_api_key(&self.ssm, &self.parameter).await {
            Ok(key) => key,
            Err(error) => return Refreshed::Failed(error.to_string()),
        };
        let mut settings = self.settings.lock();
        if settings.api_key == key {
            return Refreshed::SameKey;
        }
        let mut candidate = settings.clone();
        candidate.api_key = key;
        match connect(&candidate) {
            Ok(client) => {
                *settings = candidate;
                Refreshed::NewKey(Box::new(client))
            }
            Err(error) => Refreshed::Failed(error.to_string()),
        }
    }
}
