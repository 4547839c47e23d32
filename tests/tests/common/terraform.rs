//! `terraform` run against the emulator, for the tests that apply the stack.

use std::path::{Path, PathBuf};
use std::process::Command;

use emulators::workspace_root;
use serde_json::Value;

/// `terraform -chdir=<root> ...` with its data, state and plans in a
/// temporary directory, and the variables and environment every run passes.
pub struct Terraform {
    pub root: &'static str,
    pub work: tempfile::TempDir,
    pub variables: Vec<String>,
    pub env: Vec<(&'static str, String)>,
    /// State in the S3 backend (the production root), not a local file.
    pub remote_state: bool,
}

impl Terraform {
    /// The emulator root, `terraform/local`, pointed at `endpoint`.
    pub fn new(endpoint: &str, zip: &Path) -> Self {
        Self::new_with(endpoint, zip, &[])
    }

    /// The same with more variables of its own (a stage's prefix, say).
    pub fn new_with(endpoint: &str, zip: &Path, variables: &[&str]) -> Self {
        let mut all = vec![
            format!("endpoint={endpoint}"),
            format!("lambda_zip_path={}", zip.display()),
        ];
        all.extend(variables.iter().map(|v| v.to_string()));
        Self::init("terraform/local", all, Vec::new())
    }

