#!/usr/bin/env bash
# storykiosk sync to a PostgreSQL server that wants a password (scram-sha-256):
# a wrong password stops the run with a clear message that never shows the
# password and marks nothing delivered; a credentials file others can read is
# refused before any connection; a password in the target is refused; the
# right password, in a 0600 file, delivers.
. "$(dirname "$0")/lib.sh"
. "$SK_ROOT/tests/tools/pg.sh"

unset $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p')
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
SK_CONF=$SK_DIR/storykiosk.conf
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
export SK_BIN
LISTENER_PID=""
trap 'pg_cleanup; [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null; sk_cleanup' EXIT

RIGHT=Right-Pass-7f3a
WRONG=Wrong-Pass-9c1d
CREDENTIALS=$SK_DIR/pg.secret

# write_conf TARGET: with the credentials file.
write_conf() {
	cat >"$SK_CONF" <<-EOF
	target = $1
	credentials_file = $CREDENTIALS
	timeout = 10s
	retention = 7d
	EOF
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" >>"$SK_CONF"
}

# write_secret TEXT MODE
write_secret() {
	(umask 077 && printf '%s\n' "$1" >"$CREDENTIALS")
	chmod "$2" "$CREDENTIALS"
}

# Neither password may appear in anything the sync printed or the queue holds.
no_password_shown() {
	local where
	for where in "$SK_DIR/sync.out" "$SK_DIR/sync.err" "$SK_DB" "$SK_DB-wal"; do
		[ -f "$where" ] || continue
		if grep -qaF -e "$RIGHT" -e "$WRONG" "$where"; then
			sk_fail "a password appears in $(basename "$where")"
		fi
	done
}

status_count() { "$SK_BIN" --db "$SK_DB" list --status "$1" | wc -l; }

pg_start --password "$RIGHT" || { echo "not ok - a PostgreSQL server for the test"; exit 1; }
python3 "$MAKE_QUEUE" "$SK_DB" 50 >"$SK_DIR/ids" || { echo "not ok - make_queue"; exit 1; }

sk_case "a wrong password: exit 78, a clear message without the password, nothing delivered"
write_conf "$(pg_url)"
write_secret "$WRONG" 600
sk_sync "$SK_DB"
sk_eq "exit status" "$SYNC_RC" 78 || sk_sync_report
grep -q "password authentication failed" "$SK_DIR/sync.err" ||
	{ sk_fail "the message does not say the password was refused"; sk_sync_report; }
no_password_shown
sk_eq "delivered in the queue" "$(status_count delivered)" 0
sk_eq "queued or failed in the queue" "$(( $(status_count queued) + $(status_count failed) ))" 50
sk_eq "central table" "$(pg_psql -c "SELECT to_regclass('storykiosk_stories') IS NULL")" t
sk_end_case

sk_case "no password at all for a server that wants one: exit 78"
sed -i '/^credentials_file/d' "$SK_CONF"
sk_sync "$SK_DB"
sk_eq "exit status" "$SYNC_RC" 78 || sk_sync_report
grep -q "password" "$SK_DIR/sync.err" || { sk_fail "the message does not mention the password"; sk_sync_report; }
sk_eq "delivered in the queue" "$(status_count delivered)" 0
sk_end_case

sk_case "a credentials file others can read is refused before connecting"
# A listener stands in for the server and notes any connection.
port=$(pg_free_port)
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[3], "w").close()
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write("connected\n")
    c.close()
' "$port" "$SK_DIR/connections" "$SK_DIR/listening" &
LISTENER_PID=$!
for _ in $(seq 1 50); do
	[ -f "$SK_DIR/listening" ] && break
	sleep 0.1
done
write_conf "postgresql://storykiosk@127.0.0.1:$port/central"
for mode in 644 640 604; do
	write_secret "$RIGHT" "$mode"
	sk_sync "$SK_DB"
	sk_eq "exit status with mode $mode" "$SYNC_RC" 78 || sk_sync_report
	grep -q "$CREDENTIALS" "$SK_DIR/sync.err" || { sk_fail "the message does not name the file (mode $mode)"; sk_sync_report; }
	no_password_shown
done
[ -f "$SK_DIR/connections" ] && sk_fail "the sync connected despite the unsafe credentials file"
kill "$LISTENER_PID" 2>/dev/null
wait "$LISTENER_PID" 2>/dev/null
LISTENER_PID=""
sk_eq "delivered in the queue" "$(status_count delivered)" 0
sk_end_case

sk_case "a password written into the target is refused, and not repeated"
write_secret "$RIGHT" 600
for target in "postgresql://storykiosk:$RIGHT@127.0.0.1:$PG_PORT/central" \
	"host=127.0.0.1 port=$PG_PORT user=storykiosk dbname=central password=$RIGHT"; do
	"$SK_BIN" --db "$SK_DB" --config "$SK_CONF" sync "$target" >"$SK_DIR/sync.out" 2>"$SK_DIR/sync.err"
	SYNC_RC=$?
	sk_eq "exit status" "$SYNC_RC" 78 || sk_sync_report
	no_password_shown
