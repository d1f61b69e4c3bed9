#!/usr/bin/env bash
# test_tls_matrix.sh - the TLS cases test_full_tls.sh does not cover (issue 19), with
# certificates this test makes (openssl, signed by the test CA):
#   - a source started with require_secure_transport = ON: a job without TLS settings is
#     served over TLS (tidm retries with TLS when the server demands it), one with the CA
#     verifies the server;
#   - a user with REQUIRE SUBJECT: its own client certificate works, another is refused;
#   - a server certificate that expired: refused (with the CA), the cause named;
#   - a server certificate for another host name: refused (with the CA), accepted when the
#     job asks for no verification (client certificate without CA: tidm warns).
# Connector/C words the host name refusal "Validation of SSL server certificate failed"
# (errno 2026) without saying it is the name; naming it is left to do.
# No password in any output.
. "$(dirname "$0")/../harness/lib.sh"

tls=$TIDM_TESTDB_DIR/tls
[ -r "$tls/ca-key.pem" ] || fail "no test CA key at $tls/ca-key.pem"
cd "$TEST_TMP"
cp "$tls/ca.pem" ca.pem
sign() { # NAME SUBJECT EXTFILE_TEXT [openssl x509 args...]: NAME.pem, NAME-key.pem signed by the test CA
	local name=$1 subj=$2 ext=$3
	shift 3
	printf '%b' "$ext" >"$name.ext"
	openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$name-key.pem" -out "$name.csr" >/dev/null 2>&1
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey "$tls/ca-key.pem" -CAcreateserial -days 30 \
		-extfile "$name.ext" -out "$name.pem" "$@" >/dev/null 2>&1 || fail "cannot sign $name"
}
sign wronghost "/CN=wrong.example" 'subjectAltName=DNS:wrong.example\nbasicConstraints=CA:FALSE\n'
sign subject "/O=tidm/CN=tidm subject user" 'basicConstraints=CA:FALSE\n'
# another CA, which signed nothing of the servers'
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=another CA" -keyout other-ca-key.pem -out other-ca.pem -days 30 \
	>/dev/null 2>&1 || fail "cannot make another CA"
# an expired server certificate: `openssl ca` sets the dates
mkdir -p ca/newcerts
: >ca/index.txt
echo 1000 >ca/serial
cat >ca.cnf <<EOF
[ca]
default_ca = test
[test]
dir = $TEST_TMP/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = IP:127.0.0.1,DNS:localhost
basicConstraints = CA:FALSE
EOF
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout expired-key.pem -out expired.csr >/dev/null 2>&1
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile "$tls/ca-key.pem" -in expired.csr -out expired.pem \
	-startdate 20200101000000Z -enddate 20200201000000Z >/dev/null 2>&1 || fail "cannot make the expired certificate"
