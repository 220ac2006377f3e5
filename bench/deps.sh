#!/bin/sh
# deps.sh - the Debian packages `make bench` needs beyond the test suite's
# (tests/deps.sh test): dialog for the shell-wizard baseline, valgrind for the
# keystroke instruction count, curl for the one-request-per-story baseline.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails, like tests/deps.sh.
set -u
wanted="dialog valgrind curl"
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for package in $wanted; do
		case "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" in
		*"install ok installed"*) ;;
		*) missing="$missing $package" ;;
		esac
	done
else
	for tool in $wanted; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	if [ -n "$missing" ]; then
		echo "bench: missing$missing; install them with your package manager." >&2
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
			{ echo "bench: apt-get could not install:$missing" >&2; exit 69; }
	fi
	exit 0
fi
echo "bench: these Debian packages are missing:$missing" >&2
echo "Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 69
