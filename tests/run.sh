#!/usr/bin/env bash
# The whole test suite, functional checks only (timings are in bench/run):
# lints, the supply-chain audit, the Rust tests on SQLite and PostgreSQL, then
# against live release servers on both backends the Postman collection with
# newman and schemathesis fuzzing, the browser journey in headless Chromium
# with HTML validation of every page it saw, the fault tests and the check
# that the request log holds no secret.
#
#   bash tests/run.sh           everything (run as root on Debian: installs
#                               the Debian packages and npm tools it needs)
#   bash tests/run.sh --quick   fmt, clippy and the Rust tests on SQLite only
#
# PostgreSQL: a private cluster (tests/pg-cluster.sh: initdb in a temporary
# folder, a free port on 127.0.0.1), removed at the end, also on failure or
# Ctrl-C. LEADS_TEST_PG_URL=postgres://USER@HOST:PORT/DB points the suite at
# an existing server instead (it creates and drops its databases there).
# Every server the suite starts listens on a port the system picks, and is
# checked to be the one listening there. CI=1 throughout: nothing may skip.
# Ends with "N passed, N failed", naming the failed stage if one failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=never
# The suite brings its own PostgreSQL: no test has a reason to skip.
export CI=1

QUICK=""
case "${1:-}" in
  "") ;;
  --quick) QUICK=1 ;;
  *) echo "usage: bash tests/run.sh [--quick]" >&2; exit 2 ;;
esac

# shellcheck source=tests/pg-cluster.sh
source tests/pg-cluster.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/leads-run.XXXXXX")
# Every temporary folder of the run is made in here and goes with it, also
# those of a test that Ctrl-C stopped before it could clean up. Open to the
# postgres user, who runs the private clusters.
chmod 755 "$WORK" && mkdir -m 1777 "$WORK/tmp"
export TMPDIR="$WORK/tmp"
STARTED=$(date +%s)
STAGE="" STAGE_STARTED=$STARTED SERVER_PID="" PORT="" PG_DBS="" PG_DB_URL=""

stage() {
  [ -z "$STAGE" ] || echo "$(( $(date +%s) - STAGE_STARTED )) s  $STAGE" >>"$WORK/stages"
  STAGE=$* STAGE_STARTED=$(date +%s)
  printf '\n==> %s\n' "$*"
}

# counts PATTERN FILE: over the lines matching PATTERN, the numbers before
# the words passed, failed, skipped, filtered (out) and ignored, summed and
# printed in that order ("12 passed; 0 failed; ...", "fault tests: 4 passed,").
counts() {
  awk -v re="$1" '$0 ~ re { for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+$/) n[substr($(i + 1), 1, 4)] += $i }
    END { print n["pass"] + 0, n["fail"] + 0, n["skip"] + 0, n["filt"] + 0, n["igno"] + 0 }' "$2"
}

# tap_counts FILE: pass, fail, skipped and todo of node's TAP summary ("# pass 9").
tap_counts() {
  awk '/^# (pass|fail|skipped|todo) [0-9]+$/ { n[$2] += $3 }
    END { print n["pass"] + 0, n["fail"] + 0, n["skipped"] + 0, n["todo"] + 0 }' "$1"
}

