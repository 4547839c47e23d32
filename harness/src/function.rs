//! The function an event-source mapping invokes, as the Lambda API says it
//! is now: the alias resolved to its version (GetAlias), that version's
//! configuration (GetFunction with the version as qualifier), its reserved
//! concurrency (GetFunctionConcurrency: moto leaves it out of a qualified
//! GetFunction). moto reports a mapping's FunctionArn with the version the
//! alias pointed to when the mapping was created and never follows the
//! alias; resolving the alias again is how a newly published version's
//! configuration is what runs. `run` and `redrive` use it.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::error::DisplayErrorContext;

/// A function's configuration, at one version.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    pub name: String,
    /// What was asked for: an alias, a version, or `$LATEST`.
    pub qualifier: String,
    /// The version it resolved to.
    pub version: String,
    /// The qualified ARN of that version.
    pub arn: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub timeout: Duration,
    pub memory_mb: i32,
    pub environment: BTreeMap<String, String>,
    /// Of the deployed zip, base64 (compare with a local zip's).
    pub code_sha256: Option<String>,
    pub reserved_concurrency: Option<i32>,
    pub architectures: Vec<String>,
}

/// Why a function could not be resolved.
#[derive(Debug, thiserror::Error)]
#[error("{operation} {function}: {message}")]
pub struct ResolveError {
    pub operation: &'static str,
    pub function: String,
    pub message: String,
}

/// A function's name from a name or an ARN (qualified or not).
pub fn function_name(name_or_arn: &str) -> &str {
    match name_or_arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        _ => name_or_arn,
    }
}

/// The qualifier a function ARN carries, if any (`...:function:f:live`).
pub fn arn_qualifier(arn: &str) -> Option<&str> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, _, "function", _, qualifier] => Some(qualifier),
        _ => None,
    }
}

/// Resolves `qualifier` (an alias, a version or `$LATEST`) of the function
/// `name_or_arn` to its version and that version's configuration.
///
/// # Errors
/// [`ResolveError`] naming the call that failed.
pub async fn resolve(
    lambda: &aws_sdk_lambda::Client,
    name_or_arn: &str,
    qualifier: &str,
) -> Result<FunctionConfig, ResolveError> {
    let name = function_name(name_or_arn).to_owned();
    let failed = |operation: &'static str, message: String| ResolveError {
        operation,
        function: format!("{name}:{qualifier}"),
        message,
    };
    let is_version = qualifier == "$LATEST" || qualifier.chars().all(|c| c.is_ascii_digit());
    let version = if is_version {
        qualifier.to_owned()
    } else {
        lambda
            .get_alias()
            .function_name(&name)
            .name(qualifier)
            .send()
            .await
            .map_err(|e| failed("lambda:GetAlias", DisplayErrorContext(e).to_string()))?
            .function_version
            .unwrap_or_else(|| "$LATEST".to_owned())
    };
    let function = lambda
        .get_function()
        .function_name(&name)
        .qualifier(&version)
        .send()
        .await
        .map_err(|e| failed("lambda:GetFunction", DisplayErrorContext(e).to_string()))?;
    let configuration = function
        .configuration
        .ok_or_else(|| failed("lambda:GetFunction", "no configuration".into()))?;
    let reserved_concurrency = lambda
        .get_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .ok()
        .and_then(|c| c.reserved_concurrent_executions);
    Ok(FunctionConfig {
        arn: configuration.function_arn().unwrap_or_default().to_owned(),
        runtime: configuration.runtime().map(|r| r.as_str().to_owned()),
        handler: configuration.handler().map(str::to_owned),
        timeout: Duration::from_secs(
            u64::try_from(configuration.timeout().unwrap_or(3)).unwrap_or(3),
        ),
        memory_mb: configuration.memory_size().unwrap_or(128),
        environment: configuration
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        code_sha256: configuration.code_sha256().map(str::to_owned),
        architectures: configuration
            .architectures()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        reserved_concurrency,
        name,
        qualifier: qualifier.to_owned(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_qualifiers_come_out_of_arns() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
        assert_eq!(function_name(arn), "f");
        assert_eq!(arn_qualifier(arn), None);
        assert_eq!(function_name(&format!("{arn}:live")), "f");
        assert_eq!(arn_qualifier(&format!("{arn}:7")), Some("7"));
        assert_eq!(function_name("plain-name"), "plain-name");
    }
}
