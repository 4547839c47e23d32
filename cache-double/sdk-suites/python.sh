#!/usr/bin/env bash
# Runs Momento's Python SDK suite (momentohq/client-sdk-python, release
# 1.28.1: tests/momento/cache_client and tests/momento/local) against the
# cache double. The conftest's credentials are pointed at the double with
# CredentialProvider.for_momento_local (the change stays in that checkout);
# SUBSCRIBE_TEST_CACHE names a cache the double starts with. The signing-key
# tests are deselected: signing keys are a service feature the double does
# not serve (it answers UNIMPLEMENTED). Four tests cannot pass against any
# local server and fail here: two build their own client from V1_API_KEY and
# dial its endpoint over TLS on port 443, two expect a connection to take
# more than 1 ms.
#
#   bash cache-double/sdk-suites/python.sh <client-sdk-python checkout> [port]
#
# Installs the suite's dependencies into <checkout>/.venv (pip) when missing.
# Not in CI: CI cannot fetch the SDK.
set -euo pipefail
sdk="$(cd "${1:?usage: python.sh <client-sdk-python checkout> [port]}" && pwd)"
port="${2:-8080}"
source "$(dirname "${BASH_SOURCE[0]}")/double.sh"
conftest="$sdk/tests/conftest.py"
[ -f "$conftest" ] || { echo "no $conftest: is $sdk a client-sdk-python checkout?" >&2; exit 2; }

if ! grep -q "cache double" "$conftest"; then
  python3 - "$conftest" <<'PY'
import sys, pathlib
path = pathlib.Path(sys.argv[1])
text = path.read_text()
anchor = "TEST_LOCAL_AUTH_PROVIDER = CredentialProvider.for_momento_local(MOMENTO_LOCAL_HOSTNAME, MOMENTO_LOCAL_PORT)\n"
assert anchor in text, "conftest.py changed: no TEST_LOCAL_AUTH_PROVIDER"
text = text.replace(anchor, anchor + "# Every test against the cache double.\nTEST_AUTH_PROVIDER = TEST_LOCAL_AUTH_PROVIDER\nTEST_AUTH_PROVIDER_V2 = TEST_LOCAL_AUTH_PROVIDER\n")
# A bad token is one the double refuses (it accepts only the empty one).
bad = '    return CredentialProvider.from_environment_variable("BAD_API_KEY")\n'
assert bad in text, "conftest.py changed: no bad token fixture"
text = text.replace(bad, '    return CredentialProvider("not-the-key", MOMENTO_LOCAL_HOSTNAME, MOMENTO_LOCAL_HOSTNAME, MOMENTO_LOCAL_HOSTNAME, MOMENTO_LOCAL_PORT)\n')
path.write_text(text)
PY
fi
venv="$sdk/.venv"
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "momento-wire-types>=0.119.4,<0.120" grpcio "pyjwt>=2.4" \
    "pytest>=7.1.3,<8" "pytest-asyncio>=0.19,<0.20" "pytest-describe>=2,<3" "pytest-timeout>=2.4"
fi

# Only the empty key the local provider sends is accepted, so the suite's
# bad-token tests meet UNAUTHENTICATED; 5 ms on every reply, so its 1 ms
# client timeouts expire as they do against the real service.
start_double "$port" --admin-addr "127.0.0.1:$((port + 1010))" --cache subscribe-test-cache \
  --api-key "" --latency 5ms

# The conftest reads these at import; placeholders the double never sees: a
# legacy key (a JWT naming its endpoints) and a v2 key (a JWT whose claims
# say "t": "g").
v1_key="eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJsb2NhbCIsImNwIjoiY29udHJvbC5sb2NhbGhvc3QiLCJjIjoiY2FjaGUubG9jYWxob3N0In0.c2lnbmF0dXJl"
v2_key="eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJsb2NhbCIsInQiOiJnIn0.c2lnbmF0dXJl"
cd "$sdk"
PYTHONPATH=src V1_API_KEY="$v1_key" MOMENTO_API_KEY="$v2_key" MOMENTO_ENDPOINT=localhost \
  TEST_CACHE_NAME=python-sdk-test-cache SUBSCRIBE_TEST_CACHE=subscribe-test-cache \
  MOMENTO_HOSTNAME=127.0.0.1 MOMENTO_PORT="$port" TEST_ADMIN_ENDPOINT=127.0.0.1 TEST_ADMIN_PORT="$((port + 1010))" \
  "$venv/bin/pytest" -q -p no:cacheprovider tests/momento/cache_client tests/momento/local \
  --deselect tests/momento/cache_client/test_control.py::test_create_list_revoke_signing_keys \
  --deselect tests/momento/cache_client/test_control_async.py::test_create_list_revoke_signing_keys "${@:3}"
