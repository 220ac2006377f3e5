/* sync_pg.c - the PostgreSQL delivery target: one table, keyed on the story's
 * UUID, shared by every terminal. A batch of stories goes in one COPY (one
 * transaction), the cheapest way into the table for the server, and the queue
 * reads the next batch while the server stores this one. The table's key
 * refuses a story already there (a retry after a dropped connection, or a
 * second kiosk holding the same story): that batch is sent again as one
 * INSERT ... ON CONFLICT DO NOTHING, so no story is ever stored twice. */
#include "sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <uuid.h>

#include "fatal.h"

/* The central schema version this code writes and understands. */
#define PG_SCHEMA_VERSION 1

/* pg_advisory_xact_lock key ("SKSC") serialising schema creation between
 * kiosks that start at the same moment. */
#define PG_SCHEMA_LOCK "1397445443"

/* The code recorded when the connection itself failed, which libpq reports
 * without an SQLSTATE: PostgreSQL's own "connection_failure". */
#define PG_CODE_CONNECTION_FAILURE "08006"

/* What an error means for the items that met it. */
typedef enum {
	PG_FAULT_TEMPORARY, /* try again later: deadlock, timeout, resources */
	PG_FAULT_GONE,      /* the connection is lost or closing: try again later, stop now */
	PG_FAULT_CONFIG,    /* credentials, privileges or the central schema: tell the operator */
	PG_FAULT_BAD_STORY  /* this data is refused: find the story and reject only it */
} pg_fault;

/* A growing buffer: a batch's JSON array, or its COPY data. */
typedef struct {
	char *text;
	size_t len, cap;
} text_buffer;

struct sync_target {
	PGconn *conn;
	char *terminal;    /* this kiosk's name, stored with each story; NULL: none */
	int wait_ms;       /* the longest wait for the server to read or answer */
	/* The batch started and not yet collected: its items, and the stories
	 * among them (pointers into items). */
	sync_item *started;
	size_t started_n;
	sync_item **stories;
	size_t nstories;
	int copying;          /* their COPY is sent and its answer not yet read */
	int copy_unknown;     /* the COPY's data left and what became of it is unknown */
	int by_insert;        /* they go by INSERT: COPY cannot carry them, or was refused */
	int copy_refused;     /* the server will not take COPY at all (row-level security): for
			       * the rest of the connection, every batch goes by INSERT */
	pg_fault copy_fault;  /* why it was not sent, or failed */
	char copy_code[16];
	char copy_message[256];
	text_buffer copy;     /* the COPY's data, its memory kept between batches */
};

/* ---- text ---- */

/* Copy src into dst (size > 0) on one line: control characters and runs of
 * white space become one space, and a cut never splits a UTF-8 character. */
static void copy_line(char *dst, size_t size, const char *src)
{
	size_t len = 0;
	size_t space = 0; /* a space is owed before the next character */
	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == ' ') {
			space = len > 0 ? 1 : 0;
			continue;
		}
		size_t need = 1;
		if (*p >= 0xf0)
			need = 4;
		else if (*p >= 0xe0)
			need = 3;
		else if (*p >= 0xc0)
			need = 2;
		if (len + space + need >= size)
			break;
		if (space)
			dst[len++] = ' ';
		space = 0;
		dst[len++] = (char)*p;
		/* Continuation bytes of this character, if the string really has them. */
		for (size_t i = 1; i < need && (p[1] & 0xc0) == 0x80; i++)
			dst[len++] = (char)*++p;
	}
	dst[len] = '\0';
}

/* Set err from libpq's connection message, on one line. */
static void set_conn_error(char *err, size_t errlen, const char *what, const PGconn *conn)
{
	char line[512];
	copy_line(line, sizeof line, conn != NULL ? PQerrorMessage(conn) : "out of memory");
	snprintf(err, errlen, "%s: %s", what, line[0] != '\0' ? line : "no reason given");
}

/* True when text is exactly one JSON object: it starts with '{' and its braces
 * first balance at its last character, outside any string. The records are
 * joined with commas into one array, so this is what keeps one record from
 * ever being read as two, or as part of its neighbour. */
static int is_one_object(const char *text)
{
	const char *p = text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p != '{')
		return 0;
	long depth = 0;
	int in_string = 0;
	for (; *p != '\0'; p++) {
		if (in_string) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				in_string = 0;
			continue;
		}
		if (*p == '"') {
			in_string = 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				break;
			if (depth < 0)
				return 0;
		}
	}
	if (*p == '\0')
		return 0;
	for (p++; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return 0;
	return 1;
}

/* ---- errors ---- */

