#!/usr/bin/env bash
# Withdrawal before and after delivery, erasure of contact details after
# delivery (gone from the SQLite file's bytes, WAL included), and the queue's
# health report. Uses a private PostgreSQL as the central store.
. "$(dirname "$0")/lib.sh"
. "$SK_ROOT/tests/tools/pg.sh"

unset $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p')
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
export SK_BIN
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
SK_CONF=$SK_DIR/storykiosk.conf

write_conf() {
	printf 'target = %s\ntimeout = 10s\nretention = %s\n' "$(pg_url)" "$1" > "$SK_CONF"
}

# Bytes of the queue file and its WAL that match a fixed string.
bytes_matching() {
	cat "$SK_DB" "$SK_DB-wal" 2>/dev/null | grep -caF -- "$1"
}

reference_of() {
	sqlite3 "$SK_DB" "SELECT reference FROM stories WHERE id = '$1'"
}

pg_start >/dev/null || { echo "not ok - the test PostgreSQL server did not start"; exit 1; }
write_conf 0

sk_case "withdraw before delivery removes the story and its words from the queue file"
mkdir -p "$(dirname "$SK_DB")"
ids=$(python3 "$MAKE_QUEUE" "$SK_DB" 3)
first=$(echo "$ids" | sed -n 1p)
ref=$(reference_of "$first")
out=$(sk_cli withdraw "$(echo "$ref" | tr 'A-Z' 'a-z' | tr -d -)" 2>&1)
sk_eq "withdraw exit" "$?" 0
case "$out" in *"removed from the queue"*) ;; *) sk_fail "withdraw said: $out" ;; esac
sk_eq "stories left in list" "$(sk_cli list | wc -l)" 2
sk_cli list | grep -qF "$first" && sk_fail "the withdrawn story is still listed"
sk_eq "its answers are gone" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM answers WHERE story_id = '$first'")" 0
sk_eq "the withdrawal is in the audit trail" \
	"$(sqlite3 "$SK_DB" "SELECT event FROM audit WHERE story_id = '$first' ORDER BY id DESC LIMIT 1")" \
	"withdrawn (removed before delivery)"
sk_eq "its words are not in the file or WAL" "$(bytes_matching "person0@example.org")" 0
sk_eq "the others' words are" "$( [ "$(bytes_matching "person1@example.org")" -gt 0 ] && echo yes)" yes
sk_cli withdraw "$ref" >/dev/null 2>&1
sk_eq "withdrawing it again finds nothing" "$?" 1
sk_cli withdraw "ZZZZ-ZZZZ" >/dev/null 2>&1
sk_eq "an unknown reference" "$?" 1
sk_end_case

sk_case "after delivery, contact details are erased from the file's bytes (retention 0)"
sk_cli --config "$SK_CONF" sync > "$SK_DIR/sync.out" 2>&1
sk_eq "sync exit" "$?" 0
grep -qF "delivered 2, already there 0, failed 0, left 0" "$SK_DIR/sync.out" ||
	sk_fail "summary: $(tail -n 1 "$SK_DIR/sync.out")"
sk_eq "emails left in the queue file and WAL" "$(bytes_matching "@example.org")" 0
sk_eq "postcodes left" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories WHERE postcode IS NOT NULL OR email IS NOT NULL")" 0
sk_eq "erasure audited" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM audit WHERE event = 'contact details erased'")" 2
sk_eq "each story's history ends: sent, delivered, erased" "$(sqlite3 "$SK_DB" "
	SELECT count(*) FROM stories s WHERE (SELECT group_concat(event, '; ') FROM
		(SELECT event FROM audit a WHERE a.story_id = s.id ORDER BY a.id DESC LIMIT 3))
	= 'contact details erased; delivered; sent'")" 2
sk_eq "the central copy keeps them" "$(pg_psql -c "SELECT count(*) FROM storykiosk_stories WHERE record->>'email' LIKE '%@example.org'")" 2
sk_end_case

sk_case "with a retention period, contact details stay until it has passed"
rm -f "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"
write_conf 7d
second_ids=$(python3 "$MAKE_QUEUE" "$SK_DB" 2 --seed 7)
sk_cli --config "$SK_CONF" sync > "$SK_DIR/sync.out" 2>&1
sk_eq "sync exit" "$?" 0
sk_eq "emails kept for now" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories WHERE email IS NOT NULL")" 2
# Pretend the week has passed.
sqlite3 "$SK_DB" "UPDATE stories SET delivered_at = '2020-01-01T00:00:00Z'"
sk_cli --config "$SK_CONF" sync > "$SK_DIR/sync.out" 2>&1
sk_eq "emails erased once the period passed" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories WHERE email IS NOT NULL")" 0
sk_eq "and gone from the bytes" "$(bytes_matching "@example.org")" 0
write_conf 0
sk_end_case

