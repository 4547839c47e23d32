//! What the benchmarks measured, kept as data, and one report to look at.
//!
//! # Layout
//! - [`results`]: the JSON a benchmark saves under `target/bench-results/`
//!   ([`Results::save`]), with its latency distributions and figures.
//! - [`render`]: one self-contained HTML page from every saved result: an
//!   SVG histogram per distribution group (plotters) and a table of figures.
//!
//! The benchmarks depend on this crate for [`results`] only; the `bench-report`
//! binary renders (`just bench-report`).

pub mod render;
pub mod results;

pub use results::{Distribution, Figure, Results};
