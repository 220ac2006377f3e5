/* store.c - the SQLite queue. Every write is one BEGIN IMMEDIATE transaction so a
 * story is either wholly queued or not at all; WAL with synchronous=FULL makes a
 * commit survive a power cut. Export JSON comes from SQLite's JSON functions. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "paths.h"
#include "seal.h"
#include "validate.h"

#define BUSY_TIMEOUT_MS 10000

/* Statements used while capturing, prepared once at open. */
enum statement {
	SQL_BEGIN,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_INSERT_STORY,
	SQL_INSERT_ANSWER,
	SQL_INSERT_SERVICE,
	SQL_INSERT_AUDIT,
	SQL_STAFF_SHARE,
	SQL_DELETE_DRAFT,
	SQL_INSERT_FINDING,
	SQL_COUNT
};

static const char *const statement_sql[SQL_COUNT] = {
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_INSERT_STORY] =
		"INSERT INTO stories (id, created_at, consented_at, form_name, form_version,"
		" operator_name, operator_role, role, title, username, postcode,"
		" postcode_from_service, email, posted_by_staff, consent_given,"
		" consent_version, status, reference, safeguarding, possible_safety_incident)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15, 'queued', ?16,"
		" ?17, ?18)",
	[SQL_INSERT_ANSWER] =
		"INSERT INTO answers (story_id, position, step_key, value) VALUES (?1, ?2, ?3, ?4)",
	[SQL_INSERT_SERVICE] =
		"INSERT INTO story_services (story_id, position, code, name, postcode)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[SQL_INSERT_AUDIT] =
		"INSERT INTO audit (story_id, at, event, actor) VALUES (?1, ?2, ?3, ?4)",
	[SQL_DELETE_DRAFT] = "DELETE FROM drafts WHERE id = ?1",
	[SQL_INSERT_FINDING] = "INSERT INTO story_findings (story_id, kind, count) VALUES (?1, ?2, ?3)",
	[SQL_STAFF_SHARE] =
		"SELECT count(*), coalesce(sum(posted_by_staff), 0) FROM stories"
		" WHERE status <> 'withdrawn'",
};

static const char schema_v1[] =
	"CREATE TABLE stories ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" created_at TEXT NOT NULL,"
	" consented_at TEXT NOT NULL,"
	" form_name TEXT NOT NULL,"
	" form_version TEXT NOT NULL,"
	" operator_name TEXT NOT NULL,"
	" operator_role TEXT NOT NULL,"
	" role TEXT,"
	" title TEXT,"
	" username TEXT NOT NULL,"
	" postcode TEXT,"
	" postcode_from_service INTEGER NOT NULL DEFAULT 0,"
	" email TEXT,"
	" posted_by_staff INTEGER NOT NULL CHECK (posted_by_staff IN (0, 1)),"
	" consent_given INTEGER NOT NULL CHECK (consent_given = 1),"
	" consent_version TEXT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (status IN ('queued', 'sending', 'delivered', 'failed', 'withdrawn')),"
	" CHECK (posted_by_staff = 0 OR email IS NULL)"
	");"
	"CREATE INDEX stories_by_status ON stories (status, consented_at);"
	"CREATE INDEX stories_by_consent ON stories (consented_at, id);"
	"CREATE TABLE answers ("
	" story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" step_key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (story_id, step_key)"
	");"
	"CREATE TABLE story_services ("
	" story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" code TEXT,"
	" name TEXT NOT NULL,"
	" postcode TEXT,"
	" PRIMARY KEY (story_id, position)"
	");"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" story_id TEXT NOT NULL,"
	" at TEXT NOT NULL,"
	" event TEXT NOT NULL,"
	" actor TEXT NOT NULL"
	");"
	"CREATE INDEX audit_by_story ON audit (story_id, id);";

/* Version 2: the short reference people quote to withdraw, and what delivery
 * needs to know about each story. */
