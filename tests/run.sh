#!/usr/bin/env bash
# The whole test suite: lints, unit and integration tests on SQLite and
# PostgreSQL, then the Postman collection with newman against live release
# servers on both backends, the browser journey in headless Chromium with
# HTML validation of every page it saw, then the timing measurements.
# Installs what it needs; run as root on Debian: `bash tests/run.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "Prerequisites"
if ! command -v pg_isready >/dev/null || ! command -v psql >/dev/null; then
  apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is down; starting the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is required for the tests" >&2; exit 1; }
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium chromium-driver)
command -v java >/dev/null || need_apt+=(default-jre-headless)
command -v node >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
(cd tests/e2e && npm install --silent --no-audit --no-fund --no-package-lock)
if ! command -v newman >/dev/null; then
  command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
  npm install -g --silent newman >/dev/null
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "Format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings

step "Supply chain: cargo-deny (bans, licenses, sources, advisories)"
bash tests/audit/run.sh

step "Unit and integration tests (SQLite and PostgreSQL)"
CI="${CI:-}" cargo test --quiet 2>&1 | tee /tmp/leads-cargo-test.log
grep -q "test result: ok" /tmp/leads-cargo-test.log

step "Release build"
cargo build --release --quiet
BIN="$ROOT/target/release/leads"

WORK=$(mktemp -d)
SERVER_PID=""
PG_DBS=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  for db in $PG_DBS; do
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
# new_pg_database NAME: a fresh database, dropped on exit.
new_pg_database() {
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $1" >/dev/null
  PG_DBS="$PG_DBS $1"
}
trap cleanup EXIT

# start_server NAME DATABASE_URL PORT: a release server in its own folder.
start_server() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  (cd "$dir" && ROCKET_PORT="$3" ROCKET_DATABASES="{leads={url=\"$2\"}}" \
    ROCKET_CONFIG="$ROOT/Rocket.toml" exec "$BIN" serve >"$dir/server.log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$3/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$dir/server.log" >&2; return 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

step "Postman collection with newman, SQLite"
start_server sqlite "sqlite://$WORK/sqlite/leads.db" 18081
bash tests/postman/run-newman.sh http://127.0.0.1:18081 | tee "$WORK/newman-sqlite.log"
stop_server

step "Postman collection with newman, PostgreSQL"
new_pg_database "leads_newman_$$"
start_server postgres "postgres://postgres@127.0.0.1:5432/leads_newman_$$" 18082
bash tests/postman/run-newman.sh http://127.0.0.1:18082 | tee "$WORK/newman-postgres.log"
stop_server

step "Fuzzing the API from its OpenAPI document with schemathesis, SQLite"
start_server fuzz-sqlite "sqlite://$WORK/fuzz-sqlite/leads.db" 18087
bash tests/fuzz/run.sh http://127.0.0.1:18087 | tee "$WORK/fuzz-sqlite.log"
stop_server

step "Fuzzing the API from its OpenAPI document with schemathesis, PostgreSQL"
new_pg_database "leads_fuzz_$$"
start_server fuzz-postgres "postgres://postgres@127.0.0.1:5432/leads_fuzz_$$" 18088
bash tests/fuzz/run.sh http://127.0.0.1:18088 | tee "$WORK/fuzz-postgres.log"
stop_server

step "Browser journey in headless Chromium (release build, SQLite)"
rm -rf tests/artifacts
start_server browser "sqlite://$WORK/browser/leads.db" 18083
export ADMIN_USER="admin_e2e" ADMIN_PASSWORD="Admin-e2e-Passphrase-42"
LEADS_PASSWORD="$ADMIN_PASSWORD" ROCKET_CONFIG="$ROOT/Rocket.toml" \
  ROCKET_DATABASES="{leads={url=\"sqlite://$WORK/browser/leads.db\"}}" \
  "$BIN" createsuperuser --username "$ADMIN_USER" --email admin@example.com
(cd tests/e2e && BASE_URL=http://127.0.0.1:18083 node --test --test-concurrency=1 2>&1) | tee "$WORK/e2e.log"
grep -q "^# fail 0" "$WORK/e2e.log"
echo "Screenshots: tests/artifacts/screenshots/"

step "HTML5 validation of every page the journey saw, and the API reference"
curl -fsS http://127.0.0.1:18083/api/docs -o tests/artifacts/html/api-docs.html
java -jar tests/e2e/node_modules/vnu-jar/build/dist/vnu.jar --errors-only --format text tests/artifacts/html/
echo "$(ls tests/artifacts/html | wc -l) pages valid"
stop_server

step "Fault tests: kill -9, PostgreSQL outage, two instances, 64 SQLite writers"
bash tests/faults/run.sh "$BIN" | tee "$WORK/faults.log"

step "The request log of a full run holds no secret"
python3 tests/logs/check_secrets.py "$BIN" | tee "$WORK/secrets.log"

step "Timing measurements (release build, SQLite)"
# The login timing compares dozens of failed logins: throttling off here
# (it is tested in tests/api/throttle.rs and by the fault tests).
ROCKET_LOGIN_LIMIT_PER_USER=0 ROCKET_LOGIN_LIMIT_PER_IP=0 \
  start_server timing "sqlite://$WORK/timing/leads.db" 18084
python3 tests/perf/login_timing.py http://127.0.0.1:18084
python3 tests/perf/page_timing.py http://127.0.0.1:18084
stop_server

step "Admin pages over 100,000 leads and 1,000 users (release build, SQLite)"
start_server admin-sqlite "sqlite://$WORK/admin-sqlite/leads.db" 18085
python3 tests/perf/admin_timing.py http://127.0.0.1:18085 "$SERVER_PID" "sqlite:$WORK/admin-sqlite/leads.db"
stop_server

step "Admin pages over 100,000 leads and 1,000 users (release build, PostgreSQL)"
new_pg_database "leads_admin_$$"
start_server admin-postgres "postgres://postgres@127.0.0.1:5432/leads_admin_$$" 18086
python3 tests/perf/admin_timing.py http://127.0.0.1:18086 "$SERVER_PID" "postgres:postgres://postgres@127.0.0.1:5432/leads_admin_$$"
stop_server

step "All test stages passed"
# One closing tally: Rust tests, newman assertions, browser tests.
rust=$(grep -o "test result: ok. [0-9]* passed" /tmp/leads-cargo-test.log | awk '{s+=$4} END {print s+0}')
newman=$(cat "$WORK"/newman-*.log | grep -o "assertions[^0-9]*[0-9]*" | grep -o "[0-9]*$" | awk '{s+=$1} END {print s+0}')
browser=$(grep -o "^# pass [0-9]*" "$WORK/e2e.log" | awk '{s+=$3} END {print s+0}')
faults=$(grep -o "^fault tests: [0-9]* passed" "$WORK/faults.log" | awk '{print $3}')
secrets=$(grep -c "^  ok   PART" "$WORK/secrets.log")
fuzz=$(cat "$WORK"/fuzz-*.log | grep -o "^schemathesis: [0-9]* requests" | awk '{s+=$2} END {print s+0}')
echo "rust tests: $rust, newman assertions: $newman, browser tests: $browser," \
  "fault tests: $faults, log checks: $secrets; schemathesis requests: $fuzz"
echo "$((rust + newman + browser + faults + secrets)) passed, 0 failed"
