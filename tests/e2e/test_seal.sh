#!/usr/bin/env bash
# Contact details sealed from the first keystroke: with a public key set, the
# typed email and postcode never reach the queue file, its WAL, a draft or a
# sync target in the clear; unseal with the secret key gives them back exactly;
# a wrong key or a tampered value fails loudly.
. "$(dirname "$0")/lib.sh"
trap 'sk_intake_stop; sk_cleanup' EXIT

export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
keys=$SK_DIR/keys
mkdir -p "$keys"
CONF=$SK_DIR/storykiosk.conf
EMAIL='Sealed.Person@example.org'
EMAIL_STORED='Sealed.Person@example.org'
POSTCODE='NG7 2UH'

# Bytes of the queue file, its WAL and any leftover journal that hold TEXT.
in_queue_bytes() {
	cat "$SK_DB"* 2>/dev/null | grep -caF -- "$1"
}

sk_case "keygen makes a key pair, private secret key, and never overwrites"
sk_cli keygen --public "$keys/org.pub" --secret "$keys/org.key" 2>"$SK_DIR/keygen.err"
sk_eq "keygen exit" "$?" 0
sk_eq "secret key mode" "$(stat -c %a "$keys/org.key")" 600
sk_eq "public key header" "$(head -n 1 "$keys/org.pub")" "storykiosk-public-key v1"
before=$(sha256sum "$keys/org.key")
sk_cli keygen --public "$keys/org.pub" --secret "$keys/org.key" 2>/dev/null
sk_eq "second keygen refuses" "$?" 73
sk_eq "secret key unchanged" "$(sha256sum "$keys/org.key")" "$before"
sk_cli keygen --public "$keys/other.pub" --secret "$keys/other.key" 2>/dev/null
sk_end_case

printf 'public_key = %s\n' "$keys/org.pub" > "$CONF"

sk_case "a story captured with a public key keeps email and postcode sealed on disk"
sk_start 80 24 --config "$CONF"
sk_sign_in "Sam"
sk_absent "stored unsealed"
sk_fill_story "Sealed story." "Nothing." "Sealed" "QuietHeron" "$POSTCODE" "ward 7" "$EMAIL"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "email bytes in the queue" "$(in_queue_bytes "$EMAIL_STORED")" 0
sk_eq "postcode bytes in the queue" "$(in_queue_bytes "$POSTCODE")" 0
sk_eq "export email is sealed" "$(sk_export_py 'r[0]["email"][:10]')" "sealed:v1:"
sk_eq "export postcode is sealed" "$(sk_export_py 'r[0]["postcode"][:10]')" "sealed:v1:"
sk_cli export --output "$SK_DIR/sealed.jsonl" 2>/dev/null
grep -qF "$EMAIL_STORED" "$SK_DIR/sealed.jsonl" && sk_fail "the export holds the email in the clear"
sk_end_case

sk_case "unseal opens them exactly; everything else is unchanged"
sk_cli unseal --secret "$keys/org.key" --output "$SK_DIR/open.jsonl" "$SK_DIR/sealed.jsonl" 2>"$SK_DIR/unseal.err"
sk_eq "unseal exit" "$?" 0
sk_eq "email" "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["email"])' "$SK_DIR/open.jsonl")" "$EMAIL_STORED"
sk_eq "postcode" "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["postcode"])' "$SK_DIR/open.jsonl")" "$POSTCODE"
sk_eq "other fields identical" "$(python3 - "$SK_DIR/sealed.jsonl" "$SK_DIR/open.jsonl" <<'PY'
import json, sys
a = json.loads(open(sys.argv[1]).readline()); b = json.loads(open(sys.argv[2]).readline())
for k in ("email", "postcode"):
    a.pop(k); b.pop(k)
print(a == b and list(a) == list(b))
PY
)" True
sk_eq "output mode" "$(stat -c %a "$SK_DIR/open.jsonl")" 600
sk_end_case