/* What a failed statement means for delivery. */
static pg_fault classify(PGconn *conn, const PGresult *res)
{
	const char *sqlstate = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *severity =
		res != NULL ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
	/* A FATAL error or a shutdown notice arrives while libpq still thinks the
	 * connection is fine; the server closes it just after. Treat all of these
	 * as the connection gone, so the run stops at once instead of failing the
	 * next batch too. */
	if (PQstatus(conn) != CONNECTION_OK || sqlstate == NULL || strlen(sqlstate) != 5 ||
	    (severity != NULL &&
	     (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0)) ||
	    strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P0", 4) == 0)
		return PG_FAULT_GONE;
	if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0)
		return PG_FAULT_BAD_STORY;
	/* Authentication, privileges, or a central schema that is not ours (a
	 * dropped table, a replica that refuses writes): retrying cannot help. */
	if (strncmp(sqlstate, "28", 2) == 0 || strncmp(sqlstate, "42", 2) == 0 ||
	    strncmp(sqlstate, "3D", 2) == 0 || strncmp(sqlstate, "3F", 2) == 0 ||
	    strncmp(sqlstate, "0A", 2) == 0 || strcmp(sqlstate, "25006") == 0)
		return PG_FAULT_CONFIG;
	/* Everything else - 57014 statement timeout, 40001/40P01 serialization
	 * and deadlock, 53 resources, 58 I/O, XX internal - may well pass on a
	 * later try. */
	return PG_FAULT_TEMPORARY;
}

/* The error of a failed statement: its SQLSTATE (or 08006 when the connection
 * itself failed, which has none) and its primary message. */
static void result_error(PGconn *conn, const PGresult *res, char *code, size_t codelen,
			 char *message, size_t messagelen)
{
	const char *sqlstate = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (sqlstate == NULL && PQstatus(conn) != CONNECTION_OK)
		sqlstate = PG_CODE_CONNECTION_FAILURE;
	copy_line(code, codelen, sqlstate != NULL ? sqlstate : "");
	if (primary == NULL)
		primary = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	copy_line(message, messagelen,
		  primary != NULL && primary[0] != '\0' ? primary : "unknown error");
	sync_redact_contact(message, messagelen, NULL);
}

/* Run a statement with text parameters (NULL for SQL NULL). Returns the
 * result when it has status want; otherwise NULL, with the failure in
 * code, message and *fault. */
static PGresult *run(PGconn *conn, const char *sql, int nparams, const char *const *params,
		     ExecStatusType want, char *code, size_t codelen, char *message,
		     size_t messagelen, pg_fault *fault)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (res != NULL && PQresultStatus(res) == want)
		return res;
	result_error(conn, res, code, codelen, message, messagelen);
	*fault = classify(conn, res);
	PQclear(res);
	return NULL;
}

/* ---- connecting and the schema ---- */

/* Does a failed connection's message say the settings are wrong (so retrying
 * is pointless) rather than the server being out of reach? libpq reports no
 * SQLSTATE for a failed connection, so this reads its (untranslated) words;
 * anything not recognised counts as out of reach and is retried. */
static int connect_error_is_config(const char *message)
{
	static const char *const config_words[] = {
		"authentication failed",
		"no password supplied",
		"password is required",
		"does not exist",
		"no pg_hba.conf entry",
		"pg_hba.conf rejects",
		"invalid connection option",
		"invalid URI",
		"invalid sslmode",
		"invalid integer value",
		"permission denied",
		"server does not support SSL",
		"certificate",
		"not permitted to log in",
	};
	for (size_t i = 0; i < sizeof config_words / sizeof config_words[0]; i++)
		if (strstr(message, config_words[i]) != NULL)
			return 1;
	return 0;
}

/* Check the target before connecting: libpq must understand it, and it must
 * not carry a password, which belongs in the mode-0600 credentials file. */
