#!/usr/bin/env bash
# storykiosk sync to an HTTP intake (tests/tools/intake.py on 127.0.0.1): only
# 201/202, or 409 for a story already there, count as delivered; a login page,
# a redirect, errors, a slow reply and a dropped connection leave the story
# failed and kept, and a later retry delivers it exactly once.
. "$(dirname "$0")/lib.sh"
trap 'sk_intake_stop; sk_cleanup' EXIT

# Keep the operator's config files and any proxy out of the test.
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
export SK_BIN
SK_CONF=$SK_DIR/storykiosk.conf
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
INTAKE=$SK_DIR/intake
QUEUES=0

# The config for this file; extra "key = value" lines as arguments.
write_conf() {
	{
		echo "# written by test_sync_http.sh"
		echo "timeout = 5s"
		echo "retry_base = 1h"
		echo "terminal = ward-7-kiosk"
		printf '%s\n' "$@"
	} >"$SK_CONF"
}

# A new queue of N stories (make_queue.py seed SEED); its ids in $SK_DIR/ids.
fresh_queue() {
	QUEUES=$((QUEUES + 1))
	SK_DB=$SK_DIR/q$QUEUES/queue.db
	"$SK_PY" "$MAKE_QUEUE" "$SK_DB" "$1" --seed "${2:-$QUEUES}" >"$SK_DIR/ids" ||
		sk_fail "make_queue.py failed"
	FIRST_ID=$(head -n 1 "$SK_DIR/ids")
}