static const char schema_v2[] =
	"ALTER TABLE stories ADD COLUMN reference TEXT;"
	"UPDATE stories SET reference = storykiosk_reference(id);"
	"CREATE UNIQUE INDEX stories_by_reference ON stories (reference);"
	"ALTER TABLE stories ADD COLUMN exported_at TEXT;"
	"ALTER TABLE stories ADD COLUMN delivered_at TEXT;"
	"ALTER TABLE stories ADD COLUMN delivered_to TEXT;"
	"ALTER TABLE stories ADD COLUMN attempt_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE stories ADD COLUMN next_attempt_at TEXT;"
	"ALTER TABLE stories ADD COLUMN contact_erased_at TEXT;"
	"ALTER TABLE stories ADD COLUMN withdrawn_at TEXT;"
	"ALTER TABLE stories ADD COLUMN withdrawal_pending INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE attempts ("
	" id INTEGER PRIMARY KEY,"
	" story_id TEXT NOT NULL,"
	" at TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('story', 'withdrawal')),"
	" outcome TEXT NOT NULL,"
	" code TEXT,"
	" message TEXT"
	");"
	"CREATE INDEX attempts_by_story ON attempts (story_id, id);"
	"CREATE TABLE sync_runs ("
	" id INTEGER PRIMARY KEY,"
	" started_at TEXT NOT NULL,"
	" finished_at TEXT,"
	" target TEXT NOT NULL,"
	" delivered INTEGER NOT NULL DEFAULT 0,"
	" already_there INTEGER NOT NULL DEFAULT 0,"
	" failed INTEGER NOT NULL DEFAULT 0,"
	" left_over INTEGER NOT NULL DEFAULT 0"
	");";

/* Version 3: the story in progress, saved as it is typed so a crash, a kill
 * or a pulled plug loses seconds, not a story. Never synced or exported. */
static const char schema_v3[] =
	"CREATE TABLE drafts ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" form_name TEXT NOT NULL,"
	" form_version TEXT NOT NULL,"
	" operator_name TEXT NOT NULL,"
	" operator_role TEXT NOT NULL,"
	" step INTEGER NOT NULL,"
	" no_postcode INTEGER NOT NULL DEFAULT 0,"
	" no_email INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE draft_answers ("
	" draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,"
	" step_key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" confirmed TEXT,"
	" PRIMARY KEY (draft_id, step_key)"
	");"
	"CREATE TABLE draft_services ("
	" draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" code TEXT,"
	" name TEXT NOT NULL,"
	" postcode TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (draft_id, position)"
	");";

/* Version 4: what the checks before consent found (counts by kind, never the
 * text), and the flags that put a story in front of the team first. */
static const char schema_v4[] =
	"ALTER TABLE stories ADD COLUMN safeguarding INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE stories ADD COLUMN possible_safety_incident INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE story_findings ("
	" story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"
	" count INTEGER NOT NULL CHECK (count > 0),"
	" PRIMARY KEY (story_id, kind)"
	");";

/* Version 5: indexes that let stats and status count a large queue without
 * reading every row. */
static const char schema_v5[] =
	"CREATE INDEX stories_by_staff ON stories (status, posted_by_staff);"
	"CREATE INDEX story_services_by_service ON story_services (code, name);";

/* Each entry migrates from user_version i to i + 1. */
static const char *const migrations[] = { schema_v1, schema_v2, schema_v3, schema_v4, schema_v5 };

struct store {
	sqlite3 *db;
	char *path;
	int code;          /* SQLite's extended result code behind the last error */
	const seal_key *seal;  /* seal contact details to this key, or NULL */
	sqlite3_stmt *stmt[SQL_COUNT];
	char error[512];
};

void store_set_error(store *st, const char *fmt, ...)
{
	/* Take the code now: a ROLLBACK after the failure would reset it. */
	st->code = st->db ? sqlite3_extended_errcode(st->db) : SQLITE_NOMEM;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->error, sizeof st->error, fmt, ap);
	va_end(ap);
}

#define set_error store_set_error

struct sqlite3 *store_db(store *st)
{
	return st->db;
}

const char *store_path(const store *st)
{
	return st->path;
}

void store_set_seal_key(store *st, const seal_key *key)
{
	st->seal = key;
}

const seal_key *store_seal_key(const store *st)
{
	return st->seal;
}

char *store_contact_value(const store *st, const char *value)
{
	if (value == NULL)
		return NULL;
	if (st->seal == NULL || seal_is_sealed(value))
		return strdup(value);
	return seal_value(st->seal, value);
}

const char *store_error(const store *st)
{
	return st->error;
}

