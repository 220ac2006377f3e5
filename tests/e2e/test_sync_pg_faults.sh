#!/usr/bin/env bash
# storykiosk sync when PostgreSQL fails: the server stopped in the middle of a
# large sync and started again (nothing lost, nothing doubled), a port where
# nothing listens, a server that never answers, and one story the server
# refuses among good ones.
. "$(dirname "$0")/lib.sh"
. "$SK_ROOT/tests/tools/pg.sh"

unset $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p')
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
SK_CONF=$SK_DIR/storykiosk.conf
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
export SK_BIN
LISTENER_PID=""
FULL_DIR=$SK_DIR/full
trap 'pg_cleanup; [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null; sk_unmount "$FULL_DIR"; sk_cleanup' EXIT

# write_conf TARGET BATCH TIMEOUT
write_conf() {
	cat >"$SK_CONF" <<-EOF
	target = $1
	batch_size = $2
	timeout = $3
	retry_base = 1h
	retention = 7d
	terminal = ward-9
	EOF
}

# The four numbers of a summary line, space-separated.
summary_numbers() {
	sed -n 's/^delivered \([0-9]*\), already there \([0-9]*\), failed \([0-9]*\), left \([0-9]*\)$/\1 \2 \3 \4/p' <<<"$1"
}

central_count() { pg_psql -c "SELECT count(*) FROM storykiosk_stories"; }

# A case's own queue of N stories (make_queue.py --seed SEED) in a private
# directory $SK_DIR/NAME, its ids in $SK_DIR/NAME.ids: sets CASE_DB.
case_queue() {
	CASE_DB=$SK_DIR/$1/queue.db
	mkdir -m 700 "$SK_DIR/$1"
	python3 "$MAKE_QUEUE" "$CASE_DB" "$2" --seed "$3" >"$SK_DIR/$1.ids" || sk_fail "make_queue failed"
}
status_count() { "$SK_BIN" --db "$1" list --status "$2" | wc -l; }

# Sync DB (30 stories) to a server that refuses one of them: exit 75, the
# other 29 delivered.
sync_one_refused() {
	write_conf "$(pg_url)" 200 10s
	sk_sync "$1"
	sk_eq "exit status" "$SYNC_RC" 75 || sk_sync_report
	sk_eq "summary" "$SYNC_SUMMARY" "delivered 29, already there 0, failed 1, left 1"
}

# In DB, story ID alone is failed, and show gives the server's SQLSTATE CODE.
expect_refused() {
	local db=$1 id=$2 code=$3
	sk_eq "failed in the queue" "$("$SK_BIN" --db "$db" list --status failed | cut -d' ' -f1)" "$id"
	"$SK_BIN" --db "$db" show "$id" >"$SK_DIR/show.out" 2>&1 || sk_fail "show $id failed"
	grep -q "$code" "$SK_DIR/show.out" ||
		{ sk_fail "show does not give the SQLSTATE $code"; sed 's/^/#   | /' "$SK_DIR/show.out"; }
}

