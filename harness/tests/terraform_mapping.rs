//! The local mapping's defaults are the Terraform module's: parse
//! `terraform/variables.tf` and compare, so neither side drifts alone.

use std::collections::HashMap;
use std::time::Duration;

use harness::{MappingSettings, StartingPosition};
use hcl::{Body, Expression};

fn terraform_defaults() -> HashMap<String, Expression> {
    let path = emulators::workspace_root().join("terraform/variables.tf");
    let body: Body = hcl::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    body.blocks()
        .filter(|block| block.identifier() == "variable")
        .filter_map(|block| {
            let name = block.labels().first()?.as_str().to_owned();
            let default = block.body().attributes().find(|a| a.key() == "default")?;
            Some((name, default.expr().clone()))
        })
        .collect()
}

fn number(defaults: &HashMap<String, Expression>, name: &str) -> i64 {
    match defaults.get(name) {
        Some(Expression::Number(n)) => n.as_i64().unwrap(),
        Some(Expression::Operation(op)) => match op.as_ref() {
            hcl::Operation::Unary(u) if matches!(u.operator, hcl::UnaryOperator::Neg) => {
                match &u.expr {
                    Expression::Number(n) => -n.as_i64().unwrap(),
                    other => panic!("{name}: {other:?}"),
                }
            }
            other => panic!("{name}: {other:?}"),
        },
        other => panic!("variable {name} has no number default: {other:?}"),
    }
}

#[test]
fn mapping_defaults_equal_the_terraform_defaults() {
    let tf = terraform_defaults();
    let local = MappingSettings::default();
    assert_eq!(number(&tf, "batch_size"), local.batch_size as i64);
    assert_eq!(
        Duration::from_secs(number(&tf, "maximum_batching_window_in_seconds") as u64),
        local.batching_window
    );
    assert_eq!(
        number(&tf, "maximum_retry_attempts"),
        local.maximum_retry_attempts.map_or(-1, i64::from)
    );
    assert_eq!(
        number(&tf, "maximum_record_age_in_seconds"),
        local.maximum_record_age.map_or(-1, |d| d.as_secs() as i64)
    );
    assert_eq!(
        number(&tf, "parallelization_factor"),
        i64::from(local.parallelization_factor)
    );
    assert_eq!(
        tf.get("bisect_batch_on_function_error"),
        Some(&Expression::Bool(local.bisect_on_error))
    );
    let Some(Expression::String(position)) = tf.get("starting_position") else {
        panic!("starting_position has no string default");
    };
    assert_eq!(
        StartingPosition::parse(position),
        Ok(local.starting_position)
    );
    assert!(
        local.report_batch_item_failures,
        "the module always sets ReportBatchItemFailures"
    );
}
