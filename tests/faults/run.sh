#!/usr/bin/env bash
# Fault tests against a release binary: kill -9 on SQLite, a PostgreSQL
# outage on a private instance, two instances on one PostgreSQL database,
# 64 concurrent SQLite writers. Each test cleans up after itself and has its
# own deadline; `timeout` here is the backstop. Fails if any test fails;
# a skipped test (PostgreSQL unavailable without CI set) is reported, not failed.
# Usage: bash tests/faults/run.sh BIN   (e.g. target/release/leads)
set -uo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 PATH/TO/leads (an executable release binary)" >&2
  exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)

TESTS=(
  "kill9_sqlite 150"
  "sqlite_writers 230"
  "pg_outage 180"
  "pg_two_instances 150"
)
trap 'exit 130' INT
failed=() skipped=() passed=()
start=$(date +%s)
for entry in "${TESTS[@]}"; do
  set -- $entry
  name=$1 limit=$2
  printf '\n--- %s\n' "$name"
  # --foreground: in Ctrl-C's process group, so an interrupted test cleans up
  # and the run stops (the INT trap) instead of going on to the next test.
  timeout --foreground --signal=TERM --kill-after=20 "$limit" python3 -u "$HERE/$name.py" "$BIN"
  rc=$?
  case $rc in
    0) passed+=("$name") ;;
    77) skipped+=("$name") ;;
    124) echo "FAIL $name: timed out after $limit s"; failed+=("$name") ;;
    *) failed+=("$name") ;;
  esac
done
printf '\nfault tests: %d passed, %d failed, %d skipped in %d s\n' \
  "${#passed[@]}" "${#failed[@]}" "${#skipped[@]}" "$(( $(date +%s) - start ))"
[ ${#skipped[@]} -eq 0 ] || echo "skipped: ${skipped[*]}"
[ ${#failed[@]} -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
