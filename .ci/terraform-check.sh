#!/usr/bin/env bash
# Static checks of terraform/: fmt, init + validate of every root and module,
# the default-drift guard between the roots and modules/stack, and checkov.
# Idempotent; exits non-zero on the first failure. Run from anywhere:
#   bash .ci/terraform-check.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

say() { printf '==> %s\n' "$*"; }
die() { printf 'terraform-check: %s\n' "$*" >&2; exit 1; }

command -v terraform >/dev/null 2>&1 || die "terraform is not on PATH (install Terraform >= 1.5: https://developer.hashicorp.com/terraform/install)"
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

# checkov, in the project's git-ignored venv (installed once).
venv="$repo/.local/venv"
if [ ! -x "$venv/bin/checkov" ]; then
  say "installing checkov into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check checkov
fi

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
problems = []
for root, must_cover in (("terraform/variables.tf", True), ("terraform/local/variables.tf", False)):
    mine = defaults(root)
    for name, value in stack.items():
        if name in ("lambda_zip_path", "tags"):
            continue  # resolved/declared per root on purpose
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

say "checkov -d terraform"
"$venv/bin/checkov" -d terraform --quiet --compact --framework terraform --skip-download

say "terraform checks passed"
