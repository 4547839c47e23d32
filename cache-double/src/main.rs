//! `cache-double`: run the Momento-compatible cache server.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use cache_double::faults::parse_code;
use cache_double::{serve, DoubleConfig, FaultConfig, Injected, Limits};
use clap::Parser;

/// A Momento-compatible cache server (gRPC, plaintext) for local development
/// and tests: scalars, dictionaries, lists, sets, sorted sets, topics and the
/// cache control plane. Point the Momento SDK at it with an insecure endpoint
/// override, e.g. `http://127.0.0.1:9090`. For an SDK's momento-local tests:
/// `--addr 127.0.0.1:8080 --admin-addr 127.0.0.1:9090`.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address for the gRPC API (Momento data plane, topics, control plane).
    #[arg(long, env = "CACHE_DOUBLE_ADDR", default_value = "127.0.0.1:9090")]
    addr: SocketAddr,

    /// Address for the admin HTTP API (/health, /stats, /block, /unblock, POST /faults).
    /// Use "off" to disable it.
    #[arg(
        long,
        env = "CACHE_DOUBLE_ADMIN_ADDR",
        default_value = "127.0.0.1:9091"
    )]
    admin_addr: String,

    /// Require this API key in the `authorization` metadata of every call
    /// (the `api_key` inside a v1 Momento key). Without it, any caller is accepted.
    #[arg(long, env = "CACHE_DOUBLE_API_KEY", hide_env_values = true)]
    api_key: Option<String>,

    /// Create this cache at start (repeat for several).
    #[arg(long = "cache", value_name = "NAME")]
    caches: Vec<String>,

    /// Evict once a cache holds more than this many bytes (keys, values, overhead).
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    max_bytes: usize,

    /// Evict once a cache holds more than this many items.
    #[arg(long, default_value_t = 1_000_000)]
    max_items: usize,

    /// Refuse items (key + value) larger than this many bytes, as Momento does (5 MB).
    #[arg(long, default_value_t = 5 * 1024 * 1024)]
    max_item_bytes: usize,

    /// Refuse a collection element (list value, set member, dictionary field or
    /// value, sorted-set value) larger than this many bytes, as Momento does (128 KB).
    #[arg(long, default_value_t = 128 * 1024)]
    max_element_bytes: usize,

    /// Delay every reply by this much, e.g. "1800us" or "2ms", to mimic the
    /// network between Lambda and Momento (timer granularity is about 1 ms).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    latency: Duration,

    /// Fraction of RPCs (0.0 to 1.0) answered with --error-code instead.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    error_rate: f64,

    /// gRPC code for --error-rate, in momento-local's names (unavailable,
    /// internal, deadline-exceeded, resource-exhausted, ...).
    #[arg(long, default_value = "unavailable", value_parser = parse_error_code)]
    error_code: tonic::Code,

    /// Log filter, e.g. "info" or "cache_double=debug" (RUST_LOG also works).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log: String,

    /// Instead of serving: ask the admin endpoint at HOST:PORT for /health and
    /// exit 0 if it answers 200 (a healthcheck for images without curl).
    #[arg(long, value_name = "HOST:PORT")]
    probe_health: Option<String>,
}

/// One `GET /health`; true on a 200 within two seconds.
fn probe_health(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut head = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut head).is_ok()
        && head.starts_with(b"HTTP/1.1 200")
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{rate} is not between 0.0 and 1.0"))
    }
}

fn parse_error_code(s: &str) -> Result<tonic::Code, String> {
    parse_code(s).ok_or_else(|| {
        format!("`{s}` is not a known error name (try unavailable, internal, deadline-exceeded)")
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(address) = &args.probe_health {
        std::process::exit(if probe_health(address) { 0 } else { 1 });
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log).context("invalid --log filter")?,
        )
        .init();

    let admin_addr: Option<SocketAddr> = match args.admin_addr.as_str() {
        "off" => None,
        addr => Some(
            addr.parse()
                .with_context(|| format!("invalid --admin-addr `{addr}`"))?,
        ),
    };
    let listener = cache_double::bind(args.addr).await?;
    let admin = match admin_addr {
        Some(addr) => Some(cache_double::bind(addr).await?),
        None => None,
    };
    let config = DoubleConfig {
        limits: Limits {
            max_bytes: args.max_bytes,
            max_items: args.max_items,
            max_item_bytes: args.max_item_bytes,
            max_element_bytes: args.max_element_bytes,
        },
        faults: FaultConfig {
            api_key: args.api_key,
            injected: Injected {
                latency: args.latency,
                error_rate: args.error_rate,
                error_code: Some(args.error_code),
            },
        },
        caches: args.caches,
    };
    let shutdown = shutdown_signal()?;
    tracing::info!(
        addr = %listener.local_addr()?,
        admin = ?admin.as_ref().and_then(|a| a.local_addr().ok()),
        auth = config.faults.api_key.is_some(),
        caches = ?config.caches,
        "cache double listening"
    );
    serve(listener, admin, config, shutdown).await?;
    tracing::info!("cache double stopped");
    Ok(())
}

/// Registers SIGINT and SIGTERM handlers now (so a signal that arrives
/// right after the "listening" line is not lost) and returns a future that
/// completes on either.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