# Sync DB in the background with each insert slowed down (the first case
# makes slow_batch()), so the kill lands while batches are in flight; kill it
# (-9) once the server holds more than 300 stories. Returns once the server's
# backend for it has gone, as it may still commit a batch it had read.
kill_sync_midway() {
	pg_psql -c "CREATE TRIGGER slow_batch AFTER INSERT ON storykiosk_stories
		FOR EACH STATEMENT EXECUTE FUNCTION slow_batch();" >/dev/null || sk_fail "slowing the server"
	"$SK_BIN" --db "$1" --config "$SK_CONF" sync >"$SK_DIR/sync.out" 2>"$SK_DIR/sync.err" &
	local pid=$! i
	for i in $(seq 1 300); do
		[ "$(central_count 2>/dev/null)" -gt 300 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	for i in $(seq 1 200); do
		[ "$(pg_psql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'storykiosk'")" = 0 ] && break
		sleep 0.05
	done
}

pg_start || { echo "not ok - a PostgreSQL server for the test"; exit 1; }

sk_case "the server stopped in the middle of a large sync: nothing lost, nothing doubled"
n=20000
python3 "$MAKE_QUEUE" "$SK_DB" "$n" --no-email-every 5 >"$SK_DIR/ids" || sk_fail "make_queue failed"
write_conf "$(pg_url)" 500 10s
# Make the schema with a first one-story sync from another queue, then slow
# each insert statement down a little so the stop lands inside a batch's
# transaction and not between two quick syncs.
python3 "$MAKE_QUEUE" "$SK_DIR/seed.db" 1 --seed 99 >/dev/null
sk_sync "$SK_DIR/seed.db"
sk_eq "seed sync" "$SYNC_RC" 0 || sk_sync_report
pg_psql -c "DELETE FROM storykiosk_stories" -c "
	CREATE FUNCTION slow_batch() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END \$\$;
	CREATE TRIGGER slow_batch AFTER INSERT ON storykiosk_stories
	FOR EACH STATEMENT EXECUTE FUNCTION slow_batch();" >/dev/null || sk_fail "slowing the server"
started=$(date +%s%N)
"$SK_BIN" --db "$SK_DB" --config "$SK_CONF" sync >"$SK_DIR/sync.out" 2>"$SK_DIR/sync.err" &
sync_pid=$!
# Wait for the first committed batch, then stop the server at once.
seen=0
for _ in $(seq 1 300); do
	seen=$(central_count 2>/dev/null)
	[ "${seen:-0}" -gt 0 ] && break
	sleep 0.05
done
pg_stop immediate || sk_fail "pg_ctl stop -m immediate failed"
wait "$sync_pid"
SYNC_RC=$? SYNC_SUMMARY=$(tail -n 1 "$SK_DIR/sync.out")
echo "#   stopped after $seen stories were visible; first sync: $SYNC_SUMMARY ($(( ($(date +%s%N) - started) / 1000000 )) ms)"
sk_eq "first sync exit status" "$SYNC_RC" 75 || sk_sync_report
read -r delivered1 already1 failed1 left1 <<<"$(summary_numbers "$SYNC_SUMMARY")"
[ "${left1:-0}" -gt 0 ] || sk_fail "the first sync left nothing: the stop came too late ($SYNC_SUMMARY)"
[ "${delivered1:-0}" -gt 0 ] || sk_fail "the first sync delivered nothing: the stop came too early ($SYNC_SUMMARY)"
sk_eq "left after the first sync" "$left1" "$((n - delivered1))"
grep -qi "postgres\|connection\|server" "$SK_DIR/sync.err" || { sk_fail "no message about the lost server"; sk_sync_report; }
sk_eq "delivered in the queue after the first sync" "$(status_count "$SK_DB" delivered)" "$delivered1"
# The run marks the next chunk while it sends one: what it marked and never
# sent goes back to how it was.
sk_eq "left 'sending' after the first sync" "$(status_count "$SK_DB" sending)" 0
# Only the batch in flight when the server stopped may be there unbeknown;
# the stories never handed over are not "maybe delivered".
sk_eq "maybe delivered, other than the failed batch" \
	"$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories WHERE maybe_delivered = 1 AND status <> 'failed'")" 0
maybe1=$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories WHERE maybe_delivered = 1")
sk_queue_consistent "$SK_DB"
[ "$maybe1" -le "$failed1" ] || sk_fail "$maybe1 maybe delivered, more than the $failed1 that failed"
pg_restart || sk_fail "the server did not start again"
central1=$(central_count)
# A batch the server committed just before it stopped may not have been
# acknowledged: the server can hold more than the queue knows, never less.
[ "$central1" -ge "$delivered1" ] || sk_fail "central holds $central1 but the queue has $delivered1 delivered"
pg_psql -c "DROP TRIGGER slow_batch ON storykiosk_stories" >/dev/null
sk_sync "$SK_DB" --force
echo "#   after the restart: central held $central1; second sync: $SYNC_SUMMARY"
sk_eq "second sync exit status" "$SYNC_RC" 0 || sk_sync_report
read -r delivered2 already2 failed2 left2 <<<"$(summary_numbers "$SYNC_SUMMARY")"
sk_eq "second sync delivered + already there" "$((delivered2 + already2))" "$((n - delivered1))"
sk_eq "second sync already there (sent but unacknowledged)" "$already2" "$((central1 - delivered1))"
sk_eq "second sync failed, left" "$failed2 $left2" "0 0"
sk_eq "central rows" "$(central_count)" "$n"
sk_eq "delivered in the queue" "$(status_count "$SK_DB" delivered)" "$n"
pg_psql -c "SELECT id FROM storykiosk_stories ORDER BY id" >"$SK_DIR/central.ids"
sort "$SK_DIR/ids" | cmp -s - "$SK_DIR/central.ids" || sk_fail "the central ids are not the queue's ids"
sk_queue_consistent "$SK_DB"
sk_end_case

