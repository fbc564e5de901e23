# A private, throwaway PostgreSQL server for the test suite. Source it:
#
#   source tests/pg-cluster.sh
#   trap pg_cluster_stop EXIT      # or call pg_cluster_stop from your own trap
#   pg_cluster_start               # exports LEADS_TEST_PG_URL
#   pg_cluster_psql -c 'SELECT 1'  # psql on that server (any server URL works)
#
# With LEADS_TEST_PG_URL already set, that server is used and nothing is
# started (only psql is installed if missing). Otherwise Debian's `postgresql`
# package is installed when no /usr/lib/postgresql/*/bin has initdb and pg_ctl
# (as root; the package is kept from creating or starting a cluster of its
# own), then `initdb` runs in a temporary folder (as the `postgres` OS user
# when we are root: initdb refuses root) and the server is started with trust
# auth on 127.0.0.1 only, at a free port, with its unix socket in that folder.
# pg_cluster_stop stops it and removes the folder; calling it again, or before
# a start, does nothing.

PG_CLUSTER_DIR=""     # the temporary folder of the cluster we started
PG_CLUSTER_BIN=""     # its server binaries
PG_CLUSTER_AS=()      # runs a command as the cluster's owner

pg_cluster_log() { printf 'pg-cluster: %s\n' "$*" >&2; }

# The newest server version's bin folder with initdb and pg_ctl, if any.
pg_cluster_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# Clusters Debian's tools know of, one "VERSION NAME" a line.
pg_cluster_debian_clusters() {
  command -v pg_lsclusters >/dev/null || return 0
  pg_lsclusters -h 2>/dev/null | awk '{ print $1, $2 }'
}

# apt-get install of PACKAGES, with no cluster created or started by them.
pg_cluster_apt_install() {
  if [ "$(id -u)" != 0 ]; then
    pg_cluster_log "needs $* installed (Debian packages), or LEADS_TEST_PG_URL set; run as root to install"
    return 1
  fi
  local conf=/etc/postgresql-common/createcluster.conf
  local policy=/usr/sbin/policy-rc.d own_policy="" before rc=0 cluster
  # The server package creates and starts a `main` cluster on 5432 unless
  # createcluster.conf says otherwise; an existing file is left as it is
  # (the clusters made anyway are dropped below).
  if [ ! -e "$conf" ]; then
    mkdir -p "${conf%/*}"
    printf '%s\n' "# Written by the Leads test suite (tests/pg-cluster.sh): installing a" \
      "# PostgreSQL server package creates no cluster; see pg_createcluster(1)." \
      "create_main_cluster = false" >"$conf"
  fi
  # No service starts during the install (invoke-rc.d asks this script).
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  before=$(pg_cluster_debian_clusters)
  pg_cluster_log "installing $* (Debian packages)"
  apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq \
      --no-install-recommends -o Dpkg::Options::=--force-confold "$@" >/dev/null || rc=$?
  [ -z "$own_policy" ] || rm -f "$policy"
  while read -r cluster; do
    [ -n "$cluster" ] || continue
    if ! grep -qxF "$cluster" <<<"$before"; then
      pg_cluster_log "dropping the cluster the package made: $cluster"
      # shellcheck disable=SC2086 # "VERSION NAME" are two arguments
      pg_dropcluster --stop $cluster || rc=1
    fi
  done <<<"$(pg_cluster_debian_clusters)"
  return "$rc"
}

# psql ARGS... on the server of LEADS_TEST_PG_URL, without ~/.psqlrc.
pg_cluster_psql() {
  psql -X -q -v ON_ERROR_STOP=1 -d "$LEADS_TEST_PG_URL" "$@"
}

pg_cluster_start() {
  if [ -n "${LEADS_TEST_PG_URL:-}" ]; then
    command -v psql >/dev/null || pg_cluster_apt_install postgresql-client || return 1
    pg_cluster_psql -Atc 'SELECT 1' >/dev/null || {
      pg_cluster_log "LEADS_TEST_PG_URL=$LEADS_TEST_PG_URL does not answer"
      return 1
    }
    pg_cluster_log "using the server of LEADS_TEST_PG_URL=$LEADS_TEST_PG_URL"
    export LEADS_TEST_PG_URL
    return 0
  fi
  [ -z "$PG_CLUSTER_DIR" ] || { pg_cluster_log "a cluster is already running"; return 1; }
  PG_CLUSTER_BIN=$(pg_cluster_bindir) || {
    pg_cluster_apt_install postgresql && PG_CLUSTER_BIN=$(pg_cluster_bindir)
  } || { pg_cluster_log "no PostgreSQL server binaries"; return 1; }

  PG_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/leads-pg.XXXXXX") || return 1
  PG_CLUSTER_AS=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_CLUSTER_DIR" || return 1
    PG_CLUSTER_AS=(runuser -u postgres --)
  fi
  "${PG_CLUSTER_AS[@]}" "$PG_CLUSTER_BIN/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres \
    -A trust -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$PG_CLUSTER_DIR/initdb.log" 2>&1 || {
    cat "$PG_CLUSTER_DIR/initdb.log" >&2
    return 1
  }
  # A random port; if it is taken the server cannot bind it and exits, and
  # another is tried (nothing can serve a port we hold).
  local attempt port
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    rm -f "$PG_CLUSTER_DIR/postgres.log"
    if "${PG_CLUSTER_AS[@]}" "$PG_CLUSTER_BIN/pg_ctl" start -w -t 60 -D "$PG_CLUSTER_DIR/data" \
      -l "$PG_CLUSTER_DIR/postgres.log" \
      -o "-p $port -k $PG_CLUSTER_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      >"$PG_CLUSTER_DIR/pg_ctl.log" 2>&1; then
      export LEADS_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
      pg_cluster_log "PostgreSQL $("$PG_CLUSTER_BIN/postgres" -V | awk '{ print $3 }') on 127.0.0.1:$port (cluster in $PG_CLUSTER_DIR)"
      return 0
    fi
    grep -q "could not bind\|Address already in use" "$PG_CLUSTER_DIR/postgres.log" || break
    pg_cluster_log "port $port is taken; trying another (attempt $attempt)"
  done
  cat "$PG_CLUSTER_DIR/pg_ctl.log" >&2
  tail -n 20 "$PG_CLUSTER_DIR/postgres.log" >&2
  return 1
}

pg_cluster_stop() {
  [ -n "$PG_CLUSTER_DIR" ] || return 0
  local pid
  if [ -f "$PG_CLUSTER_DIR/data/postmaster.pid" ] &&
    ! "${PG_CLUSTER_AS[@]}" "$PG_CLUSTER_BIN/pg_ctl" stop -w -t 60 -D "$PG_CLUSTER_DIR/data" \
      -m immediate >/dev/null 2>&1; then
    # Its folder goes next: the server must not outlive it.
    pid=$(head -n 1 "$PG_CLUSTER_DIR/data/postmaster.pid" 2>/dev/null)
    pg_cluster_log "pg_ctl stop failed; killing the server (pid ${pid:-unknown})"
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null
  fi
  rm -rf "$PG_CLUSTER_DIR"
  PG_CLUSTER_DIR=""
  unset LEADS_TEST_PG_URL
}
