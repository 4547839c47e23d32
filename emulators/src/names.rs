//! The one set of resource names the harness, the tests and the Terraform
//! defaults share (a test compares them with `terraform/variables.tf`).

/// Names and region of every resource the system uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub region: String,
    pub stream: String,
    pub table: String,
    /// SSM SecureString holding the Momento API key.
    pub parameter: String,
    pub cache: String,
    /// Poison records with their reason (the consumer's `DLQ_URL`).
    pub dead_letter_queue: String,
    /// The mapping's on-failure destination: pointers to records it gave up on.
    pub on_failure_queue: String,
    pub function: String,
}

impl Default for Names {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            stream: "model-one-stream".into(),
            table: "Locations".into(),
            parameter: "/kinesis-consumer-model-one/momento-api-key".into(),
            cache: "sample-a".into(),
            dead_letter_queue: "kinesis-consumer-model-one-dlq".into(),
            on_failure_queue: "kinesis-consumer-model-one-on-failure".into(),
            function: "kinesis-consumer-model-one-rust".into(),
        }
    }
}
