#!/usr/bin/env bash
# storykiosk sync to a real PostgreSQL server started for this test: every
# story arrives exactly once, the central record is the export record, a
# second sync or a second queue holding the same stories never doubles one,
# and a withdrawal after delivery reaches the central table.
. "$(dirname "$0")/lib.sh"
. "$SK_ROOT/tests/tools/pg.sh"

# Keep the operator's own PostgreSQL settings and config files out of the test.
unset $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p')
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
SK_CONF=$SK_DIR/storykiosk.conf
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
export SK_BIN

write_conf() {
	cat >"$SK_CONF" <<-EOF
	# written by test_sync_pg.sh
	target = $(pg_url)
	timeout = 10s
	batch_size = ${1:-200}
	retention = 7d
	terminal = ward-7-kiosk
	EOF
}

central_count() { pg_psql -c "SELECT count(*) FROM storykiosk_stories"; }
status_count() { "$SK_BIN" --db "$1" list --status "$2" | wc -l; }

pg_start || { echo "not ok - a PostgreSQL server for the test"; exit 1; }
write_conf 200

sk_case "1,000 stories are delivered and counted exactly once"
python3 "$MAKE_QUEUE" "$SK_DB" 1000 --no-email-every 7 >"$SK_DIR/ids" || sk_fail "make_queue failed"
sk_cli export >"$SK_DIR/before.jsonl" || sk_fail "export before the sync failed"
sk_sync "$SK_DB"
echo "#   sync of 1,000 stories took $SYNC_MS ms"
sk_eq "exit status" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary" "$SYNC_SUMMARY" "delivered 1000, already there 0, failed 0, left 0"
sk_eq "central rows" "$(central_count)" 1000
sk_eq "distinct central ids" "$(pg_psql -c 'SELECT count(DISTINCT id) FROM storykiosk_stories')" 1000
sk_eq "delivered in the queue" "$(status_count "$SK_DB" delivered)" 1000
sk_eq "queued in the queue" "$(status_count "$SK_DB" queued)" 0
sk_eq "terminal recorded" "$(pg_psql -c 'SELECT DISTINCT terminal FROM storykiosk_stories')" ward-7-kiosk
sk_eq "schema version" "$(pg_psql -c 'SELECT version FROM storykiosk_schema')" 1
# The same ids on both sides, not merely the same number.
pg_psql -c "SELECT id FROM storykiosk_stories ORDER BY id" >"$SK_DIR/central.ids"
sort "$SK_DIR/ids" | cmp -s - "$SK_DIR/central.ids" ||
	sk_fail "the central ids are not the queue's ids"
sk_queue_consistent "$SK_DB"
sk_end_case

