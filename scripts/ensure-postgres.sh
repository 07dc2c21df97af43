#!/bin/sh
# Makes sure the PostgreSQL server programs (initdb, pg_ctl, postgres) are installed, for the
# tests' throwaway clusters (test/support/postgres-cluster.ts looks in the same places).
# When they are missing it installs Debian's `postgresql` package with apt-get: as root, or
# through sudo. It never starts, stops or configures a server: the tests start their own.
# Does nothing when JOBPULSE_TEST_POSTGRES_URL names a server to use instead.
set -eu

has_server_programs() {
  for dir in "$@"; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      return 0
    fi
  done
  return 1
}

found() {
  if command -v pg_config >/dev/null 2>&1 && has_server_programs "$(pg_config --bindir 2>/dev/null)"; then
    return 0
  fi
  old_ifs=$IFS
  IFS=:
  # shellcheck disable=SC2086 # split PATH on purpose
  set -- $PATH
  IFS=$old_ifs
  has_server_programs "$@" && return 0
  # Debian and Ubuntu install the server programs off PATH, one folder per major version.
  has_server_programs /usr/lib/postgresql/*/bin
}

if [ -n "${JOBPULSE_TEST_POSTGRES_URL:-}" ] || found; then
  exit 0
fi

hint='Install the PostgreSQL server yourself (Debian/Ubuntu: apt-get install -y postgresql; macOS: brew install postgresql), or set JOBPULSE_TEST_POSTGRES_URL to the admin URL of a running server.'
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: PostgreSQL server programs (initdb, pg_ctl, postgres) not found, and there is no apt-get to install them. $hint" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=
elif command -v sudo >/dev/null 2>&1; then
  as_root=sudo
else
  echo "ensure-postgres: PostgreSQL server programs (initdb, pg_ctl, postgres) not found; installing them needs root, and sudo is not available. $hint" >&2
  exit 1
fi

echo "ensure-postgres: PostgreSQL server programs not found; installing Debian's postgresql package" >&2
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql

if ! found; then
  echo "ensure-postgres: installed postgresql, but still no initdb, pg_ctl and postgres under /usr/lib/postgresql/*/bin or on PATH. $hint" >&2
  exit 1
fi
