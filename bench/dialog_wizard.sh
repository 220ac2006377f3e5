#!/bin/sh
# dialog_wizard.sh - the alternative for `make bench`: the sign-in screen of a
# story wizard as a user might write it in shell, with dialog(1) for the
# screens and the sqlite3 CLI for the queue. It does what the kiosk does before
# its first screen - create the queue's tables if missing and check the file -
# then shows the same sign-in form: a title, a name field, the role choice,
# and a key line. Usage: dialog_wizard.sh QUEUE.db
set -u
db=${1:?usage: dialog_wizard.sh QUEUE.db}
umask 077
sqlite3 -batch "$db" >/dev/null <<'SQL' || { echo "the queue $db is damaged" >&2; exit 74; }
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS stories (
  id TEXT PRIMARY KEY NOT NULL, created_at TEXT NOT NULL, consented_at TEXT NOT NULL,
  operator_name TEXT NOT NULL, operator_role TEXT NOT NULL, title TEXT, username TEXT NOT NULL,
  postcode TEXT, email TEXT, status TEXT NOT NULL DEFAULT 'queued');
CREATE TABLE IF NOT EXISTS answers (story_id TEXT NOT NULL, step_key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (story_id, step_key));
PRAGMA quick_check(1);
SQL
exec 3>&1
answers=$(dialog --no-shadow --title "Start of shift: please sign in" \
	--hline "Tab Buttons  Esc Menu" \
	--form "Type your name or staff ID. It is saved with every story you take, until you end your shift from the menu (Esc).\n\nYou are: staff or volunteer" \
	14 70 2 \
	"Name or staff ID:" 1 1 "" 1 20 40 60 \
	"Role (staff/volunteer):" 2 1 "" 2 25 12 12 \
	2>&1 1>&3) || exit 0
exec 3>&-
printf '%s\n' "$answers"