# The closing tally, also after a failure: what ran, and where it stopped.
summary() {
  local status=$1 passed=0 failed=0 kinds="" p f s x i
  # tally KIND PASSED FAILED [NOTE]: one kind of check in the tally.
  tally() {
    kinds+="${kinds:+, }$1: $2${4:+ $4}"
    [ "$3" = 0 ] || kinds+=" ($3 failed)"
    passed=$((passed + $2)) failed=$((failed + $3))
  }
  if [ -f "$WORK/cargo-test.log" ]; then
    read -r p f s x i < <(counts '^test result:' "$WORK/cargo-test.log")
    tally "rust tests" "$p" "$f" "${QUICK:+(SQLite only: $x PostgreSQL tests not run, --quick)}"
  fi
  if compgen -G "$WORK/newman-*.log" >/dev/null; then
    # newman's table row: "assertions | executed | failed".
    read -r p f < <(cat "$WORK"/newman-*.log | awk '/assertions/ { k = 0
      for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { if (k++ == 0) e += $i; else x += $i } }
      END { print e - x, x + 0 }')
    tally "newman assertions" "$p" "$f"
  fi
  if [ -f "$WORK/e2e.log" ]; then
    read -r p f s x < <(tap_counts "$WORK/e2e.log")
    tally "browser tests" "$p" "$f"
  fi
  if [ -f "$WORK/faults.log" ]; then
    read -r p f s x i < <(counts '^fault tests: ' "$WORK/faults.log")
    tally "fault tests" "$p" "$f"
  fi
  if [ -f "$WORK/secrets.log" ]; then
    tally "log checks" "$(grep -c '^  ok   PART' "$WORK/secrets.log")" \
      "$(grep -c '^  FAIL PART' "$WORK/secrets.log")"
  fi
  if compgen -G "$WORK/fuzz-*.log" >/dev/null; then
    kinds+="; schemathesis requests: $(cat "$WORK"/fuzz-*.log |
      awk '/^schemathesis: [0-9]+ requests/ { s += $2 } END { print s + 0 }')"
  fi
  echo "$(( $(date +%s) - STAGE_STARTED )) s  $STAGE" >>"$WORK/stages"
  printf '\n==> Summary\n'
  sed 's/^/  /' "$WORK/stages"
  [ -z "$kinds" ] || echo "$kinds"
  local took="in $(( ($(date +%s) - STARTED) / 60 )) min $(( ($(date +%s) - STARTED) % 60 )) s"
  if [ "$status" = 0 ]; then
    echo "$passed passed, $failed failed $took"
  else
    # A stage that fails without a count of its own (clippy, say) is one failure.
    [ "$failed" != 0 ] || failed=1
    local how="failed"
    [ "$status" != 130 ] && [ "$status" != 143 ] || how="interrupted"
    echo "$passed passed, $failed failed $took; $how at stage: $STAGE (exit status $status)"
  fi
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID="" PORT=""
}

finish() {
  local status=$?
  set +e
  trap '' INT TERM
  stop_server
  for db in $PG_DBS; do
    pg_cluster_psql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  pg_cluster_stop
  summary "$status"
  rm -rf "$WORK"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# new_pg_database NAME: a fresh database on the suite's server, dropped on
# exit; its URL in PG_DB_URL.
new_pg_database() {
  pg_cluster_psql -c "CREATE DATABASE $1" >/dev/null
  PG_DBS="$PG_DBS $1"
  PG_DB_URL="${LEADS_TEST_PG_URL%/*}/$1"
}

# start_server NAME DATABASE_URL: a release server in its own folder, on a
# port the system picks (ROCKET_PORT=0). PORT is the one the process we
# started is seen listening on, so no other server can answer in its place.
start_server() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  (cd "$dir" && ROCKET_PORT=0 ROCKET_DATABASES="{leads={url=\"$2\"}}" \
    ROCKET_CONFIG="$ROOT/Rocket.toml" exec "$BIN" serve >"$dir/server.log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    PORT=$(ss -Htlnp | awk -v pid="pid=$SERVER_PID," 'index($0, pid) { sub(/.*:/, "", $4); print $4; exit }')
    if [ -n "$PORT" ] && curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
      echo "server $1 (pid $SERVER_PID) on 127.0.0.1:$PORT"
      return 0
    fi
    sleep 0.1
  done
  echo "server $1 did not start:" >&2
  cat "$dir/server.log" >&2
  return 1
}

stage "Prerequisites"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
if [ -z "$QUICK" ]; then
  need_apt=()
  command -v curl >/dev/null || need_apt+=(curl)
  command -v ss >/dev/null || need_apt+=(iproute2)
  # Debian's python3 makes virtualenvs (the audit's and the fuzzer's tools)
  # only with python3-venv, which brings ensurepip.
  python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3 python3-venv)
  [ -x /usr/bin/chromium ] || need_apt+=(chromium chromium-driver)
  command -v java >/dev/null || need_apt+=(default-jre-headless)
  command -v node >/dev/null || need_apt+=(nodejs npm)
  if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  (cd tests/e2e && npm install --silent --no-audit --no-fund --no-package-lock)
  (cd tests/postman && npm install --silent --no-audit --no-fund --no-package-lock)
  # The fault test pg_outage runs a cluster of its own, also when
  # LEADS_TEST_PG_URL names the suite's server.
  pg_cluster_bindir >/dev/null || pg_cluster_apt_install postgresql
  pg_cluster_start