static int check_conninfo(const char *target, char *err, size_t errlen)
{
	char *parse_error = NULL;
	PQconninfoOption *options = PQconninfoParse(target, &parse_error);
	if (options == NULL) {
		char line[256];
		copy_line(line, sizeof line, parse_error != NULL ? parse_error : "out of memory");
		/* libpq quotes parts of a bad string back, and they may be a password. */
		if (strstr(target, "://") != NULL || strstr(target, "password") != NULL)
			snprintf(line, sizeof line, "libpq cannot parse it");
		snprintf(err, errlen, "the PostgreSQL connection string is not valid: %s", line);
		PQfreemem(parse_error);
		return -1;
	}
	int has_password = 0;
	for (const PQconninfoOption *o = options; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
			has_password = 1;
	PQconninfoFree(options);
	if (has_password) {
		snprintf(err, errlen,
			 "the PostgreSQL target holds a password: put it in a"
			 " credentials_file (mode 0600) instead");
		return -1;
	}
	return 0;
}

/* Create the central tables if missing, under an advisory lock so that two
 * kiosks starting together do not race, and refuse a schema newer than ours.
 * When the schema is already in place no DDL runs, so a role that may only
 * insert and update (tables made by a DBA) works too. */
static sync_run_status ensure_schema(PGconn *conn, char *err, size_t errlen)
{
	static const char *const steps[] = {
		"CREATE TABLE IF NOT EXISTS storykiosk_schema (version integer NOT NULL)",
		"CREATE TABLE IF NOT EXISTS storykiosk_stories ("
		" id uuid PRIMARY KEY,"
		" record jsonb NOT NULL,"
		" terminal text,"
		" received_at timestamptz NOT NULL DEFAULT now(),"
		" withdrawn_at timestamptz)",
		"CREATE INDEX IF NOT EXISTS storykiosk_stories_received_at"
		" ON storykiosk_stories (received_at)",
		"CREATE INDEX IF NOT EXISTS storykiosk_stories_consented_at"
		" ON storykiosk_stories ((record->>'consented_at'))",
		"INSERT INTO storykiosk_schema (version)"
		" SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM storykiosk_schema)",
	};
	char code[16], message[256];
	pg_fault fault = PG_FAULT_TEMPORARY;
	PGresult *res = NULL;
	const char *failed = "starting a transaction";

	if ((res = run(conn, "BEGIN", 0, NULL, PGRES_COMMAND_OK, code, sizeof code, message,
		       sizeof message, &fault)) == NULL)
		goto fail;
	PQclear(res);
	failed = "waiting for the schema lock";
	if ((res = run(conn, "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", 0, NULL,
		       PGRES_TUPLES_OK, code, sizeof code, message, sizeof message, &fault)) ==
	    NULL)
		goto fail;
	PQclear(res);

	failed = "reading the central schema version";
	if ((res = run(conn,
		       "SELECT to_regclass('storykiosk_stories') IS NOT NULL,"
		       " to_regclass('storykiosk_schema') IS NOT NULL",
		       0, NULL, PGRES_TUPLES_OK, code, sizeof code, message, sizeof message,
		       &fault)) == NULL)
		goto fail;
	int have_stories = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	int have_version = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	long version = 0;
	if (have_version) {
		if ((res = run(conn, "SELECT max(version) FROM storykiosk_schema", 0, NULL,
			       PGRES_TUPLES_OK, code, sizeof code, message, sizeof message,
			       &fault)) == NULL)
			goto fail;
		if (!PQgetisnull(res, 0, 0))
			version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}

	if (version > PG_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "the central store's schema is newer (version %ld) than this"
			 " storykiosk knows (version %d): upgrade storykiosk",
			 version, PG_SCHEMA_VERSION);
		PQclear(PQexec(conn, "ROLLBACK"));
		return SYNC_RUN_CONFIG_ERROR;
	}
	if (version != PG_SCHEMA_VERSION || !have_stories) {
		failed = "creating the central tables";
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			if ((res = run(conn, steps[i], 0, NULL, PGRES_COMMAND_OK, code, sizeof code,
				       message, sizeof message, &fault)) == NULL)
				goto fail;
			PQclear(res);
		}
	}
	failed = "committing the central schema";
	if ((res = run(conn, "COMMIT", 0, NULL, PGRES_COMMAND_OK, code, sizeof code, message,
		       sizeof message, &fault)) == NULL)
		goto fail;
	PQclear(res);
	return SYNC_RUN_GO_ON;

fail:
	snprintf(err, errlen, "%s: %s (SQLSTATE %s)", failed, message, code);
	if (PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	return fault == PG_FAULT_CONFIG ? SYNC_RUN_CONFIG_ERROR : SYNC_RUN_UNREACHABLE;
}

