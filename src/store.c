/* store.c - the SQLite queue. Every write is one BEGIN IMMEDIATE transaction so a
 * story is either wholly queued or not at all; WAL with synchronous=FULL makes a
 * commit survive a power cut. Export JSON comes from SQLite's JSON functions.
 * The file's integrity check runs in a background thread from open; every write
 * waits for its verdict, so a damaged file is never written. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
	SQL_REFERENCE_HOLDER,
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
	[SQL_REFERENCE_HOLDER] = "SELECT id FROM stories WHERE reference = ?1",
	[SQL_STAFF_SHARE] =
		"SELECT coalesce(sum(stories), 0), coalesce(sum(stories * posted_by_staff), 0)"
		" FROM story_counts WHERE status <> 'withdrawn'",
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

/* Version 6: running counts kept by triggers, so stats and the 5% notice read a
 * handful of rows instead of the whole queue; the two version-5 indexes they
 * replace go. The child tables become WITHOUT ROWID (their primary key is the
 * table), so saving a story or a draft writes one b-tree page per table
 * instead of two. Old tables are renamed aside, copied and dropped. */
/* The counts by state, taken from the stories themselves: how version 6 fills
 * story_counts, and how store_recount_stories fills it again. */
#define COUNT_STORIES_SQL \
	"INSERT INTO story_counts (status, posted_by_staff, stories)" \
	" SELECT status, posted_by_staff, count(*) FROM stories GROUP BY status, posted_by_staff"

static const char schema_v6_counts[] =
	"CREATE TABLE story_counts ("
	" status TEXT NOT NULL,"
	" posted_by_staff INTEGER NOT NULL,"
	" stories INTEGER NOT NULL,"
	" PRIMARY KEY (status, posted_by_staff)"
	") WITHOUT ROWID;"
	COUNT_STORIES_SQL ";"
	/* coded is 0 for a service not in the list (code NULL, kept as ''). */
	"CREATE TABLE service_counts ("
	" coded INTEGER NOT NULL,"
	" code TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" services INTEGER NOT NULL,"
	" PRIMARY KEY (coded, code, name)"
	") WITHOUT ROWID;"
	"INSERT INTO service_counts (coded, code, name, services)"
	" SELECT code IS NOT NULL, coalesce(code, ''), name, count(*) FROM story_services"
	" GROUP BY code IS NOT NULL, coalesce(code, ''), name;"
	"DROP INDEX stories_by_staff;";

static const char schema_v6_children[] =
	"ALTER TABLE answers RENAME TO answers_v5;"
	"CREATE TABLE answers ("
	" story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" step_key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (story_id, step_key)"
	") WITHOUT ROWID;"
	"INSERT INTO answers SELECT story_id, position, step_key, value FROM answers_v5;"
	"DROP TABLE answers_v5;"
	"ALTER TABLE story_services RENAME TO story_services_v5;"
	"CREATE TABLE story_services ("
	" story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" code TEXT,"
	" name TEXT NOT NULL,"
	" postcode TEXT,"
	" PRIMARY KEY (story_id, position)"
	") WITHOUT ROWID;"
	"INSERT INTO story_services SELECT story_id, position, code, name, postcode"
	" FROM story_services_v5;"
	"DROP TABLE story_services_v5;"
	"ALTER TABLE story_findings RENAME TO story_findings_v5;"
	"CREATE TABLE story_findings ("
	" story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"
	" count INTEGER NOT NULL CHECK (count > 0),"
	" PRIMARY KEY (story_id, kind)"
	") WITHOUT ROWID;"
	"INSERT INTO story_findings SELECT story_id, kind, count FROM story_findings_v5;"
	"DROP TABLE story_findings_v5;";

static const char schema_v6_drafts[] =
	/* Renaming a parent renames its children's references too, so the old
	 * drafts' cascade can never reach the new tables. */
	"ALTER TABLE drafts RENAME TO drafts_v5;"
	"ALTER TABLE draft_answers RENAME TO draft_answers_v5;"
	"ALTER TABLE draft_services RENAME TO draft_services_v5;"
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
	") WITHOUT ROWID;"
	"CREATE TABLE draft_answers ("
	" draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,"
	" step_key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" confirmed TEXT,"
	" PRIMARY KEY (draft_id, step_key)"
	") WITHOUT ROWID;"
	"CREATE TABLE draft_services ("
	" draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" code TEXT,"
	" name TEXT NOT NULL,"
	" postcode TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (draft_id, position)"
	") WITHOUT ROWID;"
	"INSERT INTO drafts SELECT id, created_at, updated_at, form_name, form_version,"
	" operator_name, operator_role, step, no_postcode, no_email FROM drafts_v5;"
	"INSERT INTO draft_answers SELECT draft_id, step_key, value, confirmed FROM draft_answers_v5;"
	"INSERT INTO draft_services SELECT draft_id, position, code, name, postcode"
	" FROM draft_services_v5;"
	"DROP TABLE draft_answers_v5;"
	"DROP TABLE draft_services_v5;"
	"DROP TABLE drafts_v5;";