# storykiosk sync to the intake (or the given URL); sets SYNC_RC, SYNC_SUMMARY
# (the last line of stdout) and SYNC_MS.
http_sync() {
	local url="http://127.0.0.1:$SK_INTAKE_PORT/stories"
	if [ $# -gt 0 ] && [[ $1 == *://* ]]; then url=$1; shift; fi
	sk_sync "$SK_DB" "$url" "$@"
}

# Check the exit status and summary of the last sync.
expect_sync() {
	local rc=$1 summary=$2 ok=0
	sk_eq "exit status" "$SYNC_RC" "$rc" || ok=1
	sk_eq "summary" "$SYNC_SUMMARY" "$summary" || ok=1
	[ "$ok" -eq 0 ] || sk_sync_report
}

count_status() { sk_cli list --status "$1" | wc -l; }

# The story's show output must hold TEXT (in its delivery attempts).
expect_shown() {
	sk_cli show "$1" >"$SK_DIR/show.out" 2>&1 || sk_fail "show $1 failed"
	grep -qF -- "$2" "$SK_DIR/show.out" || {
		sk_fail "show $1 does not mention \"$2\""
		sed -n '/^Delivery attempts/,$p' "$SK_DIR/show.out" | sed 's/^/#   | /'
	}
}

write_conf
sk_intake_start "$INTAKE" || { echo "not ok - the test intake"; exit 1; }

sk_case "201: stories are delivered and the intake holds each export line, byte for byte"
fresh_queue 3
sk_cli export >"$SK_DIR/export.jsonl" || sk_fail "export failed"
http_sync
expect_sync 0 "delivered 3, already there 0, failed 0, left 0"
sk_eq "delivered in the queue" "$(count_status delivered)" 3
sk_eq "stories at the intake" "$(sk_intake_stories)" 3
while IFS= read -r line; do
	id=$(printf '%s' "$line" | "$SK_PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
	if [ ! -f "$INTAKE/$id.json" ]; then
		sk_fail "the intake has no $id.json"
	elif ! printf '%s' "$line" | cmp -s - "$INTAKE/$id.json"; then
		sk_fail "$id: the intake's copy is not the export line"
		echo "#   export: $line"
		echo "#   intake: $(cat "$INTAKE/$id.json")"
	fi
done <"$SK_DIR/export.jsonl"
sk_eq "user agent" "$(sk_intake_stat user_agents)" "storykiosk/$("$SK_BIN" --version | awk '{print $NF}')"
sk_eq "terminal header" "$(sk_intake_stat terminals)" ward-7-kiosk
sk_eq "requests" "$(sk_intake_stat requests)" 3
expect_shown "$FIRST_ID" "code 201"
expect_shown "$FIRST_ID" "127.0.0.1:$SK_INTAKE_PORT/stories"
sk_end_case

sk_case "a delivered story is not sent again"
http_sync
expect_sync 0 "delivered 0, already there 0, failed 0, left 0"
sk_eq "requests after a second sync" "$(sk_intake_stat requests)" 3
sk_end_case

sk_case "409: another queue holding the same stories finds them already there"
# The same seed makes the same story ids in a second queue.
fresh_queue 3 1
http_sync
expect_sync 0 "delivered 0, already there 3, failed 0, left 0"
sk_eq "delivered in the second queue" "$(count_status delivered)" 3
sk_eq "stories at the intake" "$(sk_intake_stories)" 3
sk_eq "409 answers" "$(sk_intake_stat statuses.409)" 3
expect_shown "$FIRST_ID" "already there"
sk_end_case

sk_case "200 with a Wi-Fi login page is not a delivery"
fresh_queue 1
sk_intake_mode 200-html
http_sync
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
sk_eq "failed in the queue" "$(count_status failed)" 1
sk_eq "delivered in the queue" "$(count_status delivered)" 0
sk_eq "stories at the intake" "$(sk_intake_stories)" 3
expect_shown "$FIRST_ID" "code 200"
expect_shown "$FIRST_ID" "Wi-Fi login page"
sk_end_case

sk_case "500 leaves the story failed; after the intake recovers --force delivers it"
fresh_queue 1
sk_intake_mode 500
http_sync
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
sk_eq "failed in the queue" "$(count_status failed)" 1
expect_shown "$FIRST_ID" "code 500"
sk_intake_mode ok
before=$(sk_intake_stat requests)
# Backoff: without --force the story is not due yet and nothing is sent.
http_sync
expect_sync 75 "delivered 0, already there 0, failed 0, left 1"
sk_eq "requests during backoff" "$(sk_intake_stat requests)" "$before"
http_sync --force
expect_sync 0 "delivered 1, already there 0, failed 0, left 0"
sk_eq "delivered in the queue" "$(count_status delivered)" 1
sk_eq "central copies" "$(ls "$INTAKE" | grep -c "^$FIRST_ID")" 1
sk_end_case

sk_case "503 and 429 stop the run (the intake asked us to wait); --force later delivers"
for fault in 503 429; do
	fresh_queue 3
	sk_intake_mode "$fault"
	before=$(sk_intake_stat requests)
	http_sync
	expect_sync 75 "delivered 0, already there 0, failed 3, left 3"
	sk_eq "$fault: requests in the run" "$(( $(sk_intake_stat requests) - before ))" 1
	sk_eq "$fault: failed in the queue" "$(count_status failed)" 3
	sk_eq "$fault: delivered in the queue" "$(count_status delivered)" 0
	expect_shown "$FIRST_ID" "code $fault"
	expect_shown "$FIRST_ID" "Retry-After: 7"
	# The two behind it never left: each has its attempt ("not sent"), and
	# no 'sent' in its history.
	sk_eq "$fault: 'sent' audit rows" "$(sk_sql "SELECT count(*) FROM audit WHERE event = 'sent'")" 1
	sk_eq "$fault: the one sent" "$(sk_sql "SELECT story_id FROM audit WHERE event = 'sent'")" "$FIRST_ID"
	sk_eq "$fault: attempts saying not sent" \
		"$(sk_sql "SELECT count(*) FROM attempts WHERE message LIKE 'not sent: the run stopped%'")" 2
	sk_intake_mode ok
	http_sync --force
	expect_sync 0 "delivered 3, already there 0, failed 0, left 0"
	sk_eq "$fault: 'sent' audit rows after the retry" \
		"$(sk_sql "SELECT count(*) FROM audit WHERE event = 'sent'")" 4
	sk_queue_consistent "$SK_DB"
done
sk_end_case

sk_case "stories go in the order they reached the queue, whatever their consent times"
# make_queue.py cycles consent times over 20 days: by consent the first
# three are rowids 1, 21, 2; as they reached the queue, 1, 2, 3.
fresh_queue 30 77
sk_intake_mode "ok x3" 503
http_sync
expect_sync 75 "delivered 3, already there 0, failed 27, left 27"
sk_eq "the three delivered" \
	"$(sk_sql "SELECT group_concat(rowid, ' ') FROM (SELECT rowid FROM stories WHERE status = 'delivered' ORDER BY rowid)")" \
	"1 2 3"
sk_intake_mode ok
sk_end_case

sk_case "after a 503 for a story, the run stops: a withdrawal waiting behind it is not sent"
fresh_queue 4 78
sk_intake_mode "ok x2" 500
http_sync
expect_sync 75 "delivered 2, already there 0, failed 2, left 2"
delivered_id=$(sk_sql "SELECT id FROM stories WHERE status = 'delivered' LIMIT 1")
sk_cli withdraw "$delivered_id" >/dev/null 2>&1 || sk_fail "withdraw failed"
sk_intake_mode 503
before=$(sk_intake_stat requests)
http_sync --force
expect_sync 75 "delivered 0, already there 0, failed 2, left 3"
sk_eq "requests in the run" "$(( $(sk_intake_stat requests) - before ))" 1
sk_eq "the withdrawal still waits, untried" \
	"$(sk_sql "SELECT withdrawal_pending || ' ' || attempt_count FROM stories WHERE id = '$delivered_id'")" "1 1"
sk_intake_mode ok
sk_end_case

sk_case "a reply slower than the timeout: failed, not delivered; the retry finds it there"
write_conf "timeout = 1"
fresh_queue 1
sk_intake_mode "slow 2"
stored=$(sk_intake_stat stored)
http_sync
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
[ "$SYNC_MS" -lt 1900 ] || sk_fail "the sync took $SYNC_MS ms: it did not give up after 1 s"
sk_eq "delivered in the queue" "$(count_status delivered)" 0
sk_eq "failed in the queue" "$(count_status failed)" 1
expect_shown "$FIRST_ID" "timed out"
# The slow intake stores the story after all; wait for that, then retry.
for _ in $(seq 1 60); do
	[ "$(sk_intake_stat stored)" -gt "$stored" ] && break
	sleep 0.05
done
sk_intake_mode ok
http_sync --force
expect_sync 0 "delivered 0, already there 1, failed 0, left 0"
sk_eq "central copies" "$(ls "$INTAKE" | grep -c "^$FIRST_ID")" 1
write_conf
sk_end_case

sk_case "a dropped or reset connection: failed, nothing stored; --force delivers"
for fault in drop reset; do
	fresh_queue 1
	sk_intake_mode "$fault"
	http_sync
	expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
	sk_eq "$fault: failed in the queue" "$(count_status failed)" 1
	[ -f "$INTAKE/$FIRST_ID.json" ] && sk_fail "$fault: the intake stored the story"
	sk_intake_mode ok
	http_sync --force
	expect_sync 0 "delivered 1, already there 0, failed 0, left 0"
done
sk_end_case

sk_case "stored, then the connection dropped: the retry finds it already there, one copy"
fresh_queue 1
sk_intake_mode drop-after-store
http_sync
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
sk_eq "failed in the queue" "$(count_status failed)" 1
sk_eq "central copies after the drop" "$(ls "$INTAKE" | grep -c "^$FIRST_ID")" 1
sk_intake_mode ok
http_sync --force
expect_sync 0 "delivered 0, already there 1, failed 0, left 0"
sk_eq "delivered in the queue" "$(count_status delivered)" 1
sk_eq "central copies" "$(ls "$INTAKE" | grep -c "^$FIRST_ID")" 1
sk_end_case

sk_case "a withdrawal answered 410: done for a story a dropped connection left maybe delivered, not for a delivered one"
fresh_queue 1
sk_intake_mode drop
http_sync
sk_eq "exit status after the drop" "$SYNC_RC" 75 || sk_sync_report
sk_eq "maybe delivered" "$(sqlite3 "$SK_DB" "SELECT maybe_delivered FROM stories")" 1
out=$(sk_cli withdraw "$FIRST_ID" 2>&1)
case "$out" in *"told at the next sync"*) ;; *) sk_fail "withdraw said: $out" ;; esac
# 404 may only mean the intake moved: the withdrawal waits.
sk_intake_mode 404
http_sync --force
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
sk_eq "kept while the answer is 404" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories")" 1
sk_intake_mode 410
http_sync --force
expect_sync 0 "delivered 1, already there 0, failed 0, left 0"
sk_eq "gone from the queue once the intake said it never had it" \
	"$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories")" 0
