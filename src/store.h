/* store.h - the local queue: one SQLite file holding every consented story
 * until it is delivered. No curses: callers show the messages. */
#ifndef STORYKIOSK_STORE_H
#define STORYKIOSK_STORE_H

#include <stdio.h>

#include "story.h"

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 7

/* An open queue file. */
typedef struct store store;

struct sqlite3;

/* The export record of every story: a SELECT yielding (record JSON, id, status)
 * FROM stories s, to which callers append their own WHERE and ORDER BY. */
extern const char store_record_select[];

/* The SQLite handle, for the sibling data modules (export, import, sync) that
 * run their own prepared statements inside the store's transactions. */
struct sqlite3 *store_db(store *st);

struct seal_key;

/* Seal email and postcode to key before they are written (NULL: written as
 * typed). The key must outlive the store. */
void store_set_seal_key(store *st, const struct seal_key *key);

/* The sealing key in use, or NULL. */
const struct seal_key *store_seal_key(const store *st);

/* value as it may be written to disk: sealed when a key is set (and not
 * already sealed), else a copy. NULL for NULL or out of memory. */
char *store_contact_value(const store *st, const char *value);

/* The queue file's path, as opened. */
const char *store_path(const store *st);

/* Run SQL with no result rows on the queue's connection. 0, or -1 with the
 * message in store_error, after "what: " when what is not NULL. */
int store_exec(store *st, const char *sql, const char *what);

/* Record an error message for store_error (printf-style). */
void store_set_error(store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Process-wide SQLite settings: call once, before the first store_open. */
void store_init_process(void);

/* Open (creating if needed, mode 0600 in a 0700 directory) and migrate the
 * queue at path. NULL on failure with a message in err. */
store *store_open(const char *path, char *err, size_t errlen);

/* What kept a queue from opening. */
enum { STORE_OTHER_PROBLEM = 1, STORE_READ_ONLY, STORE_DAMAGED };

/* store_open that also says, on failure, what kind of problem it was. */
store *store_open_checked(const char *path, int *problem, char *err, size_t errlen);

/* A second read-write connection to st's queue, set up as st's own (durable
 * commits, foreign keys, secure delete, the same wait for a busy queue), for
 * a thread that writes beside st. Like st's own commits, it waits for st's
 * integrity check, and is refused when the file is not sound. NULL with a
 * message in err. Close it with sqlite3_close. */
struct sqlite3 *store_open_writer(store *st, char *err, size_t errlen);

/* Inside the caller's transaction on db: count the stories by state again,
 * from the stories themselves, for a writer that changed states with the
 * counting triggers off and cannot say exactly how. SQLITE_OK or an error. */
int store_recount_stories(struct sqlite3 *db);

/* Finalize statements and close the file (NULL is fine). */
void store_close(store *st);

/* The last error, in plain words (never containing contact details). */
const char *store_error(const store *st);

/* What the last error means for a ward, in one sentence for the operator
 * ("The disk holding the queue is full."). */
const char *store_problem(const store *st);

/* Start checking the file's integrity (PRAGMA quick_check) in the background,
 * on a connection of its own; harmless if it has started already. */
void store_check_start(store *st);

/* The integrity check's verdict, waiting for it (and starting it if need be):
 * 0 sound, or -1 with the damage described in store_error (store_problem then
 * says the file is damaged). Nothing is ever committed to a file before its
 * verdict, nor to one found damaged; every write waits for this. */
int store_check(store *st);

/* Save a consented story and its audit row, and remove its draft, in one
 * transaction (after the integrity verdict); 0 or -1. A story whose reference
 * another story already holds is saved under a new id and reference (s is
 * updated: the thank-you shows the new one). */
int store_save_story(store *st, story *s);

/* How many stories are queued in all (not withdrawn), and how many were posted
 * by staff, from the running counts. 0 or -1. */
int store_staff_posted_share(store *st, long *staff_posted, long *total);

/* Print one line per story (id, date, services, status; no contact details),
 * oldest first; status may be NULL for all; limit 0 for every story, else at
 * most that many (a first page). 0 or -1. */
int store_list(store *st, const char *status, long limit, FILE *out);

/* Find the one story a reference ("ABCD-EFGH"), id or unique id prefix
 * (4+ characters) names, writing its full id. 0, 1 when none or several
 * (message in store_error), -1 on error. */
int store_resolve(store *st, const char *which, char *id, size_t idlen);

/* Print one story found by its id or a unique prefix of it (4+ characters).
 * 0, 1 when none or several match (message in store_error), -1 on error. */
int store_show(store *st, const char *id, FILE *out);

/* Write every story as one JSON object per line, oldest first. 0 or -1. */
int store_export_jsonl(store *st, FILE *out);

/* Print counts by status and by service and the staff-posted share. 0 or -1. */
int store_stats(store *st, FILE *out);

#endif
