//! FilterCriteria: the mapping drops records that match none of up to five
//! filter patterns before invoking the function. The grammar is the one
//! Lambda documents (EventBridge's): a pattern mirrors the record; leaves
//! are arrays of alternatives (values, `prefix`, `suffix`,
//! `equals-ignore-case`, `anything-but`, `numeric`, `exists`); several keys
//! must all match; `$or` takes alternative sub-patterns.
//!
//! For Kinesis, `data` is the record's payload decoded from base64 and
//! parsed as JSON; a record whose data is not JSON never matches a pattern
//! that names `data` (AWS drops it). Patterns may also name the record's
//! metadata (`partitionKey`, `sequenceNumber`, `approximateArrivalTimestamp`,
//! `kinesisSchemaVersion`), as AWS's earlier documentation showed.

use serde_json::{Map, Value};

use crate::records::StreamRecord;

/// AWS's default quota of filters per mapping.
pub const MAX_FILTERS: usize = 5;
/// AWS's limit on one pattern's length.
pub const MAX_PATTERN_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("at most {MAX_FILTERS} filter patterns (AWS's default quota), got {0}")]
    TooMany(usize),
    #[error("filter pattern {index}: {message}")]
    Invalid { index: usize, message: String },
}

/// The patterns of one mapping, ORed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterCriteria {
    patterns: Vec<Pattern>,
    sources: Vec<String>,
}

/// One pattern: every key must match; `$or` alternatives too.
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    fields: Vec<(String, Node)>,
    /// Each `$or` is a list of alternative patterns; one must match.
    or: Vec<Vec<Pattern>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Nested(Pattern),
    Rules(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    /// A string, number, boolean or null, compared exactly (numbers by value).
    Equals(Value),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    /// Matches any present value (null included) except these.
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    Numeric(Vec<(Comparison, f64)>),
    Exists(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl FilterCriteria {
    /// Parses each pattern (JSON text, as `Filters[].Pattern` holds it).
    ///
    /// # Errors
    /// [`FilterError`] naming the pattern and what is wrong with it, as AWS
    /// refuses it when the mapping is created.
    pub fn parse(patterns: &[String]) -> Result<Self, FilterError> {
        if patterns.len() > MAX_FILTERS {
            return Err(FilterError::TooMany(patterns.len()));
        }
        let parsed = patterns
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let invalid = |message: String| FilterError::Invalid { index, message };
                if text.chars().count() > MAX_PATTERN_CHARS {
                    return Err(invalid(format!(
                        "longer than {MAX_PATTERN_CHARS} characters"
                    )));
                }
                let value: Value =
                    serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
                let Value::Object(object) = value else {
                    return Err(invalid("a pattern is a JSON object".into()));
                };
                parse_pattern(&object).map_err(invalid)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            patterns: parsed,
            sources: patterns.to_vec(),
        })
    }

    /// No patterns: every record is delivered.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as given.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Whether `record` is delivered: no patterns, or at least one matches.
    pub fn keeps(&self, record: &StreamRecord) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let view = record_view(record);
        self.patterns.iter().any(|p| p.matches(&view))
    }

    /// Whether a JSON document matches (the form tests and docs use).
    pub fn keeps_json(&self, document: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(document))
    }
}

/// The record as a filter sees it: metadata at the top, `data` parsed as
/// JSON (absent when it is not JSON, so a `data` pattern cannot match).
fn record_view(record: &StreamRecord) -> Value {
    let mut view = Map::new();
    view.insert("partitionKey".into(), record.partition_key.clone().into());
    view.insert(
        "sequenceNumber".into(),
        record.sequence_number.clone().into(),
    );
    view.insert("approximateArrivalTimestamp".into(), record.arrival.into());
    view.insert("kinesisSchemaVersion".into(), "1.0".into());
    if let Ok(data) = serde_json::from_slice::<Value>(&record.data) {
        view.insert("data".into(), data);
    }
    Value::Object(view)
}

