#!/usr/bin/env bash
# The ward keeps capturing while a sync of 2,400 stories runs (on two lanes:
# one chunk sent while the next is marked on a second connection): both finish,
# nothing is lost or doubled, and contact details erased after delivery are
# gone from the file's bytes even while the kiosk holds the queue open.
. "$(dirname "$0")/lib.sh"
. "$SK_ROOT/tests/tools/pg.sh"

unset $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p')
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
export SK_BIN
SK_CONF=$SK_DIR/storykiosk.conf

pg_start >/dev/null || { echo "not ok - the test PostgreSQL server did not start"; exit 1; }
printf 'target = %s\ntimeout = 20s\nbatch_size = 20\nretention = 0\n' "$(pg_url)" > "$SK_CONF"
mkdir -p "$(dirname "$SK_DB")"
python3 "$SK_ROOT/tests/tools/make_queue.py" "$SK_DB" 2400 >/dev/null

sk_case "a story captured in the kiosk during a sync of 2,400 is kept, and all 2,401 arrive once"
sk_start 80 24
sk_sign_in "Sam"
# Slow the central store a little so the sync is still running while we type.
pg_psql -c "CREATE TABLE IF NOT EXISTS storykiosk_stories (id uuid PRIMARY KEY, record jsonb NOT NULL,
	terminal text, received_at timestamptz NOT NULL DEFAULT now(), withdrawn_at timestamptz)" >/dev/null
pg_psql -c "CREATE OR REPLACE FUNCTION sk_slow() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END \$\$;
	CREATE TRIGGER sk_slow AFTER INSERT ON storykiosk_stories FOR EACH STATEMENT EXECUTE FUNCTION sk_slow();" >/dev/null
sk_cli --config "$SK_CONF" sync > "$SK_DIR/sync1.out" 2>&1 &
sync_pid=$!
sk_fill_story "Typed while the sync ran." "Nothing." "During sync" "QuietOwl" "LE1 5WW" "ward 7" "owl.person@example.org"
sk_keys y Enter
sk_wait "Story reference:" 20
running_during_capture=$(kill -0 "$sync_pid" 2>/dev/null && echo yes || echo no)
wait "$sync_pid"
sync_rc=$?
sk_eq "the sync was still running when the story was saved" "$running_during_capture" yes
case "$sync_rc" in 0|75) ;; *) sk_fail "first sync exit $sync_rc: $(tail -n 3 "$SK_DIR/sync1.out")" ;; esac
sk_eq "stories in the queue" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories")" 2401
sk_eq "the captured story is there" \
	"$(sqlite3 "$SK_DB" "SELECT value FROM answers WHERE step_key = 'good' AND value LIKE 'Typed while%'")" \
	"Typed while the sync ran."
# A second sync picks up whatever the first did not, including the new story.
sk_cli --config "$SK_CONF" sync > "$SK_DIR/sync2.out" 2>&1
sk_eq "second sync exit" "$?" 0
sk_eq "central rows" "$(pg_psql -c "SELECT count(*) FROM storykiosk_stories")" 2401
sk_eq "distinct central ids" "$(pg_psql -c "SELECT count(DISTINCT id) FROM storykiosk_stories")" 2401
sk_eq "delivered locally" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM stories WHERE status = 'delivered'")" 2401
sk_eq "the kiosk's story arrived" \
	"$(pg_psql -c "SELECT record->'answers'->>'good' FROM storykiosk_stories WHERE record->>'title' = 'During sync'")" \
	"Typed while the sync ran."
# The kiosk still holds the queue open: the erased email must be gone from the
# main file and the WAL alike.
sk_eq "the kiosk is still running" "$(sk_tmux display-message -p -t k '#{pane_dead}')" 0
sk_eq "erased email in the file's bytes" "$(cat "$SK_DB" "$SK_DB-wal" 2>/dev/null | grep -caF owl.person@example.org)" 0
sk_queue_consistent "$SK_DB"
sk_end_case