sk_case "the sync killed (-9) in the middle: the next sync delivers each story exactly once"
pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
n=7000
case_queue kill "$n" 21
kill_db=$CASE_DB
write_conf "$(pg_url)" 100 10s
kill_sync_midway "$kill_db"
delivered_before=$(status_count "$kill_db" delivered)
sending=$(sqlite3 "$kill_db" "SELECT count(*) FROM stories WHERE status = 'sending'")
central_before=$(central_count)
echo "#   killed with $delivered_before delivered, $sending sending, $central_before at the server"
sk_queue_consistent "$kill_db"
[ "$delivered_before" -lt "$n" ] || sk_fail "the kill came too late: everything was delivered"
[ "$central_before" -ge "$delivered_before" ] || sk_fail "the server holds fewer than the queue marked delivered"
# A story leaves only after its 'sending' mark is committed: every story the
# server holds is 'sending' or 'delivered' in the queue the kill left behind.
pg_psql -c "SELECT id FROM storykiosk_stories" | sort >"$SK_DIR/kill.central"
sqlite3 "$kill_db" "SELECT id FROM stories WHERE status IN ('sending', 'delivered')" | sort \
	>"$SK_DIR/kill.marked"
sk_eq "stories at the server that were never marked sending" \
	"$(comm -23 "$SK_DIR/kill.central" "$SK_DIR/kill.marked" | wc -l)" 0
pg_psql -c "DROP TRIGGER slow_batch ON storykiosk_stories" >/dev/null
sk_sync "$kill_db"
sk_eq "exit status of the next sync" "$SYNC_RC" 0 || sk_sync_report
read -r delivered2 already2 failed2 left2 <<<"$(summary_numbers "$SYNC_SUMMARY")"
sk_eq "delivered + already there" "$((delivered2 + already2))" "$((n - delivered_before))"
sk_eq "already there: sent before the kill but not recorded" "$already2" "$((central_before - delivered_before))"
sk_eq "failed, left" "$failed2 $left2" "0 0"
sk_eq "central rows" "$(central_count)" "$n"
sk_eq "distinct central ids" "$(pg_psql -c 'SELECT count(DISTINCT id) FROM storykiosk_stories')" "$n"
sk_eq "delivered in the queue" "$(status_count "$kill_db" delivered)" "$n"
sk_queue_consistent "$kill_db"
sk_end_case

sk_case "withdrawn after a killed sync may have stored it, while the server is down: the server is told"
# A killed sync leaves stories the server may hold but the queue does not
# show delivered. Withdrawn before any sync gets through, such a story must
# not just be dropped from the queue: the next sync tells the server, and
# only then is it removed.
pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
n=3000
case_queue wd "$n" 31
wd_db=$CASE_DB
write_conf "$(pg_url)" 100 10s
kill_sync_midway "$wd_db"
pg_psql -c "DROP TRIGGER slow_batch ON storykiosk_stories" >/dev/null
pg_psql -c "SELECT id FROM storykiosk_stories" | sort >"$SK_DIR/wd.central"
sqlite3 "$wd_db" "SELECT id FROM stories WHERE status = 'sending'" | sort >"$SK_DIR/wd.sending"
at_server=$(comm -12 "$SK_DIR/wd.central" "$SK_DIR/wd.sending" | head -n 1)
not_there=$(comm -13 "$SK_DIR/wd.central" "$SK_DIR/wd.sending" | head -n 1)
if [ -z "$at_server" ] || [ -z "$not_there" ]; then
	sk_fail "the kill did not leave a story at the server and one not there, both 'sending'"