sk_case "a wrong key or a tampered value fails loudly and writes nothing"
sk_cli unseal --secret "$keys/other.key" --output "$SK_DIR/wrong.jsonl" "$SK_DIR/sealed.jsonl" 2>"$SK_DIR/wrong.err"
sk_eq "wrong key exit" "$?" 65
grep -qF "does not open with this secret key" "$SK_DIR/wrong.err" || sk_fail "message: $(cat "$SK_DIR/wrong.err")"
[ -e "$SK_DIR/wrong.jsonl" ] && sk_fail "an output file was left behind"
python3 - "$SK_DIR/sealed.jsonl" "$SK_DIR/tampered.jsonl" <<'PY'
import json, sys, base64
r = json.loads(open(sys.argv[1]).readline())
raw = bytearray(base64.b64decode(r["email"][len("sealed:v1:"):]))
raw[-1] ^= 1
r["email"] = "sealed:v1:" + base64.b64encode(bytes(raw)).decode()
open(sys.argv[2], "w").write(json.dumps(r, ensure_ascii=False) + "\n")
PY
sk_cli unseal --secret "$keys/org.key" "$SK_DIR/tampered.jsonl" > "$SK_DIR/tampered.out" 2>"$SK_DIR/tampered.err"
sk_eq "tampered exit" "$?" 65
grep -qF "email:" "$SK_DIR/tampered.err" || sk_fail "message: $(cat "$SK_DIR/tampered.err")"
sk_eq "nothing printed for it" "$(wc -c < "$SK_DIR/tampered.out")" 0
chmod 644 "$keys/org.key"
sk_cli unseal --secret "$keys/org.key" "$SK_DIR/sealed.jsonl" >/dev/null 2>&1
sk_eq "a secret key others can read is refused" "$?" 78
chmod 600 "$keys/org.key"
sk_end_case

sk_case "a sync carries the sealed values; the intake never sees them in the clear"
sk_intake_start "$SK_DIR/intake"
sk_cli sync "http://127.0.0.1:$SK_INTAKE_PORT/stories" > "$SK_DIR/sync.out" 2>&1
sk_eq "sync exit" "$?" 0
cat "$SK_DIR/intake/"*.json | grep -qF "$EMAIL_STORED" && sk_fail "the intake received the email in the clear"
cat "$SK_DIR/intake/"*.json | grep -qF "sealed:v1:" || sk_fail "the intake did not receive sealed values"
sk_intake_stop
sk_end_case

sk_case "a draft keeps them sealed too, and a resumed story still queues them"
rm -rf "$SK_DIR/queue"
sk_start 80 24 --config "$CONF"
sk_sign_in "Sam"
sk_fill_story "Draft story." "Nothing." "Drafted" "QuietHeron" "$POSTCODE" "ward 7" "$EMAIL"
sk_eq "a draft was saved" "$(sqlite3 "$SK_DB" "SELECT count(*) FROM drafts")" 1
sk_eq "draft email bytes in the queue" "$(in_queue_bytes "$EMAIL_STORED")" 0
sk_eq "draft postcode bytes in the queue" "$(in_queue_bytes "$POSTCODE")" 0
kill -9 "$(sk_tmux display-message -p -t k '#{pane_pid}')"
sk_start 80 24 --config "$CONF"
sk_sign_in "Sam"
sk_wait "Unfinished story"
sk_keys Enter
sk_wait "Your consent"
sk_keys C-p
sk_wait "Check your story"
sk_wait "(given, and sealed)"
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_cli export | sk_cli unseal --secret "$keys/org.key" > "$SK_DIR/resumed.jsonl" 2>/dev/null
sk_eq "resumed email opens" "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["email"])' "$SK_DIR/resumed.jsonl")" "$EMAIL_STORED"
sk_eq "resumed postcode opens" "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["postcode"])' "$SK_DIR/resumed.jsonl")" "$POSTCODE"
sk_end_case

sk_case "without a key the kiosk warns once that contact details are unsealed"
rm -rf "$SK_DIR/queue"
sk_start 80 24
sk_wait "stored unsealed"
sk_end_case
