#!/usr/bin/env bash
# Property-based fuzzing of the JSON API from its own OpenAPI document.
#
#   tests/fuzz/run.sh BASE_URL        e.g. tests/fuzz/run.sh http://127.0.0.1:18090
#
# Against a running server: installs a pinned schemathesis into a cached
# virtualenv, registers fresh users over the API for their tokens, then runs
# every check (`--checks all`, settings in schemathesis.toml beside this file)
# over every operation of BASE_URL/api/openapi.json. Exits non-zero unless
# there are no server errors and no check failures, and prints one line:
#   schemathesis: N requests, N server errors, N schema violations
#
# Environment: LEADS_FUZZ_EXAMPLES (test cases per operation, default 300:
# about 3,000 requests in under a minute), LEADS_FUZZ_TIMEOUT (seconds,
# default 600), LEADS_FUZZ_SEED (replays a run), LEADS_FUZZ_CACHE (where the
# virtualenv lives), LEADS_FUZZ_REPORTS (a folder to keep the reports in).
#
# One worker: with two, Python 3.11's AST module (which Hypothesis uses to
# describe strategies) intermittently fails with "AST constructor recursion
# depth mismatch", a tool error rather than a finding.
set -euo pipefail

BASE_URL=${1:?usage: tests/fuzz/run.sh BASE_URL}
BASE_URL=${BASE_URL%/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCHEMATHESIS_VERSION=4.32.5
EXAMPLES=${LEADS_FUZZ_EXAMPLES:-300}
TIME_LIMIT=${LEADS_FUZZ_TIMEOUT:-600}
CACHE=${LEADS_FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leads-fuzz}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/leads-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- schemathesis, pinned, in a virtualenv (or a --target folder without venv)
ENV_DIR="$CACHE/schemathesis-$SCHEMATHESIS_VERSION"
if [ -x "$ENV_DIR/venv/bin/schemathesis" ]; then
  PY=("$ENV_DIR/venv/bin/python")
elif [ -f "$ENV_DIR/site/.complete" ]; then
  PY=(env "PYTHONPATH=$ENV_DIR/site" python3)
else
  echo "Installing schemathesis $SCHEMATHESIS_VERSION into $ENV_DIR"
  rm -rf "$ENV_DIR" && mkdir -p "$ENV_DIR"
  if python3 -m venv "$ENV_DIR/venv" 2>/dev/null; then
    "$ENV_DIR/venv/bin/python" -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
    PY=("$ENV_DIR/venv/bin/python")
  else
    rm -rf "$ENV_DIR/venv"
    python3 -m pip install --quiet --root-user-action=ignore --target "$ENV_DIR/site" "schemathesis==$SCHEMATHESIS_VERSION"
    touch "$ENV_DIR/site/.complete"
    PY=(env "PYTHONPATH=$ENV_DIR/site" python3)
  fi
fi

# --- users and tokens: one for the run, one per token-revoking operation
register() {
  "${PY[@]}" - "$BASE_URL" "$1" <<'EOF'
import json, sys, urllib.request
base, username = sys.argv[1], sys.argv[2]
body = json.dumps({"username": username, "email": f"{username}@example.com",
                   "password": "Fuzz-Passphrase-4-leads"}).encode()
request = urllib.request.Request(f"{base}/api/auth/register", data=body,
                                 headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=30))["token"])
EOF
}
RUN_ID="$(date +%s)$RANDOM"
LEADS_FUZZ_TOKEN=$(register "fuzz_$RUN_ID")
LEADS_FUZZ_LOGOUT_TOKEN=$(register "fuzz_logout_$RUN_ID")
LEADS_FUZZ_LOGOUTALL_TOKEN=$(register "fuzz_logoutall_$RUN_ID")
LEADS_FUZZ_REVOKE_TOKEN=$(register "fuzz_revoke_$RUN_ID")
export LEADS_FUZZ_TOKEN LEADS_FUZZ_LOGOUT_TOKEN LEADS_FUZZ_LOGOUTALL_TOKEN LEADS_FUZZ_REVOKE_TOKEN

# --- the run: bounded by --max-examples, and by a hard timeout as well
SEED_ARGS=()
if [ -n "${LEADS_FUZZ_SEED:-}" ]; then SEED_ARGS=(--seed "$LEADS_FUZZ_SEED"); fi
echo "schemathesis $SCHEMATHESIS_VERSION against $BASE_URL/api/openapi.json, $EXAMPLES examples per operation"
STARTED=$(date +%s)
status=0
# From the temporary folder: schemathesis keeps a .schemathesis cache in its
# working directory, which has no place in the repository.
cd "$WORK"
timeout --kill-after=10 "$TIME_LIMIT" \
  "${PY[@]}" -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; sys.exit(schemathesis())' \
  --config-file "$HERE/schemathesis.toml" \
  run "$BASE_URL/api/openapi.json" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --workers 1 \
  --no-color \
  --request-timeout 30 \
  --report ndjson,json --report-dir "$WORK/report" \
  "${SEED_ARGS[@]}" || status=$?
echo "Run time: $(( $(date +%s) - STARTED )) s"
if [ -n "${LEADS_FUZZ_REPORTS:-}" ]; then
  mkdir -p "$LEADS_FUZZ_REPORTS" && cp -r "$WORK/report/." "$LEADS_FUZZ_REPORTS/"
fi
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "schemathesis: timed out after $TIME_LIMIT s"
  exit 1
fi

# --- the summary line, from the reports: every HTTP exchange recorded
"${PY[@]}" - "$WORK/report" "$status" <<'EOF'
import glob, json, sys
folder, status = sys.argv[1], int(sys.argv[2])
requests = server_errors = 0
for path in glob.glob(f"{folder}/*.ndjson"):
    for line in open(path, encoding="utf-8"):
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        for interaction in event["recorder"].get("interactions", {}).values():
            requests += 1
            response = interaction.get("response") or {}
            if response.get("status_code", 0) >= 500:
                server_errors += 1
report = json.load(open(glob.glob(f"{folder}/*.json")[0], encoding="utf-8"))
violations = sum(failure["count"] for failure in report["failures"])
errors = len(report["errors"])
for failure in report["failures"]:
    print(f"  {failure['code']} {failure['title']}: {failure['count']}")
print(f"schemathesis: {requests} requests, {server_errors} server errors, "
      f"{violations} schema violations" + (f", {errors} errors" if errors else ""))
ok = status == 0 and server_errors == 0 and violations == 0 and errors == 0 and requests >= 1000
if requests < 1000:
    print("schemathesis: fewer than 1,000 requests; raise LEADS_FUZZ_EXAMPLES")
sys.exit(0 if ok else 1)
EOF
