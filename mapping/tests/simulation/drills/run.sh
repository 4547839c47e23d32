#!/usr/bin/env bash
# Breaks the mapping's rules by hand, one patch at a time, and runs the
# simulation as CI runs it (1,000 seeds and the crash sweep): each drill must
# make it fail. Prints the seed (or sweep) that caught each one.
#
#   bash mapping/tests/simulation/drills/run.sh            # every drill
#   bash mapping/tests/simulation/drills/run.sh 3-*.patch  # some
#
# The patches apply to a scratch worktree of HEAD (commit first); builds go
# to target/drills so the main build is left alone.
set -euo pipefail
repo="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
drills="$repo/mapping/tests/simulation/drills"
work="$(mktemp -d "${TMPDIR:-/tmp}/drills.XXXXXX")"
cleanup() {
  git -C "$repo" worktree remove --force "$work/tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach "$work/tree" HEAD >/dev/null 2>&1
export CARGO_TARGET_DIR="$repo/target/drills"

patches=()
if [ $# -gt 0 ]; then
  for name in "$@"; do patches+=("$drills/$(basename "$name")"); done
else
  patches=("$drills"/*.patch)
fi

missed=0
for patch in "${patches[@]}"; do
  name="$(basename "$patch" .patch)"
  git -C "$work/tree" checkout -q -- .
  git -C "$work/tree" apply "$patch"
  started=$SECONDS
  if output="$(cd "$work/tree" && cargo test -q -p mapping --test simulation 2>&1)"; then
    echo "$name: NOT CAUGHT ($((SECONDS - started)) s)"
    missed=$((missed + 1))
  else
    caught="$(grep -oE '(sweep of )?seed [0-9]+ failed: .*' <<<"$output" | head -1 | cut -c1-220)"
    echo "$name: caught, $caught ($((SECONDS - started)) s)"
  fi
done
[ "$missed" -eq 0 ] || { echo "$missed drill(s) not caught" >&2; exit 1; }
