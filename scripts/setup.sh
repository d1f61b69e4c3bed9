#!/usr/bin/env bash
# setup.sh - install every Debian package tidm needs to build, test and run its demo.
#
# Idempotent: when every package is already installed it does nothing (no apt at all).
# Otherwise it runs `apt-get update` once and installs only what is missing. Works as
# root; uses sudo otherwise. Package services (the system MariaDB) are not started:
# tests and the demo run their own throwaway servers (scripts/testdb.sh).
set -euo pipefail

packages=(
	# build
	cmake pkg-config make gcc clang libclang-rt-14-dev
	libmariadb-dev libzstd-dev libfyaml-dev libjansson-dev libsqlite3-dev
	libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev zlib1g-dev libsodium-dev
	# test servers and tools (scripts/testdb.sh, tests/integration)
	mariadb-server mariadb-client openssl mydumper sysbench gzip python3
	prometheus # promtool (tests/integration/test_metrics.sh, test_monitoring.sh)
	# scripts
	git coreutils util-linux procps
)

# Browser tests (label "browser") need Debian's Chromium and Node.js with npm (a Node.js
# from elsewhere that brings its own npm is kept: Debian's npm is added only when none is).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -d "$top/tests/browser" ]; then
	packages+=(chromium nodejs)
	command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

# The browser tests' npm packages (playwright-core, axe-core), pinned by
# tests/browser/package-lock.json, into tests/browser/node_modules: `npm ci` when they are
# missing or the lock file changed since. Never a browser download (Debian's chromium).
npm_packages() {
	local dir=$top/tests/browser stamp
	[ -f "$dir/package-lock.json" ] || return 0
	stamp=$dir/node_modules/.tidm-lock
	if [ -d "$dir/node_modules" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
		return 0
	fi
	echo "setup: npm ci in tests/browser"
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	cp "$dir/package-lock.json" "$stamp"
}

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#packages[@]} packages present"
	npm_packages
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
	exit 1
fi

echo "setup: installing ${missing[*]}"
# Keep package scripts from starting the system MariaDB service (standard policy-rc.d
# mechanism); only when no policy is in place already, and removed afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
	"${as_root[@]}" chmod 755 "$policy"
	own_policy=1
fi
cleanup() {
	if [ "$own_policy" -eq 1 ]; then
		"${as_root[@]}" rm -f "$policy"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_packages
echo "setup: done"