/* The counters' triggers come last, so the copies above do not count. */
static const char schema_v6_triggers[] =
	"CREATE TRIGGER story_counts_insert AFTER INSERT ON stories BEGIN"
	" INSERT INTO story_counts (status, posted_by_staff, stories)"
	"  VALUES (NEW.status, NEW.posted_by_staff, 1)"
	"  ON CONFLICT (status, posted_by_staff) DO UPDATE SET stories = stories + 1;"
	" END;"
	"CREATE TRIGGER story_counts_delete AFTER DELETE ON stories BEGIN"
	" UPDATE story_counts SET stories = stories - 1"
	"  WHERE status = OLD.status AND posted_by_staff = OLD.posted_by_staff;"
	" END;"
	"CREATE TRIGGER story_counts_update AFTER UPDATE OF status, posted_by_staff ON stories"
	" WHEN OLD.status IS NOT NEW.status OR OLD.posted_by_staff IS NOT NEW.posted_by_staff BEGIN"
	" UPDATE story_counts SET stories = stories - 1"
	"  WHERE status = OLD.status AND posted_by_staff = OLD.posted_by_staff;"
	" INSERT INTO story_counts (status, posted_by_staff, stories)"
	"  VALUES (NEW.status, NEW.posted_by_staff, 1)"
	"  ON CONFLICT (status, posted_by_staff) DO UPDATE SET stories = stories + 1;"
	" END;"
	"CREATE TRIGGER service_counts_insert AFTER INSERT ON story_services BEGIN"
	" INSERT INTO service_counts (coded, code, name, services)"
	"  VALUES (NEW.code IS NOT NULL, coalesce(NEW.code, ''), NEW.name, 1)"
	"  ON CONFLICT (coded, code, name) DO UPDATE SET services = services + 1;"
	" END;"
	"CREATE TRIGGER service_counts_delete AFTER DELETE ON story_services BEGIN"
	" UPDATE service_counts SET services = services - 1"
	"  WHERE coded = (OLD.code IS NOT NULL) AND code = coalesce(OLD.code, '') AND name = OLD.name;"
	" END;"
	"CREATE TRIGGER service_counts_update AFTER UPDATE OF code, name ON story_services BEGIN"
	" UPDATE service_counts SET services = services - 1"
	"  WHERE coded = (OLD.code IS NOT NULL) AND code = coalesce(OLD.code, '') AND name = OLD.name;"
	" INSERT INTO service_counts (coded, code, name, services)"
	"  VALUES (NEW.code IS NOT NULL, coalesce(NEW.code, ''), NEW.name, 1)"
	"  ON CONFLICT (coded, code, name) DO UPDATE SET services = services + 1;"
	" END;";

/* Version 7: what each sync looks for besides due stories (withdrawals to
 * send, contact details to erase) found by index instead of by reading every
 * story. Partial, so a story pays for them only while it is such a one:
 * saving a story or delivering it (retention 0) writes neither. And
 * maybe_delivered: a sync handed the story to the target and never heard
 * whether it was stored (a lost connection, a killed run), so withdrawing it
 * must tell the central store. Stories left 'sending' or 'failed' by older
 * versions are counted so, to be safe. withdrawal_pending is 2 for the
 * withdrawal of such a story, which the central store may not hold. */
static const char schema_v7[] =
	"ALTER TABLE stories ADD COLUMN maybe_delivered INTEGER NOT NULL DEFAULT 0;"
	"UPDATE stories SET maybe_delivered = 1 WHERE status IN ('sending', 'failed');"
	"CREATE INDEX stories_withdrawal_pending ON stories (id) WHERE withdrawal_pending > 0;"
	"CREATE INDEX stories_contact_kept ON stories (delivered_at)"
	" WHERE contact_erased_at IS NULL AND delivered_at IS NOT NULL"
	" AND (email IS NOT NULL OR postcode IS NOT NULL);";

