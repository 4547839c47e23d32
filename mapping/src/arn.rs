//! The ARNs the mapping reads and writes. One account and one region name
//! every ARN of a mapping: the stream's. The function's execution role is
//! named as the Terraform module names it (`<function>-role`).

/// An ARN's parts: `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    /// `None` for anything that is not an ARN.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Self {
            partition: parts.next()?.to_owned(),
            service: parts.next()?.to_owned(),
            region: parts.next()?.to_owned(),
            account: parts.next()?.to_owned(),
            resource: parts.next()?.to_owned(),
        };
        (!arn.partition.is_empty() && !arn.service.is_empty()).then_some(arn)
    }

    /// For a Kinesis ARN (`stream/<name>` or `stream/<name>/consumer/<consumer>:<time>`),
    /// the stream's name.
    pub fn stream_name(&self) -> Option<&str> {
        let rest = self.resource.strip_prefix("stream/")?;
        rest.split('/').next().filter(|name| !name.is_empty())
    }

    /// Whether this is an enhanced fan-out consumer's ARN.
    pub fn is_stream_consumer(&self) -> bool {
        self.service == "kinesis" && self.resource.contains("/consumer/")
    }
}

/// The stream's name: `stream` itself, or the name in a stream or consumer ARN.
pub fn stream_name(stream: &str) -> &str {
    match stream.split_once(":stream/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => stream,
    }
}

/// The ARNs a mapping names its function and role by, in its stream's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionArns {
    pub function: String,
    pub role: String,
}

impl FunctionArns {
    /// `function_name` in the account and region of `stream_arn`
    /// (`region` where the stream ARN has none, as for a file).
    pub fn new(stream_arn: &str, region: &str, function_name: &str) -> Self {
        let parsed = Arn::parse(stream_arn);
        let partition = parsed.as_ref().map_or("aws", |a| a.partition.as_str());
        let account = parsed
            .as_ref()
            .map_or("000000000000", |a| a.account.as_str());
        let region = parsed
            .as_ref()
            .map(|a| a.region.as_str())
            .filter(|r| !r.is_empty())
            .unwrap_or(region);
        Self {
            function: format!("arn:{partition}:lambda:{region}:{account}:function:{function_name}"),
            role: format!("arn:{partition}:iam::{account}:role/{function_name}-role"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stream_and_consumer_arns() {
        let arn =
            Arn::parse("arn:aws:kinesis:eu-west-1:123456789012:stream/model-one-stream").unwrap();
        assert_eq!(
            (arn.region.as_str(), arn.account.as_str(), arn.stream_name()),
            ("eu-west-1", "123456789012", Some("model-one-stream"))
        );
        assert!(!arn.is_stream_consumer());
        let consumer =
            Arn::parse("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1700000000")
                .unwrap();
        assert_eq!(consumer.stream_name(), Some("s"));
        assert!(consumer.is_stream_consumer());
        assert_eq!(Arn::parse("model-one-stream"), None);
        assert_eq!(stream_name("model-one-stream"), "model-one-stream");
        assert_eq!(
            stream_name("arn:aws:kinesis:us-east-1:1:stream/s/consumer/c:1"),
            "s"
        );
    }

    #[test]
    fn the_function_and_its_role_live_in_the_streams_account() {
        let arns = FunctionArns::new(
            "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
            "us-east-1",
            "consumer",
        );
        assert_eq!(
            arns.function,
            "arn:aws:lambda:eu-west-1:123456789012:function:consumer"
        );
        assert_eq!(arns.role, "arn:aws:iam::123456789012:role/consumer-role");
    }
}
