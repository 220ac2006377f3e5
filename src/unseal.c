/* unseal.c - opening sealed contact details in exported records. The records
 * are read and rewritten with SQLite's JSON functions (an in-memory database),
 * so nothing here parses or escapes JSON by hand. */
#include "unseal.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#define MAX_RECORD_BYTES (4 * 1024 * 1024)

/* The in-memory JSON toolkit: read the two fields, write them back. */
typedef struct {
	sqlite3 *db;
	sqlite3_stmt *read;
	sqlite3_stmt *write;
} json_tools;

static int tools_open(json_tools *tools, char *err, size_t errlen)
{
	memset(tools, 0, sizeof *tools);
	if (sqlite3_open(":memory:", &tools->db) != SQLITE_OK ||
	    sqlite3_prepare_v2(tools->db, "SELECT json_valid(?1) AND json_type(?1) = 'object',"
			       " json_extract(?1, '$.email'), json_extract(?1, '$.postcode')", -1,
			       &tools->read, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(tools->db, "SELECT json_set(?1, '$.email', ?2, '$.postcode', ?3)", -1,
			       &tools->write, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot start SQLite's JSON functions: %s",
			 tools->db ? sqlite3_errmsg(tools->db) : "out of memory");
		return -1;
	}
	return 0;
}

static void tools_close(json_tools *tools)
{
	sqlite3_finalize(tools->read);
	sqlite3_finalize(tools->write);
	sqlite3_close(tools->db);
}

/* Open one field's value if sealed; *opened is a new string, or NULL when the
 * value was not sealed (kept as it is). */
static int open_field(const seal_key *key, const char *value, char **opened, char *err, size_t errlen)
{
	*opened = NULL;
	if (!seal_is_sealed(value))
		return 0;
	*opened = seal_open(key, value, err, errlen);
	return *opened ? 0 : -1;
}

static void wipe_free(char *text)
{
	if (text == NULL)
		return;
	volatile char *p = text;
	while (*p)
		*p++ = '\0';
	free(text);
}

/* Write record with its contact details opened, followed by a newline. */
static int unseal_record(json_tools *tools, const seal_key *key, const char *record, FILE *out,
			 char *why, size_t whylen)
{
	sqlite3_stmt *read = tools->read, *write = tools->write;
	int rc = -1;
	char *email = NULL, *postcode = NULL;
	sqlite3_bind_text(read, 1, record, -1, SQLITE_STATIC);
	if (sqlite3_step(read) != SQLITE_ROW || !sqlite3_column_int(read, 0)) {
		snprintf(why, whylen, "not a JSON object");
		goto done;
	}
	const char *sealed_email = (const char *)sqlite3_column_text(read, 1);
	const char *sealed_postcode = (const char *)sqlite3_column_text(read, 2);
	char field_err[256];
	if (open_field(key, sealed_email, &email, field_err, sizeof field_err) != 0) {
		snprintf(why, whylen, "email: %s", field_err);
		goto done;
	}
	if (open_field(key, sealed_postcode, &postcode, field_err, sizeof field_err) != 0) {
		snprintf(why, whylen, "postcode: %s", field_err);
		goto done;
	}
	/* Values that were not sealed are written back as they were. */
	if (sqlite3_bind_text(write, 1, record, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_value(write, 2, sqlite3_column_value(read, 1)) != SQLITE_OK ||
	    sqlite3_bind_value(write, 3, sqlite3_column_value(read, 2)) != SQLITE_OK ||
	    (email && sqlite3_bind_text(write, 2, email, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (postcode && sqlite3_bind_text(write, 3, postcode, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    sqlite3_step(write) != SQLITE_ROW) {
		snprintf(why, whylen, "cannot rewrite the record: %s", sqlite3_errmsg(tools->db));
		goto done;
	}
	fputs((const char *)sqlite3_column_text(write, 0), out);
	fputc('\n', out);
	rc = ferror(out) ? -1 : 0;
	if (rc != 0)
		snprintf(why, whylen, "cannot write the output");
done:
	sqlite3_reset(write);
	sqlite3_clear_bindings(write);
	sqlite3_reset(read);
	sqlite3_clear_bindings(read);
	wipe_free(email);
	wipe_free(postcode);
	return rc;
}

long unseal_jsonl(const seal_key *key, FILE *in, const char *name, FILE *out,
		  char *err, size_t errlen)
{
	json_tools tools;
	if (tools_open(&tools, err, errlen) != 0) {
		tools_close(&tools);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long line_no = 0, written = 0;
	while ((len = getline(&line, &cap, in)) != -1) {
		line_no++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		char why[512];
		if (len > MAX_RECORD_BYTES) {
			snprintf(err, errlen, "%s:%ld: a record longer than 4 MiB", name, line_no);
			written = -1;
			break;
		}
		if (unseal_record(&tools, key, line, out, why, sizeof why) != 0) {
			snprintf(err, errlen, "%s:%ld: %s", name, line_no, why);
			written = -1;
			break;
		}
		written++;
	}
	if (written >= 0 && ferror(in)) {
		snprintf(err, errlen, "%s: read error", name);
		written = -1;
	}
	free(line);
	tools_close(&tools);
	return written;
}

long unseal_postgresql(const seal_key *key, const char *conninfo, const char *password,
		       FILE *out, char *err, size_t errlen)
{
	const char *keywords[] = { "dbname", "password", "application_name", NULL };
	const char *values[] = { conninfo, password, "storykiosk-unseal", NULL };
	PGconn *conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the central store: %s",
			 conn ? PQerrorMessage(conn) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfinish(conn);
		return -1;
	}
	/* One row at a time keeps memory flat however large the table is. */
	if (!PQsendQuery(conn, "SELECT record::text FROM storykiosk_stories ORDER BY received_at, id") ||
	    !PQsetSingleRowMode(conn)) {
		snprintf(err, errlen, "cannot read the central store: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(conn);
		return -1;
	}
	json_tools tools;
	long written = 0;
	if (tools_open(&tools, err, errlen) != 0)
		written = -1;
	PGresult *result;
	while ((result = PQgetResult(conn)) != NULL) {
		ExecStatusType status = PQresultStatus(result);
		if (status == PGRES_SINGLE_TUPLE && written >= 0) {
			char why[512];
			if (unseal_record(&tools, key, PQgetvalue(result, 0, 0), out, why, sizeof why) != 0) {
				snprintf(err, errlen, "record %ld: %s", written + 1, why);
				written = -1;
			} else {
				written++;
			}
		} else if (status != PGRES_TUPLES_OK && status != PGRES_SINGLE_TUPLE && written >= 0) {
			snprintf(err, errlen, "cannot read the central store: %s", PQresultErrorMessage(result));
			err[strcspn(err, "\n")] = '\0';
			written = -1;
		}
		PQclear(result);
	}
	tools_close(&tools);
	PQfinish(conn);
	return written;
}
