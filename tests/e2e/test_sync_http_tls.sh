#!/usr/bin/env bash
# storykiosk sync to an HTTP intake, the trust side: HTTPS verified against a
# throwaway CA made here, the bearer token from a 0600 file (and never shown),
# plain http:// refused for anything but this machine, and an intake that is
# not there at all. Only 127.0.0.1 is ever contacted.
. "$(dirname "$0")/lib.sh"
trap 'sk_intake_stop; sk_cleanup' EXIT

export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
export SK_BIN
SK_CONF=$SK_DIR/storykiosk.conf
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
INTAKE=$SK_DIR/intake
TLS=$SK_DIR/tls
TOKEN=sk-test-token-$RANDOM$RANDOM-do-not-print
QUEUES=0

write_conf() {
	{
		echo "# written by test_sync_http_tls.sh"
		echo "timeout = 10s"
		echo "retry_base = 1h"
		printf '%s\n' "$@"
	} >"$SK_CONF"
}

fresh_queue() {
	QUEUES=$((QUEUES + 1))
	SK_DB=$SK_DIR/q$QUEUES/queue.db
	"$SK_PY" "$MAKE_QUEUE" "$SK_DB" "$1" --seed "$((QUEUES + 100))" >"$SK_DIR/ids" ||
		sk_fail "make_queue.py failed"
	FIRST_ID=$(head -n 1 "$SK_DIR/ids")
}

# storykiosk sync URL [ARGS]; sets SYNC_RC, SYNC_SUMMARY, SYNC_MS.
http_sync() {
	local url=$1
	shift
	sk_sync "$SK_DB" "$url" "$@"
}

expect_sync() {
	local rc=$1 summary=$2 ok=0
	sk_eq "exit status" "$SYNC_RC" "$rc" || ok=1
	[ -z "$summary" ] || sk_eq "summary" "$SYNC_SUMMARY" "$summary" || ok=1
	[ "$ok" -eq 0 ] || sk_sync_report
}

# stderr of the last sync must hold TEXT.
expect_said() {
	grep -qF -- "$1" "$SK_DIR/sync.err" || { sk_fail "stderr does not say \"$1\""; sk_sync_report; }
}

count_status() { sk_cli list --status "$1" | wc -l; }

# A throwaway CA and a certificate for 127.0.0.1 (and only that) signed by it.
make_certificates() {
	mkdir -p "$TLS" && cd "$TLS" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-keyout ca.key -out ca.pem -subj "/CN=StoryKiosk test CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout server.key -out server.csr -subj "/CN=127.0.0.1" &&
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
		-extfile ext -out server.pem
	local rc=$?
	cd - >/dev/null
	return $rc
} 2>"$SK_DIR/openssl.log"

sk_case "HTTPS with the configured CA bundle: delivered, the body intact"
make_certificates || { sk_fail "openssl could not make the test certificates"; cat "$SK_DIR/openssl.log"; }
sk_intake_start "$INTAKE" --tls "$TLS/server.pem" "$TLS/server.key"
write_conf "ca_bundle = $TLS/ca.pem"
fresh_queue 2
sk_cli export >"$SK_DIR/export.jsonl"
http_sync "https://127.0.0.1:$SK_INTAKE_PORT/stories"
expect_sync 0 "delivered 2, already there 0, failed 0, left 0"
sk_eq "delivered in the queue" "$(count_status delivered)" 2
head -n 1 "$SK_DIR/export.jsonl" | tr -d '\n' | cmp -s - "$INTAKE/$FIRST_ID.json" ||
	sk_fail "the intake's copy is not the export line"
sk_eq "connections" "$(sk_intake_stat connections)" 1
sk_end_case

sk_case "HTTPS without the CA bundle: status 78, the certificate is not trusted"
write_conf
fresh_queue 2
before=$(sk_intake_stat requests)
http_sync "https://127.0.0.1:$SK_INTAKE_PORT/stories"
expect_sync 78 ""
expect_said "the intake's certificate is not trusted"
sk_eq "delivered in the queue" "$(count_status delivered)" 0
sk_eq "requests that reached the intake" "$(sk_intake_stat requests)" "$before"
sk_eq "handshakes the intake saw fail" "$(sk_intake_stat tls_failures)" 1
sk_end_case

sk_case "HTTPS to a name the certificate does not hold: status 78"
write_conf "ca_bundle = $TLS/ca.pem"
fresh_queue 1
http_sync "https://localhost:$SK_INTAKE_PORT/stories"
expect_sync 78 ""
expect_said "the intake's certificate is not trusted"
sk_eq "delivered in the queue" "$(count_status delivered)" 0
sk_end_case

