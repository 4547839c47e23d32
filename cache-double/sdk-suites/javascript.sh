#!/usr/bin/env bash
# Runs the JavaScript SDK's retry suite (momentohq/client-sdk-javascript,
# packages/client-sdk-nodejs, `npm run integration-test-retry`: retry
# strategies, timeouts and delays, topic subscriptions over many channels,
# mid-stream errors, reconnects, /block and /unblock) against the cache
# double, which stands in for momento-local on its ports.
#
#   bash cache-double/sdk-suites/javascript.sh <client-sdk-javascript checkout> [port]
#
# Installs the packages' npm dependencies and builds core and
# common-integration-tests when they are missing. Not in CI: CI cannot fetch
# the SDK.
set -euo pipefail
sdk="$(cd "${1:?usage: javascript.sh <client-sdk-javascript checkout> [port]}" && pwd)"
port="${2:-8080}"
admin=$((port + 1010))
source "$(dirname "${BASH_SOURCE[0]}")/double.sh"
nodejs="$sdk/packages/client-sdk-nodejs"
[ -f "$nodejs/package.json" ] || { echo "no $nodejs: is $sdk a client-sdk-javascript checkout?" >&2; exit 2; }

for package in core common-integration-tests client-sdk-nodejs; do
  if [ ! -d "$sdk/packages/$package/node_modules" ]; then
    (cd "$sdk/packages/$package" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
if [ ! -d "$sdk/packages/common-integration-tests/dist" ]; then
  (cd "$nodejs" && npm run build-deps)
fi

start_double "$port" --admin-addr "127.0.0.1:$admin"

cd "$nodejs"
MOMENTO_HOSTNAME=127.0.0.1 MOMENTO_PORT="$port" TEST_ADMIN_ENDPOINT=127.0.0.1 TEST_ADMIN_PORT="$admin" \
  npm run integration-test-retry