    /// The production root, `terraform`, exactly as committed; its AWS
    /// provider reaches `endpoint` through the SDK's standard environment,
    /// and its S3 backend a bucket on the same emulator, configured as a
    /// deployer does: `-backend-config` with a file like backend.hcl.example.
    pub async fn production(endpoint: &str, zip: &Path) -> Self {
        let bucket = reqwest::Client::new()
            .put(format!("{endpoint}/terraform-state"))
            .send()
            .await
            .unwrap();
        assert!(bucket.status().is_success(), "{bucket:?}");
        let terraform = Self {
            root: "terraform",
            work: tempfile::tempdir().unwrap(),
            variables: vec![
                format!("lambda_zip_path={}", zip.display()),
                "region=us-east-1".to_owned(),
                "name_prefix=prod-".to_owned(),
                "reserved_concurrent_executions=10".to_owned(),
                r#"alarm_sns_topic_arns=["arn:aws:sns:us-east-1:123456789012:oncall"]"#.to_owned(),
            ],
            env: vec![
                ("AWS_ENDPOINT_URL", endpoint.to_owned()),
                ("AWS_ACCESS_KEY_ID", "test".to_owned()),
                ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ],
            remote_state: true,
        };
        let without = terraform
            .command(&["init", "-input=false", "-no-color"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&without.stderr);
        assert!(
            !without.status.success() && said.contains("\"bucket\" is required"),
            "init without backend settings stops and says what it needs: {said}"
        );
        // Where the state lives, as backend.hcl.example says (encryption and
        // locking are the root's own, not the deployer's to forget).
        let backend = terraform.work.path().join("backend.hcl");
        std::fs::write(
            &backend,
            format!(
                "bucket = \"terraform-state\"\nkey = \"prod/terraform.tfstate\"\nregion = \"us-east-1\"\n\
                 use_path_style = true\n\
                 skip_credentials_validation = true\nskip_requesting_account_id = true\n\
                 skip_metadata_api_check = true\nendpoints = {{ s3 = \"{endpoint}\" }}\n"
            ),
        )
        .unwrap();
        terraform.run(&[
            "init",
            "-input=false",
            "-no-color",
            &format!("-backend-config={}", backend.display()),
        ]);
        terraform
    }

    pub fn init(
        root: &'static str,
        variables: Vec<String>,
        env: Vec<(&'static str, String)>,
    ) -> Self {
        let terraform = Self {
            root,
            work: tempfile::tempdir().unwrap(),
            variables,
            env,
            remote_state: false,
        };
        terraform.run(&["init", "-input=false", "-no-color"]);
        terraform
    }

    /// `-state=<file>` for a local state; nothing for the S3 backend.
    pub fn state_arg(&self) -> Option<String> {
        (!self.remote_state).then(|| format!("-state={}", self.state().display()))
    }

    pub fn state(&self) -> PathBuf {
        self.work.path().join("terraform.tfstate")
    }

    pub fn plan_file(&self, name: &str) -> PathBuf {
        self.work.path().join(format!("{name}.tfplan"))
    }

    /// Runs terraform; returns its standard output.
    pub fn run(&self, args: &[&str]) -> String {
        let output = self.command(args).output().unwrap();
        assert!(
            output.status.success(),
            "terraform {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let root = workspace_root();
        let mut command = Command::new("terraform");
        command
            .arg(format!("-chdir={}", root.join(self.root).display()))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("TF_DATA_DIR", self.work.path().join("data"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0");
        if Path::new("/opt/tf-plugins").is_dir() {
            command.env("TF_CLI_CONFIG_FILE", root.join("terraform/offline.tfrc"));
        }
        command
    }

    /// `-var` arguments: the common ones, then `extra`.
    pub fn var_args(&self, extra: &[&str]) -> Vec<String> {
        self.variables
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .flat_map(|v| ["-var".to_owned(), v.to_owned()])
            .collect()
    }

    /// `terraform plan -out <name>.tfplan`, then `terraform apply` of that
    /// saved plan (ephemeral variables are given again, as Terraform requires).
    pub fn plan_and_apply(&self, name: &str, extra: &[&str]) {
        let plan = self.plan_file(name);
        self.plan(name, extra);
        let mut args = vec![
            "apply".to_owned(),
            "-auto-approve".into(),
            "-no-color".into(),
        ];
        args.extend(self.state_arg());
        args.extend(self.var_args(extra));
        args.push(plan.display().to_string());
        self.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// `terraform apply` without a saved plan and without refreshing what
    /// the state holds (`-refresh=false`): seconds against moto, for a
    /// change to one resource. `args` go before the variables (`-destroy`,
    /// `-target=...`).
    pub fn apply_quick(&self, variables: &[&str], args: &[&str]) {
        let mut all = vec![
            "apply".to_owned(),
            "-auto-approve".into(),
            "-no-color".into(),
            "-refresh=false".into(),
        ];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        all.extend(self.state_arg());
        all.extend(self.var_args(variables));
        self.run(&all.iter().map(String::as_str).collect::<Vec<_>>());
    }

    pub fn plan(&self, name: &str, extra: &[&str]) {
        let mut args = vec!["plan".to_owned(), "-no-color".into()];
        args.extend(self.state_arg());
        args.push(format!("-out={}", self.plan_file(name).display()));
        args.extend(self.var_args(extra));
        self.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    pub fn destroy(&self, extra: &[&str]) {
        let mut args = vec![
            "apply".to_owned(),
            "-destroy".into(),
            "-auto-approve".into(),
            "-no-color".into(),
        ];
        args.push(format!("-state={}", self.state().display()));
        args.extend(self.var_args(extra));
        self.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// A saved plan as JSON (`terraform show -json`).
    pub fn show(&self, name: &str) -> Value {
        let plan = self.plan_file(name).display().to_string();
        serde_json::from_str(&self.run(&["show", "-json", "-no-color", &plan])).unwrap()
    }

    /// Fails if `secret` is in the state file, in any saved plan (each
    /// member of its zip, uncompressed) or in `terraform show -json` of one.
    pub fn assert_nowhere(&self, secret: &str, plans: &[&str]) {
        let state = std::fs::read_to_string(self.state()).unwrap();
        assert!(!state.contains(secret), "{secret} is in the state file");
        for name in plans {
            let contents = unzipped(&self.plan_file(name));
            assert!(
                !contents
                    .windows(secret.len())
                    .any(|w| w == secret.as_bytes()),
                "{secret} is in the saved plan {name}"
            );
            assert!(
                !self.show(name).to_string().contains(secret),
                "{secret} is in `terraform show -json` of {name}"
            );
        }
    }
}

/// Every member of a zip file (a saved plan), uncompressed and concatenated.
pub fn unzipped(path: &Path) -> Vec<u8> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist(): sys.stdout.buffer.write(z.read(n))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.is_empty(), "{} is empty", path.display());
    output.stdout
}
