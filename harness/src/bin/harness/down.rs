//! `harness down`: stops what `up` started, and nothing else.

pub fn run() -> anyhow::Result<()> {
    let stopped = crate::local::down()?;
    if stopped.is_empty() {
        println!("nothing to stop");
    }
    for what in stopped {
        println!("stopped {what}");
    }
    Ok(())
}
