#!/usr/bin/env bash
# The 5% notice: when stories posted by staff (no email address) are already
# 5% or more of the queue, the email step says so. It is guidance, not a block.
. "$(dirname "$0")/lib.sh"

notice="Guidance says fewer than 5%"

# At the email step, wait until the whole screen has been drawn (the hint at
# the bottom comes after any notice), so an absent notice is really absent.
email_step_drawn() {
	sk_wait "Your email address" || return 1
	sk_wait "No email address - a staff member posts it for them" || return 1
	sk_wait "Up and Down move between the box and the choice below it."
}

# Leave the email step and come back, so the share is counted again.
reenter_email_step() {
	sk_keys C-p
	sk_wait "Where was your care?"
	sk_keys C-n
	email_step_drawn
}

sk_case "with an empty queue there is no notice on the email step"
sk_fresh
sk_walk_to "Your email address"
email_step_drawn
sk_absent_flat "$notice"
sk_absent "Note:"
sk_end_case

sk_case "a story with no email is staff-posted; the next story's email step shows the notice"
sk_fresh
sk_fill_story "No email, please." "" "By staff" "GreenKite" "LE1 5WW" "ward 7" none
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "email is null" "$(sk_export_py 'r[0]["email"]')" "None"
sk_eq "posted by staff" "$(sk_export_py 'r[0]["posted_by_staff"]')" "True"
sk_eq "the sqlite row agrees" "$(sk_sql 'SELECT email IS NULL, posted_by_staff FROM stories')" "1|1"
sk_keys Enter
sk_walk_to "Your email address"
email_step_drawn
sk_wait_flat "Note: 1 of the 1 stories in this queue (100%) have no email address."
sk_wait_flat "$notice"
# Guidance, not a block: they can still have no email address.
sk_keys Down Enter
sk_wait "Check your story"
sk_wait "None: posted by staff"
sk_end_case

sk_case "2.5% (1 of 40) shows no notice; 5% (1 of 20) does; 4.8% (1 of 21) does not"
sk_fresh
sk_add_stories 39 1
sk_eq "stories in the queue" "$(sk_sql 'SELECT count(*), sum(posted_by_staff) FROM stories')" "40|1"
sk_walk_to "Your email address"
email_step_drawn
sk_absent_flat "$notice"
# 1 of 21: still under 5%.
sk_sql "DELETE FROM stories WHERE id IN (SELECT id FROM stories WHERE email IS NOT NULL LIMIT 19)"
sk_eq "stories in the queue" "$(sk_sql 'SELECT count(*) FROM stories')" 21
reenter_email_step
sk_absent_flat "$notice"
# 1 of 20: exactly 5%.
sk_sql "DELETE FROM stories WHERE id IN (SELECT id FROM stories WHERE email IS NOT NULL LIMIT 1)"
reenter_email_step
sk_wait_flat "Note: 1 of the 20 stories in this queue (5%) have no email address."
sk_wait_flat "$notice"
sk_eq "stats agree" "$(sk_cli stats | grep 'Posted by staff')" \
	"Posted by staff for the patient (no email): 1 of 20 (5.0%) - guidance says fewer than 5%"
# Back to 1 of 40: the notice goes.
sk_add_stories 20 0
reenter_email_step
sk_absent_flat "$notice"
# Typing an address still works as usual with the notice shown or not.
sk_type "jo.bloggs@example.org"; sk_keys Enter
sk_wait "Read the address back"
sk_keys Enter
sk_wait "Check your story"
sk_end_case
