#!/usr/bin/env bash
# Runs the Postman collection of the Leads API against a running server.
#
#   tests/postman/run-newman.sh BASE_URL [extra newman options...]
#   tests/postman/run-newman.sh http://127.0.0.1:8080
#
# Uses the newman pinned in tests/postman/package.json (npm installs it
# beside it on first use).
# Exits non-zero when any assertion or request fails; prints newman's summary.
set -euo pipefail

if [[ $# -lt 1 || -z "${1:-}" || "$1" == "-h" || "$1" == "--help" ]]; then
    echo "usage: $0 BASE_URL [extra newman options...]   e.g. $0 http://127.0.0.1:8080" >&2
    exit 2
fi

base_url="${1%/}"   # the collection's paths start with a slash
shift

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
collection="$here/leads.postman_collection.json"

# newman as pinned in package.json, installed beside it on first use.
newman_bin="$here/node_modules/.bin/newman"
if [[ ! -x "$newman_bin" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm is missing (install Node.js) to install newman" >&2
        exit 2
    fi
    (cd "$here" && npm install --silent --no-audit --no-fund --no-package-lock) >&2
fi

echo "Running $(basename "$collection") against $base_url with newman $("$newman_bin" --version)" >&2

# --env-var takes precedence over the collection variable's default; newman exits 1
# when any test or request fails.
status=0
"$newman_bin" run "$collection" \
    --env-var "baseUrl=$base_url" \
    --reporters cli \
    --timeout-request 30000 \
    "$@" || status=$?

if [[ $status -ne 0 ]]; then
    echo "newman: FAILED (exit status $status)" >&2
else
    echo "newman: all assertions passed" >&2
fi
exit "$status"