fi
pg_stop
sk_sync "$wd_db"
sk_eq "exit status with the server down" "$SYNC_RC" 75 || sk_sync_report
for id in "$at_server" "$not_there"; do
	"$SK_BIN" --db "$wd_db" withdraw "$id" >"$SK_DIR/wd.out" 2>&1 || sk_fail "withdraw $id failed"
	grep -q "told at the next sync" "$SK_DIR/wd.out" ||
		{ sk_fail "withdraw does not say the central store will be told"; sed 's/^/#   | /' "$SK_DIR/wd.out"; }
done
sk_eq "kept, withdrawn, until the server is told" \
	"$(sqlite3 "$wd_db" "SELECT count(*) FROM stories WHERE status = 'withdrawn' AND withdrawal_pending = 2")" 2
pg_restart || sk_fail "the server did not start again"
# --force: the failed attempts' backoff would otherwise hold the rest back.
sk_sync "$wd_db" --force
sk_eq "exit status once the server is back" "$SYNC_RC" 0 || sk_sync_report
sk_eq "the story the server held is withdrawn there" \
	"$(pg_psql -c "SELECT withdrawn_at IS NOT NULL FROM storykiosk_stories WHERE id = '$at_server'")" t
sk_eq "the story the server never held is still not there" \
	"$(pg_psql -c "SELECT count(*) FROM storykiosk_stories WHERE id = '$not_there'")" 0
sk_eq "central rows: every other story once" \
	"$(pg_psql -c "SELECT count(DISTINCT id) FROM storykiosk_stories WHERE withdrawn_at IS NULL")" "$((n - 2))"
sk_eq "both gone from the queue" \
	"$(sqlite3 "$wd_db" "SELECT count(*) FROM stories WHERE id IN ('$at_server', '$not_there')")" 0
sk_eq "their history kept" \
	"$(sqlite3 "$wd_db" "SELECT count(*) FROM audit WHERE story_id IN ('$at_server', '$not_there')
		AND event = 'withdrawal delivered'")" 2
sk_end_case

sk_case "one story the server refuses is rejected; the rest of its batch is delivered"
pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
case_queue bad 30 5
bad_db=$CASE_DB
# The central table keys on a UUID: a story whose id is one character short
# of one is refused (22P02). Hex digits only, so "show" still finds it.
bad_id=deadbeef-0000-4000-8000-00000000000
python3 - "$bad_db" "$bad_id" <<'PY' || sk_fail "making the bad story"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with db:
    old = db.execute("SELECT id FROM stories ORDER BY consented_at, id LIMIT 1 OFFSET 10").fetchone()[0]
    for table, key in (("stories", "id"), ("answers", "story_id"), ("story_services", "story_id"),
                       ("audit", "story_id")):
        db.execute("UPDATE %s SET %s = ? WHERE %s = ?" % (table, key, key), (sys.argv[2], old))
PY
sync_one_refused "$bad_db"
sk_eq "central rows" "$(central_count)" 29
sk_eq "delivered in the queue" "$(status_count "$bad_db" delivered)" 29
expect_refused "$bad_db" "$bad_id" 22P02
sk_queue_consistent "$bad_db"
sk_end_case

sk_case "a constraint the central table adds refuses one story: only it is rejected, once COPY is refused"
# The batch goes as one COPY, which the constraint makes fail as a whole; the
# batch is then sent again without COPY, and one story at a time, so only the
# story the server refuses is left out.
pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
pg_psql -c "ALTER TABLE storykiosk_stories ADD CONSTRAINT no_story_7
	CHECK (record->>'title' <> 'Story 7')" >/dev/null || sk_fail "adding the constraint"
case_queue check 30 6
check_db=$CASE_DB
refused=$(sed -n 8p "$SK_DIR/check.ids")
sync_one_refused "$check_db"
sk_eq "central rows" "$(central_count)" 29
sk_eq "the refused story is not at the server" \
	"$(pg_psql -c "SELECT count(*) FROM storykiosk_stories WHERE id = '$refused'")" 0
expect_refused "$check_db" "$refused" 23514
pg_psql -c "ALTER TABLE storykiosk_stories DROP CONSTRAINT no_story_7" >/dev/null
sk_queue_consistent "$check_db"
sk_end_case

