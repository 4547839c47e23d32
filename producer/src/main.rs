//! `producer`: write ModelOne records to Kinesis (see `--help`).

use clap::{CommandFactory, Parser};
use producer::Options;

#[tokio::main]
async fn main() {
    let options = Options::parse();
    if let Err(message) = options.check() {
        Options::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    match produce(&options).await {
        Ok(summary) => {
            if options.json {
                println!(
                    "{}",
                    serde_json::to_string(&summary).expect("summary serializes")
                );
            } else {
                summary.print_text();
            }
            if summary.failed > 0 {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn produce(options: &Options) -> anyhow::Result<producer::Summary> {
    if options.dry_run || options.output.is_some() {
        return producer::dry_run(options);
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(options.region.clone()));
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let client = aws_sdk_kinesis::Client::new(&loader.load().await);
    producer::run(options, client).await
}
