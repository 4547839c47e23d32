#!/usr/bin/env bash
# Static checks of terraform/: fmt, the READMEs' tables, init + validate of
# every root, example and module, terraform test (mock provider), checkov,
# parliament on the consumer role's policy as Terraform renders it and a plan
# of each example (both on a throwaway moto server).
# Idempotent; exits non-zero on the first failure. Run from anywhere:
#   bash .ci/terraform-check.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

say() { printf '==> %s\n' "$*"; }
die() { printf 'terraform-check: %s\n' "$*" >&2; exit 1; }

command -v terraform >/dev/null 2>&1 || die "terraform is not on PATH (install Terraform >= 1.11: https://developer.hashicorp.com/terraform/install)"
command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH (needed to install checkov)"

# Offline machines carry an unpacked provider mirror; use it only where it exists,
# otherwise `terraform init` uses the public registry as usual.
if [ -d /opt/tf-plugins ]; then
  export TF_CLI_CONFIG_FILE="$repo/terraform/offline.tfrc"
  say "using the provider mirror /opt/tf-plugins ($TF_CLI_CONFIG_FILE)"
else
  # One download of the AWS provider for all directories instead of one each.
  export TF_PLUGIN_CACHE_DIR="${TF_PLUGIN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-plugin-cache}"
  mkdir -p "$TF_PLUGIN_CACHE_DIR"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0

# Working directories live outside the tree and go away afterwards; the lock
# files terraform writes next to the configuration are git-ignored.
work="$(mktemp -d "${TMPDIR:-/tmp}/terraform-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "terraform fmt -check -recursive terraform"
terraform fmt -check -recursive -diff terraform

say "module READMEs' input/output tables match variables.tf and outputs.tf"
python3 .ci/tf-docs.py --check

dirs=(terraform terraform/local)
for module in terraform/examples/*/ terraform/modules/*/; do
  dirs+=("${module%/}")
done

for dir in "${dirs[@]}"; do
  say "init + validate $dir"
  export TF_DATA_DIR="$work/${dir//\//_}"
  terraform -chdir="$dir" init -backend=false -input=false -no-color >"$work/init.log" 2>&1 \
    || { cat "$work/init.log" >&2; die "terraform init failed in $dir"; }
  terraform -chdir="$dir" validate -no-color
done
unset TF_DATA_DIR

# checkov and parliament, in the project's git-ignored venv (installed once).
venv="$repo/.local/venv"
source .ci/install.sh
for tool in checkov parliament; do
  venv_tool "$tool" "$tool"
done

# Every validation refuses its bad input, the plan has its shape and the key
# stays write-only, against a mock provider (no emulator).
for dir in terraform terraform/modules/stack terraform/modules/api-key; do
  say "terraform test in $dir"
  export TF_DATA_DIR="$work/test_${dir//\//_}"
  terraform -chdir="$dir" init -backend=false -input=false -no-color >"$work/init.log" 2>&1 \
    || { cat "$work/init.log" >&2; die "terraform init failed in $dir"; }
  terraform -chdir="$dir" test -no-color
done
unset TF_DATA_DIR

say "checkov -d terraform"
"$venv/bin/checkov" -d terraform --quiet --compact --framework terraform --skip-download

# parliament reads policy JSON, so the policy is rendered first: the role
# policy (and only what it depends on) applied to a moto server of its own,
# in two variants (defaults; every optional statement on). Any finding fails;
# a justified one would be listed in .ci/parliament.yaml.
say "parliament on the consumer role's rendered policies"
if ! moto="$(command -v moto_server)"; then
  venv_tool 'moto[server]==5.2.1' moto_server # as emulators::install::MOTO
  moto="$venv/bin/moto_server"
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null && break
  sleep 0.1
done
export TF_DATA_DIR="$work/iam-policy"
render=(-chdir=.ci/iam-policy)
terraform "${render[@]}" init -input=false -no-color >"$work/init.log" 2>&1 \
  || { cat "$work/init.log" >&2; die "terraform init failed in .ci/iam-policy"; }