sk_case "a trigger that quotes the refused row: its postcode and email are blanked in the attempt and the sync's output"
# Attempts are shown on the ward and the sync's errors go to logs: contact
# details the server echoes must not reach either, whichever path (COPY, the
# batch by INSERT, one story at a time) carried the message.
pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
pg_psql -c "CREATE FUNCTION sk_quote_refused() RETURNS trigger LANGUAGE plpgsql AS \$\$
	BEGIN
		IF NEW.record->>'title' = 'Story 7' THEN
			RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = format(
				'refused postcode %s and email %s',
				NEW.record->>'postcode', NEW.record->>'email');
		END IF;
		RETURN NEW;
	END \$\$;
	CREATE TRIGGER sk_quote_refused BEFORE INSERT ON storykiosk_stories
	FOR EACH ROW EXECUTE FUNCTION sk_quote_refused()" >/dev/null || sk_fail "adding the trigger"
case_queue quote 30 8
quote_db=$CASE_DB
refused=$(sed -n 8p "$SK_DIR/quote.ids")
sync_one_refused "$quote_db"
message=$(sqlite3 "$quote_db" "SELECT group_concat(message, ' | ') FROM attempts WHERE story_id = '$refused'")
case $message in
*"refused postcode [postcode] and email [email]"*) ;;
*) sk_fail "the attempt does not keep the server's words, redacted: [$message]" ;;
esac
for leak in "LE1 5WW" "person7@" "example.org"; do
	grep -qiF "$leak" "$SK_DIR/sync.out" "$SK_DIR/sync.err" && { sk_fail "the sync's output holds \"$leak\""; sk_sync_report; }
	[ "$(sqlite3 "$quote_db" "SELECT count(*) FROM attempts WHERE instr(lower(message), lower('$leak')) > 0")" = 0 ] ||
		sk_fail "an attempt's message holds \"$leak\""
done
pg_psql -c "DROP TRIGGER sk_quote_refused ON storykiosk_stories; DROP FUNCTION sk_quote_refused()" >/dev/null
sk_queue_consistent "$quote_db"
sk_end_case

sk_case "the run's own record cannot be closed: exit 74 and said, the stories' answers kept"
# Sabotage only the last write a sync makes, closing its sync_runs row: the
# deliveries before it are recorded, and the failure is not silent.
pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
case_queue close 20 9
close_db=$CASE_DB
sqlite3 "$close_db" "CREATE TRIGGER sk_no_close BEFORE UPDATE OF finished_at ON sync_runs
	BEGIN SELECT RAISE(ABORT, 'closing runs refused by the test'); END" || sk_fail "adding the trigger"
write_conf "$(pg_url)" 200 10s
sk_sync "$close_db"
sk_eq "exit status" "$SYNC_RC" 74 || sk_sync_report
grep -q "recording the sync run: closing runs refused by the test" "$SK_DIR/sync.err" ||
	{ sk_fail "the error does not say the run could not be recorded"; sk_sync_report; }
sk_eq "delivered in the queue" "$(status_count "$close_db" delivered)" 20
sk_eq "central rows" "$(central_count)" 20
sk_eq "runs closed" "$(sqlite3 "$close_db" "SELECT count(*) FROM sync_runs WHERE finished_at IS NOT NULL")" 0
sqlite3 "$close_db" "DROP TRIGGER sk_no_close" || sk_fail "dropping the trigger"
sk_queue_consistent "$close_db"
sk_end_case

NAME="the queue's disk fills in the middle of a pipelined sync: exit 74 and the disk named; with room again the next sync delivers the rest, each story once, counts and histories whole"
if ! sk_mount_tmpfs "$FULL_DIR" 32m 0700; then
	echo "ok - $NAME # SKIP cannot mount a tmpfs here (needs root and mount permission)"
