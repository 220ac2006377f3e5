#!/bin/sh
# toolchain.sh - check that clang and its libFuzzer runtime are installed, by
# building a one-line fuzzer. Otherwise print the apt-get line that installs
# them and fail. Usage: sh tests/fuzz/toolchain.sh [CC]
set -u
cc=${1:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc is not installed. Install it with:" >&2
	echo "  sudo apt-get install -y clang libclang-rt-14-dev" >&2
	echo "  (Debian 12; on releases before clang 14 the runtime is libclang-common-N-dev)" >&2
	exit 69
fi

dir=$(mktemp -d) || exit 70
trap 'rm -rf "$dir"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	> "$dir/probe.c"
if "$cc" -fsanitize=fuzzer,address,undefined -o "$dir/probe" "$dir/probe.c" \
	> "$dir/log" 2>&1; then
	exit 0
fi

# The runtime is missing: name the package that holds libclang_rt.fuzzer.
major=$("$cc" -dumpversion 2>/dev/null | cut -d. -f1)
arch=$(uname -m)
runtime=$("$cc" -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-$arch.a
package=libclang-rt-$major-dev
if command -v apt-cache >/dev/null 2>&1 &&
	! apt-cache show "$package" >/dev/null 2>&1; then
	package=libclang-common-$major-dev # where releases before clang 14 keep it
fi
echo "fuzz: $cc cannot build a libFuzzer target ($runtime is missing?):" >&2
sed 's/^/  /' "$dir/log" | head -n 5 >&2
echo "Install the runtime with:" >&2
echo "  sudo apt-get install -y clang $package" >&2
exit 69
