#!/usr/bin/env bash
# The whole guide at 80x24 and 120x40: a story with accented and non-Latin text
# is typed, consented, and found in the export exactly as typed.
. "$(dirname "$0")/lib.sh"

good='Zoë, the night nurse, sat with Mum — «ça va?» — 看護師さん were kind.'
for size in "80 24" "120 40"; do
	sk_case "a consented story at ${size/ /x} is exported exactly as typed"
	rm -rf "$SK_DIR/queue"
	sk_start $size
	sk_sign_in "Sam Carter"
	sk_fill_story "$good" "Nothing" "Kind night staff" "BlueHeron" "le15ww" "ward 7" "Jo.Bloggs@Example.ORG"
	sk_keys y Enter
	sk_wait "Story reference:"
	sk_wait "ready for the next person"
	sk_eq "stories queued" "$(sk_export_py 'len(r)')" 1
	sk_eq "good answer" "$(sk_export_py 'r[0]["answers"]["good"]')" "$good"
	sk_eq "title" "$(sk_export_py 'r[0]["title"]')" "Kind night staff"
	sk_eq "postcode normalised" "$(sk_export_py 'r[0]["postcode"]')" "LE1 5WW"
	sk_eq "email domain lower-cased" "$(sk_export_py 'r[0]["email"]')" "Jo.Bloggs@example.org"
	sk_eq "service" "$(sk_export_py 'r[0]["services"][0]["code"]')" "LVH-W7"
	sk_eq "operator" "$(sk_export_py 'r[0]["operator"]')" "{'name': 'Sam Carter', 'role': 'staff'}"
	sk_eq "status" "$(sk_export_py 'r[0]["status"]')" "queued"
	sk_eq "keys" "$(sk_export_py 'sorted(r[0].keys())')" "['answers', 'consent', 'consented_at', 'created_at', 'email', 'findings', 'form', 'id', 'operator', 'possible_safety_incident', 'postcode', 'posted_by_staff', 'role', 'safeguarding', 'services', 'status', 'title', 'username']"
	ref=$(sk_screen | sed -n 's/.*Story reference: \([0-9A-Z-]*\).*/\1/p')
	id=$(sk_export_py 'r[0]["id"]')
	sk_cli show "$ref" | grep -qF "Story      $id" || sk_fail "show $ref does not find story $id"
	case "$ref" in [2-9A-HJ-NP-Z][2-9A-HJ-NP-Z][2-9A-HJ-NP-Z][2-9A-HJ-NP-Z]-[2-9A-HJ-NP-Z][2-9A-HJ-NP-Z][2-9A-HJ-NP-Z][2-9A-HJ-NP-Z]) ;;
	*) sk_fail "reference [$ref] is not like ABCD-EFGH without 0, O, 1 or I" ;; esac
	sk_keys Enter
	sk_wait "Introduce yourself"
	sk_wait "Step 1 of"
	sk_absent "Kind night staff"
	sk_end_case
done
