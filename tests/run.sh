#!/usr/bin/env bash
# run.sh - run every test: the unit test binaries, then the end-to-end tests
# that drive the real kiosk in tmux. Each prints "ok - NAME" / "not ok - NAME"
# lines; this adds them up and ends with "N passed, N failed, N skipped".
# Usage: bash tests/run.sh [PATTERN]   (PATTERN picks test files by name)
# With STORYKIOSK_ASAN_PASS=1 (make check) it then runs everything again on
# the AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/, and
# the closing line counts both passes.
set -u
cd "$(dirname "$0")/.." || exit 70

unit_dir=${STORYKIOSK_UNIT_DIR:-build/tests}
pattern=${1:-}
prefix=""
passed=0 failed=0 skipped=0
failed_names=()
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# Count one test program's output; show it in full when anything failed.
tally() {
	local name=$1 log=$2 status=$3
	local ok bad skip
	skip=$(grep -c '^ok - .*# SKIP' "$log")
	ok=$(( $(grep -c '^ok - ' "$log") - skip ))
	bad=$(grep -c '^not ok - ' "$log")
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		# A crash or an error before any case reported: count it as a failure.
		bad=1
		echo "not ok - $name exited with status $status" >> "$log"
	fi
	passed=$((passed + ok)); failed=$((failed + bad)); skipped=$((skipped + skip))
	if [ "$bad" -gt 0 ]; then
		failed_names+=("$name")
		echo "---- $name: $bad failed"
		cat "$log"
		echo "----"
	else
		printf '%-40s %3d passed%s\n' "$name" "$ok" "$([ "$skip" -gt 0 ] && echo ", $skip skipped")"
	fi
}

run_pass() {
for test in "$unit_dir"/test_*; do
	[ -x "$test" ] || continue
	name=${prefix}unit/$(basename "$test")
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && continue
	log=$log_dir/${prefix%:}$(basename "$test").log
	"$test" > "$log" 2>&1
	tally "$name" "$log" $?
done

# End-to-end files run STORYKIOSK_TEST_JOBS at a time (default 2, one per core
# here): each has its own tmux server, queue, ports and servers, and their
# waits poll with deadlines, so they do not depend on running alone. Results
# are tallied in file order once all have finished.
jobs=${STORYKIOSK_TEST_JOBS:-2}
e2e_tests=()
for test in tests/e2e/test_*.sh; do
	[ -f "$test" ] || continue
	name=e2e/$(basename "$test" .sh)
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && continue
	e2e_tests+=("$test")
done
run_one() {
	local test=$1 log=$log_dir/${prefix%:}$(basename "$1").log
	timeout 300 bash "$test" > "$log" 2>&1
	echo $? > "$log.status"
}
running=0
for test in "${e2e_tests[@]}"; do
	run_one "$test" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for test in "${e2e_tests[@]}"; do
	log=$log_dir/${prefix%:}$(basename "$test").log
	tally "${prefix}e2e/$(basename "$test" .sh)" "$log" "$(cat "$log.status" 2>/dev/null || echo 1)"
done
}

run_pass
if [ "${STORYKIOSK_ASAN_PASS:-0}" = 1 ]; then
	echo "---- the same tests under AddressSanitizer and UndefinedBehaviorSanitizer"
	prefix="asan:"
	unit_dir=build-asan/tests
	export SK_BIN=$PWD/build-asan/storykiosk STORYKIOSK_DATA_DIR=$PWD
	export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
	export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run_pass
fi

if [ $((passed + failed)) -eq 0 ]; then
	echo "no tests ran"
	failed=1
fi
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