fi

stage "Format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings

if [ -n "$QUICK" ]; then
  stage "Unit and integration tests (SQLite only: --quick)"
  # PostgreSQL tests are those with `postgres` in their names; left out by
  # name, and one that runs anyway fails (tests/support/suite_env.rs).
  LEADS_TEST_BACKENDS=sqlite cargo test --no-fail-fast --quiet -- --skip postgres 2>&1 |
    tee "$WORK/cargo-test.log"
  exit 0
fi

stage "Supply chain: cargo-deny (bans, licenses, sources), cargo-audit (advisories)"
bash tests/audit/run.sh

stage "Unit and integration tests (SQLite and PostgreSQL)"
cargo test --no-fail-fast --quiet 2>&1 | tee "$WORK/cargo-test.log"
read -r _ _ _ _ ignored < <(counts '^test result:' "$WORK/cargo-test.log")
[ "$ignored" = 0 ] || { echo "$ignored Rust tests ignored: nothing may be skipped" >&2; exit 1; }

stage "Release build"
cargo build --release --quiet
BIN="$ROOT/target/release/leads"

stage "Postman collection with newman, SQLite"
start_server newman-sqlite "sqlite://$WORK/newman-sqlite/leads.db"
bash tests/postman/run-newman.sh "http://127.0.0.1:$PORT" | tee "$WORK/newman-sqlite.log"
stop_server

stage "Postman collection with newman, PostgreSQL"
new_pg_database "leads_newman_$$"
start_server newman-postgres "$PG_DB_URL"
bash tests/postman/run-newman.sh "http://127.0.0.1:$PORT" | tee "$WORK/newman-postgres.log"
stop_server

stage "Fuzzing the API from its OpenAPI document with schemathesis, SQLite"
start_server fuzz-sqlite "sqlite://$WORK/fuzz-sqlite/leads.db"
bash tests/fuzz/run.sh "http://127.0.0.1:$PORT" | tee "$WORK/fuzz-sqlite.log"
stop_server

stage "Fuzzing the API from its OpenAPI document with schemathesis, PostgreSQL"
new_pg_database "leads_fuzz_$$"
start_server fuzz-postgres "$PG_DB_URL"
bash tests/fuzz/run.sh "http://127.0.0.1:$PORT" | tee "$WORK/fuzz-postgres.log"
stop_server

stage "Browser journey in headless Chromium (release build, SQLite)"
rm -rf tests/artifacts
start_server browser "sqlite://$WORK/browser/leads.db"
export ADMIN_USER="admin_e2e" ADMIN_PASSWORD="Admin-e2e-Passphrase-42"
LEADS_PASSWORD="$ADMIN_PASSWORD" ROCKET_CONFIG="$ROOT/Rocket.toml" \
  ROCKET_DATABASES="{leads={url=\"sqlite://$WORK/browser/leads.db\"}}" \
  "$BIN" createsuperuser --username "$ADMIN_USER" --email admin@example.com
(cd tests/e2e && BASE_URL="http://127.0.0.1:$PORT" node --test --test-concurrency=1 2>&1) | tee "$WORK/e2e.log"
read -r passed failed skipped todo < <(tap_counts "$WORK/e2e.log")
if [ "$passed" = 0 ] || [ "$failed$skipped$todo" != 000 ]; then
  echo "browser tests: $passed passed, $failed failed, $skipped skipped, $todo todo" >&2
  exit 1
fi
echo "Screenshots: tests/artifacts/screenshots/"

stage "HTML5 validation of every page the journey saw, and the API reference"
curl -fsS "http://127.0.0.1:$PORT/api/docs" -o tests/artifacts/html/api-docs.html
java -jar tests/e2e/node_modules/vnu-jar/build/dist/vnu.jar --errors-only --format text tests/artifacts/html/
echo "$(ls tests/artifacts/html | wc -l) pages valid"
stop_server

stage "Fault tests: kill -9, PostgreSQL outage, two instances, 64 SQLite writers"
bash tests/faults/run.sh "$BIN" | tee "$WORK/faults.log"

stage "The request log of a full run holds no secret"
python3 tests/logs/check_secrets.py "$BIN" | tee "$WORK/secrets.log"
