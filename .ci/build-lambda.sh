#!/usr/bin/env bash
# Builds the consumer's Lambda zip with cargo-lambda (installed with pip into
# .local/venv when missing; it brings its own zig for cross-linking) and the
# Rust target it needs. Usage: build-lambda.sh [--arm64|--x86-64]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arch="${1:---arm64}"
case "$arch" in
  --arm64) target=aarch64-unknown-linux-gnu ;;
  --x86-64) target=x86_64-unknown-linux-gnu ;;
  *) echo "usage: $0 [--arm64|--x86-64]" >&2; exit 2 ;;
esac

export PATH="$PWD/.local/venv/bin:$PATH"
if ! cargo lambda --help >/dev/null 2>&1; then
  echo "installing cargo-lambda into .local/venv" >&2
  [ -x .local/venv/bin/python ] || python3 -m venv .local/venv
  .local/venv/bin/python -m pip install --quiet --disable-pip-version-check cargo-lambda
fi
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

cargo lambda build --release "$arch" --output-format zip -p consumer --bin bootstrap
zip=target/lambda/bootstrap/bootstrap.zip
bytes=$(stat -c %s "$zip")
awk -v b="$bytes" -v z="$zip" 'BEGIN { printf "%s: %.2f MB (%d bytes; target <= 8 MB)\n", z, b / 1e6, b }'
