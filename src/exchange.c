/* exchange.c - hands stories over without a network: export as JSON Lines, CSV
 * or printable "taking a story" forms, and import a JSON Lines export. JSON is
 * written and read only by SQLite's JSON functions; CSV and text go through
 * validate_sanitize so no escape sequence reaches a terminal or printer. */
#include "exchange.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <sqlite3.h>

#include "seal.h"
#include "story.h"

/* The stories an export writes; ?1 is non-zero for --mark-exported. The same
 * predicate picks the rows to mark, so exactly what was written is marked. */
#define SELECTION(t) t "status <> 'withdrawn' AND (?1 = 0 OR " t "exported_at IS NULL)"

#define TEXT_WIDTH 76                /* columns of the printable form */
#define IMPORT_LINE_MAX (4u << 20)   /* longest record accepted: far above any real story */
#define SHOWN_KEY_MAX 40             /* characters of an unknown key repeated in a message */

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void utc_now(char *out, size_t outlen)
{
	time_t now = time(NULL);
	struct tm utc;
	if (gmtime_r(&now, &utc) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

/* Run a statement that returns no rows (BEGIN, COMMIT, ROLLBACK) and reset it. */
static int run_once(sqlite3 *db, sqlite3_stmt *stmt, const char *what, char *err, size_t errlen)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		say(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Prepare, step and finalize a statement with no parameters and no rows. */
static int exec_plain(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		say(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		return -1;
	}
	int rc = run_once(db, stmt, what, err, errlen);
	sqlite3_finalize(stmt);
	return rc;
}

/* Undo an open transaction, keeping the message that explains why. */
static void roll_back(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)exec_plain(db, "ROLLBACK", "undoing", NULL, 0);
}

int exchange_format_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "jsonl") == 0)
		return EXPORT_JSONL;
	if (strcmp(name, "csv") == 0)
		return EXPORT_CSV;
	if (strcmp(name, "text") == 0)
		return EXPORT_TEXT;
	return -1;
}

/* ---------------------------------------------------------------- export */

/* Scalar fields of one export record, read back from its JSON so CSV and
 * text show exactly what the JSON Lines export holds. */
enum record_column {
	C_ID,
	C_REFERENCE,
	C_CREATED,
	C_CONSENTED,
	C_FORM_NAME,
	C_FORM_VERSION,
	C_OPERATOR_NAME,
	C_OPERATOR_ROLE,
	C_ROLE,
	C_TITLE,
	C_USERNAME,
	C_POSTCODE,
	C_EMAIL,
	C_POSTED_BY_STAFF,
	C_STATUS,
	C_CONSENT_VERSION
};

enum export_statement {
	EX_RECORDS,   /* store_record_select over the selection */
	EX_FIELDS,    /* the record_column fields of one record */
	EX_SERVICES,  /* (code, name) of one record, in order */
	EX_ANSWERS,   /* (key, value) of one record, in order */
	EX_ANSWER,    /* the value of one answer by key */
	EX_KEYS,      /* every answer key in the selection: the CSV columns */
	EX_AUDIT,     /* an 'exported' audit row per selected story */
	EX_MARK,      /* exported_at for the selected stories */
	EX_COUNT
};

static const char *const export_sql[EX_COUNT] = {
	[EX_RECORDS] = NULL, /* built from store_record_select at run time */
	[EX_FIELDS] =
		"SELECT json_extract(?1, '$.id'),"
		" (SELECT reference FROM stories WHERE id = json_extract(?1, '$.id')),"
		" json_extract(?1, '$.created_at'), json_extract(?1, '$.consented_at'),"
		" json_extract(?1, '$.form.name'), json_extract(?1, '$.form.version'),"
		" json_extract(?1, '$.operator.name'), json_extract(?1, '$.operator.role'),"
		" json_extract(?1, '$.role'), json_extract(?1, '$.title'),"
		" json_extract(?1, '$.username'), json_extract(?1, '$.postcode'),"
		" json_extract(?1, '$.email'), json_type(?1, '$.posted_by_staff'),"
		" json_extract(?1, '$.status'), json_extract(?1, '$.consent.statement_version')",
	[EX_SERVICES] =
		"SELECT json_extract(value, '$.code'), json_extract(value, '$.name')"
		" FROM json_each(?1, '$.services') ORDER BY key",
	[EX_ANSWERS] = "SELECT key, value FROM json_each(?1, '$.answers') ORDER BY id",
	[EX_ANSWER] = "SELECT value FROM json_each(?1, '$.answers') WHERE key = ?2",
	/* A fixed order rather than first-seen: the columns of two exports of the
	 * same form line up, whichever story happens to come first. */
	[EX_KEYS] =
		"SELECT DISTINCT a.step_key FROM answers a JOIN stories s ON s.id = a.story_id"
		" WHERE " SELECTION("s.")
		" ORDER BY CASE a.step_key WHEN 'good' THEN 0 WHEN 'different' THEN 1 ELSE 2 END,"
		" a.step_key",
	/* Before EX_MARK: afterwards the selection no longer finds them. */
	[EX_AUDIT] =
		"INSERT INTO audit (story_id, at, event, actor)"
		" SELECT s.id, ?2, 'exported', ?3 FROM stories s WHERE " SELECTION("s.")
		" ORDER BY s.consented_at, s.id",
	[EX_MARK] = "UPDATE stories SET exported_at = ?2 WHERE " SELECTION(""),
};

static const char export_order[] = " WHERE " SELECTION("s.") " ORDER BY s.consented_at, s.id";

static const char *const csv_columns[] = {
	"id", "reference", "created_at", "consented_at", "form_name", "form_version",
	"operator_name", "operator_role", "role", "title", "username", "postcode", "email",
	"posted_by_staff", "services", "service_codes", "status",
};

typedef struct {
	sqlite3 *db;
	FILE *out;
	sqlite3_stmt *stmt[EX_COUNT];
	char **keys;          /* CSV answer columns */
	size_t n_keys;
	char *err;
	size_t errlen;
} exporter;

static int export_fail(exporter *ex, const char *what)
{
	say(ex->err, ex->errlen, "%s: %s", what, sqlite3_errmsg(ex->db));
	return -1;
}

static const char *column(sqlite3_stmt *stmt, int i)
{
	return (const char *)sqlite3_column_text(stmt, i);
}

/* Bind one record's JSON to a per-record statement; the text belongs to the
 * EX_RECORDS row, which outlives every use. */
static int bind_record(exporter *ex, sqlite3_stmt *stmt, const char *record)
{
	sqlite3_reset(stmt);
	if (sqlite3_bind_text(stmt, 1, record, -1, SQLITE_STATIC) != SQLITE_OK)
		return export_fail(ex, "reading a story");
	return 0;
}

/* --- CSV (RFC 4180): every field quoted, quotes doubled, CRLF after each row. */

/* One quoted field being written; at_start until its first byte, so a formula
 * character there can be neutralised whichever piece it comes from. */
typedef struct {
	FILE *out;
	int at_start;
} csv_field;

static void csv_begin(csv_field *field, FILE *out)
{
	field->out = out;
	field->at_start = 1;
	fputc('"', out);
}

/* Add untrusted text to the field. A leading = + - @ would make a spreadsheet
 * run the cell as a formula: an apostrophe in front keeps it text. */
static int csv_put(csv_field *field, const char *text)
{
	char *safe = validate_sanitize(text ? text : "", 1);
	if (safe == NULL)
		return -1;
	for (const char *p = safe; *p; p++) {
		if (field->at_start && strchr("=+-@", *p) != NULL)
			fputc('\'', field->out);
		field->at_start = 0;
		if (*p == '"')
			fputc('"', field->out);
		fputc(*p, field->out);
	}
	free(safe);
	return 0;
}

static void csv_end(csv_field *field, int last)
{
	fputc('"', field->out);
	fputs(last ? "\r\n" : ",", field->out);
}

static int csv_cell(FILE *out, const char *text, int last)
{
	csv_field field;
	csv_begin(&field, out);
	int rc = csv_put(&field, text);
	csv_end(&field, last);
	return rc;
}