static sync_target *pg_open(const config *cfg, sync_run_status *status, char *err, size_t errlen)
{
	*status = SYNC_RUN_CONFIG_ERROR;
	if (cfg->target == NULL || cfg->target[0] == '\0') {
		snprintf(err, errlen, "no PostgreSQL target given");
		return NULL;
	}
	if (check_conninfo(cfg->target, err, errlen) != 0)
		return NULL;

	char timeout[24], user_timeout_ms[24];
	long seconds = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 30;
	snprintf(timeout, sizeof timeout, "%ld", seconds);
	snprintf(user_timeout_ms, sizeof user_timeout_ms, "%ld", seconds * 1000);
	/* Entries before dbname may be changed by the operator's connection
	 * string; those after it may not: the password comes only from the
	 * credentials file, and the records are UTF-8. The keepalives and TCP
	 * user timeout notice a network that vanished mid-batch, which the
	 * server-side statement_timeout cannot. */
	const char *const keywords[] = {
		"application_name", "connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"dbname", "client_encoding", "password", NULL,
	};
	const char *const values[] = {
		"storykiosk", timeout, "1", timeout,
		"5", "3", user_timeout_ms,
		cfg->target, "UTF8", cfg->secret, NULL,
	};
	PGconn *conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL)
		fatal("out of memory connecting to PostgreSQL");
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *why = PQerrorMessage(conn);
		int config_fault = connect_error_is_config(why);
		*status = config_fault ? SYNC_RUN_CONFIG_ERROR : SYNC_RUN_UNREACHABLE;
		set_conn_error(err, errlen,
			       config_fault ? "PostgreSQL refused the connection"
					    : "cannot reach PostgreSQL",
			       conn);
		/* Say where the password comes from, never what it is. */
		if (strstr(why, "password") != NULL) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, " (%s)",
				 cfg->secret != NULL ? "check the password in credentials_file"
						     : "set credentials_file to a file holding it");
		}
		PQfinish(conn);
		return NULL;
	}

	/* A statement that hangs (a lock held by another kiosk, a server under
	 * strain) gives up after the configured time and is retried later. */
	char timeout_ms[24], code[16], message[256];
	pg_fault fault = PG_FAULT_TEMPORARY;
	snprintf(timeout_ms, sizeof timeout_ms, "%ld", seconds * 1000);
	const char *const params[] = {timeout_ms};
	PGresult *res = run(conn, "SELECT set_config('statement_timeout', $1, false)", 1, params,
			    PGRES_TUPLES_OK, code, sizeof code, message, sizeof message, &fault);
	if (res == NULL) {
		snprintf(err, errlen, "setting the statement timeout: %s (SQLSTATE %s)", message,
			 code);
		*status = fault == PG_FAULT_CONFIG ? SYNC_RUN_CONFIG_ERROR : SYNC_RUN_UNREACHABLE;
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);

	*status = ensure_schema(conn, err, errlen);
	if (*status != SYNC_RUN_GO_ON) {
		PQfinish(conn);
		return NULL;
	}

	sync_target *target = calloc(1, sizeof *target);
	if (target == NULL)
		fatal("out of memory");
	target->conn = conn;
	/* A statement may run for the whole statement_timeout before its error
	 * comes back: wait a little longer than that. */
	target->wait_ms = seconds < 2000000 ? (int)(seconds * 1000 + 5000) : -1;
	if (cfg->terminal != NULL && (target->terminal = strdup(cfg->terminal)) == NULL)
		fatal("out of memory");
	return target;
}

/* ---- sending ---- */

static void buffer_add(text_buffer *buf, const char *text, size_t len)
{
	if (buf->len + len + 1 > buf->cap) {
		size_t cap = buf->cap > 0 ? buf->cap : 4096;
		while (cap < buf->len + len + 1)
			cap *= 2;
		char *grown = realloc(buf->text, cap);
		if (grown == NULL)
			fatal("out of memory building a batch of %zu bytes", cap);
		buf->text = grown;
		buf->cap = cap;
	}
	memcpy(buf->text + buf->len, text, len);
	buf->len += len;
	buf->text[buf->len] = '\0';
}

/* A trigger or a constraint of the central table may quote the row it
 * refused: blank out of message the email and postcode of every story in
 * list, before it is kept in attempts or shown. */
static void redact_batch(char *message, size_t messagelen, sync_item **list, size_t n)
{
	if (message[0] == '\0')
		return; /* the usual case, a batch stored: no record is read */
	for (size_t i = 0; i < n; i++)
		sync_redact_contact(message, messagelen, list[i]->record);
}

/* Give every item in list the same outcome and error. */
static void mark_all(sync_item **list, size_t n, sync_outcome outcome, const char *code,
		     const char *message)
{
	for (size_t i = 0; i < n; i++) {
		list[i]->outcome = outcome;
		copy_line(list[i]->code, sizeof list[i]->code, code);
		copy_line(list[i]->message, sizeof list[i]->message, message);
	}
}

/* Mark n stories as sent with no answer that says whether they were stored
 * (the connection went, or the server went silent, after they left). */
static void mark_maybe_stored(sync_item **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		list[i]->maybe_stored = 1;
}

