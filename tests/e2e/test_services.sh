#!/usr/bin/env bash
# The services step: type-ahead search (case-insensitive, any word), several
# services in the order chosen, "not in the list" entries, taking one off
# again, and "No postcode" taking the first service's site postcode.
. "$(dirname "$0")/lib.sh"

# At the services step, search for QUERY and choose the first match.
choose() {
	sk_type "$1"
	sk_wait "[ ] $2" || return 1
	sk_keys Enter
	sk_wait "Added: $2" || return 1
}

# From the services step to consent, without an email address.
services_to_consent() {
	sk_keys C-n
	sk_wait "Your email address" || return 1
	sk_keys Down Enter
	sk_wait "Check your story" || return 1
	sk_keys C-n
	sk_wait "Your consent"
}

# Type QUERY into an empty search box and wait until the list has been
# redrawn for it (its last row names the query).
search() {
	sk_type "$1"
	sk_wait "+ Not in the list: add \"$1\" as written"
}

sk_case "search is case-insensitive and matches any word of the name"
sk_fresh
sk_walk_to "Where was your care?"
sk_wait "Emergency Department"
search "medicine"
sk_wait "[ ] Ward 7 – Older People's Medicine"
sk_wait "[ ] Ward 9 – Respiratory Medicine"
sk_absent "Stroke Unit"
sk_absent "Emergency Department"
sk_backspace 8
sk_wait "Emergency Department"
search "MEDICINE"
sk_wait "[ ] Ward 9 – Respiratory Medicine"
sk_wait "[ ] Ward 7 – Older People's Medicine"
sk_absent "Emergency Department"
sk_backspace 8
search "Older"
sk_wait "[ ] Ward 7 – Older People's Medicine"
sk_absent "Respiratory"
sk_backspace 5
search "RENÉE"
sk_wait "[ ] Renée Clarke Breast Care Unit"
sk_absent "Emergency Department"
sk_backspace 5
search "transport"
sk_wait "[ ] Patient Transport Service"
sk_absent "Emergency Department"
sk_backspace 9
search "zzqx"
sk_absent "[ ]"
sk_end_case

sk_case "two services are exported both, in the order chosen"
sk_fresh
sk_walk_to "Where was your care?"
sk_keys C-n
sk_wait_flat "Choose the service the story is about"
sk_wait "Step 8 of 12"
choose "stroke" "Ward 8 – Stroke Unit"
sk_wait "Chosen (1): Ward 8 – Stroke Unit"
# The search box is empty again for the next one: the whole list is back.
sk_wait "[ ] Emergency Department (A&E)"
choose "eye" "Eye Clinic"
sk_wait "Chosen (2): Ward 8 – Stroke Unit; Eye Clinic"
services_to_consent
sk_consent_yes
sk_eq "services in order" "$(sk_export_py 'r[0]["services"]')" \
	"[{'code': 'LVH-W8', 'name': 'Ward 8 – Stroke Unit'}, {'code': 'MGH-EYE', 'name': 'Eye Clinic'}]"
sk_end_case

sk_case "choosing a service again takes it off"
sk_fresh
sk_walk_to "Where was your care?"
choose "stroke" "Ward 8 – Stroke Unit"
choose "eye" "Eye Clinic"
sk_type "stroke"
sk_wait "[x] Ward 8 – Stroke Unit"
sk_keys Enter
sk_wait "Taken off: Ward 8 – Stroke Unit."
sk_wait "Chosen (1): Eye Clinic"
services_to_consent
sk_consent_yes
sk_eq "services" "$(sk_export_py 'r[0]["services"]')" "[{'code': 'MGH-EYE', 'name': 'Eye Clinic'}]"
sk_end_case

