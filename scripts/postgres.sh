#!/usr/bin/env bash
# A throw-away PostgreSQL server (Debian's postgresql package) for tests,
# benchmarks and trying paraphe-ca on PostgreSQL: its data in DIR, listening
# on 127.0.0.1:PORT only (and a Unix socket in DIR/run), run as an
# unprivileged user. PostgreSQL refuses to run as root: when this script runs
# as root, the server runs as the "postgres" user of the Debian package (or
# as PARAPHE_PG_USER), through setpriv; DIR must then be a folder that user
# can enter (mktemp -d, then chmod 755).
#
#   scripts/postgres.sh init DIR          initdb into DIR/data; superuser "paraphe"
#                                         with a random password, written to
#                                         DIR/password (mode 600, the caller's)
#   scripts/postgres.sh run DIR PORT      the server in the foreground (tests: it ends
#                                         with its parent, SIGINT stops it)
#   scripts/postgres.sh start DIR PORT    the server in the background (pg_ctl);
#                                         prints the database URL
#   scripts/postgres.sh stop DIR          stops it
#
# The database URL is postgres://paraphe@127.0.0.1:PORT/postgres; the
# password stays in DIR/password (give it to paraphe-ca init as
# --db-password-file, never on a command line). Durability is traded for
# speed (fsync off): this server is for tests, never for a CA's records.
set -euo pipefail

usage() {
  sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

bindir=${PARAPHE_PG_BIN:-}
if [[ -z $bindir ]]; then
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb ]] && bindir=$d # the glob sorts: the newest version last
  done
fi
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  echo "postgres.sh: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)" >&2
  echo "hint: run scripts/deps.sh (or apt-get install postgresql), or set PARAPHE_PG_BIN" >&2
  exit 3
fi

# as runs a command as the server's user.
as=()
owner=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  owner=${PARAPHE_PG_USER:-postgres}
  if ! id "$owner" >/dev/null 2>&1; then
    echo "postgres.sh: running as root, and there is no user $owner to run the server as" >&2
    echo "hint: set PARAPHE_PG_USER to an unprivileged user" >&2
    exit 3
  fi
  # --pdeathsig after the change of user, which clears it: the server
  # ends with whoever ran this script (run), even if that one is killed.
  as=(setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups --pdeathsig INT --)
fi

(($# >= 2)) || usage
cmd=$1 dir=$2
[[ -d $dir ]] || { echo "postgres.sh: no folder $dir" >&2; exit 3; }
dir=$(cd "$dir" && pwd)

options() { # PORT: the server's, besides its data folder
  echo -p "$1" -k "$dir/run" -c listen_addresses=127.0.0.1 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200
}

case $cmd in
init)
  (($# == 2)) || usage
  if [[ -e $dir/data/PG_VERSION ]]; then
    echo "postgres.sh: $dir/data exists already" >&2
    exit 3
  fi
  mkdir -p "$dir/run" "$dir/data"
  chown "$owner" "$dir/run" "$dir/data"
  chmod 700 "$dir/data"
  umask 077
  # 32 hexadecimal digits: no character a URL or a .pgpass line would need to escape.
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$dir/password"
  pw=$(mktemp -p "$dir")
  trap 'rm -f "$pw"' EXIT
  cp "$dir/password" "$pw"
  chown "$owner" "$pw"
  # Local (socket) connections by peer, TCP ones by password only.
  "${as[@]}" "$bindir/initdb" -D "$dir/data" -U paraphe --pwfile="$pw" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 --no-sync --no-instructions >/dev/null
  ;;
run)
  (($# == 3)) || usage
  exec "${as[@]}" "$bindir/postgres" -D "$dir/data" $(options "$3")
  ;;
start)
  (($# == 3)) || usage
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/run/server.log" -w -s -o "$(options "$3")" start
  echo "postgres://paraphe@127.0.0.1:$3/postgres"
  ;;
stop)
  (($# == 2)) || usage
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -w -s -m fast stop
  ;;
*)
  usage
  ;;
esac