done
sk_eq "delivered in the queue" "$(status_count delivered)" 0
sk_end_case

sk_case "a malformed target or a missing database: exit 78"
for target in "host=127.0.0.1 port=$PG_PORT nosuchoption=1" "$(pg_url nosuchdb)"; do
	"$SK_BIN" --db "$SK_DB" --config "$SK_CONF" sync "$target" >"$SK_DIR/sync.out" 2>"$SK_DIR/sync.err"
	SYNC_RC=$?
	sk_eq "exit status for $target" "$SYNC_RC" 78 || sk_sync_report
done
grep -q 'database "nosuchdb" does not exist' "$SK_DIR/sync.err" || { sk_fail "unclear message"; sk_sync_report; }
sk_end_case

sk_case "a role that may not create tables: exit 78; with tables made and granted, it delivers"
kiosk_pass=Kiosk-Pass-5e2b
pg_psql -c "CREATE ROLE ward_kiosk LOGIN PASSWORD '$kiosk_pass'" -c "CREATE DATABASE restricted" \
	>/dev/null || sk_fail "making the role"
write_conf "postgresql://ward_kiosk@127.0.0.1:$PG_PORT/restricted"
write_secret "$kiosk_pass" 600
sk_sync "$SK_DB"
sk_eq "exit status without CREATE" "$SYNC_RC" 78 || sk_sync_report
grep -q "permission denied" "$SK_DIR/sync.err" || { sk_fail "the message does not say permission denied"; sk_sync_report; }
grep -qaF "$kiosk_pass" "$SK_DIR/sync.err" "$SK_DIR/sync.out" && sk_fail "the password was shown"
# The owner makes the tables (by syncing one story of its own), then grants
# the kiosk role only what delivery needs.
mkdir -m 700 "$SK_DIR/owner"
python3 "$MAKE_QUEUE" "$SK_DIR/owner/queue.db" 1 --seed 3 >/dev/null
write_conf "$(pg_url restricted)"
write_secret "$RIGHT" 600
"$SK_BIN" --db "$SK_DIR/owner/queue.db" --config "$SK_CONF" sync >/dev/null 2>&1 || sk_fail "the owner's sync failed"
pg_psql -d restricted -c "GRANT SELECT, INSERT, UPDATE ON storykiosk_stories TO ward_kiosk" \
	-c "GRANT SELECT ON storykiosk_schema TO ward_kiosk" >/dev/null || sk_fail "granting"
write_conf "postgresql://ward_kiosk@127.0.0.1:$PG_PORT/restricted"
write_secret "$kiosk_pass" 600
sk_sync "$SK_DB"
sk_eq "exit status with grants" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary" "$SYNC_SUMMARY" "delivered 50, already there 0, failed 0, left 0"
sk_eq "central rows" "$(pg_psql -d restricted -c 'SELECT count(*) FROM storykiosk_stories')" 51
# Put the queue back as it was for the next case.
sk_sql "UPDATE stories SET status = 'queued', delivered_at = NULL, delivered_to = NULL"
sk_end_case

sk_case "a table with row-level security, which refuses COPY: the batches go by INSERT"
# PostgreSQL will not COPY into a table with row-level security for a role
# the policies apply to (SQLSTATE 0A000); INSERT, which the policy allows, must
# still deliver every story.
pg_psql -d restricted -c "TRUNCATE storykiosk_stories" \
	-c "ALTER TABLE storykiosk_stories ENABLE ROW LEVEL SECURITY" \
	-c "CREATE POLICY kiosk_rows ON storykiosk_stories TO ward_kiosk USING (true) WITH CHECK (true)" \
	>/dev/null || sk_fail "turning on row-level security"
write_conf "postgresql://ward_kiosk@127.0.0.1:$PG_PORT/restricted" "batch_size = 20"
write_secret "$kiosk_pass" 600
sk_sync "$SK_DB"
sk_eq "exit status" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary" "$SYNC_SUMMARY" "delivered 50, already there 0, failed 0, left 0"
sk_eq "central rows" "$(pg_psql -d restricted -c 'SELECT count(*) FROM storykiosk_stories')" 50
sk_sql "UPDATE stories SET status = 'queued', delivered_at = NULL, delivered_to = NULL"
sk_end_case

sk_case "the right password in a 0600 file delivers every story"
write_conf "$(pg_url)"
write_secret "$RIGHT" 600
sk_sync "$SK_DB"
sk_eq "exit status" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary" "$SYNC_SUMMARY" "delivered 50, already there 0, failed 0, left 0"
sk_eq "central rows" "$(pg_psql -c 'SELECT count(*) FROM storykiosk_stories')" 50
sk_eq "delivered in the queue" "$(status_count delivered)" 50
no_password_shown
sk_end_case