else
	sk_case "$NAME"
	pg_psql -c "TRUNCATE storykiosk_stories" >/dev/null
	full_db=$FULL_DIR/queue.db
	n=7000
	python3 "$MAKE_QUEUE" "$full_db" "$n" --seed 31 >"$SK_DIR/full.ids" || sk_fail "make_queue failed"
	write_conf "$(pg_url)" 200 10s
	# Room for a few MB of write-ahead log: the first chunk's marks fit, and
	# the disk fills while answers are recorded.
	avail=$(df --output=avail -k "$FULL_DIR" | tail -n 1 | tr -d ' ')
	dd if=/dev/zero of="$FULL_DIR/fill" bs=1k count=$((avail - 3072)) 2>/dev/null
	sk_sync "$full_db"
	delivered1=$(status_count "$full_db" delivered)
	central1=$(central_count)
	echo "#   first sync: exit $SYNC_RC, $delivered1 delivered in the queue, $central1 at the server"
	sk_eq "exit status with the disk full" "$SYNC_RC" 74 || sk_sync_report
	grep -qi "full" "$SK_DIR/sync.err" || { sk_fail "the message does not say the disk is full"; sk_sync_report; }
	[ "$central1" -ge "$delivered1" ] || sk_fail "the server holds fewer than the queue marked delivered"
	rm -f "$FULL_DIR/fill"
	sk_queue_consistent "$full_db"
	sk_sync "$full_db" --force
	read -r delivered2 already2 failed2 left2 <<<"$(summary_numbers "$SYNC_SUMMARY")"
	sk_eq "exit status with room again" "$SYNC_RC" 0 || sk_sync_report
	sk_eq "delivered + already there" "$((delivered2 + already2))" "$((n - delivered1))"
	sk_eq "failed, left" "$failed2 $left2" "0 0"
	sk_eq "central rows" "$(central_count)" "$n"
	sk_eq "distinct central ids" "$(pg_psql -c 'SELECT count(DISTINCT id) FROM storykiosk_stories')" "$n"
	sk_eq "delivered in the queue" "$(status_count "$full_db" delivered)" "$n"
	sk_queue_consistent "$full_db"
	sk_end_case
	sk_unmount "$FULL_DIR"
fi

sk_case "nothing listening on the port: exit 75, stories stay queued, the attempt is shown"
pg_stop
case_queue unreach 20 11
unreach_db=$CASE_DB
port=$(pg_free_port)
write_conf "postgresql://storykiosk@127.0.0.1:$port/central" 200 5s
sk_sync "$unreach_db"
sk_eq "exit status" "$SYNC_RC" 75 || sk_sync_report
sk_eq "summary" "$(summary_numbers "$SYNC_SUMMARY" | awk '{ print $1, $2, $4 }')" "0 0 20"
grep -qi "connect\|refused\|reach" "$SK_DIR/sync.err" || { sk_fail "no clear message"; sk_sync_report; }
sk_eq "delivered in the queue" "$(status_count "$unreach_db" delivered)" 0
sk_eq "queued or failed in the queue" \
	"$(( $(status_count "$unreach_db" queued) + $(status_count "$unreach_db" failed) ))" 20
first=$(head -n 1 "$SK_DIR/unreach.ids")
"$SK_BIN" --db "$unreach_db" show "$first" >"$SK_DIR/show.out" 2>&1
grep -q "Delivery attempts" "$SK_DIR/show.out" && grep -q "127.0.0.1:$port" "$SK_DIR/show.out" ||
	{ sk_fail "show lists no attempt to 127.0.0.1:$port"; sed 's/^/#   | /' "$SK_DIR/show.out"; }
grep -qE "^ +[0-9TZ:-]+ +queued " "$SK_DIR/show.out" || sk_fail "the history pattern matches nothing"
grep -qE "^ +[0-9TZ:-]+ +sent " "$SK_DIR/show.out" &&
	{ sk_fail "the history says sent, though nothing left the terminal"; sed 's/^/#   | /' "$SK_DIR/show.out"; }
sk_end_case

sk_case "a server that accepts but never answers: the sync gives up after the timeout"
port=$(pg_free_port)
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])  # hold every connection open, say nothing
' "$port" &
LISTENER_PID=$!
for _ in $(seq 1 50); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null && break
	sleep 0.1
done
write_conf "postgresql://storykiosk@127.0.0.1:$port/central" 200 2s
started=$(date +%s)
sk_sync "$unreach_db" --force
took=$(( $(date +%s) - started ))
sk_eq "exit status" "$SYNC_RC" 75 || sk_sync_report
[ "$took" -le 12 ] || sk_fail "the sync took $took s with a 2 s timeout"
sk_eq "delivered in the queue" "$(status_count "$unreach_db" delivered)" 0
kill "$LISTENER_PID" 2>/dev/null
wait "$LISTENER_PID" 2>/dev/null
LISTENER_PID=""
sk_end_case
