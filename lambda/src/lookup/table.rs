//! The DynamoDB tier: one BatchGetItem per 100 keys, retrying the keys
//! DynamoDB returns unprocessed (throttling) with exponential backoff.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use model::LocationRecord;

/// BatchGetItem's limit on keys per request.
const MAX_KEYS_PER_CALL: usize = 100;
const FIRST_BACKOFF: Duration = Duration::from_millis(20);

/// What the table said about a set of keys.
#[derive(Debug, Default)]
pub struct TableReply {
    /// Keys the table answered for: the document, or `None` when it has no such item.
    pub answered: HashMap<String, Option<LocationRecord>>,
    /// Keys whose item exists but is not a location document, with what is
    /// wrong with it: a data error in the table, not a missing location.
    pub malformed: HashMap<String, String>,
    /// Keys it could not answer for, with why (transient: retry the records).
    pub failed: HashMap<String, Arc<str>>,
    /// BatchGetItem calls made, retries included.
    pub calls: u32,
}

#[derive(Clone)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
    attempts: u32,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>, attempts: u32) -> Self {
        Self {
            client,
            name: name.into(),
            attempts: attempts.max(1),
        }
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// Looks up every key; chunks of 100 go out concurrently.
    pub async fn get_many(&self, keys: &[String]) -> TableReply {
        let chunks = keys
            .chunks(MAX_KEYS_PER_CALL)
            .map(|chunk| self.get_chunk(chunk));
        let mut reply = TableReply::default();
        for part in futures::future::join_all(chunks).await {
            reply.answered.extend(part.answered);
            reply.malformed.extend(part.malformed);
            reply.failed.extend(part.failed);
            reply.calls += part.calls;
        }
        reply
    }

    async fn get_chunk(&self, keys: &[String]) -> TableReply {
        let mut reply = TableReply::default();
        let mut pending: Vec<String> = keys.to_vec();
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=self.attempts {
            reply.calls += 1;
            match self.call(&pending).await {
                Ok((found, unprocessed)) => {
                    for (key, document) in found {
                        match document {
                            Ok(document) => {
                                reply.answered.insert(key, Some(document));
                            }
                            Err(problem) => {
                                reply.malformed.insert(key, problem);
                            }
                        }
                    }
                    // Keys neither found nor unprocessed are not in the table.
                    for key in pending.drain(..) {
                        let seen =
                            reply.answered.contains_key(&key) || reply.malformed.contains_key(&key);
                        if !unprocessed.contains(&key) && !seen {
                            reply.answered.insert(key, None);
                        }
                    }
                    pending = unprocessed;
                    if pending.is_empty() {
                        return reply;
                    }
                    if attempt < self.attempts {
                        tokio::time::sleep(jittered(backoff)).await;
                        backoff *= 2;
                    }
                }
                Err(reason) => {
                    tracing::warn!(table = %self.name, keys = pending.len(), error = %reason, "BatchGetItem failed");
                    let reason: Arc<str> = reason.into();
                    for key in pending {
                        reply.failed.insert(key, reason.clone());
                    }
                    return reply;
                }
            }
        }
        let reason: Arc<str> = format!(
            "BatchGetItem left the key unprocessed after {} attempts",
            self.attempts
        )
        .into();
        tracing::warn!(table = %self.name, keys = pending.len(), "keys still unprocessed");
        for key in pending {
            reply.failed.insert(key, reason.clone());
        }
        reply
    }

    /// One BatchGetItem: the items found (each a document or what is wrong
    /// with it) and the keys left unprocessed.
    async fn call(&self, keys: &[String]) -> Result<(Found, Vec<String>), String> {
        let request_keys = keys
            .iter()
            .map(|key| HashMap::from([("location".to_owned(), AttributeValue::S(key.clone()))]))
            .collect();
        // `location` is a DynamoDB reserved word, hence the placeholder.
        let wanted = KeysAndAttributes::builder()
            .set_keys(Some(request_keys))
            .projection_expression("#l, description, notes")
            .expression_attribute_names("#l", "location")
            .build()
            .map_err(|e| e.to_string())?;
        let output = self
            .client
            .batch_get_item()
            .request_items(&self.name, wanted)
            .send()
            .await
            .map_err(|e| format!("dynamodb:BatchGetItem: {}", DisplayErrorContext(e)))?;
        let found = output
            .responses
            .and_then(|mut tables| tables.remove(&self.name))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| {
                // The key is the hash key the request named, always a string.
                let key = item.get("location")?.as_s().ok()?.clone();
                let document = location_from_item(&item);
                if let Err(problem) = &document {
                    tracing::error!(table = %self.name, location = %key, %problem, "malformed item in the locations table");
                }
                Some((key, document))
            })
            .collect();
        let unprocessed = output
            .unprocessed_keys
            .and_then(|mut tables| tables.remove(&self.name))
            .map(|k| k.keys)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|key| key.get("location")?.as_s().ok().cloned())
            .collect();
        Ok((found, unprocessed))
    }
}

type Found = Vec<(String, Result<LocationRecord, String>)>;

/// The location document in a table item: `location`, `description` and
/// `notes` must all be strings; otherwise what is wrong (attribute names
/// only, never values).
///
/// # Errors
/// A description of the first attribute that is missing or not a string.
pub fn location_from_item(
    item: &HashMap<String, AttributeValue>,
) -> Result<LocationRecord, String> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        Some(_) => Err(format!("attribute {name} is not a string")),
        None => Err(format!("attribute {name} is missing")),
    };
    Ok(LocationRecord {
        location: text("location")?,
        description: text("description")?,
        notes: text("notes")?,
    })
}

/// Between half of `backoff` and all of it: retries of concurrent
/// invocations do not all land on the table at the same instant.
fn jittered(backoff: Duration) -> Duration {
    backoff.mul_f64(rand::random_range(0.5..=1.0))
}