const char *store_problem(const store *st)
{
	switch (st->code & 0xff) {
	case SQLITE_FULL:
		return "The disk holding the queue is full.";
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return "The queue file cannot be written.";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "The queue file is locked by another program.";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "The queue file is damaged.";
	case SQLITE_IOERR:
		return "The queue file could not be written (a disk error).";
	default:
		return "The story could not be saved to the queue.";
	}
}

static int exec_sql(store *st, const char *sql, const char *what)
{
	char *message = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		set_error(st, "%s: %s", what, message ? message : sqlite3_errmsg(st->db));
		sqlite3_free(message);
		return -1;
	}
	return 0;
}

/* Step a statement that returns no rows, then reset it for its next use. */
static int run_statement(store *st, enum statement which, const char *what)
{
	sqlite3_stmt *stmt = st->stmt[which];
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		set_error(st, "%s: %s", what, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int read_user_version(store *st, int *version)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK) {
		set_error(st, "reading the schema version: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(stmt, 0);
	else
		set_error(st, "reading the schema version: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* storykiosk_reference(id): the short reference, so migrations can fill it in SQL. */
static void reference_function(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const unsigned char *id = sqlite3_value_text(argv[0]);
	char reference[STORY_REFERENCE_SIZE];
	if (id == NULL || story_reference((const char *)id, reference, sizeof reference) != 0) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, reference, -1, SQLITE_TRANSIENT);
}

static int migrate(store *st)
{
	if (sqlite3_create_function(st->db, "storykiosk_reference", 1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, reference_function,
				    NULL, NULL) != SQLITE_OK) {
		set_error(st, "registering a function: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	const int latest = (int)(sizeof migrations / sizeof migrations[0]);
	if (exec_sql(st, "BEGIN IMMEDIATE", "starting the schema upgrade") != 0)
		return -1;
	int version;
	if (read_user_version(st, &version) != 0)
		goto fail;
	if (version > latest) {
		set_error(st, "the queue was written by a newer StoryKiosk (schema %d, this one "
			  "knows %d); use the newer version", version, latest);
		goto fail;
	}
	for (; version < latest; version++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
		if (exec_sql(st, migrations[version], "upgrading the queue's schema") != 0 ||
		    exec_sql(st, pragma, "recording the schema version") != 0)
			goto fail;
	}
	return exec_sql(st, "COMMIT", "finishing the schema upgrade");
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Create the file ourselves so it is 0600 from its first byte; SQLite gives
 * its -wal and -shm files the same mode. */
static int create_private_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int saved = errno;
		snprintf(err, errlen, "cannot open the queue %s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	struct stat info;
	if (fstat(fd, &info) == 0 && info.st_uid == geteuid() && (info.st_mode & 0077))
		(void)fchmod(fd, 0600);
	close(fd);
	return 0;
}

store *store_open(const char *path, char *err, size_t errlen)
{
	int problem;
	return store_open_checked(path, &problem, err, errlen);
}

static int problem_kind(int code)
{
	switch (code & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return STORE_DAMAGED;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
	case SQLITE_AUTH:
		return STORE_READ_ONLY;
	default:
		return STORE_OTHER_PROBLEM;
	}
}

store *store_open_checked(const char *path, int *problem, char *err, size_t errlen)
{
	*problem = 0;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (access(dir, F_OK) != 0 && paths_make_private_dir(dir, err, errlen) != 0)
			return NULL;
	}
	if (create_private_file(path, err, errlen) != 0) {
		*problem = errno == EACCES || errno == EROFS || errno == EPERM ? STORE_READ_ONLY
									 : STORE_OTHER_PROBLEM;
		return NULL;
	}

	store *st = calloc(1, sizeof *st);
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the queue %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		*problem = st->db ? problem_kind(sqlite3_extended_errcode(st->db)) : STORE_OTHER_PROBLEM;
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (exec_sql(st, "PRAGMA journal_mode = WAL", "switching to WAL") != 0 ||
	    exec_sql(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
		     " PRAGMA secure_delete = ON", "setting up the queue") != 0 ||
	    migrate(st) != 0)
		goto fail;
	for (int i = 0; i < SQL_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			set_error(st, "preparing a statement: %s", sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return st;
fail:
	snprintf(err, errlen, "queue %s: %s", path, st->error);
	*problem = problem_kind(st->code);
	store_close(st);
	return NULL;
}

int store_check(store *st)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK) {
		set_error(st, "checking the queue: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	int rc = sqlite3_step(stmt);
	int ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") == 0;
	if (!ok) {
		if (rc == SQLITE_ROW)
			st->code = SQLITE_CORRUPT;
		snprintf(st->error, sizeof st->error, "the queue file is damaged (%s)",
			 rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : sqlite3_errmsg(st->db));
		if (rc != SQLITE_ROW)
			st->code = sqlite3_extended_errcode(st->db);
	}
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

void store_close(store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

static void utc_now(char *out, size_t outlen)
{
	time_t now = time(NULL);
	struct tm utc;
	if (gmtime_r(&now, &utc) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

static int bind_text(store *st, sqlite3_stmt *stmt, int index, const char *text)
{
	int rc = text ? sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT)
		      : sqlite3_bind_null(stmt, index);
	if (rc != SQLITE_OK) {
		set_error(st, "binding a value: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int bind_int(store *st, sqlite3_stmt *stmt, int index, int value)
{
	if (sqlite3_bind_int(stmt, index, value) != SQLITE_OK) {
		set_error(st, "binding a value: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int bind_story_row(store *st, sqlite3_stmt *stmt, const story *s, const char *now,
			  int username_step, const char *email, const char *postcode)
{
	const form *f = s->form;
	if (bind_text(st, stmt, 1, s->id) || bind_text(st, stmt, 2, s->created_at) ||
	    bind_text(st, stmt, 3, now) || bind_text(st, stmt, 4, f->name) ||
	    bind_text(st, stmt, 5, f->version) || bind_text(st, stmt, 6, s->operator_name) ||
	    bind_text(st, stmt, 7, s->operator_role) ||
	    bind_text(st, stmt, 8, story_answer_by_key(s, "role")) ||
	    bind_text(st, stmt, 9, story_answer_by_key(s, "title")) ||
	    bind_text(st, stmt, 10, username_step >= 0 ? story_answer(s, (size_t)username_step) : NULL) ||
	    bind_text(st, stmt, 11, postcode) ||
	    bind_int(st, stmt, 12, s->no_postcode ? 1 : 0) ||
	    bind_text(st, stmt, 13, email) ||
	    bind_int(st, stmt, 14, email == NULL ? 1 : 0) ||
	    bind_text(st, stmt, 15, f->consent_version ? f->consent_version : f->version) ||
	    bind_text(st, stmt, 16, s->reference) ||
	    bind_int(st, stmt, 17, s->safeguarding ? 1 : 0) ||
	    bind_int(st, stmt, 18, s->safety_incident ? 1 : 0))
		return -1;
	return 0;
}

static int insert_findings(store *st, const story *s)
{
	sqlite3_stmt *stmt = st->stmt[SQL_INSERT_FINDING];
	for (size_t i = 0; i < s->n_finding_kinds; i++) {
		if (s->finding_counts[i] <= 0)
			continue;
		if (bind_text(st, stmt, 1, s->id) || bind_text(st, stmt, 2, s->finding_keys[i]) ||
		    bind_int(st, stmt, 3, (int)s->finding_counts[i]) ||
		    run_statement(st, SQL_INSERT_FINDING, "saving what the checks found") != 0)
			return -1;
	}
	return 0;
}

static int insert_story_row(store *st, const story *s, const char *now)
{
	sqlite3_stmt *stmt = st->stmt[SQL_INSERT_STORY];
	int username_step = form_find_type(s->form, STEP_USERNAME);
	const char *email = story_email(s);
	/* Contact details are sealed here, before they reach the file. */
	char *stored_email = store_contact_value(st, email);
	char *stored_postcode = store_contact_value(st, story_postcode(s));
	if ((email && !stored_email) || (story_postcode(s) && !stored_postcode)) {
		free(stored_email);
		free(stored_postcode);
		set_error(st, "sealing contact details: out of memory");
		return -1;
	}
	int bound = bind_story_row(st, stmt, s, now, username_step, stored_email, stored_postcode);
	free(stored_email);
	free(stored_postcode);
	if (bound != 0)
		return -1;
	return run_statement(st, SQL_INSERT_STORY, "saving the story");
}

static int insert_answers(store *st, const story *s)
{
	sqlite3_stmt *stmt = st->stmt[SQL_INSERT_ANSWER];
	for (size_t i = 0; i < s->form->n_steps; i++) {
		const form_step *fs = &s->form->steps[i];
		if (fs->type != STEP_TEXT && fs->type != STEP_LINE && fs->type != STEP_CHOICE)
			continue;
		if (s->answers[i] == NULL)
			continue;
		if (bind_text(st, stmt, 1, s->id) || bind_int(st, stmt, 2, (int)i) ||
		    bind_text(st, stmt, 3, fs->key) || bind_text(st, stmt, 4, s->answers[i]) ||
		    run_statement(st, SQL_INSERT_ANSWER, "saving an answer") != 0)
			return -1;
	}
	return 0;
}

static int insert_services(store *st, const story *s)
{
	sqlite3_stmt *stmt = st->stmt[SQL_INSERT_SERVICE];
	for (size_t i = 0; i < s->n_services; i++) {
		const story_service *svc = &s->services[i];
		if (bind_text(st, stmt, 1, s->id) || bind_int(st, stmt, 2, (int)i) ||
		    bind_text(st, stmt, 3, svc->code) || bind_text(st, stmt, 4, svc->name) ||
		    bind_text(st, stmt, 5, svc->postcode[0] ? svc->postcode : NULL) ||
		    run_statement(st, SQL_INSERT_SERVICE, "saving a service") != 0)
			return -1;
	}
	return 0;
}

static int insert_audit(store *st, const char *story_id, const char *at,
			const char *event, const char *actor)
{
	sqlite3_stmt *stmt = st->stmt[SQL_INSERT_AUDIT];
	if (bind_text(st, stmt, 1, story_id) || bind_text(st, stmt, 2, at) ||
	    bind_text(st, stmt, 3, event) || bind_text(st, stmt, 4, actor))
		return -1;
	return run_statement(st, SQL_INSERT_AUDIT, "recording the audit trail");
}

int store_save_story(store *st, const story *s)
{
	if (s->consent != 1) {
		set_error(st, "a story is only queued once consent is given");
		return -1;
	}
	char now[32];
	utc_now(now, sizeof now);
	if (run_statement(st, SQL_BEGIN, "starting to save") != 0)
		return -1;
	/* The draft goes in the same transaction: after any crash the queue holds
	 * the whole story or the draft, never both and never half. */
	if (insert_story_row(st, s, now) != 0 || insert_answers(st, s) != 0 ||
	    insert_services(st, s) != 0 || insert_findings(st, s) != 0 ||
	    insert_audit(st, s->id, now, "queued", s->operator_name) != 0 ||
	    bind_text(st, st->stmt[SQL_DELETE_DRAFT], 1, s->id) != 0 ||
	    run_statement(st, SQL_DELETE_DRAFT, "removing the draft") != 0 ||
	    run_statement(st, SQL_COMMIT, "committing the story") != 0) {
		char saved[sizeof st->error];
		memcpy(saved, st->error, sizeof saved);
		if (!sqlite3_get_autocommit(st->db))
			run_statement(st, SQL_ROLLBACK, "undoing a failed save");
		memcpy(st->error, saved, sizeof saved);
		return -1;
	}
	return 0;
}

int store_staff_posted_share(store *st, long *staff_posted, long *total)
{
	sqlite3_stmt *stmt = st->stmt[SQL_STAFF_SHARE];
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*total = (long)sqlite3_column_int64(stmt, 0);
		*staff_posted = (long)sqlite3_column_int64(stmt, 1);
	} else {
		set_error(st, "counting stories: %s", sqlite3_errmsg(st->db));
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Prepare a one-off report query; reports run once per command, so these are
 * not kept for the life of the store. */
static sqlite3_stmt *prepare_report(store *st, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		set_error(st, "preparing a report: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	return stmt;
}

static int finish_report(store *st, sqlite3_stmt *stmt, int rc, FILE *out)
{
	int ok = rc == SQLITE_DONE;
	if (!ok)
		set_error(st, "reading the queue: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	if (ok && (fflush(out) != 0 || ferror(out))) {
		set_error(st, "writing the output: %s", strerror(errno));
		ok = 0;
	}
	return ok ? 0 : -1;
}

/* Print untrusted text with control characters made harmless. */
static void print_safe(FILE *out, const unsigned char *text, int keep_newlines)
{
	char *safe = validate_sanitize(text ? (const char *)text : "", keep_newlines);
	fputs(safe ? safe : "?", out);
	free(safe);
}

int store_list(store *st, const char *status, long limit, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT s.id, s.consented_at, s.status,"
		" (SELECT group_concat(name, '; ') FROM"
		"   (SELECT name FROM story_services WHERE story_id = s.id ORDER BY position)),"
		" s.safeguarding, s.possible_safety_incident"
		" FROM stories s WHERE ?1 IS NULL OR s.status = ?1"
		" ORDER BY s.consented_at, s.id LIMIT ?2");
	if (stmt == NULL || bind_text(st, stmt, 1, status) != 0 ||
	    sqlite3_bind_int64(stmt, 2, limit > 0 ? limit : -1) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		fprintf(out, "%s  %.16s  %-9s  ", (const char *)sqlite3_column_text(stmt, 0),
			(const char *)sqlite3_column_text(stmt, 1),
			(const char *)sqlite3_column_text(stmt, 2));
		print_safe(out, sqlite3_column_text(stmt, 3), 0);
		if (sqlite3_column_int(stmt, 4))
			fputs("  [SAFEGUARDING]", out);
		if (sqlite3_column_int(stmt, 5))
			fputs("  [SAFETY INCIDENT?]", out);
		fputc('\n', out);
	}
	return finish_report(st, stmt, rc, out);
}

int store_resolve(store *st, const char *wanted, char *id, size_t idlen)
{
	char reference[STORY_REFERENCE_SIZE];
	int by_reference = story_normalise_reference(wanted, reference, sizeof reference) == 0;
	size_t len = strlen(wanted);
	int by_id = len >= 4 && len <= 36 && strspn(wanted, "0123456789abcdefABCDEF-") == len;
	if (!by_reference && !by_id) {
		set_error(st, "give the story's reference (like ABCD-EFGH), or its id or at least "
			  "the first 4 characters of it (as shown by 'storykiosk list')");
		return 1;
	}
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT id FROM stories WHERE reference = ?2"
		" OR (?1 IS NOT NULL AND substr(id, 1, length(?1)) = lower(?1)) LIMIT 2");
	if (stmt == NULL || bind_text(st, stmt, 1, by_id ? wanted : NULL) != 0 ||
	    bind_text(st, stmt, 2, by_reference ? reference : NULL) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int found = 0, rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (found++ == 0)
			snprintf(id, idlen, "%s", (const char *)sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(st, "reading the queue: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	if (found == 1)
		return 0;
	set_error(st, found == 0 ? "no story in this queue has that reference or id"
				 : "several stories have an id starting with that; give more of it");
	return 1;
}

static int show_story_row(store *st, const char *id, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT status, created_at, consented_at, form_name, form_version,"
		" operator_name, operator_role, role, title, username,"
		" postcode IS NOT NULL, postcode_from_service, posted_by_staff, consent_version,"
		" reference, safeguarding, possible_safety_incident,"
		" (SELECT group_concat(kind || ' ' || count, ', ') FROM"
		"   (SELECT kind, count FROM story_findings WHERE story_id = ?1 ORDER BY kind))"
		" FROM stories WHERE id = ?1");
	if (stmt == NULL || bind_text(st, stmt, 1, id) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		fprintf(out, "Story      %s\nReference  %s\nStatus     %s\nStarted    %s\nConsented  %s\n",
			id, (const char *)sqlite3_column_text(stmt, 14),
			(const char *)sqlite3_column_text(stmt, 0),
			(const char *)sqlite3_column_text(stmt, 1),
			(const char *)sqlite3_column_text(stmt, 2));
		fputs("Form       ", out);
		print_safe(out, sqlite3_column_text(stmt, 3), 0);
		fputs(" version ", out);
		print_safe(out, sqlite3_column_text(stmt, 4), 0);
		fputs("\nOperator   ", out);
		print_safe(out, sqlite3_column_text(stmt, 5), 0);
		fputs(" (", out);
		print_safe(out, sqlite3_column_text(stmt, 6), 0);
		fputs(")\nRole       ", out);
		print_safe(out, sqlite3_column_text(stmt, 7), 0);
		fputs("\nTitle      ", out);
		print_safe(out, sqlite3_column_text(stmt, 8), 0);
		fputs("\nUsername   ", out);
		print_safe(out, sqlite3_column_text(stmt, 9), 0);
		/* Contact details stay confidential: say whether they exist, not what they are. */
		fprintf(out, "\nPostcode   %s\nEmail      %s\nConsent    given (statement version ",
			!sqlite3_column_int(stmt, 10) ? "none" :
			sqlite3_column_int(stmt, 11) ? "(confidential; the service's postcode)" :
						       "(confidential; given)",
			sqlite3_column_int(stmt, 12) ? "none: posted by a staff member for the patient"
						     : "(confidential; given)");
		print_safe(out, sqlite3_column_text(stmt, 13), 0);
		fputs(")\n", out);
		fprintf(out, "Checks     safeguarding: %s; possible patient safety incident: %s; "
			"details found before consent: %s\n",
			sqlite3_column_int(stmt, 15) ? "YES, look at this first" : "no",
			sqlite3_column_int(stmt, 16) ? "YES" : "no",
			sqlite3_column_type(stmt, 17) == SQLITE_NULL ? "none"
				: (const char *)sqlite3_column_text(stmt, 17));
		rc = sqlite3_step(stmt);
	}
	return finish_report(st, stmt, rc, out);
}

static int show_services(store *st, const char *id, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT coalesce(code, '(not in the list)'), name FROM story_services"
		" WHERE story_id = ?1 ORDER BY position");
	if (stmt == NULL || bind_text(st, stmt, 1, id) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc;
	fputs("Services\n", out);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		fputs("  ", out);
		print_safe(out, sqlite3_column_text(stmt, 0), 0);
		fputs("  ", out);
		print_safe(out, sqlite3_column_text(stmt, 1), 0);
		fputc('\n', out);
	}
	return finish_report(st, stmt, rc, out);
}

static int show_answers(store *st, const char *id, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT step_key, value FROM answers WHERE story_id = ?1 ORDER BY position");
	if (stmt == NULL || bind_text(st, stmt, 1, id) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		fputc('\n', out);
		print_safe(out, sqlite3_column_text(stmt, 0), 0);
		fputs(":\n", out);
		print_safe(out, sqlite3_column_text(stmt, 1), 1);
		fputc('\n', out);
	}
	return finish_report(st, stmt, rc, out);
}

static int show_audit(store *st, const char *id, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT at, event, actor FROM audit WHERE story_id = ?1 ORDER BY id");
	if (stmt == NULL || bind_text(st, stmt, 1, id) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc;
	fputs("\nHistory\n", out);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		fprintf(out, "  %s  %-10s  ", (const char *)sqlite3_column_text(stmt, 0),
			(const char *)sqlite3_column_text(stmt, 1));
		print_safe(out, sqlite3_column_text(stmt, 2), 0);
		fputc('\n', out);
	}
	return finish_report(st, stmt, rc, out);
}

static int show_attempts(store *st, const char *id, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT at, kind, outcome, coalesce(code, ''), target, coalesce(message, '')"
		" FROM attempts WHERE story_id = ?1 ORDER BY id");
	if (stmt == NULL || bind_text(st, stmt, 1, id) != 0) {
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc, any = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!any++)
			fputs("\nDelivery attempts\n", out);
		fprintf(out, "  %s  %s  %s", (const char *)sqlite3_column_text(stmt, 0),
			(const char *)sqlite3_column_text(stmt, 1),
			(const char *)sqlite3_column_text(stmt, 2));
		if (sqlite3_column_bytes(stmt, 3) > 0)
			fprintf(out, "  code %s", (const char *)sqlite3_column_text(stmt, 3));
		fputs("  to ", out);
		print_safe(out, sqlite3_column_text(stmt, 4), 0);
		if (sqlite3_column_bytes(stmt, 5) > 0) {
			fputs("\n      ", out);
			print_safe(out, sqlite3_column_text(stmt, 5), 0);
		}
		fputc('\n', out);
	}
	return finish_report(st, stmt, rc, out);
}

int store_show(store *st, const char *wanted, FILE *out)
{
	char id[40];
	int rc = store_resolve(st, wanted, id, sizeof id);
	if (rc != 0)
		return rc;
	if (show_story_row(st, id, out) != 0 || show_services(st, id, out) != 0 ||
	    show_answers(st, id, out) != 0 || show_audit(st, id, out) != 0 ||
	    show_attempts(st, id, out) != 0)
		return -1;
	return 0;
}

/* The export record: the contract every delivery target shares. Nested JSON
 * from subqueries goes through json() so it stays JSON rather than a string. */
const char store_record_select[] =
	"SELECT json_object("
	" 'id', s.id,"
	" 'created_at', s.created_at,"
	" 'consented_at', s.consented_at,"
	" 'form', json_object('name', s.form_name, 'version', s.form_version),"
	" 'operator', json_object('name', s.operator_name, 'role', s.operator_role),"
	" 'role', s.role,"
	" 'title', s.title,"
	" 'answers', json((SELECT json_group_object(step_key, value) FROM"
	"   (SELECT step_key, value FROM answers WHERE story_id = s.id ORDER BY position))),"
	" 'username', s.username,"
	" 'postcode', s.postcode,"
	" 'services', json((SELECT json_group_array(json_object('code', code, 'name', name)) FROM"
	"   (SELECT code, name FROM story_services WHERE story_id = s.id ORDER BY position))),"
	" 'email', s.email,"
	" 'posted_by_staff', json(CASE WHEN s.posted_by_staff THEN 'true' ELSE 'false' END),"
	" 'consent', json_object('given', json('true'), 'statement_version', s.consent_version),"
	" 'status', s.status,"
	" 'safeguarding', json(CASE WHEN s.safeguarding THEN 'true' ELSE 'false' END),"
	" 'possible_safety_incident',"
	"  json(CASE WHEN s.possible_safety_incident THEN 'true' ELSE 'false' END),"
	" 'findings', json((SELECT json_group_object(kind, count) FROM"
	"   (SELECT kind, count FROM story_findings WHERE story_id = s.id ORDER BY kind)))),"
	" s.id, s.status"
	" FROM stories s";

int store_export_jsonl(store *st, FILE *out)
{
	char sql[sizeof store_record_select + 64];
	snprintf(sql, sizeof sql, "%s ORDER BY s.consented_at, s.id", store_record_select);
	sqlite3_stmt *stmt = prepare_report(st, sql);
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *json = sqlite3_column_text(stmt, 0);
		if (json == NULL) {
			set_error(st, "building a story's JSON: out of memory");
			sqlite3_finalize(stmt);
			return -1;
		}
		fputs((const char *)json, out);
		fputc('\n', out);
	}
	return finish_report(st, stmt, rc, out);
}

int store_stats(store *st, FILE *out)
{
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT status, count(*) FROM stories GROUP BY status ORDER BY status");
	if (stmt == NULL)
		return -1;
	int rc;
	long total = 0;
	fputs("Stories by status\n", out);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		long count = (long)sqlite3_column_int64(stmt, 1);
		total += count;
		fprintf(out, "  %-10s %ld\n", (const char *)sqlite3_column_text(stmt, 0), count);
	}
	fprintf(out, "  %-10s %ld\n", "total", total);
	if (finish_report(st, stmt, rc, out) != 0)
		return -1;

	stmt = prepare_report(st,
		"SELECT coalesce(code, '(not in the list)'), name, count(*) FROM story_services"
		" GROUP BY code, name ORDER BY count(*) DESC, name");
	if (stmt == NULL)
		return -1;
	fputs("\nStories by service\n", out);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		fprintf(out, "  %6lld  ", (long long)sqlite3_column_int64(stmt, 2));
		print_safe(out, sqlite3_column_text(stmt, 0), 0);
		fputs("  ", out);
		print_safe(out, sqlite3_column_text(stmt, 1), 0);
		fputc('\n', out);
	}
	if (finish_report(st, stmt, rc, out) != 0)
		return -1;

	long staff_posted, counted;
	if (store_staff_posted_share(st, &staff_posted, &counted) != 0)
		return -1;
	fprintf(out, "\nPosted by staff for the patient (no email): %ld of %ld", staff_posted, counted);
	if (counted > 0)
		fprintf(out, " (%.1f%%)%s", 100.0 * (double)staff_posted / (double)counted,
			staff_posted * 20 >= counted ? " - guidance says fewer than 5%" : "");
	fputc('\n', out);
	if (fflush(out) != 0 || ferror(out)) {
		set_error(st, "writing the output: %s", strerror(errno));
		return -1;
	}
	return 0;
}