chmod 644 ./*.pem
cd - >/dev/null

db=$(test_db)
migrate() { # NAME EXPECTED_EXIT PORT write_job args...: runs tidm migrate, sets $out
	local name=$1 want=$2 port=$3 rc=0
	shift 3
	tgt_sql "DROP DATABASE IF EXISTS \`$db\`"
	write_job "$TEST_TMP/$name.yaml" "name=$name" "databases=$db" "source.port=$port" "$@"
	out=$("$TIDM_BIN" migrate "$TEST_TMP/$name.yaml" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "$name: exit $rc, expected $want: $out"
	case "$out" in *"$TIDM_TEST_SOURCE_PASSWORD"* | *subj-pw-7*) fail "$name: a password in the output" ;; esac
}
seed() { # NAME: the test's table on extra server NAME
	extra_sql "$1" "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.t VALUES (1, 'one'), (2, 'two')"
}
equal_to_extra() { # NAME
	assert_eq "$(extra_sql "$1" "SELECT COUNT(*), GROUP_CONCAT(id, v ORDER BY id) FROM \`$db\`.t")" \
		"$(tgt_sql "SELECT COUNT(*), GROUP_CONCAT(id, v ORDER BY id) FROM \`$db\`.t")" "the table on the target"
}

# --- require_secure_transport = ON ------------------------------------------------------------
start_extra_server rst --require-secure-transport=ON
seed rst
out=$(MYSQL_PWD=$TIDM_TEST_SOURCE_PASSWORD mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$EXTRA_PORT" -u root --skip-ssl -e 'SELECT 1' 2>&1) &&
	fail "self-check: the server accepted a connection without TLS"
migrate rst-plain 0 "$EXTRA_PORT"
equal_to_extra rst
migrate rst-ca 0 "$EXTRA_PORT" "source.tls.ca=$tls/ca.pem"
equal_to_extra rst
stop_extra_server rst

# --- REQUIRE SUBJECT ----------------------------------------------------------------------------
src_sql "CREATE DATABASE \`$db\`; CREATE TABLE \`$db\`.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO \`$db\`.t VALUES (1, 'one');
DROP USER IF EXISTS 'tidm_subj_$$'@'%'; CREATE USER 'tidm_subj_$$'@'%' IDENTIFIED BY 'subj-pw-7' REQUIRE SUBJECT '/O=tidm/CN=tidm subject user';
GRANT ALL PRIVILEGES ON *.* TO 'tidm_subj_$$'@'%';"
on_exit "src_sql \"DROP USER IF EXISTS 'tidm_subj_$$'@'%'\" >/dev/null 2>&1 || true"
migrate subject-ok 0 "$TIDM_TEST_SOURCE_PORT" source.user=tidm_subj_$$ source.password=subj-pw-7 \
	"source.tls.ca=$tls/ca.pem" "source.tls.cert=$TEST_TMP/subject.pem" "source.tls.key=$TEST_TMP/subject-key.pem"
assert_tables_equal "$db"
migrate subject-other 1 "$TIDM_TEST_SOURCE_PORT" source.user=tidm_subj_$$ source.password=subj-pw-7 \
	"source.tls.ca=$tls/ca.pem" "source.tls.cert=$TIDM_TEST_TLS_CERT" "source.tls.key=$TIDM_TEST_TLS_KEY"
assert_contains "$out" "Failed to connect to the source database using given parameters."
assert_contains "$out" "Access denied for user 'tidm_subj_$$'"

# --- an expired server certificate, a certificate for another host ---------------------------
start_extra_server expired "--ssl-cert=$TEST_TMP/expired.pem" "--ssl-key=$TEST_TMP/expired-key.pem"
seed expired
migrate old-cert 1 "$EXTRA_PORT" "source.tls.ca=$tls/ca.pem"
assert_contains "$out" "Failed to connect to the source database using given parameters."
assert_contains "$out" "TLS/SSL error: certificate has expired"
migrate old-cert-chain-only 1 "$EXTRA_PORT" "source.tls.ca=$tls/ca.pem" source.tls.verify-hostname=false
assert_contains "$out" "the server's certificate is not trusted by the CA $tls/ca.pem: certificate has expired"
stop_extra_server expired

start_extra_server wronghost "--ssl-cert=$TEST_TMP/wronghost.pem" "--ssl-key=$TEST_TMP/wronghost-key.pem"
seed wronghost
migrate other-host 1 "$EXTRA_PORT" "source.tls.ca=$tls/ca.pem"
assert_contains "$out" "Failed to connect to the source database using given parameters."
assert_contains "$out" "Validation of SSL server certificate failed"
assert_contains "$out" "the server's certificate names wrong.example, not 127.0.0.1: connect by one of those names, or set tls: {verify-hostname: false} to verify the chain only"
# the job says otherwise: the chain is verified, the host name is not
migrate other-host-chain-only 0 "$EXTRA_PORT" "source.tls.ca=$tls/ca.pem" source.tls.verify-hostname=false
equal_to_extra wronghost
# ... and the chain still must hold: another CA's certificate is refused
migrate other-host-wrong-ca 1 "$EXTRA_PORT" "source.tls.ca=$TEST_TMP/other-ca.pem" source.tls.verify-hostname=false
assert_contains "$out" "the server's certificate is not trusted by the CA $TEST_TMP/other-ca.pem"
# and the certificate itself is good: without the CA (no verification, as the job asks) it connects
migrate other-host-unverified 0 "$EXTRA_PORT" precheck.ignore=keyless-tables,source-connection \
	"source.tls.cert=$TIDM_TEST_TLS_CERT" "source.tls.key=$TIDM_TEST_TLS_KEY"
equal_to_extra wronghost
echo "PASS: $TEST_NAME"
