#!/bin/bash
# bench.sh - run StoryKiosk's benchmarks (bench/bench.py) with a private
# PostgreSQL server from tests/tools/pg.sh, which is stopped and removed when
# this script ends, however it ends. `make bench` runs this; see bench/README.md.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

case " ${BENCH_SKIP:-} " in
*" pg "*) pg_wanted=0 ;;
*) pg_wanted=1 ;;
esac
if [ "$pg_wanted" -eq 0 ]; then
	echo "bench: PostgreSQL figures skipped (BENCH_SKIP has pg)" >&2
else
	# shellcheck source=../tests/tools/pg.sh
	. "$ROOT/tests/tools/pg.sh"
	# pg.sh's server, with room for 50 concurrent syncs plus the bench's own
	# connections (pg.sh allows 50). fsync stays off as in pg.sh unless
	# BENCH_PG_FSYNC=on: the central server's disk is not what is measured.
	pg_ctl_start() {
		pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-p $PG_PORT -k $PG_DIR/socket -c listen_addresses=127.0.0.1 -c fsync=${BENCH_PG_FSYNC:-off} -c max_connections=${BENCH_PG_MAX_CONNECTIONS:-120}" \
			start >/dev/null
	}
	if pg_start; then
		export BENCH_PG_URL BENCH_PG_DIR BENCH_PG_FSYNC=${BENCH_PG_FSYNC:-off}
		BENCH_PG_URL=$(pg_url)
		BENCH_PG_DIR=$PG_DIR
	else
		echo "bench: could not start PostgreSQL; its figures will say so" >&2
	fi
fi

python3 "$ROOT/bench/bench.py" "$@"