/* The CSV's answer columns: every answer key among the exported stories. */
static int load_answer_keys(exporter *ex, int mark_exported)
{
	sqlite3_stmt *stmt = ex->stmt[EX_KEYS];
	if (sqlite3_bind_int(stmt, 1, mark_exported) != SQLITE_OK)
		return export_fail(ex, "reading the answers");
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = column(stmt, 0);
		char **grown = realloc(ex->keys, (ex->n_keys + 1) * sizeof *grown);
		if (grown == NULL) {
			say(ex->err, ex->errlen, "out of memory");
			return -1;
		}
		ex->keys = grown;
		if ((ex->keys[ex->n_keys] = strdup(key ? key : "")) == NULL) {
			say(ex->err, ex->errlen, "out of memory");
			return -1;
		}
		ex->n_keys++;
	}
	if (rc != SQLITE_DONE)
		return export_fail(ex, "reading the answers");
	return 0;
}

static int write_csv_header(exporter *ex)
{
	size_t n = sizeof csv_columns / sizeof csv_columns[0];
	for (size_t i = 0; i < n; i++)
		if (csv_cell(ex->out, csv_columns[i], i + 1 == n && ex->n_keys == 0) != 0)
			return -1;
	/* Prefixed with the JSON path: the wizard stores title and role as
	 * answers too, and their columns must not be confused. */
	for (size_t i = 0; i < ex->n_keys; i++) {
		csv_field field;
		csv_begin(&field, ex->out);
		if (csv_put(&field, "answers.") != 0 || csv_put(&field, ex->keys[i]) != 0)
			return -1;
		csv_end(&field, i + 1 == ex->n_keys);
	}
	return 0;
}

/* The services of a record as one field: names (or codes) joined by "; ".
 * A service not in the catalogue has no code: an empty slot keeps the codes
 * in step with the names. */
static int csv_services(exporter *ex, const char *record, int want_codes)
{
	sqlite3_stmt *stmt = ex->stmt[EX_SERVICES];
	if (bind_record(ex, stmt, record) != 0)
		return -1;
	csv_field field;
	csv_begin(&field, ex->out);
	int rc, n = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((n++ > 0 && csv_put(&field, "; ") != 0) ||
		    csv_put(&field, column(stmt, want_codes ? 0 : 1)) != 0) {
			sqlite3_reset(stmt);
			return -1;
		}
	}
	csv_end(&field, 0);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : export_fail(ex, "reading a story's services");
}

static int write_csv_row(exporter *ex, const char *record)
{
	sqlite3_stmt *fields = ex->stmt[EX_FIELDS];
	if (bind_record(ex, fields, record) != 0)
		return -1;
	if (sqlite3_step(fields) != SQLITE_ROW)
		return export_fail(ex, "reading a story");
	static const enum record_column before_services[] = {
		C_ID, C_REFERENCE, C_CREATED, C_CONSENTED, C_FORM_NAME, C_FORM_VERSION,
		C_OPERATOR_NAME, C_OPERATOR_ROLE, C_ROLE, C_TITLE, C_USERNAME, C_POSTCODE, C_EMAIL,
	};
	for (size_t i = 0; i < sizeof before_services / sizeof before_services[0]; i++)
		if (csv_cell(ex->out, column(fields, (int)before_services[i]), 0) != 0)
			goto oom;
	const char *posted = column(fields, C_POSTED_BY_STAFF);
	if (csv_cell(ex->out, posted && strcmp(posted, "true") == 0 ? "true" : "false", 0) != 0 ||
	    csv_services(ex, record, 0) != 0 || csv_services(ex, record, 1) != 0 ||
	    csv_cell(ex->out, column(fields, C_STATUS), ex->n_keys == 0) != 0)
		goto oom;
	sqlite3_stmt *answer = ex->stmt[EX_ANSWER];
	for (size_t i = 0; i < ex->n_keys; i++) {
		if (bind_record(ex, answer, record) != 0 ||
		    sqlite3_bind_text(answer, 2, ex->keys[i], -1, SQLITE_STATIC) != SQLITE_OK)
			goto fail;
		int rc = sqlite3_step(answer);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			export_fail(ex, "reading a story's answers");
			goto fail;
		}
		int bad = csv_cell(ex->out, rc == SQLITE_ROW ? column(answer, 0) : "",
				   i + 1 == ex->n_keys);
		sqlite3_reset(answer);
		if (bad)
			goto oom;
	}
	sqlite3_reset(fields);
	return 0;
oom:
	if (ex->err[0] == '\0')
		say(ex->err, ex->errlen, "out of memory");
fail:
	sqlite3_reset(fields);
	return -1;
}

/* --- text: each story laid out like the paper "taking a story" form. */

/* Columns a UTF-8 character takes on paper or screen, and its length. Bytes
 * the locale cannot decode count as one column each, so layout degrades
 * rather than fails. */
static size_t char_width(const char *s, size_t left, size_t *bytes)
{
	wchar_t wc;
	mbstate_t state;
	memset(&state, 0, sizeof state);
	size_t k = mbrtowc(&wc, s, left, &state);
	if (k == 0 || k > left) {
		*bytes = 1;
		return 1;
	}
	*bytes = k;
	int width = wcwidth(wc);
	return width < 0 ? 1 : (size_t)width;
}

static size_t text_width(const char *s, size_t len)
{
	size_t width = 0;
	for (size_t i = 0, bytes; i < len; i += bytes)
		width += char_width(s + i, len - i, &bytes);
	return width;
}

/* Word-wrapping state: continuation lines start at indent. */
typedef struct {
	FILE *out;
	size_t col;
	size_t indent;
	int has_word; /* a word is already on this line, so the next needs a space */
} wrapper;

static void wrap_newline(wrapper *w)
{
	fputc('\n', w->out);
	w->col = 0;
	w->has_word = 0;
}

/* Indent lazily, so blank lines carry no trailing spaces. */
static void wrap_indent(wrapper *w)
{
	for (; w->col < w->indent; w->col++)
		fputc(' ', w->out);
}

static void wrap_word(wrapper *w, const char *word, size_t len)
{
	size_t width = text_width(word, len);
	if (w->has_word && w->col + 1 + width > TEXT_WIDTH)
		wrap_newline(w);
	wrap_indent(w);
	if (w->has_word) {
		fputc(' ', w->out);
		w->col++;
	}
	if (w->col + width <= TEXT_WIDTH) {
		fwrite(word, 1, len, w->out);
		w->col += width;
	} else {
		/* Longer than a line (a web address, or Chinese or Japanese written
		 * without spaces): break between characters. */
		for (size_t i = 0, bytes; i < len; i += bytes) {
			size_t cw = char_width(word + i, len - i, &bytes);
			if (w->col + cw > TEXT_WIDTH && w->col > w->indent) {
				wrap_newline(w);
				wrap_indent(w);
			}
			fwrite(word + i, 1, bytes, w->out);
			w->col += cw;
		}
	}
	w->has_word = 1;
}

/* Write untrusted text word-wrapped at TEXT_WIDTH columns, after col columns
 * already written on this line, later lines indented; ends the line. Runs of
 * spaces become one: the form is for reading and re-typing, not for layout. */
static int write_wrapped(FILE *out, const char *text, size_t col, size_t indent, int keep_newlines)
{
	char *safe = validate_sanitize(text ? text : "", keep_newlines);
	if (safe == NULL)
		return -1;
	wrapper w = { .out = out, .col = col, .indent = indent, .has_word = 0 };
	const char *p = safe;
	while (*p) {
		if (*p == '\n') {
			wrap_newline(&w);
			p++;
		} else if (*p == ' ') {
			p++;
		} else {
			size_t len = strcspn(p, " \n");
			wrap_word(&w, p, len);
			p += len;
		}
	}
	fputc('\n', out);
	free(safe);
	return 0;
}

/* "Label: value", the value wrapped under itself. */
static int write_labelled(FILE *out, const char *label, const char *value)
{
	fputs(label, out);
	size_t col = text_width(label, strlen(label));
	return write_wrapped(out, value && value[0] ? value : "(not given)", col, col, 0);
}

