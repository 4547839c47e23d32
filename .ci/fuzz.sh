#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (default 60 s each) and
# prints its executions. Installs cargo-fuzz when missing; uses the nightly
# toolchain when there is one, else stable with RUSTC_BOOTSTRAP (cargo-fuzz
# passes -Z flags). Usage: fuzz.sh [seconds-per-target] [target...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(record_decoder batch_input deaggregate)
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 [seconds-per-target] [target...]" >&2; exit 2 ;;
esac

if ! cargo fuzz --help >/dev/null 2>&1; then
  echo "installing cargo-fuzz (cargo install, once)" >&2
  cargo install --locked cargo-fuzz
fi
if rustup toolchain list | grep -q '^nightly'; then
  cargo=(cargo +nightly)
else
  export RUSTC_BOOTSTRAP=1
  cargo=(cargo)
fi

for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  log="$(mktemp)"
  echo "==> fuzzing $target for ${seconds} s (corpus $corpus, seeds fuzz/seeds/$target)"
  if ! "${cargo[@]}" fuzz run "$target" "$corpus" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "$target: FAILED (the crashing input is under fuzz/artifacts/$target)" >&2
    rm -f "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  echo "$target: $runs executions in $seconds s, coverage $coverage edges, corpus $(ls "$corpus" | wc -l) inputs, no crash"
  # What a target counts itself (the deaggregator: inputs that were aggregates).
  grep -E '^[a-z_]+: [0-9]+ inputs' "$log" | tail -1 || true
  rm -f "$log"
done