sk_case "withdraw after delivery queues a withdrawal that the next sync delivers"
id=$(echo "$second_ids" | sed -n 1p)
ref=$(reference_of "$id")
out=$(sk_cli withdraw "$ref" 2>&1)
sk_eq "withdraw exit" "$?" 0
case "$out" in *"central store will be told"*) ;; *) sk_fail "withdraw said: $out" ;; esac
sk_eq "status" "$(sqlite3 "$SK_DB" "SELECT status || ' ' || withdrawal_pending FROM stories WHERE id = '$id'")" "withdrawn 1"
sk_cli status | grep -qF "withdrawals waiting to be sent: 1" || sk_fail "status does not count the withdrawal"
sk_cli --config "$SK_CONF" sync > "$SK_DIR/sync.out" 2>&1
sk_eq "sync exit" "$?" 0
sk_eq "central row withdrawn" "$(pg_psql -c "SELECT withdrawn_at IS NOT NULL FROM storykiosk_stories WHERE id = '$id'")" t
sk_eq "no longer pending" "$(sqlite3 "$SK_DB" "SELECT withdrawal_pending FROM stories WHERE id = '$id'")" 0
sk_cli show "$ref" | grep -qF "withdrawal delivered" || sk_fail "show lacks the delivered withdrawal"
out=$(sk_cli withdraw "$ref" 2>&1)
case "$out" in *"already withdrawn"*) ;; *) sk_fail "second withdraw said: $out" ;; esac
sk_end_case

sk_case "a story being sent right now cannot be withdrawn until the sync ends"
rm -f "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"
id=$(python3 "$MAKE_QUEUE" "$SK_DB" 1 --seed 9)
sqlite3 "$SK_DB" "UPDATE stories SET status = 'sending'"
# A running sync holds the queue's sync lock for the whole run.
out=$(flock "$SK_DB.sync-lock" "$SK_BIN" --db "$SK_DB" withdraw "$id" 2>&1)
sk_eq "exit" "$?" 75
case "$out" in *"being delivered right now"*) ;; *) sk_fail "withdraw said: $out" ;; esac
sk_eq "still there" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories")" 1
sk_end_case

sk_case "marked sending by a sync that died: withdrawn at once, and the central store is told"
# No sync holds the lock: the mark is stale, and the story may be at the
# central store, so it is kept until a sync has sent the withdrawal.
out=$(sk_cli withdraw "$id" 2>&1)
sk_eq "exit" "$?" 0
case "$out" in *"told at the next sync"*) ;; *) sk_fail "withdraw said: $out" ;; esac
sk_eq "kept as withdrawn, the withdrawal (of a maybe delivered story) waiting" \
	"$(sqlite3 "$SK_DB" "SELECT status || ' ' || withdrawal_pending FROM stories WHERE id = '$id'")" "withdrawn 2"
sqlite3 "$SK_DB" "UPDATE stories SET status = 'queued', withdrawal_pending = 0, withdrawn_at = NULL,
	maybe_delivered = 0"
sk_end_case

sk_case "tried only while the central store was out of reach: withdrawn and removed at once"
# Nothing left the terminal, so nothing can be at the central store, however
# many times the timer tried.
off_db=$SK_DIR/offline/queue.db
mkdir -m 700 "$SK_DIR/offline"
off_id=$(python3 "$MAKE_QUEUE" "$off_db" 1 --seed 12)
port=$(pg_free_port)
"$SK_BIN" --db "$off_db" sync "postgresql://storykiosk@127.0.0.1:$port/central" >/dev/null 2>&1
sk_eq "sync exit with nothing listening" "$?" 75
"$SK_BIN" --db "$off_db" sync --force "postgresql://storykiosk@127.0.0.1:$port/central" >/dev/null 2>&1
sk_eq "tried twice" "$(sqlite3 "$off_db" "SELECT status || ' ' || attempt_count FROM stories")" "failed 2"
out=$("$SK_BIN" --db "$off_db" withdraw "$off_id" 2>&1)
sk_eq "withdraw exit" "$?" 0
case "$out" in *"removed from the queue"*) ;; *) sk_fail "withdraw said: $out" ;; esac
sk_eq "gone from the queue" "$(sqlite3 "$off_db" "SELECT count(*) FROM stories")" 0
sk_end_case

sk_case "status reports states, the oldest waiting story, and warns past 24 hours"
sqlite3 "$SK_DB" "UPDATE stories SET status = 'queued'"
out=$(sk_cli status)
sk_eq "status exit" "$?" 0
for want in "queued     1" "Oldest undelivered story: waiting" "WARNING: stories have waited more than 24 hours" \
	"Last complete sync: never"; do
	case "$out" in *"$want"*) ;; *) sk_fail "status lacks [$want]: $out" ;; esac
done
sk_cli --config "$SK_CONF" sync > /dev/null 2>&1
out=$(sk_cli status)
case "$out" in *"Last complete sync: 20"*) ;; *) sk_fail "no last sync after syncing: $out" ;; esac
case "$out" in *WARNING*) sk_fail "still warns after everything was delivered" ;; esac
sk_end_case
