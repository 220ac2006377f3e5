# pg.sh - a private PostgreSQL server for one test: initdb into a temporary
# directory, listen on 127.0.0.1 (a free port) and a private Unix socket, and
# always stop and remove it when the test ends. Source it, then:
#   pg_start [--password PASS]   start (scram-sha-256 with PASS, else trust)
#   pg_url [DB]                  postgresql://USER@127.0.0.1:PORT/DB
#   pg_psql [psql args...]       psql on the test database (-X -q -A -t)
#   pg_stop [MODE]               stop the server (pg_ctl -m MODE, default fast)
#   pg_restart                   start it again, same data, same port
#   pg_cleanup                   stop and remove everything (installed as a trap)
# Runs initdb and pg_ctl as the postgres user when the test runs as root, since
# PostgreSQL refuses to run as root.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_USER=${PG_USER:-storykiosk}
PG_DB=${PG_DB:-central}
PG_DIR=""
PG_PORT=""
PG_PASSWORD=""

# Run a server program as the user that owns the data directory.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
pg_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Print the server's log (for a failure report).
pg_log() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/server.log" ] && sed 's/^/#   pg| /' "$PG_DIR/server.log" | tail -n 30
}

# Start the server on PG_PORT (chosen on the first start); 0 when it accepts
# connections.
pg_ctl_start() {
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-p $PG_PORT -k $PG_DIR/socket -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50" \
		start >/dev/null
}

pg_start() {
	local password="" try
	if [ "${1:-}" = --password ]; then password=$2; fi
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || {
		echo "#   pg.sh: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin" >&2
		return 1
	}
	pg_cleanup
	PG_DIR=$(mktemp -d /tmp/sk-pg.XXXXXX) || return 1
	chmod 755 "$PG_DIR"
	mkdir -m 700 "$PG_DIR/data" && mkdir -m 755 "$PG_DIR/socket" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres: "$PG_DIR" || return 1
	fi
	PG_PASSWORD=$password
	local auth=(-A trust)
	if [ -n "$password" ]; then
		(umask 077 && printf '%s\n' "$password" > "$PG_DIR/pwfile") || return 1
		if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DIR/pwfile" || return 1; fi
		auth=(-A scram-sha-256 --pwfile="$PG_DIR/pwfile")
	fi
	if ! pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" "${auth[@]}" \
		-E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
		echo "#   pg.sh: initdb failed:" >&2
		sed 's/^/#   | /' "$PG_DIR/initdb.log" >&2
		return 1
	fi
	rm -f "$PG_DIR/pwfile"
	# Another program may take the free port before the server binds it: try again.
	for try in 1 2 3 4 5; do
		PG_PORT=$(pg_free_port) || return 1
		pg_ctl_start && break
		PG_PORT=""
	done
	if [ -z "$PG_PORT" ]; then
		echo "#   pg.sh: the server did not start:" >&2
		pg_log >&2
		return 1
	fi
	pg_psql -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null
}

# psql on the test server through its Unix socket; extra arguments are passed on.
pg_psql() {
	PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=10 psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-h "$PG_DIR/socket" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" "$@"
}

# The server's URL over TCP on 127.0.0.1 (no password: that goes in a file).
pg_url() { echo "postgresql://$PG_USER@127.0.0.1:$PG_PORT/${1:-$PG_DB}"; }

pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

pg_restart() {
	[ -n "$PG_DIR" ] && [ -n "$PG_PORT" ] || return 1
	pg_stop fast
	pg_ctl_start || { pg_log >&2; return 1; }
}

pg_cleanup() {
	if [ -n "$PG_DIR" ]; then
		pg_stop immediate 2>/dev/null
		rm -rf "$PG_DIR"
	fi
	PG_DIR="" PG_PORT=""
}

# Chain onto the test's own EXIT trap (lib.sh installs one), and make a
# timeout's TERM or a Ctrl-C run it too: bash skips EXIT traps on a fatal signal.
pg_previous_trap=$(trap -p EXIT)
if [ -n "$pg_previous_trap" ]; then
	eval "pg_previous_trap=( $pg_previous_trap )"
	pg_previous_trap=${pg_previous_trap[2]}
fi
trap "pg_cleanup; ${pg_previous_trap:-:}" EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