fresh_queue 1
sk_intake_mode ok
http_sync
expect_sync 0 "delivered 1, already there 0, failed 0, left 0"
sk_cli withdraw "$FIRST_ID" >/dev/null 2>&1 || sk_fail "withdraw failed"
sk_intake_mode 410
http_sync --force
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
sk_eq "a delivered story's withdrawal is kept until the intake takes it" \
	"$(sqlite3 "$SK_DB" "SELECT status || ' ' || withdrawal_pending FROM stories")" "withdrawn 1"
sk_intake_mode ok
sk_end_case

sk_case "302 to a login page: failed, the redirect not followed"
fresh_queue 1
sk_intake_mode 302
gets=$(sk_intake_stat gets)
http_sync
expect_sync 75 "delivered 0, already there 0, failed 1, left 1"
sk_eq "requests to the redirect's target" "$(sk_intake_stat gets)" "$gets"
sk_eq "failed in the queue" "$(count_status failed)" 1
expect_shown "$FIRST_ID" "code 302"
expect_shown "$FIRST_ID" "not followed"
sk_end_case

sk_case "400: the intake refuses the story; kept as failed, the next one still goes"
fresh_queue 2
sk_intake_mode "400 x1" ok
http_sync
expect_sync 75 "delivered 1, already there 0, failed 1, left 1"
sk_eq "failed in the queue" "$(count_status failed)" 1
sk_eq "delivered in the queue" "$(count_status delivered)" 1
expect_shown "$FIRST_ID" "code 400"
sk_end_case