fn parse_pattern(object: &Map<String, Value>) -> Result<Pattern, String> {
    let mut pattern = Pattern {
        fields: Vec::new(),
        or: Vec::new(),
    };
    for (key, value) in object {
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err("$or takes an array of patterns".into());
            };
            if alternatives.len() < 2 {
                return Err("$or needs at least two patterns".into());
            }
            let parsed = alternatives
                .iter()
                .map(|alternative| match alternative {
                    Value::Object(o) => parse_pattern(o),
                    _ => Err("$or takes an array of patterns".into()),
                })
                .collect::<Result<_, _>>()?;
            pattern.or.push(parsed);
            continue;
        }
        let node = match value {
            Value::Object(nested) => Node::Nested(parse_pattern(nested)?),
            Value::Array(rules) if rules.is_empty() => {
                return Err(format!("{key}: an empty list matches nothing"))
            }
            Value::Array(rules) => Node::Rules(
                rules
                    .iter()
                    .map(|rule| parse_rule(key, rule))
                    .collect::<Result<_, _>>()?,
            ),
            _ => {
                return Err(format!(
                    "{key}: a value to match must be in a list, e.g. [{value}]"
                ))
            }
        };
        pattern.fields.push((key.clone(), node));
    }
    Ok(pattern)
}

fn parse_rule(key: &str, rule: &Value) -> Result<Rule, String> {
    let operator = match rule {
        Value::Object(operator) if operator.len() == 1 => operator,
        Value::Object(_) => return Err(format!("{key}: one operator per object")),
        Value::Array(_) => return Err(format!("{key}: lists do not nest")),
        literal => return Ok(Rule::Equals(literal.clone())),
    };
    let (name, operand) = operator.iter().next().expect("one entry");
    let string = |what: &str| match operand {
        Value::String(s) => Ok(s.clone()),
        _ => Err(format!("{key}: {what} takes a string")),
    };
    match name.as_str() {
        "prefix" => Ok(Rule::Prefix(string("prefix")?)),
        "suffix" => Ok(Rule::Suffix(string("suffix")?)),
        "equals-ignore-case" => Ok(Rule::EqualsIgnoreCase(string("equals-ignore-case")?)),
        "exists" => match operand {
            Value::Bool(b) => Ok(Rule::Exists(*b)),
            _ => Err(format!("{key}: exists takes true or false")),
        },
        "anything-but" => match operand {
            Value::String(_) | Value::Number(_) => Ok(Rule::AnythingBut(vec![operand.clone()])),
            Value::Array(values)
                if !values.is_empty()
                    && (values.iter().all(Value::is_string)
                        || values.iter().all(Value::is_number)) =>
            {
                Ok(Rule::AnythingBut(values.clone()))
            }
            Value::Object(inner) if inner.len() == 1 && inner.contains_key("prefix") => {
                match &inner["prefix"] {
                    Value::String(p) => Ok(Rule::AnythingButPrefix(p.clone())),
                    _ => Err(format!("{key}: anything-but prefix takes a string")),
                }
            }
            _ => Err(format!(
                "{key}: anything-but takes a string, a number, a list of only strings or only numbers, or {{\"prefix\": ...}}"
            )),
        },
        "numeric" => parse_numeric(key, operand).map(Rule::Numeric),
        other => Err(format!(
            "{key}: unknown operator {other:?} (operators are lower case: prefix, suffix, equals-ignore-case, anything-but, numeric, exists)"
        )),
    }
}

fn parse_numeric(key: &str, operand: &Value) -> Result<Vec<(Comparison, f64)>, String> {
    let invalid = || {
        format!("{key}: numeric takes one or two [operator, number] pairs, e.g. [\">\", 10, \"<=\", 20]")
    };
    let Value::Array(items) = operand else {
        return Err(invalid());
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(invalid());
    }
    let mut comparisons = Vec::new();
    for pair in items.chunks(2) {
        let comparison = match pair[0].as_str() {
            Some("<") => Comparison::Lt,
            Some("<=") => Comparison::Le,
            Some("=") => Comparison::Eq,
            Some(">=") => Comparison::Ge,
            Some(">") => Comparison::Gt,
            _ => return Err(invalid()),
        };
        let number = pair[1].as_f64().ok_or_else(invalid)?;
        comparisons.push((comparison, number));
    }
    if let [(first, _), (second, _)] = comparisons.as_slice() {
        let lower = |c: &Comparison| matches!(c, Comparison::Gt | Comparison::Ge);
        let upper = |c: &Comparison| matches!(c, Comparison::Lt | Comparison::Le);
        if !(lower(first) && upper(second) || upper(first) && lower(second)) {
            return Err(invalid());
        }
    }
    Ok(comparisons)
}

