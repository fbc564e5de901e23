#!/usr/bin/env bash
# Runs the Postman collection of the Leads API against a running server.
#
#   tests/postman/run-newman.sh BASE_URL [extra newman options...]
#   tests/postman/run-newman.sh http://127.0.0.1:8080
#
# Uses newman from PATH, or installs it with `npm install -g newman`.
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

newman_bin="$(command -v newman || true)"
if [[ -z "$newman_bin" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: newman is not on PATH and npm is missing (install Node.js)" >&2
        exit 2
    fi
    echo "newman not found on PATH; installing it with: npm install -g newman" >&2
    npm install -g newman >&2
    newman_bin="$(command -v newman || true)"
    if [[ -z "$newman_bin" ]]; then
        # The global prefix's bin folder may not be on PATH.
        candidate="$(npm prefix -g)/bin/newman"
        [[ -x "$candidate" ]] && newman_bin="$candidate"
    fi
    if [[ -z "$newman_bin" ]]; then
        echo "error: 'npm install -g newman' did not provide a newman executable" >&2
        exit 2
    fi
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