sk_case "401 and 403 stop the run with status 78; nothing is marked delivered"
for fault in 401 403; do
	fresh_queue 3
	sk_intake_mode "$fault"
	before=$(sk_intake_stat requests)
	http_sync
	sk_eq "$fault: exit status" "$SYNC_RC" 78 || sk_sync_report
	grep -qF "the intake refused our credentials (HTTP $fault)" "$SK_DIR/sync.err" ||
		{ sk_fail "$fault: no clear message"; sk_sync_report; }
	sk_eq "$fault: requests in the run" "$(( $(sk_intake_stat requests) - before ))" 1
	sk_eq "$fault: delivered in the queue" "$(count_status delivered)" 0
	sk_eq "$fault: stories left" "$(sk_cli list | wc -l)" 3
done
sk_intake_mode ok
sk_end_case

sk_case "a damaged queue: sync to a live intake says it is damaged and to call IT, exits 74, sends nothing and changes not a byte"
# The integrity check runs while the sync counts what is due and connects;
# nothing is locked, committed or sent before its verdict. Page 4 is the
# status index the count reads; page 9 is the drafts table, which the sync
# never reads: there only the verdict stops it.
for page in 4 9; do
	fresh_queue 300
	sk_sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	rm -f "$SK_DB-wal" "$SK_DB-shm"
	"$SK_PY" - "$SK_DB" "$page" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096 * (int(sys.argv[2]) - 1))
    f.write(b"\xde\xad\xbe\xef" * 512)
PY
	before=$(sha256sum <"$SK_DB")
	requests=$(sk_intake_stat requests)
	http_sync
	sk_eq "page $page: exit status" "$SYNC_RC" 74 || sk_sync_report
	grep -qi "damaged" "$SK_DIR/sync.err" || { sk_fail "page $page: no word of damage"; sk_sync_report; }
	grep -qF "Call IT" "$SK_DIR/sync.err" || { sk_fail "page $page: not told to call IT"; sk_sync_report; }
	sk_eq "page $page: requests" "$(sk_intake_stat requests)" "$requests"
	sk_eq "page $page: the file's bytes" "$(sha256sum <"$SK_DB")" "$before"
done
sk_end_case

sk_case "200 stories in batches of 50 travel over one kept-alive connection"
sk_intake_start "$INTAKE" || exit 1
write_conf "batch_size = 50"
fresh_queue 200
http_sync
expect_sync 0 "delivered 200, already there 0, failed 0, left 0"
echo "#   200 stories in $SYNC_MS ms"
sk_eq "requests" "$(sk_intake_stat requests)" 200
sk_eq "stories at the intake" "$(sk_intake_stories)" 200
connections=$(sk_intake_stat connections)
[ "$connections" -le 2 ] || sk_fail "200 stories took $connections connections"
sk_eq "delivered in the queue" "$(count_status delivered)" 200
write_conf
sk_end_case