impl Pattern {
    fn matches(&self, value: &Value) -> bool {
        let Value::Object(object) = value else {
            return false;
        };
        self.fields
            .iter()
            .all(|(key, node)| node.matches(object.get(key)))
            && self
                .or
                .iter()
                .all(|alternatives| alternatives.iter().any(|p| p.matches(value)))
    }
}

impl Node {
    fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Node::Nested(pattern) => match value {
                Some(Value::Array(items)) => items.iter().any(|item| pattern.matches(item)),
                Some(other) => pattern.matches(other),
                None => pattern.matches_absent(),
            },
            Node::Rules(rules) => rules.iter().any(|rule| rule.matches(value)),
        }
    }
}

impl Pattern {
    /// A missing object matches only a pattern made of `exists: false`.
    fn matches_absent(&self) -> bool {
        self.or.is_empty()
            && self.fields.iter().all(|(_, node)| match node {
                Node::Nested(inner) => inner.matches_absent(),
                Node::Rules(rules) => rules.contains(&Rule::Exists(false)),
            })
    }
}

impl Rule {
    fn matches(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Rule::Exists(wanted), value) => {
                let present = match value {
                    None | Some(Value::Object(_)) => false,
                    Some(Value::Array(items)) => !items.is_empty(),
                    Some(_) => true,
                };
                present == *wanted
            }
            (_, None) => false,
            (rule, Some(Value::Array(items))) => items.iter().any(|item| rule.matches_one(item)),
            (rule, Some(value)) => rule.matches_one(value),
        }
    }

    /// One present, non-array value.
    fn matches_one(&self, value: &Value) -> bool {
        match self {
            Rule::Equals(expected) => equal(expected, value),
            Rule::Prefix(prefix) => value
                .as_str()
                .is_some_and(|s| s.starts_with(prefix.as_str())),
            Rule::Suffix(suffix) => value.as_str().is_some_and(|s| s.ends_with(suffix.as_str())),
            Rule::EqualsIgnoreCase(expected) => value
                .as_str()
                .is_some_and(|s| s.to_lowercase() == expected.to_lowercase()),
            Rule::AnythingBut(excluded) => !excluded.iter().any(|e| equal(e, value)),
            Rule::AnythingButPrefix(prefix) => !value
                .as_str()
                .is_some_and(|s| s.starts_with(prefix.as_str())),
            Rule::Numeric(comparisons) => value.as_f64().is_some_and(|n| {
                comparisons
                    .iter()
                    .all(|(comparison, bound)| match comparison {
                        Comparison::Lt => n < *bound,
                        Comparison::Le => n <= *bound,
                        Comparison::Eq => n == *bound,
                        Comparison::Ge => n >= *bound,
                        Comparison::Gt => n > *bound,
                    })
            }),
            Rule::Exists(_) => unreachable!("handled with the field"),
        }
    }
}

