#!/usr/bin/env bash
# Static checks of terraform/: fmt, init + validate of every root and module,
# the default-drift guard between the roots and modules/stack, checkov, and
# parliament on the consumer role's policy as Terraform renders it (on a
# throwaway moto server).
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
for module in terraform/modules/*/; do
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

# modules/stack and both roots declare the same variables; their defaults must
# agree (the harness compares terraform/variables.tf with its own defaults).
say "defaults of terraform/, terraform/local/ and modules/stack agree"
"$venv/bin/python" - <<'PY'
import sys
import hcl2  # shipped with checkov (bc-python-hcl2)

def defaults(path):
    with open(path) as f:
        doc = hcl2.load(f)
    out = {}
    for block in doc.get("variable", []):
        for name, body in block.items():
            out[name] = body.get("default", "<required>")
    return out

stack = defaults("terraform/modules/stack/variables.tf")
# What only the emulator root changes: it seeds the article's items and lets
# the table be destroyed.
local_only = {"seed_items", "table_deletion_protection_enabled"}
problems = []
for root, must_cover in (("terraform/variables.tf", True), ("terraform/local/variables.tf", False)):
    mine = defaults(root)
    for name, value in stack.items():
        if name in ("lambda_zip_path", "tags"):
            continue  # resolved/declared per root on purpose
        if must_cover and name == "alarm_sns_topic_arns" and mine.get(name) == "<required>":
            continue  # production must name who the alarms reach
        if not must_cover and name in local_only:
            continue
        if name not in mine:
            if must_cover:
                problems.append(f"{root}: missing variable {name!r} of modules/stack")
            continue
        if mine[name] == "<required>" and not must_cover:
            continue  # the emulator root may insist on a value (the fake API key)
        if mine[name] != value:
            problems.append(f"{root}: default of {name!r} is {mine[name]!r}, modules/stack has {value!r}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"{len(stack)} stack variables checked")
PY

# Every validation refuses its bad input, against a mock provider (no emulator).
for dir in terraform terraform/modules/stack; do
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
  venv_tool 'moto[server]' moto_server
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
  -target=module.defaults.aws_iam_role_policy.this -target=module.everything.aws_iam_role_policy.this \
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

say "terraform checks passed"
