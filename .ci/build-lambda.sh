#!/usr/bin/env bash
# Builds the consumer's Lambda zip with cargo-lambda (installed with pip into
# .local/venv when missing; it brings its own zig for cross-linking) and the
# Rust target it needs.
#
# Usage: build-lambda.sh [--arm64|--x86-64] [--dev]
#   default: the zip you deploy, target/lambda/bootstrap/bootstrap.zip: the
#            release profile with what cargo-lambda adds to it (LTO, one
#            codegen unit, strip, panic=abort, the Lambda CPU; see Cargo.toml)
#   --dev:   the dev profile into target/lambda-dev/bootstrap/bootstrap.zip, a
#            few minutes faster; what CI and the Terraform apply test deploy to
#            the emulator, which never runs it (never deploy it to AWS)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
usage() { echo "usage: $0 [--arm64|--x86-64] [--dev]" >&2; exit 2; }
target=aarch64-unknown-linux-gnu
arch=--arm64
profile=(--release)
lambda_dir=target/lambda
for arg in "$@"; do
  case "$arg" in
    --arm64) target=aarch64-unknown-linux-gnu; arch=--arm64 ;;
    --x86-64) target=x86_64-unknown-linux-gnu; arch=--x86-64 ;;
    --dev) profile=(); lambda_dir=target/lambda-dev ;;
    *) usage ;;
  esac
done

source .ci/install.sh
export PATH="$PWD/.local/venv/bin:$PATH"
command -v cargo-lambda >/dev/null 2>&1 || venv_tool cargo-lambda cargo-lambda
rust_target "$target"

cargo lambda build ${profile[@]+"${profile[@]}"} "$arch" --output-format zip --lambda-dir "$lambda_dir" -p consumer --bin bootstrap
zip=$lambda_dir/bootstrap/bootstrap.zip
bytes=$(stat -c %s "$zip")
if [ ${#profile[@]} -eq 0 ]; then
  note="dev profile: for the emulator, not for deployment"
else
  note="target <= 8 MB"
fi
awk -v b="$bytes" -v z="$zip" -v n="$note" 'BEGIN { printf "%s: %.2f MB (%d bytes; %s)\n", z, b / 1e6, b, n }'