/* What send returns after a fault that is not about one story. */
static sync_run_status run_status_for(pg_fault fault, const char *code, const char *message,
				      char *err, size_t errlen)
{
	if (fault == PG_FAULT_CONFIG) {
		snprintf(err, errlen, "the central store refused the batch: %s (SQLSTATE %s)",
			 message, code);
		return SYNC_RUN_CONFIG_ERROR;
	}
	if (fault == PG_FAULT_GONE) {
		snprintf(err, errlen, "lost the connection to PostgreSQL: %s", message);
		return SYNC_RUN_UNREACHABLE;
	}
	return SYNC_RUN_GO_ON;
}

/* One batch's statement. It answers with the positions of the stories it
 * stored; the others were already there. Positions, not ids, so no text form
 * of a UUID is compared. */
static const char insert_sql[] =
	"WITH batch AS ("
	"  SELECT e.r, e.n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, n)),"
	" stored AS ("
	"  INSERT INTO storykiosk_stories (id, record, terminal)"
	"  SELECT (batch.r->>'id')::uuid, batch.r, $2 FROM batch ORDER BY batch.n"
	"  ON CONFLICT (id) DO NOTHING RETURNING id)"
	" SELECT batch.n FROM batch JOIN stored ON stored.id = (batch.r->>'id')::uuid";

/* The stories' records as one JSON array (the caller frees buf->text). */
static void batch_array(text_buffer *buf, sync_item **stories, size_t n)
{
	buf->len = 0;
	buffer_add(buf, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buffer_add(buf, ",", 1);
		buffer_add(buf, stories[i]->record, strlen(stories[i]->record));
	}
	buffer_add(buf, "]", 1);
}

/* Set the outcomes of n stories from their statement's result. */
static void take_positions(sync_item **stories, size_t n, const PGresult *res)
{
	for (size_t i = 0; i < n; i++) {
		stories[i]->outcome = SYNC_ALREADY_THERE;
		stories[i]->code[0] = stories[i]->message[0] = '\0';
	}
	for (int row = 0; row < PQntuples(res); row++) {
		long position = strtol(PQgetvalue(res, row, 0), NULL, 10);
		if (position >= 1 && (size_t)position <= n)
			stories[position - 1]->outcome = SYNC_DELIVERED;
	}
}

/* Insert n stories in one statement and wait for it. Returns -1 with the
 * fault when the statement failed (no story was stored: it is one transaction). */
static int insert_stories(sync_target *target, sync_item **stories, size_t n, char *code,
			  size_t codelen, char *message, size_t messagelen, pg_fault *fault)
{
	text_buffer array = {NULL, 0, 0};
	batch_array(&array, stories, n);
	const char *const params[] = {array.text, target->terminal};
	PGresult *res = run(target->conn, insert_sql, 2, params, PGRES_TUPLES_OK, code, codelen,
			    message, messagelen, fault);
	free(array.text);
	if (res == NULL)
		return -1;
	take_positions(stories, n, res);
	PQclear(res);
	return 0;
}

/* Mark one delivered (or perhaps delivered) story withdrawn, keeping the
 * first withdrawal time. */
static int send_withdrawal(sync_target *target, sync_item *item, char *code, size_t codelen,
			   char *message, size_t messagelen, pg_fault *fault)
{
	/* One round trip: lock the row, set withdrawn_at only if still empty,
	 * and say whether the row exists and whether it changed. */
	static const char sql[] =
		"WITH story AS ("
		"  SELECT id, withdrawn_at FROM storykiosk_stories WHERE id = $1::uuid FOR UPDATE),"
		" changed AS ("
		"  UPDATE storykiosk_stories AS s SET withdrawn_at = coalesce("
		"   ($2::jsonb #>> '{withdrawal,withdrawn_at}')::timestamptz, now())"
		"  FROM story WHERE s.id = story.id AND story.withdrawn_at IS NULL RETURNING s.id)"
		" SELECT (SELECT count(*) FROM story), (SELECT count(*) FROM changed)";
	const char *const params[] = {item->id, item->record};
	PGresult *res = run(target->conn, sql, 2, params, PGRES_TUPLES_OK, code, codelen, message,
			    messagelen, fault);
	if (res == NULL)
		return -1;
	int found = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	int changed = strcmp(PQgetvalue(res, 0, 1), "0") != 0;
	PQclear(res);
	item->code[0] = item->message[0] = '\0';
	if (!found && item->never_delivered) {
		/* A sync cut off before its answer did not store it after all. */
		item->outcome = SYNC_DELIVERED;
		copy_line(item->message, sizeof item->message,
			  "the central store never received this story: nothing to withdraw");
	} else if (!found) {
		item->outcome = SYNC_REJECTED;
		copy_line(item->message, sizeof item->message,
			  "the central store does not hold this story");
	} else {
		item->outcome = changed ? SYNC_DELIVERED : SYNC_ALREADY_THERE;
	}
	return 0;
}

