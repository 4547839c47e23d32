//! The local defaults are the Terraform defaults: parse
//! `terraform/variables.tf` and compare the provisioning names and the
//! event-source mapping's settings, and `terraform/local/variables.tf` for the
//! seed items (production seeds nothing), so neither side drifts alone.

use std::collections::HashMap;
use std::time::Duration;

use emulators::{workspace_root, Names};
use hcl::{Body, Expression};
use mapping::{MappingSettings, StartingPosition};

/// Every variable's default in the production root module.
fn terraform_defaults() -> HashMap<String, Expression> {
    defaults_of("terraform/variables.tf")
}

/// Every variable's default in `file` (relative to the workspace root).
fn defaults_of(file: &str) -> HashMap<String, Expression> {
    let path = workspace_root().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body: Body = hcl::from_str(&text).expect("variables.tf parses");
    body.blocks()
        .filter(|block| block.identifier() == "variable")
        .filter_map(|block| {
            let name = block.labels().first()?.as_str().to_owned();
            let default = block.body().attributes().find(|a| a.key() == "default")?;
            Some((name, default.expr().clone()))
        })
        .collect()
}

fn string(defaults: &HashMap<String, Expression>, name: &str) -> String {
    match defaults.get(name) {
        Some(Expression::String(value)) => value.clone(),
        other => panic!("variable {name} has no string default: {other:?}"),
    }
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
fn provisioning_names_equal_the_terraform_defaults() {
    let defaults = terraform_defaults();
    let names = Names::default();
    // Production has no default region (a deployer chooses); the emulator
    // root's is the harness's.
    assert!(
        !defaults.contains_key("region"),
        "the production root must not default the region"
    );
    let local = defaults_of("terraform/local/variables.tf");
    assert_eq!(string(&local, "region"), names.region);
    assert_eq!(string(&defaults, "stream_name"), names.stream);
    assert_eq!(string(&defaults, "table_name"), names.table);
    assert_eq!(
        string(&defaults, "table_hash_key"),
        "location",
        "the key the consumer reads"
    );
    assert_eq!(
        string(&defaults, "momento_api_key_parameter_name"),
        names.parameter
    );
    assert_eq!(string(&defaults, "momento_cache_name"), names.cache);
    assert_eq!(string(&defaults, "function_name"), names.function);
    assert_eq!(string(&defaults, "dlq_name"), names.dead_letter_queue);
    assert_eq!(
        string(&defaults, "on_failure_queue_name"),
        names.on_failure_queue
    );
    assert_eq!(string(&defaults, "stream_mode"), "ON_DEMAND");
}

#[test]
fn production_seeds_nothing_and_protects_the_table() {
    let defaults = terraform_defaults();
    assert_eq!(defaults.get("seed_items"), Some(&Expression::Array(vec![])));
    assert_eq!(
        defaults.get("table_deletion_protection_enabled"),
        Some(&Expression::Bool(true))
    );
}

#[test]
fn the_local_root_seeds_the_articles_locations() {
    let defaults = defaults_of("terraform/local/variables.tf");
    let Some(Expression::Array(items)) = defaults.get("seed_items") else {
        panic!("seed_items has no list default");
    };
    let mut seeded: Vec<model::LocationRecord> = items
        .iter()
        .map(|item| {
            let Expression::Object(object) = item else {
                panic!("seed item is not an object: {item:?}");
            };
            let field = |key: &str| {
                object
                    .iter()
                    .find(|(k, _)| k.to_string().trim_matches('"') == key)
                    .and_then(|(_, v)| match v {
                        Expression::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("seed item has no string {key}"))
            };
            model::LocationRecord {
                location: field("location"),
                description: field("description"),
                notes: field("notes"),
            }
        })
        .collect();
    seeded.sort_by(|a, b| a.location.cmp(&b.location));
    assert_eq!(seeded, model::sample_locations());
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
    assert_eq!(
        number(&tf, "tumbling_window_in_seconds"),
        local.tumbling_window.map_or(0, |w| w.as_secs() as i64)
    );
    assert_eq!(
        tf.get("filter_criteria"),
        Some(&Expression::Array(vec![])),
        "no filter by default"
    );
    assert!(local.filter.is_empty());
    assert_eq!(
        tf.get("event_source_mapping_enabled"),
        Some(&Expression::Bool(local.enabled))
    );
    assert_eq!(
        tf.get("metrics_config"),
        Some(&Expression::Array(vec![Expression::String(
            "EventCount".into()
        )])),
        "the replay always counts AWS's EventCount metrics"
    );
    assert_eq!(
        tf.get("enhanced_fan_out"),
        Some(&Expression::Bool(false)),
        "the stream itself is the default source, as the replay's"
    );
}
