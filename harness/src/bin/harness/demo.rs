//! `harness demo`: the README's quick start in one command.

use clap::{Args, Parser};
use mapping::{Backoff, EventSourceMapping, MappingConfig, MappingSettings, StartingPosition};

use crate::local::{self, Backend, Ports};
use crate::plumbing;

#[derive(Args)]
pub struct DemoArgs {
    /// Records to produce.
    #[arg(long, default_value_t = 1000)]
    records: u64,
    /// Stop the emulators at the end instead of leaving them running.
    #[arg(long)]
    down: bool,
}

impl DemoArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let records = self.records;
        eprintln!("1/4 starting the emulators");
        let environment = local::up(Backend::Native, Ports::default()).await?;
        crate::status::print(&environment, false).await;
        eprintln!("2/4 provisioning");
        plumbing::provision_environment(&environment).await?;
        let names = emulators::Names::default();
        eprintln!("3/4 producing {records} records to {}", names.stream);
        let sdk = plumbing::sdk(&environment).await;
        let options = <producer::Options as Parser>::try_parse_from([
            "producer",
            "--stream",
            &names.stream,
            "-n",
            &records.to_string(),
            // one task: moto's shards lose records under concurrent PutRecords
            "-c",
            "1",
            "--json",
        ])?;
        let produced = producer::run(&options, aws_sdk_kinesis::Client::new(&sdk)).await?;
        anyhow::ensure!(
            produced.failed == 0,
            "{} records could not be produced",
            produced.failed
        );
        eprintln!("4/4 replaying the stream through the consumer (in-process, batches of 10)");
        let (consumer, _output) = plumbing::in_process_consumer(&environment).await?;
        let config = MappingConfig {
            stream: names.stream.clone(),
            region: environment.region.clone(),
            function_name: names.function.clone(),
            settings: MappingSettings {
                starting_position: StartingPosition::TrimHorizon,
                on_failure: Some(plumbing::on_failure_queue_url(&environment).await?),
                ..MappingSettings::default()
            },
            follow: false,
            checkpoint_file: Some(plumbing::default_checkpoint_file(&names.stream)),
            poll_interval: None,
            function_timeout: None,
            backoff: Backoff::AWS_LIKE,
            uuid: None,
        };
        let function = harness::in_process::in_process(consumer.clone());
        let summary = EventSourceMapping::new(&sdk, config, function)
            .await?
            .run()
            .await?;
        println!();
        crate::replay::print_summary(&summary, Some(&consumer.lookup().totals()));
        println!(
            "(the records were produced first and replayed after, so arrival→processed is mostly \
             how long they waited in the stream; `cargo bench -p harness --bench pipeline` \
             measures write→processed with the producer and the mapping running together)"
        );
        if self.down {
            for what in local::down()? {
                println!("stopped {what}");
            }
        } else {
            println!("\nstill running: `harness status`; produce more and `harness replay`; `harness down` to stop");
        }
        Ok(())
    }
}