/* ---- the fast path: one COPY a batch ---- */

/* COPY in PostgreSQL's binary format: each value goes as its length and its
 * bytes, so nothing in a record is ever escaped or quoted on the way. */
static const char copy_sql[] =
	"COPY storykiosk_stories (id, record, terminal) FROM STDIN (FORMAT binary)";

/* Bytes of COPY data a message. */
#define COPY_PIECE ((size_t)1 << 20)

static void buffer_add_u16(text_buffer *buf, uint16_t value)
{
	uint16_t net = htons(value);
	buffer_add(buf, (const char *)&net, sizeof net);
}

static void buffer_add_u32(text_buffer *buf, uint32_t value)
{
	uint32_t net = htonl(value);
	buffer_add(buf, (const char *)&net, sizeof net);
}

/* The batch as COPY's binary data: the header, a row of three fields a story
 * (the UUID's 16 bytes; jsonb's version byte 1 and the record's text; the
 * terminal's name or NULL), and the trailer. pg_start has checked that every
 * story's id is a UUID. */
static void copy_data(text_buffer *buf, sync_item **stories, size_t n, const char *terminal)
{
	static const char signature[11] = "PGCOPY\n\377\r\n";
	buf->len = 0;
	buffer_add(buf, signature, sizeof signature);
	buffer_add_u32(buf, 0); /* flags */
	buffer_add_u32(buf, 0); /* header extension */
	for (size_t i = 0; i < n; i++) {
		uuid_t uuid;
		size_t record_len = strlen(stories[i]->record);
		(void)uuid_parse(stories[i]->id, uuid);
		buffer_add_u16(buf, 3);
		buffer_add_u32(buf, sizeof uuid);
		buffer_add(buf, (const char *)uuid, sizeof uuid);
		buffer_add_u32(buf, (uint32_t)(record_len + 1));
		buffer_add(buf, "\1", 1);
		buffer_add(buf, stories[i]->record, record_len);
		if (terminal != NULL) {
			buffer_add_u32(buf, (uint32_t)strlen(terminal));
			buffer_add(buf, terminal, strlen(terminal));
		} else {
			buffer_add_u32(buf, UINT32_MAX); /* -1: NULL */
		}
	}
	buffer_add_u16(buf, UINT16_MAX); /* -1: the end */
}

/* Wait until a result can be read without blocking. 0, or -1 when the
 * connection failed or the server kept silent too long (message says which). */
static int await_result(sync_target *target, char *message, size_t messagelen)
{
	PGconn *conn = target->conn;
	while (PQisBusy(conn)) {
		struct pollfd fd = {.fd = PQsocket(conn), .events = POLLIN};
		int ready = poll(&fd, 1, target->wait_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready == 0) {
			snprintf(message, messagelen, "no answer from PostgreSQL in %d s",
				 target->wait_ms / 1000);
			return -1;
		}
		if (ready < 0 || !PQconsumeInput(conn)) {
			copy_line(message, messagelen, PQerrorMessage(conn));
			if (message[0] == '\0')
				snprintf(message, messagelen, "the connection failed");
			return -1;
		}
	}
	return 0;
}

/* The next result of the statement in progress (the caller clears it), or
 * NULL with the fault in the target's copy_code, copy_message and copy_fault
 * when the connection failed or went silent. */
static PGresult *next_result(sync_target *target)
{
	if (await_result(target, target->copy_message, sizeof target->copy_message) != 0) {
		copy_line(target->copy_code, sizeof target->copy_code, PG_CODE_CONNECTION_FAILURE);
		target->copy_fault = PG_FAULT_GONE;
		return NULL;
	}
	return PQgetResult(target->conn);
}

/* Note a failed result as the COPY's fault, then read the statement's results
 * to their end, so the connection is ready for the next statement. */
static void copy_failed(sync_target *target, PGresult *res)
{
	result_error(target->conn, res, target->copy_code, sizeof target->copy_code,
		     target->copy_message, sizeof target->copy_message);
	target->copy_fault = classify(target->conn, res);
	PQclear(res);
	if (target->copy_fault == PG_FAULT_GONE)
		return;
	/* A drain that cannot finish leaves the connection busy with this
	 * statement, not fit for the next: next_result then marks it gone. */
	while ((res = next_result(target)) != NULL)
		PQclear(res);
}

/* Send the started batch's stories as one COPY, its own transaction, and
 * return without waiting for the server to store them. 0, or -1 with the
 * fault in copy_code, copy_message and copy_fault. */