sk_case "the central record equals the export line, story by story"
pg_psql -c "SELECT record FROM storykiosk_stories" >"$SK_DIR/central.jsonl"
python3 - "$SK_DIR/before.jsonl" "$SK_DIR/central.jsonl" <<'PY' || sk_fail "records differ"
import json, sys
local = {r["id"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
central = {r["id"]: r for r in map(json.loads, open(sys.argv[2], encoding="utf-8"))}
if len(local) != 1000 or set(local) != set(central):
    sys.exit("#   %d local, %d central, %d in common" % (len(local), len(central), len(set(local) & set(central))))
bad = [i for i in local if local[i] != central[i]]
for i in bad[:3]:
    print("#   %s\n#     local   %s\n#     central %s" % (i, json.dumps(local[i], ensure_ascii=False),
          json.dumps(central[i], ensure_ascii=False)))
# The non-ASCII answers went through unchanged, not merely equal after a round trip.
some = next(iter(central.values()))
if "Zoë «ça va»" not in some["answers"]["good"] or "–" not in some["services"][0]["name"]:
    print("#   non-ASCII text changed:", some["answers"]["good"], some["services"][0]["name"])
    sys.exit(1)
sys.exit(1 if bad else 0)
PY
sk_end_case

sk_case "the same queue synced again delivers nothing and doubles nothing"
sk_sync "$SK_DB"
sk_eq "exit status" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary" "$SYNC_SUMMARY" "delivered 0, already there 0, failed 0, left 0"
sk_eq "central rows" "$(central_count)" 1000
# As if a sync had died after the server committed but before the queue
# recorded it: every story is sent again, and the server already holds each.
# In batches of 20: chunks of 500, the second sent while the first's answers
# are recorded.
sk_sql "UPDATE stories SET status = 'queued' WHERE status = 'delivered'"
write_conf 20
sk_sync "$SK_DB"
sk_eq "exit status after resending" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary after resending" "$SYNC_SUMMARY" "delivered 0, already there 1000, failed 0, left 0"
sk_eq "central rows after resending" "$(central_count)" 1000
sk_eq "delivered in the queue" "$(status_count "$SK_DB" delivered)" 1000
sk_eq "'delivered (already there)' in the histories" \
	"$(sk_sql "SELECT count(*) FROM audit WHERE event = 'delivered (already there)'")" 1000
sk_queue_consistent "$SK_DB"
write_conf 200
sk_end_case

sk_case "a withdrawal after delivery marks the central row withdrawn"
id=$(sed -n 5p "$SK_DIR/ids")
sk_cli withdraw "$id" >"$SK_DIR/withdraw.out" 2>&1 || { sk_fail "withdraw failed"; cat "$SK_DIR/withdraw.out"; }
sk_sync "$SK_DB"
sk_eq "exit status" "$SYNC_RC" 0 || sk_sync_report
sk_eq "summary" "$SYNC_SUMMARY" "delivered 1, already there 0, failed 0, left 0"
sk_eq "withdrawn central rows" "$(pg_psql -c 'SELECT id FROM storykiosk_stories WHERE withdrawn_at IS NOT NULL')" "$id"
sk_eq "central rows" "$(central_count)" 1000
sk_end_case

sk_case "two copies of one queue synced at once: each story stored once"
pg_psql -d postgres -c "CREATE DATABASE race" >/dev/null || sk_fail "CREATE DATABASE race"
sed -i "s|^target = .*|target = $(pg_url race)|; s|^batch_size = .*|batch_size = 50|" "$SK_CONF"
queue_a=$SK_DIR/a/queue.db queue_b=$SK_DIR/b/queue.db
mkdir -m 700 "$SK_DIR/a" "$SK_DIR/b"
python3 "$MAKE_QUEUE" "$queue_a" 7000 --seed 7 >/dev/null || sk_fail "make_queue failed"
sqlite3 "$queue_a" ".backup '$queue_b'" || sk_fail "copying the queue failed"
# Both start on an empty database, so both also race to create the schema.
"$SK_BIN" --db "$queue_a" --config "$SK_CONF" sync >"$SK_DIR/a.out" 2>"$SK_DIR/a.err" &
pid_a=$!
"$SK_BIN" --db "$queue_b" --config "$SK_CONF" sync >"$SK_DIR/b.out" 2>"$SK_DIR/b.err" &
pid_b=$!
wait "$pid_a"; rc_a=$?
wait "$pid_b"; rc_b=$?
sk_eq "exit status of the first" "$rc_a" 0 || cat "$SK_DIR/a.out" "$SK_DIR/a.err"
sk_eq "exit status of the second" "$rc_b" 0 || cat "$SK_DIR/b.out" "$SK_DIR/b.err"
sk_eq "central rows" "$(pg_psql -d race -c 'SELECT count(*) FROM storykiosk_stories')" 7000
sk_eq "schema rows" "$(pg_psql -d race -c 'SELECT count(*) FROM storykiosk_schema')" 1
sk_eq "first queue delivered" "$(status_count "$queue_a" delivered)" 7000
sk_eq "second queue delivered" "$(status_count "$queue_b" delivered)" 7000
sk_queue_consistent "$queue_a"
sk_queue_consistent "$queue_b"
# Each story was stored by exactly one of the two, and found there by the other.
totals=$(cat "$SK_DIR/a.out" "$SK_DIR/b.out" | sed -n \
	's/^delivered \([0-9]*\), already there \([0-9]*\), failed \([0-9]*\), left \([0-9]*\)$/\1 \2 \3 \4/p' |
	awk '{ d += $1; a += $2; f += $3; l += $4 } END { print d, a, f, l }')
sk_eq "delivered, already there, failed, left (both runs)" "$totals" "7000 7000 0 0"
echo "#   first: $(tail -n 1 "$SK_DIR/a.out")"
echo "#   second: $(tail -n 1 "$SK_DIR/b.out")"
sk_end_case

pg_stop
