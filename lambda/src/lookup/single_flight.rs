//! One request per key at a time within a container: the first lookup of a
//! key leads, concurrent lookups of the same key wait for its answer.

use std::collections::HashMap;

use parking_lot::Mutex;
use tokio::sync::watch;

pub struct SingleFlight<T> {
    in_flight: Mutex<HashMap<String, watch::Receiver<Option<T>>>>,
}

/// The caller's role for one key.
pub enum Flight<'a, T> {
    /// Fetch the key, then [`Leader::complete`].
    Leader(Leader<'a, T>),
    /// Another caller is fetching it: [`wait`] for its answer.
    Follower(watch::Receiver<Option<T>>),
}

/// Removes the key when dropped, so an abandoned fetch never blocks the key.
pub struct Leader<'a, T> {
    key: String,
    sender: watch::Sender<Option<T>>,
    owner: &'a SingleFlight<T>,
}

impl<T: Clone> SingleFlight<T> {
    pub fn new() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    pub fn join(&self, key: &str) -> Flight<'_, T> {
        let mut in_flight = self.in_flight.lock();
        if let Some(receiver) = in_flight.get(key) {
            return Flight::Follower(receiver.clone());
        }
        let (sender, receiver) = watch::channel(None);
        in_flight.insert(key.to_owned(), receiver);
        Flight::Leader(Leader {
            key: key.to_owned(),
            sender,
            owner: self,
        })
    }
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Leader<'_, T> {
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Hands `value` to every follower and frees the key.
    pub fn complete(self, value: T) {
        self.sender.send_replace(Some(value));
    }
}

impl<T> Drop for Leader<'_, T> {
    fn drop(&mut self) {
        self.owner.in_flight.lock().remove(&self.key);
    }
}

/// The leader's answer, or `None` if the leader gave up without one.
pub async fn wait<T: Clone>(mut receiver: watch::Receiver<Option<T>>) -> Option<T> {
    let answered = receiver
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|v| v.clone());
    answered.or_else(|| receiver.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_share_the_leaders_answer() {
        let flights = SingleFlight::<u32>::new();
        let Flight::Leader(leader) = flights.join("Car") else {
            panic!("first caller leads")
        };
        let Flight::Follower(follower) = flights.join("Car") else {
            panic!("second caller follows")
        };
        assert!(matches!(flights.join("Diner"), Flight::Leader(_)));
        leader.complete(7);
        assert_eq!(wait(follower).await, Some(7));
        assert!(
            matches!(flights.join("Car"), Flight::Leader(_)),
            "key freed"
        );
    }

    #[tokio::test]
    async fn an_abandoned_leader_releases_its_followers() {
        let flights = SingleFlight::<u32>::new();
        let leader = flights.join("Car");
        let Flight::Follower(follower) = flights.join("Car") else {
            panic!("second caller follows")
        };
        drop(leader);
        assert_eq!(wait(follower).await, None);
    }
}