static int copy_start(sync_target *target)
{
	PGconn *conn = target->conn;
	if (PQsendQuery(conn, copy_sql) != 1) {
		copy_line(target->copy_code, sizeof target->copy_code, PG_CODE_CONNECTION_FAILURE);
		copy_line(target->copy_message, sizeof target->copy_message, PQerrorMessage(conn));
		target->copy_fault = PG_FAULT_GONE;
		return -1;
	}
	PGresult *res = next_result(target);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		copy_failed(target, res);
		/* Refused before any data (a table with row-level security, which
		 * COPY FROM does not support, or a proxy that will not pass COPY):
		 * INSERT may well be allowed. */
		if (target->copy_fault == PG_FAULT_CONFIG)
			target->copy_refused = 1;
		return -1;
	}
	PQclear(res);
	copy_data(&target->copy, target->stories, target->nstories, target->terminal);
	target->copy_unknown = 1; /* the data starts to leave */
	/* In pieces: one CopyData message must stay far below the server's
	 * 1 GB limit and libpq's int length, whatever batch_size is. */
	int put = 1;
	for (size_t at = 0; put == 1 && at < target->copy.len; at += COPY_PIECE) {
		size_t piece = target->copy.len - at < COPY_PIECE ? target->copy.len - at : COPY_PIECE;
		put = PQputCopyData(conn, target->copy.text + at, (int)piece);
	}
	if (put != 1 || PQputCopyEnd(conn, NULL) != 1 || PQflush(conn) != 0) {
		copy_line(target->copy_code, sizeof target->copy_code, PG_CODE_CONNECTION_FAILURE);
		copy_line(target->copy_message, sizeof target->copy_message, PQerrorMessage(conn));
		target->copy_fault = PG_FAULT_GONE;
		return -1;
	}
	return 0;
}

/* The started COPY's answer: 0 when it stored every story, or -1 with the
 * fault in copy_code, copy_message and copy_fault. */
static int copy_finish(sync_target *target)
{
	PGresult *res = next_result(target);
	target->copy_unknown = 1; /* until an answer says otherwise */
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		copy_failed(target, res);
		/* An error from the server: the COPY, one transaction, stored nothing. */
		target->copy_unknown = target->copy_fault == PG_FAULT_GONE;
		return -1;
	}
	/* Every row the batch sent, or the data did not arrive as sent: which
	 * stories were stored is then unknown, and all are sent again (those
	 * already there are found so). */
	long stored = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	/* Stored, whatever becomes of the connection now: the next batch finds out. */
	while ((res = next_result(target)) != NULL)
		PQclear(res);
	if (stored < 0 || (size_t)stored != target->nstories) {
		/* Some were stored: which, is unknown. */
		target->copy_code[0] = '\0';
		snprintf(target->copy_message, sizeof target->copy_message,
			 "the server stored %ld of the %zu stories sent", stored, target->nstories);
		target->copy_fault = PG_FAULT_TEMPORARY;
		return -1;
	}
	target->copy_unknown = 0;
	return 0;
}

/* Begin the batch: stories whose record is not one JSON object are rejected
 * here and never sent; the rest go in one COPY, and the call returns while
 * the server stores them. */
static void pg_start(sync_target *target, sync_item *items, size_t n)
{
	free(target->stories);
	target->started = items;
	target->started_n = n;
	target->nstories = 0;
	target->copying = 0;
	target->copy_unknown = 0;
	target->by_insert = target->copy_refused;
	target->copy_code[0] = target->copy_message[0] = '\0';
	target->copy_fault = PG_FAULT_TEMPORARY;
	target->stories = malloc((n > 0 ? n : 1) * sizeof *target->stories);
	if (target->stories == NULL)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		items[i].outcome = SYNC_TEMPORARY;
		items[i].maybe_stored = 0;
		items[i].code[0] = items[i].message[0] = '\0';
		if (items[i].withdrawal)
			continue;
		if (items[i].record == NULL || !is_one_object(items[i].record)) {
			items[i].outcome = SYNC_REJECTED;
			copy_line(items[i].message, sizeof items[i].message,
				  "the story's record is not one JSON object");
			continue;
		}
		uuid_t uuid;
		if (items[i].id == NULL || uuid_parse(items[i].id, uuid) != 0)
			target->by_insert = 1;
		target->stories[target->nstories++] = &items[i];
	}
	/* An id COPY cannot carry goes by INSERT, where the server says what is
	 * wrong with it, and only that story is refused. */
	if (!target->by_insert && target->nstories > 0) {
		target->copying = copy_start(target) == 0;
		target->by_insert = target->copy_refused;
	}
}