/* A question and its answer, as the team will read it back. */
static int write_answer(FILE *out, const char *heading, const char *value)
{
	fputc('\n', out);
	if (write_wrapped(out, heading, 0, 0, 0) != 0)
		return -1;
	return write_wrapped(out, value && value[0] ? value : "(no answer)", 0, 2, 1);
}

static int text_answer_by_key(exporter *ex, const char *record, const char *key,
			      const char *heading)
{
	sqlite3_stmt *stmt = ex->stmt[EX_ANSWER];
	if (bind_record(ex, stmt, record) != 0 ||
	    sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC) != SQLITE_OK)
		return export_fail(ex, "reading a story's answers");
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_reset(stmt);
		return export_fail(ex, "reading a story's answers");
	}
	int bad = write_answer(ex->out, heading, rc == SQLITE_ROW ? column(stmt, 0) : NULL);
	sqlite3_reset(stmt);
	return bad ? -1 : 0;
}

/* Every answer but the two questions of the guide, under its step key. The
 * title and role are answers too, already shown above: they are repeated only
 * when they say something else. */
static int text_other_answers(exporter *ex, const char *record, const char *title, const char *role)
{
	sqlite3_stmt *stmt = ex->stmt[EX_ANSWERS];
	if (bind_record(ex, stmt, record) != 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = column(stmt, 0), *value = column(stmt, 1);
		if (key == NULL || strcmp(key, "good") == 0 || strcmp(key, "different") == 0)
			continue;
		if ((strcmp(key, "title") == 0 && title && value && strcmp(title, value) == 0) ||
		    (strcmp(key, "role") == 0 && role && value && strcmp(role, value) == 0))
			continue;
		char *safe_key = validate_sanitize(key, 0);
		size_t len = safe_key ? strlen(safe_key) : 0;
		char *heading = safe_key ? malloc(len + 2) : NULL;
		if (heading != NULL) {
			memcpy(heading, safe_key, len);
			memcpy(heading + len, ":", 2);
		}
		int bad = heading == NULL || write_answer(ex->out, heading, value) != 0;
		free(heading);
		free(safe_key);
		if (bad) {
			sqlite3_reset(stmt);
			say(ex->err, ex->errlen, "out of memory");
			return -1;
		}
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : export_fail(ex, "reading a story's answers");
}

static int text_services(exporter *ex, const char *record)
{
	static const char label[] = "Service(s): ";
	sqlite3_stmt *stmt = ex->stmt[EX_SERVICES];
	if (bind_record(ex, stmt, record) != 0)
		return -1;
	int rc, n = 0, bad = 0;
	fputs(label, ex->out);
	while (!bad && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *code = column(stmt, 0), *name = column(stmt, 1);
		/* One service a line, its code after it in brackets, so the team
		 * can find it in the catalogue. */
		size_t len = strlen(name ? name : "") + strlen(code ? code : "not in the list") + 4;
		char *line = malloc(len);
		if (line == NULL) {
			bad = 1;
			break;
		}
		snprintf(line, len, "%s [%s]", name ? name : "", code ? code : "not in the list");
		if (n++ > 0)
			fprintf(ex->out, "%*s", (int)(sizeof label - 1), "");
		bad = write_wrapped(ex->out, line, sizeof label - 1, sizeof label - 1, 0) != 0;
		free(line);
	}
	sqlite3_reset(stmt);
	if (bad) {
		say(ex->err, ex->errlen, "out of memory");
		return -1;
	}
	if (rc != SQLITE_DONE)
		return export_fail(ex, "reading a story's services");
	if (n == 0)
		fputs("(none)\n", ex->out);
	return 0;
}

#define STAFF_POSTED "none \xE2\x80\x94 posted by staff for the patient"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static int write_text_story(exporter *ex, const char *record, long index)
{
	sqlite3_stmt *f = ex->stmt[EX_FIELDS];
	if (bind_record(ex, f, record) != 0)
		return -1;
	if (sqlite3_step(f) != SQLITE_ROW)
		return export_fail(ex, "reading a story");
	FILE *out = ex->out;
	/* A form feed starts each story on a new sheet when printed. */
	if (index > 0)
		fputc('\f', out);
	for (int i = 0; i < TEXT_WIDTH; i++)
		fputc('=', out);
	fputc('\n', out);

	/* Ids and times come from the queue or a checked import, but a queue can
	 * be written by other tools: everything shown is sanitized. */
	char *shown[C_CONSENT_VERSION + 1] = { 0 };
	int bad = 0;
	for (int i = 0; i <= C_CONSENT_VERSION; i++) {
		const char *value = column(f, i);
		if (value != NULL && (shown[i] = validate_sanitize(value, 0)) == NULL)
			bad = 1;
	}
	if (!bad) {
		fprintf(out, "Story reference %s   (id %s)\n",
			shown[C_REFERENCE] ? shown[C_REFERENCE] : "(none)", or_empty(shown[C_ID]));
		fprintf(out, "Consented %s   Operator: %s (%s)\n", or_empty(shown[C_CONSENTED]),
			or_empty(shown[C_OPERATOR_NAME]), or_empty(shown[C_OPERATOR_ROLE]));
		fprintf(out, "Form: %s, version %s   Status: %s\n", or_empty(shown[C_FORM_NAME]),
			or_empty(shown[C_FORM_VERSION]), or_empty(shown[C_STATUS]));
		const char *title = column(f, C_TITLE), *role = column(f, C_ROLE);
		bad = text_services(ex, record) != 0 ||
		      write_labelled(out, "Who is telling it: ", role) != 0 ||
		      write_labelled(out, "Title: ", title) != 0 ||
		      text_answer_by_key(ex, record, "good", "What was good?") != 0 ||
		      text_answer_by_key(ex, record, "different",
					 "What could have been different?") != 0 ||
		      text_other_answers(ex, record, title, role) != 0;
	}
	if (!bad) {
		const char *postcode = column(f, C_POSTCODE), *email = column(f, C_EMAIL);
		fputc('\n', out);
		bad = write_labelled(out, "Username: ", column(f, C_USERNAME)) != 0 ||
		      write_labelled(out, "Postcode: ", postcode ? postcode : "none") != 0 ||
		      write_labelled(out, "Email: ", email ? email : STAFF_POSTED) != 0;
		if (!bad)
			fprintf(out, "Consent: given (statement version %s)\n\n",
				or_empty(shown[C_CONSENT_VERSION]));
	}
	for (int i = 0; i <= C_CONSENT_VERSION; i++)
		free(shown[i]);
	sqlite3_reset(f);
	if (bad && ex->err[0] == '\0')
		say(ex->err, ex->errlen, "out of memory");
	return bad ? -1 : 0;
}

static int prepare_export(exporter *ex)
{
	size_t head = strlen(store_record_select), tail = strlen(export_order);
	char *sql = malloc(head + tail + 1);
	if (sql == NULL) {
		say(ex->err, ex->errlen, "out of memory");
		return -1;
	}
	memcpy(sql, store_record_select, head);
	memcpy(sql + head, export_order, tail + 1);
	for (int i = 0; i < EX_COUNT; i++) {
		const char *text = i == EX_RECORDS ? sql : export_sql[i];
		if (sqlite3_prepare_v2(ex->db, text, -1, &ex->stmt[i], NULL) != SQLITE_OK) {
			free(sql);
			return export_fail(ex, "preparing the export");
		}
	}
	free(sql);
	return 0;
}

/* Mark exactly the stories just written. The write lock has been held since
 * the rows were read, so the same predicate finds the same stories. */
static int mark_exported_rows(exporter *ex, const char *actor, long written)
{
	char now[32];
	utc_now(now, sizeof now);
	for (int which = EX_AUDIT; which <= EX_MARK; which++) {
		sqlite3_stmt *stmt = ex->stmt[which];
		if (sqlite3_bind_int(stmt, 1, 1) != SQLITE_OK ||
		    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    (which == EX_AUDIT &&
		     sqlite3_bind_text(stmt, 3, actor, -1, SQLITE_TRANSIENT) != SQLITE_OK))
			return export_fail(ex, "marking the stories exported");
		if (run_once(ex->db, stmt, "marking the stories exported", ex->err,
			     ex->errlen) != 0)
			return -1;
		int matched = sqlite3_changes(ex->db);
		if (matched != written) {
			say(ex->err, ex->errlen, "marking the stories exported: %d stories "
			    "matched, but %ld were written; nothing was marked", matched, written);
			return -1;
		}
	}
	return 0;
}

long exchange_export(store *st, export_format format, int mark_exported,
		     const char *actor, FILE *out, exchange_commit_fn commit_output,
		     void *context, char *err, size_t errlen)
{
	exporter ex = { .db = store_db(st), .out = out, .err = err, .errlen = errlen };
	say(err, errlen, "%s", "");
	long written = 0;
	if (format != EXPORT_JSONL && format != EXPORT_CSV && format != EXPORT_TEXT) {
		say(err, errlen, "unknown export format");
		return -1;
	}
	/* Marking needs the write lock from the first row read to the last row
	 * marked; a plain export only needs a steady snapshot (WAL readers do not
	 * hold up the wizard's saves). */
	if (exec_plain(ex.db, mark_exported ? "BEGIN IMMEDIATE" : "BEGIN",
		       "starting the export", err, errlen) != 0)
		return -1;
	if (prepare_export(&ex) != 0)
		goto fail;
	if (format == EXPORT_CSV && (load_answer_keys(&ex, mark_exported ? 1 : 0) != 0 ||
				     write_csv_header(&ex) != 0))
		goto fail;

	sqlite3_stmt *records = ex.stmt[EX_RECORDS];
	if (sqlite3_bind_int(records, 1, mark_exported ? 1 : 0) != SQLITE_OK) {
		export_fail(&ex, "starting the export");
		goto fail;
	}
	int rc;
	while ((rc = sqlite3_step(records)) == SQLITE_ROW) {
		const char *record = column(records, 0);
		if (record == NULL) {
			say(err, errlen, "building a story's JSON: out of memory");
			goto fail;
		}
		if (format == EXPORT_JSONL) {
			fputs(record, out);
			fputc('\n', out);
		} else if ((format == EXPORT_CSV ? write_csv_row(&ex, record)
						 : write_text_story(&ex, record, written)) != 0) {
			goto fail;
		}
		written++;
	}
	if (rc != SQLITE_DONE) {
		export_fail(&ex, "reading the queue");
		goto fail;
	}
	sqlite3_reset(records);
	if (fflush(out) != 0 || ferror(out)) {
		say(err, errlen, "writing the export: %s", strerror(errno));
		goto fail;
	}
	if (mark_exported) {
		if (commit_output != NULL && commit_output(context) != 0) {
			say(err, errlen,
			    "the export could not be saved, so no story was marked exported");
			goto fail;
		}
		if (mark_exported_rows(&ex, actor && actor[0] ? actor : "export", written) != 0)
			goto fail;
	}
	for (int i = 0; i < EX_COUNT; i++)
		sqlite3_finalize(ex.stmt[i]);
	for (size_t i = 0; i < ex.n_keys; i++)
		free(ex.keys[i]);
	free(ex.keys);
	if (exec_plain(ex.db, "COMMIT", "finishing the export", err, errlen) != 0) {
		roll_back(ex.db);
		return -1;
	}
	return written;
fail:
	for (int i = 0; i < EX_COUNT; i++)
		sqlite3_finalize(ex.stmt[i]);
	for (size_t i = 0; i < ex.n_keys; i++)
		free(ex.keys[i]);
	free(ex.keys);
	roll_back(ex.db);
	return -1;
}

/* ---------------------------------------------------------------- import */

/* Every field of a record, as (json_type, json_extract) column pairs of one
 * statement, so the line is parsed once for all of them. */
#define RECORD_FIELDS(X)                                                      \
	X(R_ID, "id") X(R_CREATED, "created_at") X(R_CONSENTED, "consented_at") \
	X(R_FORM, "form") X(R_FORM_NAME, "form.name")                           \
	X(R_FORM_VERSION, "form.version") X(R_OPERATOR, "operator")             \
	X(R_OPERATOR_NAME, "operator.name") X(R_OPERATOR_ROLE, "operator.role") \
	X(R_ROLE, "role") X(R_TITLE, "title") X(R_ANSWERS, "answers")           \
	X(R_USERNAME, "username") X(R_POSTCODE, "postcode")                     \
	X(R_SERVICES, "services") X(R_EMAIL, "email")                           \
	X(R_POSTED, "posted_by_staff") X(R_CONSENT, "consent")                  \
	X(R_CONSENT_GIVEN, "consent.given")                                     \
	X(R_CONSENT_VERSION, "consent.statement_version") X(R_STATUS, "status")

#define AS_ENUM(name, path) name,
enum record_field { RECORD_FIELDS(AS_ENUM) R_COUNT };

#define AS_LABEL(name, path) [name] = path,
static const char *const field_label[R_COUNT] = { RECORD_FIELDS(AS_LABEL) };

/* Column 0 is a placeholder so every pair can start with a comma. */
#define AS_COLUMNS(name, path) ", json_type(?1, '$." path "'), json_extract(?1, '$." path "')"
static const char record_fields_sql[] = "SELECT 0" RECORD_FIELDS(AS_COLUMNS);

/* The top-level keys of the export record, in its order (issue 2), then the
 * checks added later (issue 5), which older exports do not have. */
static const char *const record_keys[] = {
	"id", "created_at", "consented_at", "form", "operator", "role", "title", "answers",
	"username", "postcode", "services", "email", "posted_by_staff", "consent", "status",
	"safeguarding", "possible_safety_incident", "findings",
};
#define RECORD_KEYS_REQUIRED 15
static const char *const form_keys[] = { "name", "version" };
static const char *const operator_keys[] = { "name", "role" };
static const char *const consent_keys[] = { "given", "statement_version" };
static const char *const service_keys[] = { "code", "name" };

enum import_statement {
	IM_BEGIN,
	IM_COMMIT,
	IM_VALID,
	IM_TYPE,
	IM_KEYS,
	IM_FIELDS,
	IM_TIME,
	IM_ANSWERS,
	IM_ANSWER_TWICE,
	IM_SERVICES,
	IM_SERVICE,
	IM_FIND,
	IM_WITHDRAWN_HERE,
	IM_INSERT_STORY,
	IM_INSERT_ANSWER,
	IM_INSERT_SERVICE,
	IM_INSERT_AUDIT,
	IM_CHECKS_VALID,
	IM_SAVE_CHECKS,
	IM_SAVE_FINDINGS,
	IM_COUNT
};

static const char *const import_sql[IM_COUNT] = {
	[IM_BEGIN] = "BEGIN IMMEDIATE",
	[IM_COMMIT] = "COMMIT",
	/* Separate from IM_TYPE: the other JSON functions raise an error on
	 * malformed text instead of answering. */
	[IM_VALID] = "SELECT json_valid(?1)",
	[IM_TYPE] = "SELECT json_type(?1)",
	[IM_KEYS] = "SELECT key FROM json_each(?1, ?2)",
	[IM_FIELDS] = record_fields_sql,
	/* A real date and time, in exactly the form the kiosk writes. Through
	 * seconds since 1970 and back, as strftime alone keeps a 30 February. */
	[IM_TIME] = "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', strftime('%s', ?1), 'unixepoch') IS ?1",
	[IM_ANSWERS] = "SELECT key, type, value FROM json_each(?1, '$.answers') ORDER BY id",
	[IM_ANSWER_TWICE] =
		"SELECT key FROM json_each(?1, '$.answers')"
		" GROUP BY key HAVING count(*) > 1 LIMIT 1",
	[IM_SERVICES] = "SELECT type, value FROM json_each(?1, '$.services') ORDER BY key",
	[IM_SERVICE] =
		"SELECT json_type(?1, '$.code'), json_extract(?1, '$.code'),"
		" json_type(?1, '$.name'), json_extract(?1, '$.name')",
	[IM_FIND] =
		"SELECT id = ?1 FROM stories WHERE id = ?1 OR reference = ?2"
		" ORDER BY id = ?1 DESC LIMIT 1",
	/* Its audit trail outlives a story withdrawn here. */
	[IM_WITHDRAWN_HERE] =
		"SELECT 1 FROM audit WHERE story_id = ?1 AND event LIKE 'withdrawn%' LIMIT 1",
	[IM_INSERT_STORY] =
		"INSERT INTO stories (id, created_at, consented_at, form_name, form_version,"
		" operator_name, operator_role, role, title, username, postcode,"
		" postcode_from_service, email, posted_by_staff, consent_given,"
		" consent_version, status, reference, maybe_delivered)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, 1,"
		" ?14, ?15, ?16, ?17)",
	[IM_INSERT_ANSWER] =
		"INSERT INTO answers (story_id, position, step_key, value) VALUES (?1, ?2, ?3, ?4)",
	[IM_INSERT_SERVICE] =
		"INSERT INTO story_services (story_id, position, code, name, postcode)"
		" VALUES (?1, ?2, ?3, ?4, NULL)",
	[IM_INSERT_AUDIT] =
		"INSERT INTO audit (story_id, at, event, actor)"
		" VALUES (?1, ?2, 'imported', 'import')",
	/* The checks' flags are booleans, and findings counts by kind. */
	[IM_CHECKS_VALID] =
		"SELECT coalesce(json_type(?1, '$.safeguarding'), 'false') IN ('true', 'false'),"
		" coalesce(json_type(?1, '$.possible_safety_incident'), 'false') IN ('true', 'false'),"
		" coalesce(json_type(?1, '$.findings'), 'object') = 'object' AND NOT EXISTS"
		"  (SELECT 1 FROM json_each(?1, '$.findings') WHERE type <> 'integer' OR value < 1"
		"   OR length(key) NOT BETWEEN 1 AND 23 OR key GLOB '*[^a-z_]*')",
	[IM_SAVE_CHECKS] =
		"UPDATE stories SET safeguarding = coalesce(json_extract(?2, '$.safeguarding'), 0),"
		" possible_safety_incident = coalesce(json_extract(?2, '$.possible_safety_incident'), 0)"
		" WHERE id = ?1",
	[IM_SAVE_FINDINGS] =
		"INSERT INTO story_findings (story_id, kind, count)"
		" SELECT ?1, key, value FROM json_each(?2, '$.findings')",
};

typedef struct {
	sqlite3 *db;
	sqlite3_stmt *stmt[IM_COUNT];
	const char *path;
	long line;
	const char *record;
	const validate_wordlists *words;
	char now[32];
	char *err;
	size_t errlen;
	int queue_failed; /* the queue, not the file, is at fault: say so by exit status */
} importer;

/* Report a problem with the current record: "PATH:LINE: " and the words. */
static int record_fail(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int record_fail(importer *im, const char *fmt, ...)
{
	char words[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(words, sizeof words, fmt, ap);
	va_end(ap);
	say(im->err, im->errlen, "%s:%ld: %s", im->path, im->line, words);
	return -1;
}

static int queue_fail(importer *im, const char *what)
{
	/* A constraint is the record's fault (its reference or id clashes with
	 * a story already here); anything else is the queue's: full, locked,
	 * damaged. */
	if ((sqlite3_errcode(im->db) & 0xff) != SQLITE_CONSTRAINT)
		im->queue_failed = 1;
	return record_fail(im, "%s: %s", what, sqlite3_errmsg(im->db));
}

/* A key from the file, safe and short enough to repeat in a message. */
static void shown_key(const char *key, char *out, size_t outlen)
{
	char *safe = validate_sanitize(key, 0);
	const char *s = safe ? safe : "?";
	size_t used = 0, chars = 0;
	while (s[used] && chars < SHOWN_KEY_MAX) {
		size_t bytes = 1;
		while ((s[used + bytes] & 0xC0) == 0x80)
			bytes++;
		used += bytes;
		chars++;
	}
	snprintf(out, outlen, "%.*s%s", (int)used, s, s[used] ? "\xE2\x80\xA6" : "");
	free(safe);
}

/* Bind the JSON text (not NUL-terminated necessarily) and a path. */
static int bind_json(importer *im, sqlite3_stmt *stmt, const char *json, const char *path)
{
	sqlite3_reset(stmt);
	if (sqlite3_bind_text(stmt, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (path != NULL && sqlite3_bind_text(stmt, 2, path, -1, SQLITE_STATIC) != SQLITE_OK))
		return queue_fail(im, "reading the record");
	return 0;
}

/* The object at path in json must hold exactly keys, each once; prefix names
 * the object in messages ("" at the top, "form." and so on). */
static int check_keys_some(importer *im, const char *json, const char *path, const char *prefix,
			   const char *const *keys, size_t n, size_t required);

static int check_keys(importer *im, const char *json, const char *path, const char *prefix,
		      const char *const *keys, size_t n)
{
	return check_keys_some(im, json, path, prefix, keys, n, n);
}

/* As check_keys, where only the first required keys must be there. */
static int check_keys_some(importer *im, const char *json, const char *path, const char *prefix,
			   const char *const *keys, size_t n, size_t required)
{
	sqlite3_stmt *stmt = im->stmt[IM_KEYS];
	if (bind_json(im, stmt, json, path) != 0)
		return -1;
	unsigned long seen = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = column(stmt, 0);
		size_t bytes = (size_t)sqlite3_column_bytes(stmt, 0);
		size_t i = n;
		if (key != NULL && strlen(key) == bytes)
			for (i = 0; i < n && strcmp(key, keys[i]) != 0; i++)
				;
		if (i == n) {
			char shown[SHOWN_KEY_MAX * 4 + 8];
			shown_key(key ? key : "", shown, sizeof shown);
			sqlite3_reset(stmt);
			return record_fail(im, "%s%s: not a field of a story export", prefix,
					   shown);
		}
		if (seen & (1ul << i)) {
			sqlite3_reset(stmt);
			return record_fail(im, "%s%s: given twice", prefix, keys[i]);
		}
		seen |= 1ul << i;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return queue_fail(im, "reading the record");
	for (size_t i = 0; i < required; i++)
		if (!(seen & (1ul << i)))
			return record_fail(im, "%s%s: missing", prefix, keys[i]);
	return 0;
}

/* Text from a JSON value must be something the kiosk could have stored: a
 * lone surrogate written as an escape (\ud800) decodes to broken UTF-8. The
 * length check is a second guard behind has_escaped_nul. */
static int text_is_clean(sqlite3_stmt *stmt, int i)
{
	const char *text = column(stmt, i);
	size_t bytes = (size_t)sqlite3_column_bytes(stmt, i);
	return text != NULL && strlen(text) == bytes && validate_utf8(text, bytes);
}

static const char *field_type(importer *im, enum record_field f)
{
	return column(im->stmt[IM_FIELDS], 1 + 2 * (int)f);
}

enum { MAY_BE_NULL = 1, NON_EMPTY = 2 };

/* The string in field f (NULL for a JSON null when allowed); -1 and a
 * message when it is anything else. */
static int field_string(importer *im, enum record_field f, unsigned rules, const char **value)
{
	sqlite3_stmt *stmt = im->stmt[IM_FIELDS];
	const char *type = field_type(im, f);
	/* Never NULL unless null is allowed, whichever way this returns. */
	*value = rules & MAY_BE_NULL ? NULL : "";
	if (type == NULL)
		return record_fail(im, "%s: missing", field_label[f]);
	if ((rules & MAY_BE_NULL) && strcmp(type, "null") == 0)
		return 0;
	if (strcmp(type, "text") != 0)
		return record_fail(im, "%s: not a string%s", field_label[f],
				   rules & MAY_BE_NULL ? " or null" : "");
	if (!text_is_clean(stmt, 2 + 2 * (int)f))
		return record_fail(im, "%s: holds a character that cannot be stored (a NUL or "
				   "broken UTF-8)", field_label[f]);
	*value = column(stmt, 2 + 2 * (int)f);
	if ((rules & NON_EMPTY) && (*value)[0] == '\0')
		return record_fail(im, "%s: empty", field_label[f]);
	return 0;
}

static int field_object(importer *im, enum record_field f, const char *const *keys, size_t n)
{
	const char *type = field_type(im, f);
	if (type == NULL || strcmp(type, "object") != 0)
		return record_fail(im, "%s: not an object", field_label[f]);
	char path[64], prefix[64];
	snprintf(path, sizeof path, "$.%s", field_label[f]);
	snprintf(prefix, sizeof prefix, "%s.", field_label[f]);
	return check_keys(im, im->record, path, prefix, keys, n);
}

static int is_v4_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static int check_time(importer *im, enum record_field f)
{
	const char *value;
	if (field_string(im, f, 0, &value) != 0)
		return -1;
	sqlite3_stmt *stmt = im->stmt[IM_TIME];
	sqlite3_reset(stmt);
	if (sqlite3_bind_text(stmt, 1, value, -1, SQLITE_STATIC) != SQLITE_OK)
		return queue_fail(im, "reading the record");
	int rc = sqlite3_step(stmt);
	int ok = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1;
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return queue_fail(im, "reading the record");
	if (!ok)
		return record_fail(im, "%s: not a UTC date and time like 2026-11-22T19:20:57Z",
				   field_label[f]);
	return 0;
}

static int check_answers(importer *im)
{
	const char *type = field_type(im, R_ANSWERS);
	if (type == NULL || strcmp(type, "object") != 0)
		return record_fail(im, "answers: not an object");
	sqlite3_stmt *stmt = im->stmt[IM_ANSWER_TWICE];
	if (bind_json(im, stmt, im->record, NULL) != 0)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		char shown[SHOWN_KEY_MAX * 4 + 8];
		shown_key(column(stmt, 0) ? column(stmt, 0) : "", shown, sizeof shown);
		sqlite3_reset(stmt);
		return record_fail(im, "answers.%s: given twice", shown);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return queue_fail(im, "reading the answers");

	stmt = im->stmt[IM_ANSWERS];
	if (bind_json(im, stmt, im->record, NULL) != 0)
		return -1;
	int bad = 0;
	while (!bad && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		char shown[SHOWN_KEY_MAX * 4 + 8];
		shown_key(column(stmt, 0) ? column(stmt, 0) : "", shown, sizeof shown);
		if (!text_is_clean(stmt, 0))
			bad = record_fail(im, "answers: a key holds a character that cannot be "
					  "stored");
		else if (column(stmt, 0)[0] == '\0')
			bad = record_fail(im, "answers: a key is empty");
		else if (column(stmt, 1) == NULL || strcmp(column(stmt, 1), "text") != 0)
			bad = record_fail(im, "answers.%s: not a string", shown);
		else if (!text_is_clean(stmt, 2))
			bad = record_fail(im, "answers.%s: holds a character that cannot be stored "
					  "(a NUL or broken UTF-8)", shown);
	}
	sqlite3_reset(stmt);
	if (bad)
		return -1;
	return rc == SQLITE_DONE ? 0 : queue_fail(im, "reading the answers");
}

/* Check one service object; code and name are set for the caller to save. */
static int check_service(importer *im, int index, const char *json, const char **code,
			 const char **name)
{
	char prefix[48];
	snprintf(prefix, sizeof prefix, "services[%d].", index);
	if (check_keys(im, json, "$", prefix, service_keys, 2) != 0)
		return -1;
	sqlite3_stmt *stmt = im->stmt[IM_SERVICE];
	if (bind_json(im, stmt, json, NULL) != 0)
		return -1;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		return queue_fail(im, "reading the services");
	const char *code_type = column(stmt, 0), *name_type = column(stmt, 2);
	if (code_type == NULL || (strcmp(code_type, "null") != 0 && strcmp(code_type, "text") != 0))
		return record_fail(im, "services[%d].code: not a string or null", index);
	if (strcmp(code_type, "text") == 0 && !text_is_clean(stmt, 1))
		return record_fail(im, "services[%d].code: holds a character that cannot be stored",
				   index);
	if (name_type == NULL || strcmp(name_type, "text") != 0)
		return record_fail(im, "services[%d].name: not a string", index);
	if (!text_is_clean(stmt, 3))
		return record_fail(im, "services[%d].name: holds a character that cannot be stored",
				   index);
	if (column(stmt, 3)[0] == '\0')
		return record_fail(im, "services[%d].name: empty", index);
	*code = strcmp(code_type, "text") == 0 ? column(stmt, 1) : NULL;
	*name = column(stmt, 3);
	return 0;
}

/* Walk the services: check each, and with story_id set, save it too. The
 * IM_SERVICE row holding code and name stays valid until the next element. */
static int each_service(importer *im, const char *story_id)
{
	sqlite3_stmt *stmt = im->stmt[IM_SERVICES];
	if (bind_json(im, stmt, im->record, NULL) != 0)
		return -1;
	int rc, n = 0, bad = 0;
	while (!bad && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *type = column(stmt, 0), *code = NULL, *name = NULL;
		if (type == NULL || strcmp(type, "object") != 0) {
			bad = record_fail(im, "services[%d]: not an object with a code and a name",
					  n);
			break;
		}
		bad = check_service(im, n, column(stmt, 1), &code, &name);
		if (!bad && story_id != NULL) {
			sqlite3_stmt *insert = im->stmt[IM_INSERT_SERVICE];
			sqlite3_reset(insert);
			if (sqlite3_bind_text(insert, 1, story_id, -1, SQLITE_TRANSIENT) !=
				    SQLITE_OK ||
			    sqlite3_bind_int(insert, 2, n) != SQLITE_OK ||
			    (code ? sqlite3_bind_text(insert, 3, code, -1, SQLITE_TRANSIENT)
				  : sqlite3_bind_null(insert, 3)) != SQLITE_OK ||
			    sqlite3_bind_text(insert, 4, name, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
			    sqlite3_step(insert) != SQLITE_DONE)
				bad = queue_fail(im, "saving a service");
			sqlite3_reset(insert);
		}
		sqlite3_reset(im->stmt[IM_SERVICE]);
		n++;
	}
	sqlite3_reset(stmt);
	if (bad)
		return -1;
	if (rc != SQLITE_DONE)
		return queue_fail(im, "reading the services");
	if (n == 0)
		return record_fail(im, "services: empty; a story is about at least one service");
	return 0;
}

static int check_services(importer *im)
{
	const char *type = field_type(im, R_SERVICES);
	if (type == NULL || strcmp(type, "array") != 0)
		return record_fail(im, "services: not a list");
	return each_service(im, NULL);
}

/* The contact details: the values are never repeated in a message. Sealed
 * values (see seal.h) cannot be read here, only carried. */
static int check_contact(importer *im, const char *postcode, const char *email)
{
	char normal[320], msg[256];
	if (seal_is_sealed(postcode))
		postcode = NULL;
	if (seal_is_sealed(email))
		email = NULL;
	if (postcode != NULL) {
		if (validate_postcode(postcode, normal, sizeof normal, msg, sizeof msg) ==
		    VALIDATE_BLOCK)
			return record_fail(im, "postcode: not a valid UK postcode");
		if (strcmp(normal, postcode) != 0)
			return record_fail(im, "postcode: not in its usual form (capitals, one "
					   "space)");
	}
	if (email != NULL) {
		if (validate_email(email, normal, sizeof normal, msg, sizeof msg) == VALIDATE_BLOCK)
			return record_fail(im, "email: not a valid address");
		if (strcmp(normal, email) != 0)
			return record_fail(im, "email: not in its usual form (no spaces around it, "
					   "the part after the @ in lower case)");
	}
	return 0;
}

/* What a checked record holds, pointing into the IM_FIELDS row. */
typedef struct {
	const char *id, *created_at, *consented_at, *form_name, *form_version;
	const char *operator_name, *operator_role, *role, *title, *username;
	const char *postcode, *email, *consent_version, *status;
	int posted_by_staff;
	int maybe_delivered;  /* a sync on the old terminal may have delivered it */
} record_values;

/* Check the record's fields in the export's order; the first problem wins. */
static int check_fields(importer *im, record_values *v)
{
	if (field_string(im, R_ID, 0, &v->id) != 0)
		return -1;
	if (!is_v4_uuid(v->id))
		return record_fail(im, "id: not a lower-case version 4 UUID");
	if (check_time(im, R_CREATED) != 0 || check_time(im, R_CONSENTED) != 0 ||
	    field_string(im, R_CREATED, 0, &v->created_at) != 0 ||
	    field_string(im, R_CONSENTED, 0, &v->consented_at) != 0 ||
	    field_object(im, R_FORM, form_keys, 2) != 0 ||
	    field_string(im, R_FORM_NAME, NON_EMPTY, &v->form_name) != 0 ||
	    field_string(im, R_FORM_VERSION, NON_EMPTY, &v->form_version) != 0 ||
	    field_object(im, R_OPERATOR, operator_keys, 2) != 0 ||
	    field_string(im, R_OPERATOR_NAME, NON_EMPTY, &v->operator_name) != 0 ||
	    field_string(im, R_OPERATOR_ROLE, 0, &v->operator_role) != 0)
		return -1;
	if (strcmp(v->operator_role, "staff") != 0 && strcmp(v->operator_role, "volunteer") != 0)
		return record_fail(im, "operator.role: not staff or volunteer");
	/* A form without a role step stores none, and that must round-trip. */
	if (field_string(im, R_ROLE, MAY_BE_NULL, &v->role) != 0 ||
	    field_string(im, R_TITLE, NON_EMPTY, &v->title) != 0 || check_answers(im) != 0 ||
	    field_string(im, R_USERNAME, 0, &v->username) != 0)
		return -1;

	/* The username is judged against the email, so read that first, quietly. */
	const char *email_type = field_type(im, R_EMAIL);
	const char *email_for_username = NULL;
	if (email_type != NULL && strcmp(email_type, "text") == 0 &&
	    text_is_clean(im->stmt[IM_FIELDS], 2 + 2 * R_EMAIL) &&
	    !seal_is_sealed(column(im->stmt[IM_FIELDS], 2 + 2 * R_EMAIL)))
		email_for_username = column(im->stmt[IM_FIELDS], 2 + 2 * R_EMAIL);
	char msg[512];
	if (validate_username(v->username, email_for_username, im->words, msg, sizeof msg) ==
	    VALIDATE_BLOCK)
		return record_fail(im, "username: %s", msg);

	if (field_string(im, R_POSTCODE, MAY_BE_NULL, &v->postcode) != 0 ||
	    check_contact(im, v->postcode, NULL) != 0 || check_services(im) != 0 ||
	    field_string(im, R_EMAIL, MAY_BE_NULL, &v->email) != 0 ||
	    check_contact(im, NULL, v->email) != 0)
		return -1;

	const char *posted = field_type(im, R_POSTED);
	if (posted == NULL || (strcmp(posted, "true") != 0 && strcmp(posted, "false") != 0))
		return record_fail(im, "posted_by_staff: not true or false");
	v->posted_by_staff = strcmp(posted, "true") == 0;
	if (v->posted_by_staff != (v->email == NULL))
		return record_fail(im, "posted_by_staff: must be true exactly when email is null");

	if (field_object(im, R_CONSENT, consent_keys, 2) != 0)
		return -1;
	const char *given = field_type(im, R_CONSENT_GIVEN);
	if (given == NULL || strcmp(given, "true") != 0)
		return record_fail(im, "consent.given: not true; only consented stories are kept");
	if (field_string(im, R_CONSENT_VERSION, 0, &v->consent_version) != 0 ||
	    field_string(im, R_STATUS, 0, &v->status) != 0)
		return -1;
	if (strcmp(v->status, "withdrawn") == 0)
		return record_fail(im, "status: withdrawn stories are not imported");
	if (strcmp(v->status, "queued") != 0 && strcmp(v->status, "sending") != 0 &&
	    strcmp(v->status, "delivered") != 0 && strcmp(v->status, "failed") != 0)
		return record_fail(im, "status: not one of queued, sending, delivered, failed");
	/* "sending" only means a sync was cut short on the old terminal, as a
	 * sync here would count it: failed. That one, or one that failed there,
	 * may have reached the central store, and a withdrawal here must tell it
	 * (sync_withdraw). */
	v->maybe_delivered = strcmp(v->status, "sending") == 0 || strcmp(v->status, "failed") == 0;
	if (strcmp(v->status, "sending") == 0)
		v->status = "failed";
	return 0;
}

/* json_extract ends a string at an escaped NUL (\u0000), quietly cutting the
 * text short. Escapes are walked in pairs, so an escaped backslash followed
 * by "u0000" is not mistaken for one; only used on text that is valid JSON. */
static int has_escaped_nul(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
			return 1;
		i++;
	}
	return 0;
}

static int check_record_shape(importer *im, const char *line, size_t len)
{
	if (memchr(line, '\0', len) != NULL || !validate_utf8(line, len))
		return record_fail(im, "record: not UTF-8 text");
	sqlite3_stmt *stmt = im->stmt[IM_VALID];
	if (bind_json(im, stmt, line, NULL) != 0)
		return -1;
	int rc = sqlite3_step(stmt);
	int valid = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1;
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return queue_fail(im, "reading the record");
	if (!valid)
		return record_fail(im, "record: not valid JSON");
	if (has_escaped_nul(line, len))
		return record_fail(im, "record: holds \\u0000 (a NUL character), which cannot "
				   "be stored");
	stmt = im->stmt[IM_TYPE];
	if (bind_json(im, stmt, line, NULL) != 0)
		return -1;
	rc = sqlite3_step(stmt);
	valid = rc == SQLITE_ROW && column(stmt, 0) != NULL &&
		strcmp(column(stmt, 0), "object") == 0;
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return queue_fail(im, "reading the record");
	if (!valid)
		return record_fail(im, "record: not a JSON object");
	if (check_keys_some(im, line, "$", "", record_keys, sizeof record_keys / sizeof record_keys[0],
			    RECORD_KEYS_REQUIRED) != 0)
		return -1;
	stmt = im->stmt[IM_CHECKS_VALID];
	if (bind_json(im, stmt, line, NULL) != 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(stmt);
		return queue_fail(im, "reading the record");
	}
	int flags_ok = sqlite3_column_int(stmt, 0), safety_ok = sqlite3_column_int(stmt, 1);
	int findings_ok = sqlite3_column_int(stmt, 2);
	sqlite3_reset(stmt);
	if (!flags_ok)
		return record_fail(im, "safeguarding: not true or false");
	if (!safety_ok)
		return record_fail(im, "possible_safety_incident: not true or false");
	if (!findings_ok)
		return record_fail(im, "findings: not counts (whole numbers from 1) by kind");
	return 0;
}

static int bind_texts(sqlite3_stmt *stmt, const char *const *values, int n)
{
	for (int i = 0; i < n; i++) {
		int rc = values[i] ? sqlite3_bind_text(stmt, i + 1, values[i], -1, SQLITE_TRANSIENT)
				   : sqlite3_bind_null(stmt, i + 1);
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

static int save_record(importer *im, const record_values *v, const char *reference)
{
	sqlite3_stmt *stmt = im->stmt[IM_INSERT_STORY];
	const char *const values[] = {
		v->id, v->created_at, v->consented_at, v->form_name, v->form_version,
		v->operator_name, v->operator_role, v->role, v->title, v->username, v->postcode,
		v->email,
	};
	sqlite3_reset(stmt);
	if (bind_texts(stmt, values, 12) != 0 ||
	    sqlite3_bind_int(stmt, 13, v->posted_by_staff) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 14, v->consent_version, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 15, v->status, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 16, reference, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 17, v->maybe_delivered) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE) {
		sqlite3_reset(stmt);
		return queue_fail(im, "saving the story");
	}
	sqlite3_reset(stmt);

	/* Positions follow the record's order, so the story exports the same. */
	sqlite3_stmt *answers = im->stmt[IM_ANSWERS], *insert = im->stmt[IM_INSERT_ANSWER];
	if (bind_json(im, answers, im->record, NULL) != 0)
		return -1;
	int rc, position = 0, bad = 0;
	while (!bad && (rc = sqlite3_step(answers)) == SQLITE_ROW) {
		const char *key = column(answers, 0), *value = column(answers, 2);
		sqlite3_reset(insert);
		if (sqlite3_bind_text(insert, 1, v->id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_int(insert, 2, position++) != SQLITE_OK ||
		    sqlite3_bind_text(insert, 3, key, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(insert, 4, value, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(insert) != SQLITE_DONE)
			bad = queue_fail(im, "saving an answer");
		sqlite3_reset(insert);
	}
	sqlite3_reset(answers);
	if (bad)
		return -1;
	if (rc != SQLITE_DONE)
		return queue_fail(im, "reading the answers");
	if (each_service(im, v->id) != 0)
		return -1;

	for (int which = IM_SAVE_CHECKS; which <= IM_SAVE_FINDINGS; which++) {
		stmt = im->stmt[which];
		sqlite3_reset(stmt);
		if (sqlite3_bind_text(stmt, 1, v->id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(stmt, 2, im->record, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_DONE) {
			sqlite3_reset(stmt);
			return queue_fail(im, "saving what the checks found");
		}
		sqlite3_reset(stmt);
	}

	stmt = im->stmt[IM_INSERT_AUDIT];
	sqlite3_reset(stmt);
	if (sqlite3_bind_text(stmt, 1, v->id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, im->now, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE) {
		sqlite3_reset(stmt);
		return queue_fail(im, "recording the audit trail");
	}
	sqlite3_reset(stmt);
	return 0;
}

/* 1 when the story with this id was withdrawn from this queue, 0 when not,
 * -1 with a message. */
static int withdrawn_here(importer *im, const char *id)
{
	sqlite3_stmt *stmt = im->stmt[IM_WITHDRAWN_HERE];
	sqlite3_reset(stmt);
	if (sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return queue_fail(im, "looking for a withdrawal");
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : queue_fail(im, "looking for a withdrawal");
}

/* Check one record and save it unless its id is already here, or was
 * withdrawn here (an older export must not bring it back): 1 saved, 0 already
 * here, 2 withdrawn here, -1 with a message. */
static int import_record(importer *im, const char *line, size_t len)
{
	if (check_record_shape(im, line, len) != 0)
		return -1;
	im->record = line;
	sqlite3_stmt *fields = im->stmt[IM_FIELDS];
	if (bind_json(im, fields, line, NULL) != 0)
		return -1;
	if (sqlite3_step(fields) != SQLITE_ROW) {
		sqlite3_reset(fields);
		return queue_fail(im, "reading the record");
	}
	record_values v;
	memset(&v, 0, sizeof v);
	int result = check_fields(im, &v);
	char reference[STORY_REFERENCE_SIZE];
	if (result == 0 && story_reference(v.id, reference, sizeof reference) != 0)
		result = record_fail(im, "id: not a lower-case version 4 UUID");
	if (result == 0) {
		sqlite3_stmt *find = im->stmt[IM_FIND];
		sqlite3_reset(find);
		if (sqlite3_bind_text(find, 1, v.id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(find, 2, reference, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
			result = queue_fail(im, "looking for the story");
		} else {
			int rc = sqlite3_step(find);
			if (rc == SQLITE_ROW)
				result = sqlite3_column_int(find, 0)
					 ? 0
					 : record_fail(im, "id: its reference %s is already used "
						       "by another story in this queue", reference);
			else if (rc != SQLITE_DONE)
				result = queue_fail(im, "looking for the story");
			else if ((result = withdrawn_here(im, v.id)) == 1)
				result = 2;
			else if (result == 0)
				result = save_record(im, &v, reference) == 0 ? 1 : -1;
		}
		sqlite3_reset(find);
	}
	sqlite3_reset(fields);
	return result;
}

/* Read one line without its newline into *buf, growing it up to
 * IMPORT_LINE_MAX, so a file with no newlines cannot exhaust memory.
 * 1 read, 0 end of file, -1 too long, -2 read error. */
static int read_line(FILE *in, char **buf, size_t *cap, size_t *len)
{
	size_t n = 0;
	int c = EOF;
	while ((c = getc(in)) != EOF && c != '\n') {
		if (n >= IMPORT_LINE_MAX)
			return -1;
		if (n + 1 >= *cap) {
			size_t grown = *cap ? *cap * 2 : 4096;
			char *bigger = realloc(*buf, grown);
			if (bigger == NULL)
				return -1;
			*buf = bigger;
			*cap = grown;
		}
		(*buf)[n++] = (char)c;
	}
	if (ferror(in))
		return -2;
	if (c == EOF && n == 0)
		return 0;
	if (*buf == NULL && (*buf = malloc(1)) != NULL)
		*cap = 1;
	if (*buf == NULL)
		return -1;
	(*buf)[n] = '\0';
	*len = n;
	return 1;
}

static int is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int exchange_import(store *st, const char *path, const validate_wordlists *words,
		    exchange_import_summary *summary, char *err, size_t errlen)
{
	importer im = { .db = store_db(st), .path = path, .words = words,
			.err = err, .errlen = errlen };
	exchange_import_summary counted = { 0, 0, 0 };
	if (summary != NULL)
		*summary = counted;
	say(err, errlen, "%s", "");
	FILE *in = fopen(path, "re");
	if (in == NULL) {
		say(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return IMPORT_UNREADABLE;
	}
	int failure = IMPORT_BAD_RECORD;
	utc_now(im.now, sizeof im.now);
	for (int i = 0; i < IM_COUNT; i++) {
		if (sqlite3_prepare_v2(im.db, import_sql[i], -1, &im.stmt[i], NULL) != SQLITE_OK) {
			say(err, errlen, "preparing the import: %s", sqlite3_errmsg(im.db));
			failure = IMPORT_QUEUE_FAILED;
			goto fail;
		}
	}
	if (run_once(im.db, im.stmt[IM_BEGIN], "starting the import", err, errlen) != 0) {
		failure = IMPORT_QUEUE_FAILED;
		goto fail;
	}

	char *buf = NULL;
	size_t cap = 0, len = 0;
	int rc;
	while ((rc = read_line(in, &buf, &cap, &len)) == 1) {
		im.line++;
		char *line = buf;
		/* Editors on Windows put a byte order mark at the start. */
		if (im.line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
			line += 3;
			len -= 3;
		}
		if (is_blank(line, len))
			continue;
		int saved = import_record(&im, line, len);
		if (saved < 0)
			break;
		if (saved == 1)
			counted.imported++;
		else if (saved == 2)
			counted.withdrawn++;
		else
			counted.skipped++;
	}
	free(buf);
	if (rc == -1) {
		im.line++;
		record_fail(&im, "record: longer than %u MiB, or out of memory",
			    IMPORT_LINE_MAX >> 20);
		goto fail;
	}
	if (rc == -2) {
		say(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		failure = IMPORT_UNREADABLE;
		goto fail;
	}
	if (rc == 1) /* a bad record: the message is already in err */
		goto fail;
	if (run_once(im.db, im.stmt[IM_COMMIT], "finishing the import", err, errlen) != 0) {
		failure = IMPORT_QUEUE_FAILED;
		goto fail;
	}
	for (int i = 0; i < IM_COUNT; i++)
		sqlite3_finalize(im.stmt[i]);
	fclose(in);
	if (summary != NULL)
		*summary = counted;
	return 0;
fail:
	for (int i = 0; i < IM_COUNT; i++)
		sqlite3_finalize(im.stmt[i]);
	roll_back(im.db);
	fclose(in);
	return im.queue_failed ? IMPORT_QUEUE_FAILED : failure;
}
