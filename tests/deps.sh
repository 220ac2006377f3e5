#!/bin/sh
# deps.sh - make sure the Debian packages StoryKiosk needs are installed.
# Usage: sh tests/deps.sh build|test|bench
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails, so nothing half-builds.
set -u

build_packages="gcc make pkg-config libncurses-dev libsqlite3-dev uuid-dev libpq-dev libcurl4-openssl-dev libsodium-dev"
test_packages="tmux python3 sqlite3 postgresql openssl"
# make bench: dialog for the shell-wizard baseline, valgrind for instruction
# counts, curl for the one-request-per-story baseline.
bench_packages="dialog valgrind curl"

case "${1:-build}" in
build) wanted="$build_packages" ;;
test) wanted="$build_packages $test_packages" ;;
bench) wanted="$build_packages $test_packages $bench_packages" ;;
*) echo "usage: sh tests/deps.sh build|test|bench" >&2; exit 64 ;;
esac

missing=""
for package in $wanted; do
	status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $package" ;;
	esac
done

# On a machine without dpkg (not Debian), trust pkg-config and PATH instead.
if ! command -v dpkg-query >/dev/null 2>&1; then
	missing=""
	pkg-config --exists ncursesw sqlite3 uuid 2>/dev/null || missing=" (ncursesw, sqlite3, uuid development files)"
	[ "${1:-build}" != build ] && ! command -v tmux >/dev/null 2>&1 && missing="$missing tmux"
	if [ -n "$missing" ]; then
		echo "storykiosk: missing$missing; install them with your package manager." >&2
		exit 69
	fi
	exit 0
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "Installing missing packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing ||
			{ echo "storykiosk: apt-get could not install:$missing" >&2; exit 69; }
	fi
	exit 0
fi

echo "storykiosk: these Debian packages are missing:$missing" >&2
echo "Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 69