terraform "${render[@]}" apply -auto-approve -no-color -input=false -state="$work/iam.tfstate" \
  -var "endpoint=http://127.0.0.1:$port" \
  -target=module.defaults.module.consumer.aws_iam_role_policy.this -target=module.everything.module.consumer.aws_iam_role_policy.this \
  >"$work/apply.log" 2>&1 || { cat "$work/apply.log" >&2; die "rendering the role policy failed"; }
mkdir -p "$work/policies"
terraform "${render[@]}" output -state="$work/iam.tfstate" -json policies \
  | python3 -c '
import json, sys
for name, policy in json.load(sys.stdin).items():
    with open(sys.argv[1] + "/" + name + ".json", "w") as f:
        f.write(policy)
    print(name + ": " + str(len(json.loads(policy)["Statement"])) + " statements")
' "$work/policies"
unset TF_DATA_DIR
"$venv/bin/parliament" --directory "$work/policies" --include-community-auditors </dev/null \
  || die "parliament reported findings in the consumer role's policy (above)"

# The examples, planned as a deployer would, with the same moto standing in
# for the account (plans only: nothing is created).
for example in terraform/examples/*/; do
  example="${example%/}"
  say "terraform plan $example (on moto)"
  export TF_DATA_DIR="$work/${example//\//_}"
  vars=(-var region=us-east-1 -var "lambda_zip_path=$repo/terraform/modules/stack/tests/fixture.zip"
    -var momento_api_key_parameter_arn=arn:aws:ssm:us-east-1:123456789012:parameter/momento-api-key
    -var alarm_sns_topic_arn=arn:aws:sns:us-east-1:123456789012:oncall)
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    terraform -chdir="$example" plan -input=false -no-color -lock=false "${vars[@]}" >"$work/plan.log" 2>&1 \
    || { cat "$work/plan.log" >&2; die "planning $example failed"; }
  grep -E '^Plan:' "$work/plan.log"
done
unset TF_DATA_DIR

# The production root as committed, its S3 backend on the same moto, planned
# with the inputs a deployer gives, and checkov on that plan: what is
# deployed, every value resolved (the scan above sees only the modules'
# variables). Findings that apply are fixed; the two that do not are
# skipped in the source with their reasons (terraform/README.md, "Security
# review"), which --repo-root-for-plan-enrichment reads.
say "checkov on the production root's plan (on moto)"
export TF_DATA_DIR="$work/production"
python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$port/terraform-state', method='PUT'))"
printf '%s\n' 'bucket = "terraform-state"' 'key = "prod/terraform.tfstate"' 'region = "us-east-1"' \
  'use_path_style = true' 'skip_credentials_validation = true' 'skip_requesting_account_id = true' \
  'skip_metadata_api_check = true' "endpoints = { s3 = \"http://127.0.0.1:$port\" }" >"$work/backend.hcl"
production_env=(AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)
env "${production_env[@]}" terraform -chdir=terraform init -input=false -no-color -backend-config="$work/backend.hcl" >"$work/init.log" 2>&1 \
  || { cat "$work/init.log" >&2; die "terraform init of the production root failed"; }
env "${production_env[@]}" terraform -chdir=terraform plan -input=false -no-color -out="$work/production.tfplan" \
  -var region=us-east-1 -var name_prefix=prod- \
  -var "lambda_zip_path=$repo/terraform/modules/stack/tests/fixture.zip" \
  -var kms_key_arn=arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001 \
  -var momento_api_key_parameter_arn=arn:aws:ssm:us-east-1:123456789012:parameter/prod-kinesis-consumer-model-one/momento-api-key \
  -var reserved_concurrent_executions=10 \
  -var 'alarm_sns_topic_arns=["arn:aws:sns:us-east-1:123456789012:oncall"]' >"$work/plan.log" 2>&1 \
  || { cat "$work/plan.log" >&2; die "planning the production root failed"; }
grep -E '^Plan:' "$work/plan.log"
env "${production_env[@]}" terraform -chdir=terraform show -json "$work/production.tfplan" >"$work/production.json"
"$venv/bin/checkov" -f "$work/production.json" --framework terraform_plan --skip-download --quiet --compact \
  --repo-root-for-plan-enrichment terraform
unset TF_DATA_DIR

say "terraform checks passed"
