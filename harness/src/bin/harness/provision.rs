//! `harness provision`: the resources Terraform would create, on the emulators.

use crate::plumbing;

pub async fn run() -> anyhow::Result<()> {
    let environment = plumbing::require_environment()?;
    let provisioned = plumbing::provision_environment(&environment).await?;
    let names = emulators::Names::default();
    println!("stream      {} ({})", names.stream, provisioned.stream_arn);
    println!("table       {} (Car, Diner, House)", names.table);
    println!("parameter   {} (SecureString)", names.parameter);
    println!("dlq         {}", provisioned.dead_letter_queue_url);
    println!("on-failure  {}", provisioned.on_failure_queue_url);
    println!("cache       {}", names.cache);
    Ok(())
}
