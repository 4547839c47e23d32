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
    let config = loader.load().await;
    require_credentials(&config).await?;
    producer::run(options, aws_sdk_kinesis::Client::new(&config)).await
}

/// One line when the default chain finds no credentials: the SDK's own
/// error comes only with the first call, as a long debug dump.
async fn require_credentials(config: &aws_config::SdkConfig) -> anyhow::Result<()> {
    use aws_sdk_kinesis::config::ProvideCredentials as _;
    let Some(provider) = config.credentials_provider() else {
        return Ok(());
    };
    anyhow::ensure!(
        provider.provide_credentials().await.is_ok(),
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values do for an emulator such as moto or LocalStack), or AWS_PROFILE"
    );
    Ok(())
}
