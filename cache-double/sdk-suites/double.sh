# Sourced by the suite scripts. `start_double PORT [ARG...]` builds the cache
# double (release), starts it on 127.0.0.1:PORT with the other arguments,
# waits until it answers, and stops it when the script exits.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

start_double() {
  local port="$1"
  shift
  cargo build -q --release -p cache-double --manifest-path "$repo/Cargo.toml"
  "${CARGO_TARGET_DIR:-$repo/target}/release/cache-double" --addr "127.0.0.1:$port" "$@" &
  double=$!
  trap 'kill "$double" 2>/dev/null' EXIT
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    sleep 0.1
  done
}
