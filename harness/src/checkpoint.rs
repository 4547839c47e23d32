//! Per-shard checkpoints (the last sequence number fully processed), kept in
//! a JSON file so a restarted replay resumes where the last one stopped, and
//! the shards read to their end (closed by a reshard), which are never read
//! again. A closed shard's sequence number is kept until its children start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// The stream's ARN and creation time.
    stream: String,
    shards: BTreeMap<String, String>,
    /// Shards read to their end.
    #[serde(default)]
    closed: BTreeSet<String>,
}

/// Checkpoints of one stream; `path: None` keeps them in memory only.
#[derive(Debug)]
pub struct Checkpoints {
    path: Option<PathBuf>,
    file: File,
}

impl Checkpoints {
    pub fn in_memory(stream: &str) -> Self {
        Self {
            path: None,
            file: File {
                stream: stream.to_owned(),
                ..File::default()
            },
        }
    }

    /// Loads `path` if it exists and belongs to `stream` (an identity such as
    /// ARN and creation time: a file left from a deleted and re-created stream
    /// is ignored, its sequence numbers mean nothing in the new one).
    pub fn load(path: &Path, stream: &str) -> std::io::Result<Self> {
        let file = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<File>(&bytes)
                .ok()
                .filter(|f| f.stream == stream),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Self {
            path: Some(path.to_owned()),
            file: file.unwrap_or(File {
                stream: stream.to_owned(),
                ..File::default()
            }),
        })
    }

    pub fn get(&self, shard_id: &str) -> Option<&str> {
        self.file.shards.get(shard_id).map(String::as_str)
    }

    /// Records `sequence_number` as done for `shard_id` and writes the file
    /// (to a temporary name, then renamed, so a kill never leaves half a file).
    pub fn set(&mut self, shard_id: &str, sequence_number: &str) -> std::io::Result<()> {
        self.file
            .shards
            .insert(shard_id.to_owned(), sequence_number.to_owned());
        self.write()
    }

    /// Records that `shard_id` was read to its end.
    pub fn close(&mut self, shard_id: &str) -> std::io::Result<()> {
        self.file.closed.insert(shard_id.to_owned());
        self.write()
    }

    /// Shards read to their end.
    pub fn closed(&self) -> impl Iterator<Item = &str> {
        self.file.closed.iter().map(String::as_str)
    }

    /// Drops a closed shard's sequence number once its children have started.
    pub fn forget(&mut self, shard_id: &str) -> std::io::Result<()> {
        if self.file.shards.remove(shard_id).is_some() {
            self.write()?;
        }
        Ok(())
    }

    fn write(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, serde_json::to_vec_pretty(&self.file)?)?;
        std::fs::rename(&temporary, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_reload_and_ignores_another_streams_file() {
        let dir = std::env::temp_dir().join(format!("checkpoints-{}", uuid::Uuid::new_v4()));
        let path = dir.join("stream.json");
        let mut checkpoints = Checkpoints::load(&path, "arn:a").unwrap();
        assert_eq!(checkpoints.get("shard-0"), None);
        checkpoints.set("shard-0", "17").unwrap();
        assert_eq!(
            Checkpoints::load(&path, "arn:a").unwrap().get("shard-0"),
            Some("17")
        );
        assert_eq!(
            Checkpoints::load(&path, "arn:b").unwrap().get("shard-0"),
            None
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn closed_shards_survive_a_reload_and_forget_their_position() {
        let dir = std::env::temp_dir().join(format!("checkpoints-{}", uuid::Uuid::new_v4()));
        let path = dir.join("stream.json");
        let mut checkpoints = Checkpoints::load(&path, "arn:a").unwrap();
        checkpoints.set("parent", "9").unwrap();
        checkpoints.close("parent").unwrap();
        let mut reloaded = Checkpoints::load(&path, "arn:a").unwrap();
        assert_eq!(reloaded.closed().collect::<Vec<_>>(), ["parent"]);
        assert_eq!(
            reloaded.get("parent"),
            Some("9"),
            "kept until the children start"
        );
        reloaded.forget("parent").unwrap();
        let reloaded = Checkpoints::load(&path, "arn:a").unwrap();
        assert_eq!(reloaded.get("parent"), None);
        assert_eq!(reloaded.closed().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
