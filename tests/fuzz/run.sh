#!/usr/bin/env bash
# run.sh - run the libFuzzer targets built by tests/fuzz/fuzz.mk.
#   bash tests/fuzz/run.sh fuzz SECONDS TARGET...   fuzz each for SECONDS on a copy
#                                                   of its seed corpus
#   bash tests/fuzz/run.sh smoke TARGET...          run each once over its seeds,
#                                                   no mutation
# Binaries and working corpora live in $FUZZ_DIR (default build-fuzz); the
# checked-in seeds in tests/fuzz/corpus/ are only read. Every target runs even
# when one fails; the exit status is non-zero when any crashed, leaked,
# timed out or broke an invariant. A crash's input is saved under
# $FUZZ_DIR/artifacts/ and the whole log under $FUZZ_DIR/logs/.
set -u
cd "$(dirname "$0")/../.." || exit 70

fuzz_dir=${FUZZ_DIR:-build-fuzz}
mode=${1:-}
shift || true
case $mode in
fuzz) seconds=${1:?usage: run.sh fuzz SECONDS TARGET...}; shift ;;
smoke) ;;
*) echo "usage: run.sh fuzz SECONDS TARGET... | run.sh smoke TARGET..." >&2; exit 64 ;;
esac

# The fuzzers find data/ through this; sanitizers stop at the first report.
export STORYKIOSK_ROOT=$PWD
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

mkdir -p "$fuzz_dir/logs" "$fuzz_dir/artifacts"
failed=()
for target in "$@"; do
	binary=$fuzz_dir/$target
	seeds=tests/fuzz/corpus/$target
	log=$fuzz_dir/logs/$target.$mode.log
	common=(-timeout=5 -rss_limit_mb=2048 "-artifact_prefix=$fuzz_dir/artifacts/$target-")
	if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
		echo "$target: no $binary or no $seeds" >&2
		failed+=("$target")
		continue
	fi
	start=$(date +%s.%N)
	if [ "$mode" = smoke ]; then
		# Files rather than the directory: each runs once and nothing is written.
		"$binary" "${common[@]}" "$seeds"/* > "$log" 2>&1
		status=$?
		summary="$(ls "$seeds" | wc -l) seeds"
	else
		corpus=$fuzz_dir/corpus/$target
		mkdir -p "$corpus"
		cp -f "$seeds"/* "$corpus"/
		dict=()
		[ -f "tests/fuzz/$target.dict" ] && dict=("-dict=tests/fuzz/$target.dict")
		"$binary" "${common[@]}" "${dict[@]}" -max_total_time="$seconds" \
			-print_final_stats=1 "$corpus" > "$log" 2>&1
		status=$?
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
		cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/cov \1, ft \2, corpus \3/p' \
			<<< "$done_line")
		summary="${runs:-?} runs, ${speed:-?} exec/s, ${cov:-no DONE line}"
	fi
	elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	if [ "$status" -eq 0 ]; then
		printf '%-16s ok    %s in %ss\n' "$target" "$summary" "$elapsed"
	else
		printf '%-16s FAIL  (exit %d) %s in %ss; log: %s\n' "$target" "$status" \
			"$summary" "$elapsed" "$log"
		grep -E -A 30 'invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' \
			"$log" | head -n 60
		if [ "$mode" = smoke ]; then
			grep '^Running: ' "$log" | tail -n 1 | sed 's/^Running: /  input: /'
		else
			ls -t "$fuzz_dir/artifacts/$target-"* 2>/dev/null | head -n 1 |
				sed 's/^/  input: /'
		fi
		failed+=("$target")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: $mode run failed: ${failed[*]}" >&2
	exit 1
fi