/* Each entry migrates from user_version i to i + 1, in up to four parts (C
 * compilers need only take string literals of 4095 bytes). */
static const char *const migrations[][4] = {
	{ schema_v1 }, { schema_v2 }, { schema_v3 }, { schema_v4 }, { schema_v5 },
	{ schema_v6_counts, schema_v6_children, schema_v6_drafts, schema_v6_triggers },
	{ schema_v7 },
};

/* What the integrity check has found so far. */
enum verdict { VERDICT_NONE, VERDICT_PENDING, VERDICT_OK, VERDICT_BAD };

/* The integrity check, run on its own read-only connection in a thread. */
struct check {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t done;
	enum verdict verdict;    /* under lock */
	int code;                /* SQLite's code when the verdict is bad */
	char error[256];         /* what was found, when bad */
	atomic_int stop;         /* set at close: give up at once */
};

static int commit_gate(void *context);
static int wait_for_verdict(store *st, int *code, char *found, size_t foundlen);

/* Every connection to a queue: durable commits (WAL with synchronous=FULL),
 * the schema's foreign keys, and deleted values overwritten in the file. */
static const char connection_pragmas[] =
	"PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON";

struct store {
	sqlite3 *db;
	char *path;
	int code;          /* SQLite's extended result code behind the last error */
	const seal_key *seal;  /* seal contact details to this key, or NULL */
	sqlite3_stmt *stmt[SQL_COUNT];
	struct check check;
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

int store_exec(store *st, const char *sql, const char *what)
{
	char *message = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		set_error(st, "%s%s%s", what ? what : "", what ? ": " : "",
			  message ? message : sqlite3_errmsg(st->db));
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

/* Run PRAGMA quick_check(1) on db: 0 when the file is sound, else -1 with what
 * was found (or why the check could not finish) in out and SQLite's code in
 * *code (SQLITE_CORRUPT when the check itself reported damage). */
static int quick_check(sqlite3 *db, char *out, size_t outlen, int *code)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK) {
		*code = sqlite3_extended_errcode(db);
		snprintf(out, outlen, "the queue file could not be checked (%s)", sqlite3_errmsg(db));
		return -1;
	}
	int rc = sqlite3_step(stmt);
	const unsigned char *found = rc == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : NULL;
	int ok = found != NULL && strcmp((const char *)found, "ok") == 0;
	if (!ok) {
		*code = rc == SQLITE_ROW ? SQLITE_CORRUPT : sqlite3_extended_errcode(db);
		snprintf(out, outlen, "the queue file is damaged (%s)",
			 found ? (const char *)found : sqlite3_errmsg(db));
	}
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
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
	if (store_exec(st, "BEGIN IMMEDIATE", "starting the schema upgrade") != 0)
		return -1;
	int version;
	if (read_user_version(st, &version) != 0)
		goto fail;
	if (version > latest) {
		set_error(st, "the queue was written by a newer StoryKiosk (schema %d, this one "
			  "knows %d); use the newer version", version, latest);
		goto fail;
	}
	/* An upgrade rewrites much of the file: never on a damaged one. */
	if (version > 0 && version < latest) {
		int code = 0;
		char found[256];
		if (quick_check(st->db, found, sizeof found, &code) != 0) {
			set_error(st, "%s", found);
			st->code = code;
			goto fail;
		}
	}
	for (; version < latest; version++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
		for (int part = 0; part < 4 && migrations[version][part] != NULL; part++)
			if (store_exec(st, migrations[version][part], "upgrading the queue's schema") != 0)
				goto fail;
		if (store_exec(st, pragma, "recording the schema version") != 0)
			goto fail;
	}
	return store_exec(st, "COMMIT", "finishing the schema upgrade");
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

void store_init_process(void)
{
	/* SQLite's memory statistics, which nothing here reads, take one global
	 * mutex on every allocation: the sync's two connections and the
	 * integrity check then queue on it (export of 100,000: 2.71 -> 2.47 s).
	 * SQLITE_MISUSE, once SQLite has started, leaves the statistics on: slower,
	 * not wrong. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
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
	if (pthread_mutex_init(&st->check.lock, NULL) != 0) {
		free(st->path);
		free(st);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pthread_cond_init(&st->check.done, NULL) != 0) {
		pthread_mutex_destroy(&st->check.lock);
		free(st->path);
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
	if (store_exec(st, "PRAGMA journal_mode = WAL", "switching to WAL") != 0 ||
	    store_exec(st, connection_pragmas, "setting up the queue") != 0 ||
	    migrate(st) != 0)
		goto fail;
	for (int i = 0; i < SQL_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			set_error(st, "preparing a statement: %s", sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	/* Whoever writes (sync, import, export marks as well as this module),
	 * nothing is committed before the integrity check has said the file is
	 * sound. Callers that write wait for it first, to say why plainly; this
	 * hook is the guarantee. */
	sqlite3_commit_hook(st->db, commit_gate, st);
	return st;
fail:
	snprintf(err, errlen, "queue %s: %s", path, st->error);
	*problem = problem_kind(st->code);
	store_close(st);
	return NULL;
}

sqlite3 *store_open_writer(store *st, char *err, size_t errlen)
{
	/* The commit gate is on st's connection only: this one waits here. */
	int code = SQLITE_OK;
	char found[256];
	if (wait_for_verdict(st, &code, found, sizeof found) != 0) {
		snprintf(err, errlen, "%s", found);
		return NULL;
	}
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open the queue again: %s",
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(db, connection_pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "setting up the queue: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int store_recount_stories(sqlite3 *db)
{
	return sqlite3_exec(db, "DELETE FROM story_counts;" COUNT_STORIES_SQL, NULL, NULL, NULL);
}

/* The check's thread: a read-only connection with a small cache, at a lower
 * priority than the screen, that records its verdict and wakes any writer. */
static int check_should_stop(void *context)
{
	return atomic_load(&((struct check *)context)->stop);
}

static void run_check(store *st)
{
	struct check *c = &st->check;
	char found[256] = "";
	int code = SQLITE_OK, ok = -1;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		code = db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM;
		snprintf(found, sizeof found, "the queue file could not be checked (%s)",
			 db ? sqlite3_errmsg(db) : "out of memory");
	} else {
		sqlite3_extended_result_codes(db, 1);
		sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
		sqlite3_progress_handler(db, 10000, check_should_stop, c);
		(void)sqlite3_exec(db, "PRAGMA cache_size = -256", NULL, NULL, NULL);
		ok = quick_check(db, found, sizeof found, &code);
	}
	sqlite3_close(db);
	pthread_mutex_lock(&c->lock);
	c->verdict = ok == 0 ? VERDICT_OK : VERDICT_BAD;
	c->code = code;
	snprintf(c->error, sizeof c->error, "%s", found);
	pthread_cond_broadcast(&c->done);
	pthread_mutex_unlock(&c->lock);
}

static void *check_main(void *context)
{
#ifdef SYS_gettid
	/* Best effort, and only for this thread: the first screen comes first. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
#endif
	run_check(context);
	return NULL;
}

/* Start the check unless it has started; call with the lock held. A thread
 * that cannot start leaves the check to be run in the caller. */
static void start_check_locked(store *st)
{
	struct check *c = &st->check;
	if (c->verdict != VERDICT_NONE)
		return;
	/* Signals stay with the main thread, where the kiosk's handlers expect them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&c->thread, NULL, check_main, st) == 0)
		c->verdict = VERDICT_PENDING;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void store_check_start(store *st)
{
	pthread_mutex_lock(&st->check.lock);
	start_check_locked(st);
	pthread_mutex_unlock(&st->check.lock);
}

/* Wait for the verdict (running the check here if it could not be started in
 * the background). 0 sound, or -1 with code and message in c. */
static int wait_for_verdict(store *st, int *code, char *found, size_t foundlen)
{
	struct check *c = &st->check;
	pthread_mutex_lock(&c->lock);
	start_check_locked(st);
	if (c->verdict == VERDICT_NONE) {
		pthread_mutex_unlock(&c->lock);
		c->thread = pthread_self();
		run_check(st);
		pthread_mutex_lock(&c->lock);
	}
	while (c->verdict == VERDICT_PENDING)
		pthread_cond_wait(&c->done, &c->lock);
	int ok = c->verdict == VERDICT_OK;
	if (!ok) {
		*code = c->code;
		snprintf(found, foundlen, "%s", c->error);
	}
	pthread_mutex_unlock(&c->lock);
	return ok ? 0 : -1;
}

int store_check(store *st)
{
	int code = SQLITE_OK;
	char found[256];
	if (wait_for_verdict(st, &code, found, sizeof found) == 0)
		return 0;
	snprintf(st->error, sizeof st->error, "%s", found);
	st->code = code;
	return -1;
}

/* The commit hook: a non-zero return turns the COMMIT into a ROLLBACK. */
static int commit_gate(void *context)
{
	int code;
	char found[256];
	return wait_for_verdict(context, &code, found, sizeof found) != 0;
}

void store_close(store *st)
{
	if (st == NULL)
		return;
	struct check *c = &st->check;
	pthread_mutex_lock(&c->lock);
	enum verdict verdict = c->verdict;
	pthread_mutex_unlock(&c->lock);
	if (verdict != VERDICT_NONE) {
		atomic_store(&c->stop, 1);
		if (!pthread_equal(c->thread, pthread_self()))
			pthread_join(c->thread, NULL);
		pthread_mutex_lock(&c->lock);
		verdict = c->verdict;
		pthread_mutex_unlock(&c->lock);
	}
	for (int i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL) {
		/* Closing the last connection copies the WAL into the file: not into
		 * one that is damaged, or that the check never finished with. */
		if (verdict == VERDICT_BAD || verdict == VERDICT_PENDING)
			sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		sqlite3_close(st->db);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->done);
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

/* Whether another story already holds s's reference (*taken); 0 or -1. */
static int reference_taken(store *st, const story *s, int *taken)
{
	sqlite3_stmt *stmt = st->stmt[SQL_REFERENCE_HOLDER];
	if (bind_text(st, stmt, 1, s->reference) != 0)
		return -1;
	int rc = sqlite3_step(stmt);
	/* The story itself holding it means it is saved already: the insert
	 * refuses it, as it must, rather than saving it twice. */
	*taken = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(stmt, 0), s->id) != 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		set_error(st, "looking up the story reference: %s", sqlite3_errmsg(st->db));
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A reference is 40 bits of the UUID, so two stories can share one (about
 * n in 2^40 with n queued). The newcomer then takes a new UUID, whose
 * reference is free, rather than being refused forever. */
static int give_free_reference(store *st, story *s)
{
	for (int tries = 0; tries < 16; tries++) {
		int taken = 0;
		if (reference_taken(st, s, &taken) != 0)
			return -1;
		if (!taken)
			return 0;
		if (story_new_id(s) != 0) {
			set_error(st, "giving the story a new id: out of memory");
			return -1;
		}
	}
	set_error(st, "no free story reference after 16 new ids");
	return -1;
}

int store_save_story(store *st, story *s)
{
	if (s->consent != 1) {
		set_error(st, "a story is only queued once consent is given");
		return -1;
	}
	if (store_check(st) != 0)
		return -1;
	char now[32];
	utc_now(now, sizeof now);
	/* The draft keeps the id the story had when it was saved as a draft. */
	char draft_id[sizeof s->id], reference[sizeof s->reference];
	memcpy(draft_id, s->id, sizeof draft_id);
	memcpy(reference, s->reference, sizeof reference);
	if (run_statement(st, SQL_BEGIN, "starting to save") != 0)
		return -1;
	/* The draft goes in the same transaction: after any crash the queue holds
	 * the whole story or the draft, never both and never half. */
	if (give_free_reference(st, s) != 0 ||
	    insert_story_row(st, s, now) != 0 || insert_answers(st, s) != 0 ||
	    insert_services(st, s) != 0 || insert_findings(st, s) != 0 ||
	    insert_audit(st, s->id, now, "queued", s->operator_name) != 0 ||
	    bind_text(st, st->stmt[SQL_DELETE_DRAFT], 1, draft_id) != 0 ||
	    run_statement(st, SQL_DELETE_DRAFT, "removing the draft") != 0 ||
	    run_statement(st, SQL_COMMIT, "committing the story") != 0) {
		char saved[sizeof st->error];
		memcpy(saved, st->error, sizeof saved);
		if (!sqlite3_get_autocommit(st->db))
			run_statement(st, SQL_ROLLBACK, "undoing a failed save");
		memcpy(st->error, saved, sizeof saved);
		/* Still the draft's story: its next save and retry use the draft's id. */
		memcpy(s->id, draft_id, sizeof draft_id);
		memcpy(s->reference, reference, sizeof reference);
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
	/* The running counts (schema version 6), not a scan of the queue. Counts
	 * that fell to 0 stay as rows and are left out, as GROUP BY would. */
	sqlite3_stmt *stmt = prepare_report(st,
		"SELECT status, sum(stories) FROM story_counts GROUP BY status"
		" HAVING sum(stories) > 0 ORDER BY status");
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
		"SELECT CASE WHEN coded THEN code ELSE '(not in the list)' END, name, services"
		" FROM service_counts WHERE services > 0 ORDER BY services DESC, name, coded, code");
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
