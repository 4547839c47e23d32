#!/usr/bin/env bash
# Runs Momento's Rust SDK integration suite (momentohq/client-sdk-rust, whose
# repository has the test-util crate the crates.io package leaves out)
# against the cache double: its cache and topics tests. Leaderboards and
# token vending (auth) are services neither the double nor momento-local
# serves, so their tests are left out.
#
#   bash cache-double/sdk-suites/rust.sh <client-sdk-rust checkout> [port]
#
# It points the checkout's test-util credentials at the double (plaintext,
# `insecure_endpoint_override`; the change stays in that checkout), starts
# the double (release build) on 127.0.0.1:<port> with its admin API on the
# next port, runs `cargo test --test mod cache:: topics::` there with fake
# keys, and stops the double. Not in CI: CI cannot fetch the SDK.
set -euo pipefail
sdk="$(cd "${1:?usage: rust.sh <client-sdk-rust checkout> [port]}" && pwd)"
port="${2:-18080}"
source "$(dirname "${BASH_SOURCE[0]}")/double.sh"
utils="$sdk/test-util/src/test_utils.rs"
[ -f "$utils" ] || { echo "no $utils: is $sdk a client-sdk-rust checkout?" >&2; exit 2; }

# Both test credential providers end in this expect(); point them at the double.
if ! grep -q MOMENTO_DOUBLE_ENDPOINT "$utils"; then
  python3 - "$utils" <<'PY'
import sys, pathlib
path = pathlib.Path(sys.argv[1])
text = path.read_text()
old = '.expect("auth token should be valid")'
assert text.count(old) == 2, "test_utils.rs changed: two credential providers expected"
path.write_text(text.replace(old, old + '\n        .insecure_endpoint_override(&env::var("MOMENTO_DOUBLE_ENDPOINT").expect("MOMENTO_DOUBLE_ENDPOINT"))'))
PY
fi

start_double "$port" --admin-addr "127.0.0.1:$((port + 1))"

# A v1 key is base64 JSON naming its endpoint; a v2 key is a JWT whose claims
# say "t": "g". Neither is checked by the double.
v1_key="$(printf '{"api_key":"fake","endpoint":"localhost"}' | base64 -w0)"
v2_key="e30.$(printf '{"t":"g"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').c2lnbmF0dXJl"
cd "$sdk"
MOMENTO_DOUBLE_ENDPOINT="http://127.0.0.1:$port" V1_API_KEY="$v1_key" MOMENTO_API_KEY="$v2_key" \
  MOMENTO_ENDPOINT=localhost cargo test --test mod -- cache:: topics:: --skip auth:: --skip leaderboard:: "${@:3}"
