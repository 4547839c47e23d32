//! `bench-report`: one HTML page from the benchmarks' saved results.

use std::path::PathBuf;

use clap::Parser;

/// Render the benchmarks' saved results (target/bench-results/*.json) as one
/// self-contained HTML page with an SVG chart per latency group.
#[derive(Parser)]
#[command(name = "bench-report")]
struct Args {
    /// Folder of saved results [default: target/bench-results].
    #[arg(long)]
    results: Option<PathBuf>,
    /// Where to write the page.
    #[arg(long, default_value = "docs/bench-report.html")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = args
        .results
        .unwrap_or_else(bench_report::results::default_dir);
    let results = bench_report::Results::load_all(&dir)?;
    anyhow::ensure!(
        !results.is_empty(),
        "no saved results in {}: run the benchmarks first (just bench-report)",
        dir.display()
    );
    let page = bench_report::render::html(&results)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, page)?;
    let names: Vec<&str> = results.iter().map(|r| r.bench.as_str()).collect();
    println!(
        "wrote {} ({} from {})",
        args.out.display(),
        names.join(", "),
        dir.display()
    );
    Ok(())
}