sk_case "'Not in the list' with a typed name is exported with code null; choosing it again takes it off"
sk_fresh
sk_walk_to "Where was your care?"
sk_type "Hospice at Home"
sk_wait '+ Not in the list: add "Hospice at Home" as written'
sk_keys Enter
sk_wait "Chosen (1): Hospice at Home"
sk_wait "[x] Hospice at Home (not in the list)"
# With the search box empty the entry is the first row: Enter takes it off.
sk_keys Enter
sk_wait "Chosen: none yet."
sk_absent "Hospice at Home"
sk_type "Hospice at Home"
sk_wait '+ Not in the list: add "Hospice at Home" as written'
sk_keys Enter
sk_wait "Chosen (1): Hospice at Home"
services_to_consent
sk_consent_yes
sk_eq "free-text service" "$(sk_export_py 'r[0]["services"]')" "[{'code': None, 'name': 'Hospice at Home'}]"
sk_end_case

sk_case "after a 'not in the list' entry, searching and pressing Enter chooses the first match"
sk_fresh
sk_walk_to "Where was your care?"
sk_type "Hospice at Home"
sk_wait '+ Not in the list: add "Hospice at Home" as written'
sk_keys Enter
sk_wait "Chosen (1): Hospice at Home"
sk_type "eye"
sk_wait "[ ] Eye Clinic"
sk_keys Enter
sk_wait "Chosen (2): Hospice at Home; Eye Clinic" 2
sk_end_case

sk_case "'Not in the list' with an empty search says to type the name first"
sk_fresh
sk_walk_to "Where was your care?"
sk_keys NPage NPage NPage NPage NPage NPage
sk_wait "+ Not in the list? Type its name in the search box, then choose this"
sk_keys Enter
sk_wait_flat "Type the service's name in the search box first, then choose 'Not in the list'."
sk_wait "Chosen: none yet."
sk_end_case

sk_case "'No postcode' stores the first chosen service's site postcode"
sk_fresh
sk_walk_to "Your postcode"
sk_keys Down Enter
sk_wait "Where was your care?"
choose "eye" "Eye Clinic"
choose "ward 7" "Ward 7 – Older People's Medicine"
sk_keys C-n
sk_wait "Your email address"
sk_keys Down Enter
sk_wait "Check your story"
sk_wait "None: the service's (NG18 4XW)"
sk_keys C-n
sk_consent_yes
sk_eq "postcode from Eye Clinic (MGH-EYE | NG18 4XW)" "$(sk_export_py 'r[0]["postcode"]')" "NG18 4XW"
sk_eq "marked as the service's" "$(sk_sql 'SELECT postcode_from_service FROM stories')" 1
sk_end_case

sk_case "'No postcode' with a first service that has no site postcode is blocked at review, then fixed"
sk_fresh
sk_walk_to "Your postcode"
sk_keys Down Enter
sk_wait "Where was your care?"
choose "district nursing" "District Nursing – Loxley Valley North"
choose "eye" "Eye Clinic"
sk_keys C-n
sk_wait "Your email address"
sk_keys Down Enter
sk_wait "Check your story"
sk_wait "! Your postcode"
sk_keys C-n
sk_wait_flat "The first service chosen has no postcode on file. Type their postcode, or choose a listed service first."
sk_wait "Check your story"
sk_absent "Your consent"
sk_eq "nothing queued" "$(sk_cli list)" ""
# Enter goes to the answer with the problem; typing a postcode fixes it.
sk_keys Enter
sk_wait "Step 7 of 12"
sk_type "le1 5ww"
sk_keys Enter
sk_wait "Check your story"
sk_absent "! Your postcode"
sk_wait "LE1 5WW"
sk_keys C-n
sk_consent_yes
sk_eq "postcode typed" "$(sk_export_py 'r[0]["postcode"]')" "LE1 5WW"
sk_end_case

sk_case "'No postcode' with a 'not in the list' first service is blocked too"
sk_fresh
sk_walk_to "Your postcode"
sk_keys Down Enter
sk_wait "Where was your care?"
sk_type "Hospice at Home"
sk_wait '+ Not in the list: add "Hospice at Home" as written'
sk_keys Enter
sk_wait "Chosen (1): Hospice at Home"
sk_keys C-n
sk_wait "Your email address"
sk_keys Down Enter
sk_wait "Check your story"
sk_keys C-n
sk_wait_flat "The first service chosen has no postcode on file."
sk_absent "Your consent"
sk_eq "nothing queued" "$(sk_cli list)" ""
sk_end_case
