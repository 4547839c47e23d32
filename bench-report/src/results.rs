//! The saved form of one benchmark run: named latency distributions (from
//! HDR histograms) and single figures, in `target/bench-results/<bench>.json`.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// One benchmark run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// The benchmark's name, also the file name.
    pub bench: String,
    /// The command that produced it (shown in the report).
    pub command: String,
    /// RFC 3339 time of the run.
    pub generated: String,
    pub distributions: Vec<Distribution>,
    pub figures: Vec<Figure>,
}

/// A latency distribution; distributions of one `group` share a chart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Distribution {
    pub group: String,
    pub label: String,
    pub unit: String,
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// (value, how many) for every distinct recorded value, in `unit`.
    pub values: Vec<(f64, u64)>,
}

/// One number worth reporting (a throughput, a size, a ratio).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    pub group: String,
    pub name: String,
    pub value: f64,
    pub unit: String,
}

impl Distribution {
    /// From a histogram of microseconds, in milliseconds.
    pub fn from_micros(group: &str, label: &str, histogram: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            group: group.to_owned(),
            label: label.to_owned(),
            unit: "ms".to_owned(),
            count: histogram.len(),
            p50: ms(histogram.value_at_quantile(0.5)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
            values: histogram
                .iter_recorded()
                .map(|v| (ms(v.value_iterated_to()), v.count_at_value()))
                .collect(),
        }
    }
}

impl Figure {
    pub fn new(group: &str, name: &str, value: f64, unit: &str) -> Self {
        Self {
            group: group.to_owned(),
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
        }
    }
}

impl Results {
    pub fn new(bench: &str, command: &str) -> Self {
        Self {
            bench: bench.to_owned(),
            command: command.to_owned(),
            generated: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            distributions: Vec::new(),
            figures: Vec::new(),
        }
    }

    /// Writes `target/bench-results/<bench>.json`; returns its path.
    ///
    /// # Errors
    /// If the folder or file cannot be written.
    pub fn save(&self) -> std::io::Result<PathBuf> {
        let dir = default_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.json", self.bench));
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&path, json)?;
        Ok(path)
    }

    /// Every result saved in `dir`, in file-name order.
    ///
    /// # Errors
    /// If `dir` cannot be read or a file is not a saved result.
    pub fn load_all(dir: &Path) -> anyhow::Result<Vec<Results>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("{}: {e} (run the benchmarks first)", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path)?;
                serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{}: not a saved result: {e}", path.display()))
            })
            .collect()
    }
}

/// `target/bench-results` of this workspace.
pub fn default_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().map(Path::to_path_buf).unwrap_or(manifest);
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("bench-results")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_keeps_its_quantiles_and_values() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for us in [1_000, 1_000, 2_000, 40_000] {
            histogram.record(us).unwrap();
        }
        let d = Distribution::from_micros("g", "l", &histogram);
        assert_eq!(d.count, 4);
        assert!((d.p50 - 1.0).abs() < 0.01, "{}", d.p50);
        assert!((d.max - 40.0).abs() < 0.1, "{}", d.max);
        assert_eq!(d.values.iter().map(|(_, n)| n).sum::<u64>(), 4);
        let back: Distribution = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back.values, d.values);
    }
}
