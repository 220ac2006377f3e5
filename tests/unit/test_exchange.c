/* test_exchange.c - export and import on real SQLite files: JSON Lines round
 * trips byte for byte, every kind of bad record is refused with its line and
 * field and nothing imported, CSV and text are safe, --mark-exported marks
 * exactly what was written and only once it is saved. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include <sqlite3.h>

#include "harness.h"
#include "exchange.h"
#include "form.h"
#include "store.h"
#include "story.h"
#include "sync.h"
#include "validate.h"
#include "wizard.h"

static form *guide;
static validate_wordlists *words;
static char workdir[] = "/tmp/storykiosk-exchange-XXXXXX";

static void work_path(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", workdir, name);
}

static store *open_queue(const char *name, char *path, size_t pathlen)
{
	char err[512];
	snprintf(path, pathlen, "%s/queue-%s/queue.db", workdir, name);
	store *st = store_open(path, err, sizeof err);
	if (st == NULL)
		printf("#   cannot open %s: %s\n", path, err);
	return st;
}

/* A story typed through the wizard, as the kiosk saves it. */
static story *make_story(const char *good, const char *different, const char *email)
{
	story *s = story_new(guide, "Sam \"Nurse\" O'Neil", "staff");
	wizard w;
	wizard_start(&w, guide, words, s);
	CHECK(wizard_set_answer(&w, (size_t)form_find_step(guide, "good"), good) == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_step(guide, "different"), different) == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_step(guide, "title"),
				"Kind \"staff\" \\ 看護") == 0);
	CHECK(story_set_answer(s, (size_t)form_find_step(guide, "role"), "carer") == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_type(guide, STEP_USERNAME),
				"BlueHeron") == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_type(guide, STEP_POSTCODE), "le1 5ww") == 0);
	CHECK(story_add_service(s, "LVH-W7", "Ward 7", "LE5 9QZ") == 0);
	CHECK(story_add_service(s, NULL, "Day room café «un»", "") == 0);
	if (email != NULL) {
		CHECK(wizard_set_answer(&w, (size_t)form_find_type(guide, STEP_EMAIL), email) == 0);
	} else {
		s->no_email = 1;
		s->no_postcode = 1;
	}
	s->consent = 1;
	return s;
}

static void save(store *st, const char *good, const char *different, const char *email)
{
	story *s = make_story(good, different, email);
	CHECK(store_save_story(st, s) == 0);
	story_free(s);
}

/* Two stories: one full of awkward text with an email, one posted by staff. */
static void fill_queue(store *st)
{
	save(st,
	     "Line one \"quoted\" \\ back\nZoë «ça» 看護師さん \t tab\n\nSecond paragraph.",
	     "Shorter waits; 'quotes' and \\n not a newline", "secret.person@example.org");
	save(st, "Fine", "", NULL);
}

typedef struct {
	long written;
	char *text;
	size_t len;
} exported;

static int commit_ok(void *context)
{
	int *calls = context;
	(*calls)++;
	return 0;
}

static int commit_fails(void *context)
{
	int *calls = context;
	(*calls)++;
	return -1;
}

static exported run_export(store *st, export_format format, int mark, exchange_commit_fn commit,
			   void *context)
{
	exported e = { 0, NULL, 0 };
	char err[512] = "";
	FILE *out = open_memstream(&e.text, &e.len);
	e.written = exchange_export(st, format, mark, "tester", out, commit, context, err,
				    sizeof err);
	fclose(out);
	if (e.written < 0)
		printf("#   export failed: %s\n", err);
	return e;
}

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	size_t wrote = fwrite(text, 1, len, f);
	return fclose(f) == 0 && wrote == len ? 0 : -1;
}

