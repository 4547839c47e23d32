//! The local defaults are the Terraform defaults. The stack's interface
//! (`terraform/modules/stack/variables.tf`: typed objects whose attributes are
//! `optional(type, default)`) is the one source on the Terraform side; this
//! test reads it and compares the harness's provisioning names and the local
//! event-source mapping's settings (`MappingSettings::default()`, which
//! `harness replay`'s flags default to) with it, so neither side drifts alone.

use std::collections::HashMap;
use std::time::Duration;

use emulators::{workspace_root, Names};
use hcl::{Body, Expression, ObjectKey};
use mapping::{MappingSettings, StartingPosition};

fn parse(file: &str) -> Body {
    let path = workspace_root().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hcl::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn key_name(key: &ObjectKey) -> String {
    key.to_string().trim_matches('"').to_owned()
}

/// The attributes of a variable's `type = object({...})` in the stack, each
/// with its `optional(type, default)` default.
fn stack_defaults(variable: &str) -> HashMap<String, Expression> {
    let body = parse("terraform/modules/stack/variables.tf");
    let block = body
        .blocks()
        .find(|b| b.identifier() == "variable" && b.labels()[0].as_str() == variable)
        .unwrap_or_else(|| panic!("the stack has no variable {variable}"));
    let kind = block
        .body()
        .attributes()
        .find(|a| a.key() == "type")
        .map(|a| a.expr().clone());
    let Some(Expression::FuncCall(object)) = kind else {
        panic!("{variable} has no object type");
    };
    let Some(Expression::Object(attributes)) = object.args.first() else {
        panic!("{variable}'s type is not object({{...}})");
    };
    attributes
        .iter()
        .filter_map(|(key, value)| match value {
            Expression::FuncCall(call) if call.name.name.as_str() == "optional" => {
                Some((key_name(key), call.args.get(1)?.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The attributes a root passes to `module "stack"` (`table = {...}`, ...).
fn stack_arguments(root: &str) -> HashMap<String, Expression> {
    let body = parse(root);
    let block = body
        .blocks()
        .find(|b| b.identifier() == "module" && b.labels()[0].as_str() == "stack")
        .unwrap_or_else(|| panic!("{root} has no module \"stack\""));
    block
        .body()
        .attributes()
        .map(|a| (a.key().to_owned(), a.expr().clone()))
        .collect()
}

fn variable_defaults(file: &str) -> HashMap<String, Expression> {
    parse(file)
        .blocks()
        .filter(|block| block.identifier() == "variable")
        .filter_map(|block| {
            let default = block.body().attributes().find(|a| a.key() == "default")?;
            Some((
                block.labels()[0].as_str().to_owned(),
                default.expr().clone(),
            ))
        })
        .collect()
}

fn string(defaults: &HashMap<String, Expression>, name: &str) -> String {
    match defaults.get(name) {
        Some(Expression::String(value)) => value.clone(),
        other => panic!("{name} has no string default: {other:?}"),
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
        other => panic!("{name} has no number default: {other:?}"),
    }
}

#[test]
fn provisioning_names_equal_the_stacks_defaults() {
    let naming = stack_defaults("naming");
    let names = Names::default();
    assert_eq!(string(&naming, "prefix"), "");
    assert_eq!(string(&naming, "stream"), names.stream);
    assert_eq!(string(&naming, "table"), names.table);
    assert_eq!(string(&naming, "parameter"), names.parameter);
    assert_eq!(string(&naming, "cache"), names.cache);
    assert_eq!(string(&naming, "function"), names.function);
    assert_eq!(string(&naming, "dlq"), names.dead_letter_queue);
    assert_eq!(string(&naming, "on_failure"), names.on_failure_queue);
    assert_eq!(
        number(&stack_defaults("queues"), "dlq_max_message_size"),
        emulators::DEAD_LETTER_MAX_MESSAGE_BYTES as i64,
        "provisioning gives the dead-letter queue Terraform's size"
    );
    assert_eq!(
        string(&stack_defaults("table"), "hash_key"),
        "location",
        "the key the consumer reads"
    );
    // Production has no default region (a deployer chooses); the emulator
    // root's is the harness's.
    assert!(
        !variable_defaults("terraform/variables.tf").contains_key("region"),
        "the production root must not default the region"
    );
    assert_eq!(
        string(&variable_defaults("terraform/local/variables.tf"), "region"),
        names.region
    );
}

#[test]
fn production_seeds_nothing_and_protects_the_table() {
    let table = stack_defaults("table");
    assert_eq!(table.get("seed_items"), Some(&Expression::Array(vec![])));
    assert_eq!(
        table.get("deletion_protection_enabled"),
        Some(&Expression::Bool(true))
    );
    // The production root gives the table its customer managed key and
    // nothing else: seeds and protection stay the stack's defaults.
    let passed = match stack_arguments("terraform/main.tf").get("table") {
        Some(Expression::Object(table)) => table.iter().map(|(k, _)| key_name(k)).collect(),
        None => Vec::new(),
        other => panic!("the production root's table is not an object: {other:?}"),
    };
    assert_eq!(
        passed,
        ["kms_key_arn"],
        "the production root keeps the stack's table defaults"
    );
}

#[test]
fn the_local_root_seeds_the_articles_locations() {
    let Some(Expression::Object(table)) = stack_arguments("terraform/local/main.tf")
        .get("table")
        .cloned()
    else {
        panic!("terraform/local passes no table object to the stack");
    };
    let Some(Expression::Array(items)) = table
        .iter()
        .find(|(k, _)| key_name(k) == "seed_items")
        .map(|(_, v)| v.clone())
    else {
        panic!("terraform/local seeds no items");
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
                    .find(|(k, _)| key_name(k) == key)
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
fn the_local_mappings_defaults_are_the_stacks() {
    let tf = stack_defaults("mapping");
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
    assert_eq!(
        StartingPosition::parse(&string(&tf, "starting_position")),
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
    assert_eq!(tf.get("enabled"), Some(&Expression::Bool(local.enabled)));
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
