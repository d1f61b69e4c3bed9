#!/usr/bin/env bash
# test_hostile_jobfile.sh - job files an attacker or an accident could hand to tidm
# (issue 19): 10 MB of random bytes, a YAML alias bomb (a billion laughs at the top level
# and inside a list tidm reads), a deeply nested document, NUL bytes, a file that is a
# directory. Each is refused with exit 2 and a message naming the file (and the line where
# there is one), quickly and with bounded memory: nothing is connected to, nothing written.
. "$(dirname "$0")/../harness/lib.sh"

# run_bounded FILE: runs `tidm precheck FILE`; prints "EXIT SECONDS MAXRSS_KIB" then the
# first line of stderr.
run_bounded() {
	python3 - "$TIDM_BIN" "$1" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run([sys.argv[1], "precheck", sys.argv[2]], capture_output=True, text=True, errors="replace", timeout=60)
el = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(p.returncode, "%.2f" % el, rss)
print((p.stderr.splitlines() or [""])[0])
PY
}

check() { # check FILE EXPECTED_MESSAGE_PART
	local out rc secs rss msg
	out=$(run_bounded "$1")
	read -r rc secs rss <<<"$(head -1 <<<"$out")"
	msg=$(sed -n 2p <<<"$out")
	assert_eq 2 "$rc" "exit code for $(basename "$1") ($msg)"
	assert_contains "$msg" "$2"
	# ASan roughly doubles memory; a bounded refusal stays far below these limits
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 5 else 1)" "$secs" || fail "$(basename "$1"): refused after $secs s"
	[ "$rss" -lt 262144 ] || fail "$(basename "$1"): $rss KiB of memory to refuse it"
	echo "$(basename "$1"): exit $rc in $secs s, max RSS $((rss / 1024)) MiB: $msg"
}

head -c 10000000 /dev/urandom >"$TEST_TMP/garbage.yaml"
check "$TEST_TMP/garbage.yaml" "garbage.yaml: the job file is larger than"

python3 -c "import base64, os, sys; open(sys.argv[1], 'w').write(''.join('- ' + base64.b64encode(os.urandom(75)).decode() + '\\n' for _ in range(9500)))" "$TEST_TMP/noise.yaml"
check "$TEST_TMP/noise.yaml" "noise.yaml:1:1"

python3 - "$TEST_TMP/laughs.yaml" <<'PY'
import sys
lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
for i in range(1, 10):
    lines.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)))
lines.append("name: *a9")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
check "$TEST_TMP/laughs.yaml" "laughs.yaml:1:1"

python3 - "$TEST_TMP/bomb.yaml" <<'PY'
import sys
lines = ["name: bomb", "type: full", "source: {host: h, user: u}", "target: {host: h, user: u}", "objects:",
         "  exclude: &a0 [x, x, x, x, x, x, x, x, x, x]"]
lines.append("  tables: &a1 [" + ", ".join(["*a0"] * 10) + "]")
lines.append("  databases: [" + ", ".join(["*a1"] * 10) + "]")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
check "$TEST_TMP/bomb.yaml" "bomb.yaml:7:"

python3 -c "import sys; open(sys.argv[1], 'w').write('name: ' + '[' * 100000 + ']' * 100000 + '\n')" "$TEST_TMP/deep.yaml"
check "$TEST_TMP/deep.yaml" "deep.yaml:1:"

printf 'name: j\0b\ntype: full\n' >"$TEST_TMP/nul.yaml"
check "$TEST_TMP/nul.yaml" "nul.yaml:1:8: a NUL byte"

mkdir "$TEST_TMP/dir.yaml"
check "$TEST_TMP/dir.yaml" "dir.yaml"
echo "PASS: $TEST_NAME"