static long count_rows(const char *db_path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	long n = -1;
	if (sqlite3_open(db_path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			n = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return n;
}

static int run_sql(const char *db_path, const char *sql)
{
	sqlite3 *db;
	int rc = -1;
	if (sqlite3_open(db_path, &db) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	}
	sqlite3_close(db);
	return rc;
}

static long count_text(const char *haystack, const char *needle)
{
	long n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

TEST(format_names)
{
	CHECK(exchange_format_from_name("jsonl") == EXPORT_JSONL);
	CHECK(exchange_format_from_name("csv") == EXPORT_CSV);
	CHECK(exchange_format_from_name("text") == EXPORT_TEXT);
	CHECK(exchange_format_from_name("JSONL") == -1);
	CHECK(exchange_format_from_name("") == -1);
	CHECK(exchange_format_from_name(NULL) == -1);
}

TEST(jsonl_round_trip_is_byte_identical)
{
	char first_path[512], second_path[512], file[512], err[512];
	store *first = open_queue("roundtrip-a", first_path, sizeof first_path);
	fill_queue(first);
	/* A delivered story travels too, and keeps its status. */
	CHECK(run_sql(first_path,
		      "UPDATE stories SET status = 'delivered' WHERE posted_by_staff = 1") == 0);
	exported a = run_export(first, EXPORT_JSONL, 0, NULL, NULL);
	CHECK(a.written == 2);
	CHECK(count_text(a.text, "\n") == 2);
	CHECK(strstr(a.text, "\"code\":null") != NULL);
	CHECK(strstr(a.text, "\"email\":null") != NULL);
	CHECK(strstr(a.text, "\"status\":\"delivered\"") != NULL);

	/* The same bytes as the plain export the queue has always written. */
	char *plain = NULL;
	size_t plain_len = 0;
	FILE *out = open_memstream(&plain, &plain_len);
	CHECK(store_export_jsonl(first, out) == 0);
	fclose(out);
	CHECK_STR(a.text, plain);
	free(plain);

	work_path(file, sizeof file, "roundtrip.jsonl");
	CHECK(write_file(file, a.text, a.len) == 0);
	store *second = open_queue("roundtrip-b", second_path, sizeof second_path);
	exchange_import_summary summary = { -1, -1, -1 };
	CHECK(exchange_import(second, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 2 && summary.skipped == 0);
	exported b = run_export(second, EXPORT_JSONL, 0, NULL, NULL);
	CHECK_STR(b.text, a.text);
	store_close(second);
	CHECK(count_rows(second_path, "SELECT count(*) FROM audit"
				      " WHERE event = 'imported' AND actor = 'import'") == 2);
	CHECK(count_rows(second_path, "SELECT count(*) FROM stories WHERE postcode_from_service = 0"
				      " AND length(reference) = 9") == 2);
	CHECK(count_rows(second_path,
			 "SELECT count(*) FROM story_services WHERE postcode IS NULL") == 4);
	free(a.text);
	free(b.text);
	store_close(first);
}

TEST(references_match_story_reference)
{
	char path[512], file[512], err[512];
	store *st = open_queue("reference-a", path, sizeof path);
	fill_queue(st);
	exported a = run_export(st, EXPORT_JSONL, 0, NULL, NULL);
	store_close(st);
	work_path(file, sizeof file, "reference.jsonl");
	CHECK(write_file(file, a.text, a.len) == 0);
	st = open_queue("reference-b", path, sizeof path);
	exchange_import_summary summary;
	CHECK(exchange_import(st, file, words, &summary, err, sizeof err) == 0);
	store_close(st);
	sqlite3 *db;
	sqlite3_stmt *stmt;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT id, reference FROM stories", -1, &stmt, NULL) ==
	      SQLITE_OK);
	int rows = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		char want[STORY_REFERENCE_SIZE];
		const char *id = (const char *)sqlite3_column_text(stmt, 0);
		CHECK(story_reference(id, want, sizeof want) == 0);
		CHECK_STR((const char *)sqlite3_column_text(stmt, 1), want);
		rows++;
	}
	CHECK(rows == 2);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(a.text);
}

TEST(duplicates_are_skipped_and_counted)
{
	char first_path[512], second_path[512], file[512], twice[512], err[512];
	store *first = open_queue("dup-a", first_path, sizeof first_path);
	fill_queue(first);
	exported a = run_export(first, EXPORT_JSONL, 0, NULL, NULL);
	work_path(file, sizeof file, "dup.jsonl");
	CHECK(write_file(file, a.text, a.len) == 0);

	/* Into the queue it came from: everything is already there. */
	exchange_import_summary summary;
	CHECK(exchange_import(first, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 0 && summary.skipped == 2);
	store_close(first);
	CHECK(count_rows(first_path, "SELECT count(*) FROM stories") == 2);
	CHECK(count_rows(first_path, "SELECT count(*) FROM audit WHERE event = 'imported'") == 0);

	/* The same story twice in one file: the second copy is skipped. */
	size_t first_line = (size_t)(strchr(a.text, '\n') - a.text) + 1;
	char *doubled = malloc(first_line * 2 + 1);
	memcpy(doubled, a.text, first_line);
	memcpy(doubled + first_line, a.text, first_line);
	doubled[first_line * 2] = '\0';
	work_path(twice, sizeof twice, "twice.jsonl");
	CHECK(write_file(twice, doubled, first_line * 2) == 0);
	store *second = open_queue("dup-b", second_path, sizeof second_path);
	CHECK(exchange_import(second, twice, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 1 && summary.skipped == 1);
	/* And the whole file afterwards: one new, one already here. */
	CHECK(exchange_import(second, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 1 && summary.skipped == 1);
	store_close(second);
	CHECK(count_rows(second_path, "SELECT count(*) FROM stories") == 2);
	free(doubled);
	free(a.text);
}

TEST(bom_crlf_and_blank_lines_are_tolerated)
{
	char first_path[512], second_path[512], file[512], err[512];
	store *first = open_queue("bom-a", first_path, sizeof first_path);
	fill_queue(first);
	exported a = run_export(first, EXPORT_JSONL, 0, NULL, NULL);
	store_close(first);
	/* As a Windows editor would save it: BOM, CRLF, blank lines. */
	size_t cap = a.len * 2 + 16, n = 0;
	char *windows = malloc(cap);
	memcpy(windows, "\xEF\xBB\xBF", 3);
	n = 3;
	for (size_t i = 0; i < a.len; i++) {
		if (a.text[i] == '\n') {
			memcpy(windows + n, "\r\n\r\n", 4);
			n += 4;
		} else {
			windows[n++] = a.text[i];
		}
	}
	work_path(file, sizeof file, "windows.jsonl");
	CHECK(write_file(file, windows, n) == 0);
	store *second = open_queue("bom-b", second_path, sizeof second_path);
	exchange_import_summary summary;
	CHECK(exchange_import(second, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 2);
	exported b = run_export(second, EXPORT_JSONL, 0, NULL, NULL);
	CHECK_STR(b.text, a.text);
	store_close(second);
	free(windows);
	free(a.text);
	free(b.text);
}

/* One way a record can be wrong: SQL over the good record ?1 that spoils it,
 * and the start of the message expected after "FILE:3: ". secret, when set,
 * must not appear in the message. */
typedef struct {
	const char *spoil;
	const char *want;
	const char *secret;
} bad_record;

static const bad_record bad_records[] = {
	{ "SELECT 'this is not JSON'", "record: not valid JSON", NULL },
	{ "SELECT '{\"id\": 1,}'", "record: not valid JSON", NULL },
	{ "SELECT '[1, 2]'", "record: not a JSON object", NULL },
	{ "SELECT json_set(?1, '$.extra', 1)", "extra: not a field of a story export", NULL },
	{ "SELECT json_remove(?1, '$.title')", "title: missing", NULL },
	{ "SELECT '{\"id\":\"x\",' || substr(?1, 2)", "id: given twice", NULL },
	{ "SELECT json_set(?1, '$.id', upper(json_extract(?1, '$.id')))",
	  "id: not a lower-case version 4 UUID", NULL },
	{ "SELECT json_set(?1, '$.id', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')",
	  "id: not a lower-case version 4 UUID", NULL },
	{ "SELECT json_set(?1, '$.id', 7)", "id: not a string", NULL },
	{ "SELECT json_set(?1, '$.created_at', '2026-02-30T10:00:00Z')",
	  "created_at: not a UTC date and time", NULL },
	{ "SELECT json_set(?1, '$.consented_at', '2026-11-22 19:20:57')",
	  "consented_at: not a UTC date and time", NULL },
	{ "SELECT json_set(?1, '$.form.name', '')", "form.name: empty", NULL },
	{ "SELECT json_set(?1, '$.form.colour', 'red')",
	  "form.colour: not a field of a story export", NULL },
	{ "SELECT json_remove(?1, '$.form.version')", "form.version: missing", NULL },
	{ "SELECT json_set(?1, '$.form', 'default')", "form: not an object", NULL },
	{ "SELECT json_set(?1, '$.operator.role', 'boss')",
	  "operator.role: not staff or volunteer", NULL },
	{ "SELECT json_set(?1, '$.operator.name', '')", "operator.name: empty", NULL },
	{ "SELECT json_set(?1, '$.role', 3)", "role: not a string or null", NULL },
	{ "SELECT json_set(?1, '$.title', 5)", "title: not a string", NULL },
	{ "SELECT json_set(?1, '$.title', '')", "title: empty", NULL },
	{ "SELECT replace(?1, '\"title\":\"Kind', '\"title\":\"\\u0000Kind')",
	  "record: holds \\u0000 (a NUL character)", NULL },
	{ "SELECT replace(?1, '\"title\":\"Kind', '\"title\":\"\\\\u0000Kind')",
	  "", NULL }, /* a backslash, then u0000: fine */
	{ "SELECT replace(?1, '\"title\":\"Kind', '\"title\":\"\\ud800Kind')",
	  "title: holds a character that cannot be stored", NULL },
	{ "SELECT json_set(?1, '$.answers.good', 5)", "answers.good: not a string", NULL },
	{ "SELECT json_set(?1, '$.answers', json('[\"a\"]'))", "answers: not an object", NULL },
	{ "SELECT replace(?1, '\"answers\":{', '\"answers\":{\"good\":\"again\",')",
	  "answers.good: given twice", NULL },
	{ "SELECT json_set(?1, '$.username', 'ab')",
	  "username: A username needs at least 3", NULL },
	{ "SELECT json_set(?1, '$.username', 'Blue<Heron>')",
	  "username: A username can use letters", NULL },
	{ "SELECT json_set(?1, '$.postcode', 'ZZQ 9ZZ')",
	  "postcode: not a valid UK postcode", "ZZQ" },
	{ "SELECT json_set(?1, '$.postcode', 'le1 5ww')",
	  "postcode: not in its usual form", "le1" },
	{ "SELECT json_set(?1, '$.services', json('[]'))", "services: empty", NULL },
	{ "SELECT json_set(?1, '$.services', 'Ward 7')", "services: not a list", NULL },
	{ "SELECT json_set(?1, '$.services', json('[{\"code\":null}]'))",
	  "services[0].name: missing", NULL },
	{ "SELECT json_set(?1, '$.services',"
	  " json('[{\"code\":\"A\",\"name\":\"B\"},{\"code\":1,\"name\":\"x\"}]'))",
	  "services[1].code: not a string or null", NULL },
	{ "SELECT json_set(?1, '$.services', json('[{\"code\":null,\"name\":\"\"}]'))",
	  "services[0].name: empty", NULL },
	{ "SELECT json_set(?1, '$.services', json('[\"Ward 7\"]'))",
	  "services[0]: not an object", NULL },
	{ "SELECT json_set(?1, '$.email', 'secret.person.example.org')",
	  "email: not a valid address", "secret" },
	{ "SELECT json_set(?1, '$.email', 'secret.person@EXAMPLE.org')",
	  "email: not in its usual form", "secret" },
	{ "SELECT json_set(?1, '$.email', 5)", "email: not a string or null", NULL },
	{ "SELECT json_set(?1, '$.posted_by_staff', json('true'))",
	  "posted_by_staff: must be true exactly when email is null", NULL },
	{ "SELECT json_set(?1, '$.posted_by_staff', 'no')",
	  "posted_by_staff: not true or false", NULL },
	{ "SELECT json_set(?1, '$.consent.given', json('false'))",
	  "consent.given: not true", NULL },
	{ "SELECT json_set(?1, '$.consent.statement_version', 1)",
	  "consent.statement_version: not a string", NULL },
	{ "SELECT json_set(?1, '$.status', 'withdrawn')",
	  "status: withdrawn stories are not imported", NULL },
	{ "SELECT json_set(?1, '$.status', 'lost')",
	  "status: not one of queued, sending, delivered, failed", NULL },
	{ "SELECT json_set(?1, '$.status', NULL)", "status: not a string", NULL },
};

/* SQLite itself spoils the record: the test writes no JSON by hand either. */
static char *spoil_record(const char *record, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char *spoiled = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, record, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL)
			spoiled = strdup((const char *)sqlite3_column_text(stmt, 0));
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return spoiled;
}

TEST(bad_records_import_nothing)
{
	char source_path[512], target_path[512], file[512];
	store *source = open_queue("bad-source", source_path, sizeof source_path);
	fill_queue(source);
	exported a = run_export(source, EXPORT_JSONL, 0, NULL, NULL);
	store_close(source);
	/* Stories saved in the same second come out in id order: find which is which. */
	char *second_line = strchr(a.text, '\n') + 1;
	size_t first_len = (size_t)(second_line - a.text);
	char *one = strndup(a.text, first_len - 1);
	char *two = strndup(second_line, strlen(second_line) - 1);
	int one_has_email = strstr(one, "secret.person") != NULL;
	char *good = one_has_email ? one : two; /* has an email and a postcode */
	char *staff = one_has_email ? two : one;

	store *target = open_queue("bad-target", target_path, sizeof target_path);
	work_path(file, sizeof file, "bad.jsonl");
	for (size_t i = 0; i < sizeof bad_records / sizeof bad_records[0]; i++) {
		const bad_record *bad = &bad_records[i];
		char *spoiled = spoil_record(good, bad->spoil);
		if (spoiled == NULL) {
			printf("#   could not spoil the record with: %s\n", bad->spoil);
			CHECK(spoiled != NULL);
			continue;
		}
		/* Line 1 good, line 2 blank, line 3 bad, line 4 good. */
		FILE *f = fopen(file, "w");
		fprintf(f, "%s\n\n%s\n%s\n", staff, spoiled, staff);
		fclose(f);
		char err[1024] = "", want[1200];
		exchange_import_summary summary = { 9, 9, 9 };
		int rc = exchange_import(target, file, words, &summary, err, sizeof err);
		snprintf(want, sizeof want, "%s:3: %s", file, bad->want);
		int should_fail = bad->want[0] != '\0';
		if (should_fail ? rc != -1 || strncmp(err, want, strlen(want)) != 0 : rc != 0) {
			printf("#   case %zu (%s): rc %d, err \"%s\", want \"%s\"\n", i, bad->spoil,
			       rc, err, want);
			harness_case_failed = 1;
		}
		CHECK(should_fail ? summary.imported == 0 && summary.skipped == 0
				  : summary.imported == 2);
		if (!should_fail)
			CHECK(run_sql(target_path,
				      "DELETE FROM answers; DELETE FROM story_services;"
				      " DELETE FROM audit; DELETE FROM stories;") == 0);
		if (bad->secret != NULL && strstr(err, bad->secret) != NULL) {
			printf("#   case %zu repeats a contact detail: %s\n", i, err);
			harness_case_failed = 1;
		}
		free(spoiled);
	}
	store_close(target);
	CHECK(count_rows(target_path, "SELECT count(*) FROM stories") == 0);
	CHECK(count_rows(target_path, "SELECT count(*) FROM answers") == 0);
	CHECK(count_rows(target_path, "SELECT count(*) FROM story_services") == 0);
	CHECK(count_rows(target_path, "SELECT count(*) FROM audit") == 0);
	free(good);
	free(staff);
	free(a.text);
}

TEST(sending_is_imported_as_failed)
{
	char source_path[512], target_path[512], file[512], err[512];
	store *source = open_queue("sending-a", source_path, sizeof source_path);
	fill_queue(source);
	CHECK(run_sql(source_path, "UPDATE stories SET status = 'sending'") == 0);
	exported a = run_export(source, EXPORT_JSONL, 0, NULL, NULL);
	store_close(source);
	work_path(file, sizeof file, "sending.jsonl");
	CHECK(write_file(file, a.text, a.len) == 0);
	store *target = open_queue("sending-b", target_path, sizeof target_path);
	exchange_import_summary summary;
	CHECK(exchange_import(target, file, words, &summary, err, sizeof err) == 0);
	store_close(target);
	CHECK(count_rows(target_path, "SELECT count(*) FROM stories WHERE status = 'failed'") == 2);
	/* A sync on the old terminal may have delivered them: withdrawing one
	 * here must tell the central store. */
	CHECK(count_rows(target_path, "SELECT count(*) FROM stories WHERE maybe_delivered = 1") == 2);
	free(a.text);
}

/* An older export taken in again must not bring back a story withdrawn here
 * (its row is gone; its audit trail says so). And a story that failed on the
 * old terminal may be at the central store: withdrawn here, it is kept until
 * a sync has told the central store (withdrawal_pending 2). */
TEST(import_leaves_out_stories_withdrawn_here)
{
	char source_path[512], target_path[512], file[512], err[512], said[512];
	store *source = open_queue("withdrawn-a", source_path, sizeof source_path);
	fill_queue(source);
	exported a = run_export(source, EXPORT_JSONL, 0, NULL, NULL);
	store_close(source);
	work_path(file, sizeof file, "withdrawn.jsonl");
	CHECK(write_file(file, a.text, a.len) == 0);

	store *target = open_queue("withdrawn-b", target_path, sizeof target_path);
	exchange_import_summary summary = { 0, 0, 0 };
	CHECK(exchange_import(target, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 2);
	char first[64] = "", second[64] = "";
	sqlite3_stmt *stmt;
	CHECK(sqlite3_prepare_v2(store_db(target), "SELECT id FROM stories ORDER BY id", -1, &stmt,
				 NULL) == SQLITE_OK);
	CHECK(sqlite3_step(stmt) == SQLITE_ROW);
	snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(stmt, 0));
	CHECK(sqlite3_step(stmt) == SQLITE_ROW);
	snprintf(second, sizeof second, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);

	CHECK(sync_withdraw(target, first, "test", said, sizeof said) == 0);
	CHECK(strstr(said, "removed from the queue") != NULL);
	summary = (exchange_import_summary){ 0, 0, 0 };
	CHECK(exchange_import(target, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 0 && summary.skipped == 1 && summary.withdrawn == 1);
	store_close(target);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM stories WHERE id = '%s'", first);
	CHECK(count_rows(target_path, sql) == 0);

	/* The other story failed on the old terminal. */
	CHECK(run_sql(source_path, "UPDATE stories SET status = 'failed'") == 0);
	source = open_queue("withdrawn-a", source_path, sizeof source_path);
	free(a.text);
	a = run_export(source, EXPORT_JSONL, 0, NULL, NULL);
	store_close(source);
	CHECK(write_file(file, a.text, a.len) == 0);
	store *third = open_queue("withdrawn-c", target_path, sizeof target_path);
	CHECK(exchange_import(third, file, words, &summary, err, sizeof err) == 0);
	CHECK(sync_withdraw(third, second, "test", said, sizeof said) == 0);
	CHECK(strstr(said, "told at the next sync") != NULL);
	store_close(third);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM stories WHERE id = '%s'"
		 " AND status = 'withdrawn' AND withdrawal_pending = 2", second);
	CHECK(count_rows(target_path, sql) == 1);
	free(a.text);
}

/* A queue that cannot take the stories (here: no room left) is the queue's
 * fault, not the file's, and says so by its return; nothing is imported. */
TEST(full_queue_is_not_a_bad_record)
{
	char source_path[512], target_path[512], file[512], err[512] = "";
	store *source = open_queue("full-a", source_path, sizeof source_path);
	for (int i = 0; i < 100; i++) /* more than the new queue's free pages hold */
		fill_queue(source);
	exported a = run_export(source, EXPORT_JSONL, 0, NULL, NULL);
	store_close(source);
	work_path(file, sizeof file, "full.jsonl");
	CHECK(write_file(file, a.text, a.len) == 0);
	store *target = open_queue("full-b", target_path, sizeof target_path);
	long pages = count_rows(target_path, "PRAGMA page_count");
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %ld", pages + 2);
	CHECK(sqlite3_exec(store_db(target), pragma, NULL, NULL, NULL) == SQLITE_OK);
	exchange_import_summary summary;
	CHECK(exchange_import(target, file, words, &summary, err, sizeof err) == IMPORT_QUEUE_FAILED);
	CHECK(strstr(err, "full") != NULL);
	store_close(target);
	CHECK(count_rows(target_path, "SELECT count(*) FROM stories") == 0);
	free(a.text);
}

TEST(unreadable_and_oversized_files)
{
	char path[512], file[512], err[512] = "";
	store *st = open_queue("files", path, sizeof path);
	exchange_import_summary summary;
	work_path(file, sizeof file, "no-such-file.jsonl");
	CHECK(exchange_import(st, file, words, &summary, err, sizeof err) == IMPORT_UNREADABLE);
	CHECK(strstr(err, "cannot open") != NULL);

	/* A file with no newline at all: refused without reading it all into memory. */
	work_path(file, sizeof file, "huge.jsonl");
	FILE *f = fopen(file, "w");
	for (int i = 0; i < 5 * 1024; i++)
		fprintf(f, "{\"pad\":\"%1014s\"}", "");
	fclose(f);
	CHECK(exchange_import(st, file, words, &summary, err, sizeof err) == -1);
	CHECK(strstr(err, ":1: record: longer than 4 MiB") != NULL);

	/* Not UTF-8. */
	work_path(file, sizeof file, "latin1.jsonl");
	CHECK(write_file(file, "{\"id\":\"caf\xe9\"}\n", 15) == 0);
	CHECK(exchange_import(st, file, words, &summary, err, sizeof err) == -1);
	CHECK(strstr(err, ":1: record: not UTF-8 text") != NULL);

	/* An empty file imports nothing, successfully. */
	work_path(file, sizeof file, "empty.jsonl");
	CHECK(write_file(file, "\n\n", 2) == 0);
	CHECK(exchange_import(st, file, words, &summary, err, sizeof err) == 0);
	CHECK(summary.imported == 0 && summary.skipped == 0);
	store_close(st);
}

TEST(csv_is_quoted_and_neutralised)
{
	char path[512];
	store *st = open_queue("csv", path, sizeof path);
	save(st, "=HYPERLINK(\"http://evil.example\",\"click\")\nsecond line",
	     "@SUM(1+1) and \x1b[31mred\x1b[0m", "secret.person@example.org");
	save(st, "-5 degrees", "+44 phone", NULL);
	exported e = run_export(st, EXPORT_CSV, 0, NULL, NULL);
	CHECK(e.written == 2);
	static const char header[] =
		"\"id\",\"reference\",\"created_at\",\"consented_at\",\"form_name\","
		"\"form_version\",\"operator_name\",\"operator_role\",\"role\",\"title\","
		"\"username\",\"postcode\",\"email\",\"posted_by_staff\",\"services\","
		"\"service_codes\",\"status\",\"answers.good\",\"answers.different\","
		"\"answers.role\",\"answers.title\"\r\n";
	CHECK(strncmp(e.text, header, strlen(header)) == 0);
	/* Three rows end in CRLF; the newline inside a quoted answer stays LF. */
	CHECK(count_text(e.text, "\"\r\n") == 3);
	CHECK(count_text(e.text, "\n") == 4);
	CHECK(strstr(e.text, "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\n"
			     "second line\"") != NULL);
	CHECK(strstr(e.text, "\"'@SUM(1+1) and ") != NULL);
	CHECK(strstr(e.text, "\"'-5 degrees\"") != NULL);
	CHECK(strstr(e.text, "\"'+44 phone\"") != NULL);
	CHECK(strstr(e.text, "\x1b") == NULL);
	CHECK(strstr(e.text, "\"Ward 7; Day room café «un»\",\"LVH-W7; \"") != NULL);
	CHECK(strstr(e.text, "\"Sam \"\"Nurse\"\" O'Neil\"") != NULL);
	CHECK(strstr(e.text, "\"Kind \"\"staff\"\" \\ 看護\"") != NULL);
	CHECK(strstr(e.text, "\"secret.person@example.org\",\"false\"") != NULL);
	CHECK(strstr(e.text, "\"\",\"true\"") != NULL); /* staff-posted: no email */
	free(e.text);
	store_close(st);

	/* No stories: just the header. */
	st = open_queue("csv-empty", path, sizeof path);
	e = run_export(st, EXPORT_CSV, 0, NULL, NULL);
	CHECK(e.written == 0);
	CHECK(count_text(e.text, "\r\n") == 1 && strstr(e.text, "\"status\"\r\n") != NULL);
	free(e.text);
	store_close(st);
}

/* Copy text to the end of a buffer that has room left; returns bytes added. */
static size_t append(char *end, size_t room, const char *text)
{
	int n = snprintf(end, room, "%s", text);
	return n < 0 || (size_t)n >= room ? 0 : (size_t)n;
}

/* Every line of text at most width columns wide. */
static int lines_fit(const char *text, int width)
{
	const char *line = text;
	while (*line) {
		size_t len = strcspn(line, "\n");
		if (line[0] == '\f') { /* the page break before a story */
			line++;
			len--;
		}
		char *copy = strndup(line, len);
		wchar_t wide[4096];
		size_t n = mbstowcs(wide, copy, 4096);
		int cols = n == (size_t)-1 ? -1 : wcswidth(wide, n);
		free(copy);
		if (cols < 0 || cols > width) {
			printf("#   line of %d columns: %.*s\n", cols, (int)len, line);
			return 0;
		}
		line += len + (line[len] == '\n');
	}
	return 1;
}

TEST(text_is_a_safe_paper_form)
{
	char path[512];
	store *st = open_queue("text", path, sizeof path);
	char long_good[4096];
	size_t used = 0;
	for (int i = 0; i < 30; i++)
		used += append(long_good + used, sizeof long_good - used,
			       "The nurses on the ward were kind and patient. ");
	used += append(long_good + used, sizeof long_good - used, "\n\n");
	for (int i = 0; i < 60; i++) /* no spaces: must still wrap */
		used += append(long_good + used, sizeof long_good - used, "看護師");
	used += append(long_good + used, sizeof long_good - used, " https://example.org/");
	for (int i = 0; i < 20; i++)
		used += append(long_good + used, sizeof long_good - used, "a-very-long-path/");
	save(st, long_good, "Hello \x1b[31mred\x1b[0m\x07 bell", "secret.person@example.org");
	save(st, "Fine", "", NULL);
	exported e = run_export(st, EXPORT_TEXT, 0, NULL, NULL);
	CHECK(e.written == 2);
	CHECK(strchr(e.text, '\x1b') == NULL);
	CHECK(strchr(e.text, '\x07') == NULL);
	CHECK(count_text(e.text, "Story reference ") == 2);
	CHECK(count_text(e.text, "\f") == 1); /* between the stories, not before the first */
	CHECK(strncmp(e.text, "=====", 5) == 0);
	CHECK(count_text(e.text, "\nWhat was good?\n") == 2);
	CHECK(count_text(e.text, "\nWhat could have been different?\n") == 2);
	CHECK(strstr(e.text, "  (no answer)\n") != NULL);
	CHECK(strstr(e.text, "Operator: Sam \"Nurse\" O'Neil (staff)") != NULL);
	CHECK(strstr(e.text, "Service(s): Ward 7 [LVH-W7]\n"
			     "            Day room café «un» [not in the list]\n") != NULL);
	CHECK(count_text(e.text, "Who is telling it: carer\n") == 2);
	CHECK(count_text(e.text, "Title: Kind \"staff\" \\ 看護\n") == 2);
	CHECK(strstr(e.text, "Username: BlueHeron\n") != NULL);
	CHECK(strstr(e.text, "Postcode: LE1 5WW\n") != NULL);
	/* The service's postcode, for the staff-posted story. */
	CHECK(strstr(e.text, "Postcode: LE5 9QZ\n") != NULL);
	CHECK(strstr(e.text, "Email: secret.person@example.org\n") != NULL);
	CHECK(strstr(e.text, "Email: none \xE2\x80\x94 posted by staff for the patient\n") != NULL);
	CHECK(count_text(e.text, "Consent: given (statement version 1)\n") == 2);
	CHECK(strstr(e.text, "  Hello \xEF\xBF\xBD[31mred") != NULL);
	/* Title and role are answers too but already shown: not repeated. */
	CHECK(strstr(e.text, "title:") == NULL && strstr(e.text, "role:") == NULL);
	CHECK(lines_fit(e.text, 76));
	CHECK(strstr(e.text, "  The nurses on the ward") != NULL);
	CHECK(strstr(e.text, "patient.\n\n  看護師") != NULL); /* paragraphs kept */
	free(e.text);
	store_close(st);
}

TEST(mark_exported_writes_each_story_once)
{
	char path[512];
	store *st = open_queue("mark", path, sizeof path);
	fill_queue(st);
	int calls = 0;
	exported first = run_export(st, EXPORT_JSONL, 1, commit_ok, &calls);
	CHECK(first.written == 2 && calls == 1);
	CHECK(count_text(first.text, "\n") == 2);
	exported second = run_export(st, EXPORT_JSONL, 1, commit_ok, &calls);
	CHECK(second.written == 0 && calls == 2);
	CHECK(second.len == 0);
	/* Without the flag everything is exported again, and the plain export
	 * never calls back: the caller commits its own output. */
	exported all = run_export(st, EXPORT_CSV, 0, commit_ok, &calls);
	CHECK(all.written == 2 && calls == 2);
	/* A new story is the only one the next marked export writes. */
	save(st, "Later", "", "late@example.org");
	exported third = run_export(st, EXPORT_TEXT, 1, commit_ok, &calls);
	CHECK(third.written == 1 && strstr(third.text, "Later") != NULL);
	store_close(st);
	CHECK(count_rows(path, "SELECT count(*) FROM stories WHERE exported_at IS NOT NULL") == 3);
	CHECK(count_rows(path, "SELECT count(*) FROM audit"
			       " WHERE event = 'exported' AND actor = 'tester'") == 3);
	free(first.text);
	free(second.text);
	free(all.text);
	free(third.text);
}

TEST(failed_commit_marks_nothing)
{
	char path[512];
	store *st = open_queue("commit-fails", path, sizeof path);
	fill_queue(st);
	int calls = 0;
	char err[512] = "";
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	long written = exchange_export(st, EXPORT_JSONL, 1, "tester", out, commit_fails, &calls,
				       err, sizeof err);
	fclose(out);
	CHECK(written == -1 && calls == 1);
	CHECK(strstr(err, "no story was marked exported") != NULL);
	CHECK(count_rows(path, "SELECT count(*) FROM stories WHERE exported_at IS NOT NULL") == 0);
	CHECK(count_rows(path, "SELECT count(*) FROM audit WHERE event = 'exported'") == 0);
	/* The lock is released: the kiosk can save, and a retry exports both. */
	save(st, "Meanwhile", "", "m@example.org");
	exported retry = run_export(st, EXPORT_JSONL, 1, commit_ok, &calls);
	CHECK(retry.written == 3);
	free(retry.text);
	free(text);
	store_close(st);
}

TEST(withdrawn_stories_are_never_exported)
{
	char path[512];
	store *st = open_queue("withdrawn", path, sizeof path);
	fill_queue(st);
	CHECK(run_sql(path, "UPDATE stories SET status = 'withdrawn'"
			    " WHERE posted_by_staff = 1") == 0);
	const export_format formats[] = { EXPORT_JSONL, EXPORT_CSV, EXPORT_TEXT };
	for (size_t i = 0; i < 3; i++) {
		exported e = run_export(st, formats[i], 0, NULL, NULL);
		CHECK(e.written == 1);
		CHECK(strstr(e.text, "Fine") == NULL);
		free(e.text);
	}
	int calls = 0;
	exported e = run_export(st, EXPORT_JSONL, 1, commit_ok, &calls);
	CHECK(e.written == 1);
	free(e.text);
	store_close(st);
	CHECK(count_rows(path, "SELECT count(*) FROM stories WHERE status = 'withdrawn'"
			       " AND exported_at IS NOT NULL") == 0);
}

TEST(export_reports_write_errors)
{
	char path[512];
	store *st = open_queue("full", path, sizeof path);
	fill_queue(st);
	FILE *full = fopen("/dev/full", "w");
	if (full == NULL) {
		store_close(st);
		return;
	}
	char err[512] = "";
	int calls = 0;
	long written = exchange_export(st, EXPORT_CSV, 1, "tester", full, commit_ok, &calls,
				       err, sizeof err);
	fclose(full);
	CHECK(written == -1 && calls == 0);
	CHECK(strstr(err, "writing the export") != NULL);
	store_close(st);
	CHECK(count_rows(path, "SELECT count(*) FROM stories WHERE exported_at IS NOT NULL") == 0);
}

int main(void)
{
	setlocale(LC_ALL, "C.UTF-8");
	char err[512];
	guide = form_load("forms/default.form", err, sizeof err);
	words = guide ? validate_wordlists_load("data/username-blocked.txt",
						"data/username-warn.txt", err, sizeof err)
		      : NULL;
	if (guide == NULL || words == NULL || mkdtemp(workdir) == NULL) {
		printf("not ok - setup: %s\n", err);
		return 1;
	}
	RUN(format_names);
	RUN(jsonl_round_trip_is_byte_identical);
	RUN(references_match_story_reference);
	RUN(duplicates_are_skipped_and_counted);
	RUN(bom_crlf_and_blank_lines_are_tolerated);
	RUN(bad_records_import_nothing);
	RUN(sending_is_imported_as_failed);
	RUN(unreadable_and_oversized_files);
	RUN(csv_is_quoted_and_neutralised);
	RUN(text_is_a_safe_paper_form);
	RUN(mark_exported_writes_each_story_once);
	RUN(failed_commit_marks_nothing);
	RUN(withdrawn_stories_are_never_exported);
	RUN(export_reports_write_errors);
	RUN(full_queue_is_not_a_bad_record);
	RUN(import_leaves_out_stories_withdrawn_here);
	validate_wordlists_free(words);
	form_free(guide);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", workdir);
	return harness_report();
}