sk_case "the bearer token from a 0600 credentials_file is sent, and never shown"
printf '%s\n' "$TOKEN" >"$SK_DIR/token"
chmod 600 "$SK_DIR/token"
sk_intake_start "$INTAKE" --token-file "$SK_DIR/token"
write_conf "credentials_file = $SK_DIR/token"
fresh_queue 2
http_sync "http://127.0.0.1:$SK_INTAKE_PORT/stories"
expect_sync 0 "delivered 2, already there 0, failed 0, left 0"
sk_eq "requests carrying a token" "$(sk_intake_stat authorization_seen)" 2
{ cat "$SK_DIR/sync.out" "$SK_DIR/sync.err"; sk_cli show "$FIRST_ID"; sk_cli list; sk_cli status
  cat "$SK_DB"*; } >"$SK_DIR/everything" 2>&1
grep -qaF -- "$TOKEN" "$SK_DIR/everything" && sk_fail "the token shows in output or in the queue"
sk_end_case

sk_case "no token or a wrong one for an intake that wants one: status 78, nothing delivered"
write_conf
fresh_queue 1
http_sync "http://127.0.0.1:$SK_INTAKE_PORT/stories"
expect_sync 78 ""
expect_said "the intake refused our credentials (HTTP 401)"
printf 'not-the-token\n' >"$SK_DIR/wrong-token"
chmod 600 "$SK_DIR/wrong-token"
write_conf "credentials_file = $SK_DIR/wrong-token"
http_sync "http://127.0.0.1:$SK_INTAKE_PORT/stories" --force
expect_sync 78 ""
expect_said "the intake refused our credentials (HTTP 401)"
sk_eq "delivered in the queue" "$(count_status delivered)" 0
sk_end_case

sk_case "a token file others can read is refused (78) before anything is sent"
chmod 644 "$SK_DIR/token"
write_conf "credentials_file = $SK_DIR/token"
fresh_queue 1
before=$(sk_intake_stat requests)
http_sync "http://127.0.0.1:$SK_INTAKE_PORT/stories"
expect_sync 78 ""
sk_eq "requests" "$(sk_intake_stat requests)" "$before"
sk_eq "queued in the queue" "$(count_status queued)" 1
grep -qF -- "$TOKEN" "$SK_DIR/sync.out" "$SK_DIR/sync.err" && sk_fail "the token was printed"
chmod 600 "$SK_DIR/token"
sk_end_case

sk_case "plain http:// to another machine is refused at once (78), nothing sent"
write_conf
fresh_queue 1
# 192.0.2.1 is TEST-NET-1: never routed. A 10 s timeout is configured, so an
# attempt to connect would show in the time taken and as a failed attempt.
http_sync "http://192.0.2.1/stories"
expect_sync 78 ""
expect_said "https://"
[ "$SYNC_MS" -lt 2000 ] || sk_fail "the refusal took $SYNC_MS ms"
sk_eq "queued in the queue" "$(count_status queued)" 1
sk_cli show "$FIRST_ID" | grep -q "^Delivery attempts" && sk_fail "an attempt was recorded: it tried to connect"
http_sync "http://user:secret@127.0.0.1:$SK_INTAKE_PORT/stories"
expect_sync 78 ""
grep -qF secret "$SK_DIR/sync.out" "$SK_DIR/sync.err" && sk_fail "the URL's password was printed"
sk_eq "queued in the queue" "$(count_status queued)" 1
sk_end_case

sk_case "http://localhost (this machine) is allowed"
sk_intake_start "$INTAKE"
write_conf
fresh_queue 1
http_sync "http://localhost:$SK_INTAKE_PORT/stories"
expect_sync 0 "delivered 1, already there 0, failed 0, left 0"
sk_end_case

sk_case "no intake listening: status 75, the story failed and kept"
port=$SK_INTAKE_PORT
sk_intake_stop
fresh_queue 2
http_sync "http://127.0.0.1:$port/stories"
expect_sync 75 "delivered 0, already there 0, failed 2, left 2"
sk_eq "failed in the queue" "$(count_status failed)" 2
sk_cli show "$FIRST_ID" | grep -qi "connect" || sk_fail "show does not say it could not connect"
[ "$SYNC_MS" -lt 3000 ] || sk_fail "a refused connection took $SYNC_MS ms"
sk_end_case