/// Strings, booleans and null exactly; numbers by value (AWS's EventBridge
/// matches 300 against 300.0).
fn equal(expected: &Value, value: &Value) -> bool {
    match (expected, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == value,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn criteria(patterns: &[Value]) -> FilterCriteria {
        FilterCriteria::parse(&patterns.iter().map(Value::to_string).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// (pattern, document, matches), one row per documented example.
    fn check(rows: &[(Value, Value, bool)]) {
        for (pattern, document, expected) in rows {
            let got = criteria(std::slice::from_ref(pattern)).keeps_json(document);
            assert_eq!(got, *expected, "pattern {pattern} on {document}");
        }
    }

    #[test]
    fn the_lambda_guides_operator_table() {
        check(&[
            (json!({"UserID": [null]}), json!({"UserID": null}), true),
            (json!({"UserID": [null]}), json!({"UserID": "null"}), false),
            (json!({"LastName": [""]}), json!({"LastName": ""}), true),
            (json!({"LastName": [""]}), json!({"LastName": null}), false),
            (json!({"Name": ["Alice"]}), json!({"Name": "Alice"}), true),
            (json!({"Name": ["Alice"]}), json!({"Name": "alice"}), false),
            (
                json!({"Name": [{"equals-ignore-case": "alice"}]}),
                json!({"Name": "ALICE"}),
                true,
            ),
            (
                json!({"Location": ["New York"], "Day": ["Monday"]}),
                json!({"Location": "New York", "Day": "Monday"}),
                true,
            ),
            (
                json!({"Location": ["New York"], "Day": ["Monday"]}),
                json!({"Location": "New York", "Day": "Tuesday"}),
                false,
            ),
            (
                json!({"PaymentType": ["Credit", "Debit"]}),
                json!({"PaymentType": "Debit"}),
                true,
            ),
            (
                json!({"PaymentType": ["Credit", "Debit"]}),
                json!({"PaymentType": "Cash"}),
                false,
            ),
            (
                json!({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}),
                json!({"Location": "Boston", "Day": "Monday"}),
                true,
            ),
            (
                json!({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}),
                json!({"Location": "Boston", "Day": "Friday"}),
                false,
            ),
            (
                json!({"Weather": [{"anything-but": ["Raining"]}]}),
                json!({"Weather": "Sunny"}),
                true,
            ),
            (
                json!({"Weather": [{"anything-but": ["Raining"]}]}),
                json!({"Weather": "Raining"}),
                false,
            ),
            (
                json!({"Price": [{"numeric": ["=", 100]}]}),
                json!({"Price": 100}),
                true,
            ),
            (
                json!({"Price": [{"numeric": ["=", 100]}]}),
                json!({"Price": "100"}),
                false,
            ),
            (
                json!({"Price": [{"numeric": [">", 10, "<=", 20]}]}),
                json!({"Price": 20}),
                true,
            ),
            (
                json!({"Price": [{"numeric": [">", 10, "<=", 20]}]}),
                json!({"Price": 10}),
                false,
            ),
            (
                json!({"ProductName": [{"exists": true}]}),
                json!({"ProductName": "Soap"}),
                true,
            ),
            (
                json!({"ProductName": [{"exists": true}]}),
                json!({"Other": 1}),
                false,
            ),
            (
                json!({"ProductName": [{"exists": false}]}),
                json!({"Other": 1}),
                true,
            ),
            (
                json!({"ProductName": [{"exists": false}]}),
                json!({"ProductName": "x"}),
                false,
            ),
            (
                json!({"Region": [{"prefix": "us-"}]}),
                json!({"Region": "us-east-1"}),
                true,
            ),
            (
                json!({"Region": [{"prefix": "us-"}]}),
                json!({"Region": "eu-west-1"}),
                false,
            ),
            (
                json!({"FileName": [{"suffix": ".png"}]}),
                json!({"FileName": "a.png"}),
                true,
            ),
            (
                json!({"FileName": [{"suffix": ".png"}]}),
                json!({"FileName": "a.jpg"}),
                false,
            ),
        ]);
    }

    #[test]
    fn the_documented_matching_rules() {
        check(&[
            // Any element of an array in the record (the tire-pressure example).
            (
                json!({"tire_pressure": [{"numeric": ["<", 32]}]}),
                json!({"tire_pressure": [41, 40, 31, 41]}),
                true,
            ),
            // exists works on leaves only: an object is not "existing".
            (
                json!({"person": {"address": [{"exists": true}]}}),
                json!({"person": {"name": "John", "address": {"street": "123 Main St"}}}),
                false,
            ),
            (
                json!({"presentKey": [{"exists": false}]}),
                json!({"presentKey": {"S": "presentValue"}}),
                true,
            ),
            (
                json!({"list": [{"exists": true}]}),
                json!({"list": []}),
                false,
            ),
            // anything-but matches null but not a missing field.
            (
                json!({"state": [{"anything-but": "initializing"}]}),
                json!({"state": null}),
                true,
            ),
            (
                json!({"state": [{"anything-but": "initializing"}]}),
                json!({}),
                false,
            ),
            (
                json!({"x-limit": [{"anything-but": [100, 200, 300]}]}),
                json!({"x-limit": 999}),
                true,
            ),
            (
                json!({"x-limit": [{"anything-but": [100, 200, 300]}]}),
                json!({"x-limit": 100}),
                false,
            ),
            (
                json!({"state": [{"anything-but": {"prefix": "init"}}]}),
                json!({"state": "post-init"}),
                true,
            ),
            (
                json!({"state": [{"anything-but": {"prefix": "init"}}]}),
                json!({"state": "init-x"}),
                false,
            ),
            // Keys and values are case-sensitive; JSON inside a string is not parsed.
            (json!({"Name": ["Alice"]}), json!({"name": "Alice"}), false),
            (
                json!({"detail": {"my-key": ["v"]}}),
                json!({"detail": "{\"my-key\":\"v\"}"}),
                false,
            ),
            // Nested to any depth; several rules in one list are alternatives.
            (
                json!({"a": {"b": {"c": [{"exists": true}, {"prefix": "x"}]}}}),
                json!({"a": {"b": {"c": "xyz"}}}),
                true,
            ),
            (
                json!({"time": [{"prefix": "2017-10-02"}]}),
                json!({"time": "2017-10-02T18:43:48Z"}),
                true,
            ),
            (json!({"n": [300]}), json!({"n": 300.0}), true),
            (
                json!({"prefix": [{"prefix": ""}]}),
                json!({"prefix": "anything"}),
                true,
            ),
            (
                json!({"c": [{"numeric": [">", 0, "<=", 5]}], "d": [{"numeric": ["<", 10]}], "x": [{"numeric": ["=", 3.018e2]}]}),
                json!({"c": 3, "d": 9, "x": 301.8}),
                true,
            ),
            (
                json!({"c": [{"numeric": [">", 0, "<=", 5]}], "d": [{"numeric": ["<", 10]}]}),
                json!({"c": 42, "d": 9}),
                false,
            ),
        ]);
    }

    #[test]
    fn kinesis_records_are_filtered_on_their_decoded_data() {
        let record = |data: &[u8]| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: "1".into(),
            partition_key: "1".into(),
            data: data.to_vec(),
            arrival: 0.0,
        };
        let buys = criteria(&[json!({"data": {"order": {"type": ["buy"]}}})]);
        assert!(buys.keeps(&record(
            br#"{"record":12345,"order":{"type":"buy","stock":"ANYCO","quantity":1000}}"#
        )));
        assert!(!buys.keeps(&record(br#"{"record":12345,"order":{"type":"sell"}}"#)));
        assert!(
            !buys.keeps(&record(b"Hello, this is a test.")),
            "non-JSON data is dropped"
        );
        let by_key =
            criteria(&[json!({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}})]);
        assert!(by_key.keeps(&record(br#"{"Location":"Los Angeles"}"#)));
        let metadata_only = criteria(&[json!({"partitionKey": ["1"]})]);
        assert!(
            metadata_only.keeps(&record(b"not json")),
            "no data pattern: data is not looked at"
        );
        let either = criteria(&[json!({"data": {"t": ["a"]}}), json!({"data": {"t": ["b"]}})]);
        assert!(either.keeps(&record(br#"{"t":"b"}"#)), "patterns are ORed");
        assert!(
            FilterCriteria::default().keeps(&record(b"x")),
            "no filter keeps everything"
        );
    }

    #[test]
    fn invalid_patterns_are_refused_as_aws_refuses_them() {
        for bad in [
            "null",
            "\"simple string\"",
            r#"{"eventSource":"aws:sqs"}"#,
            r#"{"eventSource":[]}"#,
            r#"[{"eventName": ["INSERT"=123}]"#,
            r#"{"x":[{"prefix":["a"]}]}"#,
            r#"{"x":[{"prefix":1}]}"#,
            r#"{"x":[{"NUMERIC":[">",0]}]}"#,
            r#"{"x":[{"EXISTS":true}]}"#,
            r#"{"x":[{"numeric":[">",0,">",0]}]}"#,
            r#"{"x":[{"numeric":[">",0,"<"]}]}"#,
            r#"{"x":[{"numeric":10}]}"#,
            r#"{"x":[{"anything-but":[1,"a"]}]}"#,
            r#"{"int":42}"#,
        ] {
            assert!(
                FilterCriteria::parse(&[bad.to_owned()]).is_err(),
                "{bad} should be refused"
            );
        }
        let six = vec![r#"{"a":["b"]}"#.to_owned(); 6];
        assert_eq!(FilterCriteria::parse(&six), Err(FilterError::TooMany(6)));
    }
}