/* The batch again without COPY, after COPY refused it (a story already
 * there, or one the server will not take): one INSERT ... ON CONFLICT DO
 * NOTHING for the batch, and if that is refused too, one a story, so only the
 * story at fault is rejected. */
static sync_run_status insert_batch(sync_target *target, sync_item **stories, size_t n,
				    char *err, size_t errlen)
{
	char code[16], message[256];
	pg_fault fault = PG_FAULT_TEMPORARY;
	if (insert_stories(target, stories, n, code, sizeof code, message, sizeof message,
			   &fault) == 0)
		return SYNC_RUN_GO_ON;
	redact_batch(message, sizeof message, stories, n);
	if (fault != PG_FAULT_BAD_STORY) {
		mark_all(stories, n, SYNC_TEMPORARY, code, message);
		if (fault == PG_FAULT_GONE)
			mark_maybe_stored(stories, n);
		return run_status_for(fault, code, message, err, errlen);
	}
	for (size_t i = 0; i < n; i++) {
		if (insert_stories(target, &stories[i], 1, code, sizeof code, message,
				   sizeof message, &fault) == 0)
			continue;
		redact_batch(message, sizeof message, &stories[i], 1);
		if (fault == PG_FAULT_BAD_STORY) {
			mark_all(&stories[i], 1, SYNC_REJECTED, code, message);
			continue;
		}
		mark_all(&stories[i], n - i, SYNC_TEMPORARY, code, message);
		if (fault == PG_FAULT_GONE)
			mark_maybe_stored(&stories[i], 1);
		return run_status_for(fault, code, message, err, errlen);
	}
	return SYNC_RUN_GO_ON;
}

static sync_run_status pg_send(sync_target *target, sync_item *items, size_t n, char *err,
			       size_t errlen)
{
	char code[16], message[256];
	pg_fault fault = PG_FAULT_TEMPORARY;
	if (n == 0)
		return SYNC_RUN_GO_ON;
	if (target->started != items || target->started_n != n)
		pg_start(target, items, n);
	target->started = NULL;
	target->started_n = 0;
	sync_item **stories = target->stories;
	size_t nstories = target->nstories;

	sync_run_status status = SYNC_RUN_GO_ON;
	if (nstories > 0) {
		int stored = target->copying && copy_finish(target) == 0;
		redact_batch(target->copy_message, sizeof target->copy_message, stories, nstories);
		if (stored) {
			mark_all(stories, nstories, SYNC_DELIVERED, "", "");
			/* Stored, but the connection went (or went silent) just after:
			 * stop here rather than wait on it with the next batch. */
			if (target->copy_fault == PG_FAULT_GONE)
				status = run_status_for(PG_FAULT_GONE, target->copy_code,
							target->copy_message, err, errlen);
		} else if (target->by_insert || target->copy_fault == PG_FAULT_BAD_STORY) {
			status = insert_batch(target, stories, nstories, err, errlen);
		} else {
			mark_all(stories, nstories, SYNC_TEMPORARY, target->copy_code,
				 target->copy_message);
			if (target->copying && target->copy_unknown)
				mark_maybe_stored(stories, nstories);
			/* The COPY could not be started, before any of its data
			 * left: the batch never left the terminal. */
			for (size_t i = 0; !target->copying && !target->copy_unknown && i < nstories; i++)
				stories[i]->not_sent = 1;
			status = run_status_for(target->copy_fault, target->copy_code,
						target->copy_message, err, errlen);
		}
	}
	target->copying = 0;
	free(target->stories);
	target->stories = NULL;
	target->nstories = 0;
	if (status != SYNC_RUN_GO_ON)
		return status;

	for (size_t i = 0; i < n; i++) {
		if (!items[i].withdrawal)
			continue;
		if (send_withdrawal(target, &items[i], code, sizeof code, message, sizeof message,
				    &fault) == 0)
			continue;
		if (fault == PG_FAULT_BAD_STORY) {
			sync_item *item = &items[i];
			mark_all(&item, 1, SYNC_REJECTED, code, message);
			continue;
		}
		/* This withdrawal and those after it stay temporary. */
		for (size_t j = i; j < n; j++) {
			if (items[j].withdrawal) {
				sync_item *item = &items[j];
				mark_all(&item, 1, SYNC_TEMPORARY, code, message);
			}
		}
		status = run_status_for(fault, code, message, err, errlen);
		break;
	}
	return status;
}

static void pg_close(sync_target *target)
{
	if (target == NULL)
		return;
	PQfinish(target->conn);
	free(target->terminal);
	free(target->stories);
	free(target->copy.text);
	free(target);
}

const sync_target_ops sync_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.start = pg_start,
	.send = pg_send,
	.close = pg_close,
};
