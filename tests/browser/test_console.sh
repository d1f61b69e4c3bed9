#!/usr/bin/env bash
# test_console.sh - the web console in a real browser (ctest -L browser; issue 16).
#
# Starts `tidm server` on the test servers and runs console.mjs: Debian's chromium driven
# by playwright-core (npm, tests/browser/package-lock.json; never a browser download), with
# axe-core auditing every page. The script creates a real job through the whole wizard
# with a customised object selection, watches it reach Syncing, checks a row inserted on
# the source reaches the target and the numbers move, pauses, resumes, scales and deletes
# it from the UI, checks the field errors (wrong password, bad job name, a failing
# precheck item and a warning blocking Next), the token prompt, page load times and a
# list of 200 jobs. Screenshots (1280x800 and 390x844) go to $TIDM_BUILD/screenshots/.
. "$(dirname "$0")/../harness/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
chromium=${TIDM_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] || ! command -v node >/dev/null 2>&1 || [ ! -d "$here/node_modules/playwright-core" ] ||
	[ ! -d "$here/node_modules/axe-core" ]; then
	skip "browser tests need $chromium, node and tests/browser/node_modules (scripts/setup.sh installs them)"
fi

db=$(test_db)
skipdb=$(test_db other)
tgt_user="cons_$$"
tgt_pw="console-target-pw-$$"
on_exit "tgt_sql \"DROP USER IF EXISTS '$tgt_user'@'%'\""

# The source: a database whose tables the wizard picks from (orders and notes selected,
# items not), a keyless table (a precheck warning), and a database not selected at all.
src_sql "CREATE DATABASE \`$db\`; CREATE DATABASE \`$skipdb\`;
CREATE TABLE \`$db\`.orders (id INT PRIMARY KEY, note VARCHAR(40), amount DECIMAL(10,2));
CREATE TABLE \`$db\`.items (id INT PRIMARY KEY, name VARCHAR(40));
CREATE TABLE \`$db\`.notes (body TEXT);
CREATE TABLE \`$skipdb\`.t (id INT PRIMARY KEY);
INSERT INTO \`$db\`.orders VALUES (1, 'first', 10.50), (2, 'second', 20.00), (3, 'third', NULL);
INSERT INTO \`$db\`.items VALUES (1, 'not selected');
INSERT INTO \`$db\`.notes VALUES ('keyless row one'), ('keyless row two');
INSERT INTO \`$skipdb\`.t VALUES (1);"
# The target user starts without the privileges the job needs: the precheck fails until
# the test grants them (then "Check again" passes).
tgt_sql "DROP USER IF EXISTS '$tgt_user'@'%'; CREATE USER '$tgt_user'@'%' IDENTIFIED BY '$tgt_pw';
GRANT SELECT ON *.* TO '$tgt_user'@'%';"

. "$TIDM_SRC/tests/harness/api.sh"
start_server "$TEST_TMP/server.log" --data-dir "$TEST_TMP/data"
base=$BASE
echo "secret-console-token-$$" >"$TEST_TMP/token"
start_server "$TEST_TMP/server-token.log" --data-dir "$TEST_TMP/data-token" --token-file "$TEST_TMP/token"
token_base=$BASE

shots=$TIDM_BUILD/screenshots
mkdir -p "$shots"
rm -f "$shots"/console-*.png

export CONSOLE_BASE=$base CONSOLE_TOKEN_BASE=$token_base CONSOLE_TOKEN="secret-console-token-$$"
export CONSOLE_DB=$db CONSOLE_SKIPDB=$skipdb CONSOLE_TGT_USER=$tgt_user CONSOLE_TGT_PW=$tgt_pw
export CONSOLE_SHOTS=$shots CONSOLE_CHROMIUM=$chromium CONSOLE_YAML_OUT=$TEST_TMP/console-job.yaml
if ! node "$here/console.mjs"; then
	echo "--- server log (last 40 lines)" >&2
	tail -40 "$TEST_TMP/server.log" >&2
	fail "the console's browser test failed (screenshots in $shots)"
fi

# What the browser did, checked from outside: the job copied exactly the selected tables.
assert_tables_equal "$db" orders notes
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$db' AND TABLE_NAME='items'")" \
	"the unselected table items on the target"
assert_eq "0" "$(tgt_sql "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='$skipdb'")" \
	"the unselected database on the target"
# The YAML the details page shows is a job file tidm accepts (TLS files and all): with the
# passwords from the variables it names, its precheck connects to both sides (over mutual
# TLS to the source) and finds only what is true now: the keyless table's rows are on the
# target already (keyless-nonempty), the one item that fails.
rc=0
TIDM_SOURCE_PASSWORD=$TIDM_TEST_SOURCE_PASSWORD TIDM_TARGET_PASSWORD=$tgt_pw \
	"$TIDM_BIN" precheck "$TEST_TMP/console-job.yaml" --format json >"$TEST_TMP/yaml-precheck.json" || rc=$?
assert_eq 3 "$rc" "exit code of tidm precheck on the console's YAML ($(head -c 300 "$TEST_TMP/yaml-precheck.json"))"
assert_eq "source-connection=pass target-connection=pass failing=keyless-nonempty" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
st = {i["id"]: i["state"] for i in d["items"]}
print("source-connection=%s target-connection=%s failing=%s" % (st["source-connection"], st["target-connection"],
      ",".join(sorted(k for k, v in st.items() if v == "fail"))))' "$TEST_TMP/yaml-precheck.json")" "the precheck of the console's YAML"
# No password in the server's log.
for pw in "$TIDM_TEST_SOURCE_PASSWORD" "$tgt_pw" "secret-console-token-$$"; do
	if grep -qF -- "$pw" "$TEST_TMP/server.log" "$TEST_TMP/server-token.log"; then
		fail "a password or the token appears in the server log"
	fi
done
n=$(ls "$shots"/console-*.png | wc -l)
[ "$n" -ge 18 ] || fail "expected at least 18 screenshots in $shots, found $n"
echo "PASS: console ($n screenshots in $shots)"
