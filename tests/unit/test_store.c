/* test_store.c - the queue on a real SQLite file: creation and permissions,
 * migration (a version-5 file keeps every story), atomic saves, the running
 * counts, a damaged file never written, list/show without contact details, and
 * the export record read back through SQLite's own JSON functions. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "draft.h"
#include "exchange.h"
#include "form.h"
#include "store.h"
#include "story.h"
#include "wizard.h"

static form *guide;
static char workdir[] = "/tmp/storykiosk-store-XXXXXX";

static void queue_path(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s/queue.db", workdir, name);
}

static story *make_story(const char *good, int with_email)
{
	story *s = story_new(guide, "Sam \"Nurse\"", "staff");
	wizard w;
	wizard_start(&w, guide, NULL, s);
	CHECK(wizard_set_answer(&w, (size_t)form_find_step(guide, "good"), good) == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_step(guide, "title"), "Kind staff") == 0);
	CHECK(story_set_answer(s, (size_t)form_find_step(guide, "role"), "carer") == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_type(guide, STEP_USERNAME), "BlueHeron") == 0);
	CHECK(wizard_set_answer(&w, (size_t)form_find_type(guide, STEP_POSTCODE), "le1 5ww") == 0);
	CHECK(story_add_service(s, "LVH-W7", "Ward 7", "LE5 9QZ") == 0);
	CHECK(story_add_service(s, NULL, "Day room café", "") == 0);
	if (with_email)
		CHECK(wizard_set_answer(&w, (size_t)form_find_type(guide, STEP_EMAIL),
					"secret.person@example.org") == 0);
	else
		s->no_email = 1;
	s->consent = 1;
	return s;
}

/* Everything a function printed to a FILE, as a string (caller frees). */
static char *capture(int (*fn)(store *, FILE *), store *st, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	*rc = fn(st, out);
	fclose(out);
	return text;
}

static int export_fn(store *st, FILE *out) { return store_export_jsonl(st, out); }
static int stats_fn(store *st, FILE *out) { return store_stats(st, out); }
static int list_fn(store *st, FILE *out) { return store_list(st, NULL, 0, out); }

/* What `storykiosk export` prints (withdrawn stories left out). */
static int cli_export_fn(store *st, FILE *out)
{
	char err[256];
	return exchange_export(st, EXPORT_JSONL, 0, "test", out, NULL, NULL, err, sizeof err) < 0 ? -1 : 0;
}

/* json_extract(line, path) as text, by SQLite itself (caller frees). */
static char *json_get(const char *json, const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char *value = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT json_valid(?1), json_extract(?1, ?2)", -1, &stmt, NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, json, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, path, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0)) {
			const unsigned char *text = sqlite3_column_text(stmt, 1);
			value = strdup(text ? (const char *)text : "(null)");
		}
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return value;
}

static void check_json(const char *json, const char *path, const char *want)
{
	char *got = json_get(json, path);
	CHECK_STR(got, want);
	free(got);
}

static long count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	long n = -1;
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			n = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return n;
}

TEST(open_creates_private_files)
{
	char path[512], err[512], dir[512];
	queue_path(path, sizeof path, "fresh/deeper");
	store *st = store_open(path, err, sizeof err);
	CHECK(st != NULL);
	struct stat info;
	CHECK(stat(path, &info) == 0 && (info.st_mode & 0777) == 0600);
	snprintf(dir, sizeof dir, "%s/fresh/deeper", workdir);
	CHECK(stat(dir, &info) == 0 && (info.st_mode & 0777) == 0700);
	store_close(st);
	CHECK(count_rows(path, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	CHECK(count_rows(path, "SELECT count(*) FROM stories") == 0);
	/* Opening again is harmless. */
	st = store_open(path, err, sizeof err);
	CHECK(st != NULL);
	store_close(st);
}

TEST(open_refuses_newer_schema)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "newer");
	store *st = store_open(path, err, sizeof err);
	CHECK(st != NULL);
	store_close(st);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = store_open(path, err, sizeof err);
	CHECK(st == NULL);
	CHECK(strstr(err, "newer StoryKiosk") != NULL);
	store_close(st);
}

TEST(open_reports_unusable_path)
{
	char err[512] = "";
	store *st = store_open("/proc/storykiosk-cannot/queue.db", err, sizeof err);
	CHECK(st == NULL);
	CHECK(strstr(err, "cannot") != NULL);
	char path[512];
	snprintf(path, sizeof path, "%s", workdir); /* a directory, not a file */
	st = store_open(path, err, sizeof err);
	CHECK(st == NULL);
	CHECK(err[0] != '\0');
}

TEST(save_and_export_round_trip)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "roundtrip");
	store *st = store_open(path, err, sizeof err);
	CHECK(st != NULL);
	const char *good = "Line one \"quoted\" \\ back\nZoë «ça» 看護師 \t tab";
	story *s = make_story(good, 1);
	CHECK(store_save_story(st, s) == 0);
	store_close(st);

	st = store_open(path, err, sizeof err); /* reopen: it was durable */
	int rc;
	char *out = capture(export_fn, st, &rc);
	CHECK(rc == 0);
	CHECK(out != NULL && strchr(out, '\n') == out + strlen(out) - 1); /* one line */
	check_json(out, "$.id", s->id);
	check_json(out, "$.answers.good", good);
	check_json(out, "$.title", "Kind staff");
	check_json(out, "$.role", "carer");
	check_json(out, "$.username", "BlueHeron");
	check_json(out, "$.postcode", "LE1 5WW");
	check_json(out, "$.email", "secret.person@example.org");
	check_json(out, "$.posted_by_staff", "0");
	check_json(out, "$.operator.name", "Sam \"Nurse\"");
	check_json(out, "$.operator.role", "staff");
	check_json(out, "$.form.name", "default");
	check_json(out, "$.form.version", "1");
	check_json(out, "$.consent.given", "1");
	check_json(out, "$.consent.statement_version", "1");
	check_json(out, "$.services[0].code", "LVH-W7");
	check_json(out, "$.services[1].code", "(null)");
	check_json(out, "$.services[1].name", "Day room café");
	check_json(out, "$.status", "queued");
	check_json(out, "$.created_at", s->created_at);
	check_json(out, "json_type($.services)", NULL); /* invalid path gives NULL */
	char *type = json_get(out, "$.answers");
	CHECK(type != NULL && type[0] == '{'); /* an object, not a string */
	free(type);
	free(out);
	store_close(st);
	story_free(s);
}

TEST(staff_posted_story_has_null_email)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "staff");
	store *st = store_open(path, err, sizeof err);
	story *s = make_story("Fine", 0);
	s->no_postcode = 1;
	CHECK(store_save_story(st, s) == 0);
	int rc;
	char *out = capture(export_fn, st, &rc);
	check_json(out, "$.email", "(null)");
	check_json(out, "$.posted_by_staff", "1");
	check_json(out, "$.postcode", "LE5 9QZ");
	free(out);
	long staff = -1, total = -1;
	CHECK(store_staff_posted_share(st, &staff, &total) == 0);
	CHECK(staff == 1 && total == 1);
	story_free(s);
	s = make_story("Also fine", 1);
	CHECK(store_save_story(st, s) == 0);
	CHECK(store_staff_posted_share(st, &staff, &total) == 0);
	CHECK(staff == 1 && total == 2);
	out = capture(stats_fn, st, &rc);
	CHECK(rc == 0);
	CHECK(strstr(out, "queued     2") != NULL);
	CHECK(strstr(out, "1 of 2 (50.0%)") != NULL);
	CHECK(strstr(out, "fewer than 5%") != NULL);
	free(out);
	story_free(s);
	store_close(st);
}

TEST(save_is_all_or_nothing)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "atomic");
	store *st = store_open(path, err, sizeof err);
	story *s = make_story("Once", 1);
	CHECK(store_save_story(st, s) == 0);
	/* The same story again breaks the primary key half way: nothing of the
	 * second attempt may remain. */
	CHECK(store_save_story(st, s) == -1);
	CHECK(strstr(store_error(st), "UNIQUE") != NULL);
	story *declined = make_story("Never", 1);
	declined->consent = 0;
	CHECK(store_save_story(st, declined) == -1);
	store_close(st);
	CHECK(count_rows(path, "SELECT count(*) FROM stories") == 1);
	CHECK(count_rows(path, "SELECT count(*) FROM answers") == 3);
	CHECK(count_rows(path, "SELECT count(*) FROM story_services") == 2);
	CHECK(count_rows(path, "SELECT count(*) FROM audit") == 1);
	story_free(s);
	story_free(declined);
}

/* Two stories can share a reference (40 bits of the UUID). The second is
 * saved under a new id instead of being refused at every try; its draft, kept
 * under the old id, goes with the save, and a failed save leaves the story
 * as it was, so the next try still finds and removes that draft. */
TEST(reference_collision_takes_a_new_id)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "collision");
	store *st = store_open(path, err, sizeof err);
	CHECK(st != NULL);
	story *first = make_story("First", 1);
	CHECK(store_save_story(st, first) == 0);

	story *second = make_story("Second", 1);
	CHECK(draft_save(st, second, 0) == 0);
	char draft_id[sizeof second->id];
	memcpy(draft_id, second->id, sizeof draft_id);
	memcpy(second->reference, first->reference, sizeof second->reference);

	/* A save that fails after the new id was taken gives the old one back. */
	CHECK(sqlite3_exec(store_db(st), "CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON audit"
			   " BEGIN SELECT RAISE(ABORT, 'test refuses the audit row'); END",
			   NULL, NULL, NULL) == SQLITE_OK);
	CHECK(store_save_story(st, second) == -1);
	CHECK(strstr(store_error(st), "test refuses") != NULL);
	CHECK(strcmp(second->id, draft_id) == 0);
	CHECK(strcmp(second->reference, first->reference) == 0);
	CHECK(sqlite3_exec(store_db(st), "DROP TRIGGER temp.refuse_audit", NULL, NULL, NULL) == SQLITE_OK);

	CHECK(store_save_story(st, second) == 0);
	CHECK(strcmp(second->id, draft_id) != 0);
	CHECK(strcmp(second->reference, first->reference) != 0);
	char expected[STORY_REFERENCE_SIZE];
	CHECK(story_reference(second->id, expected, sizeof expected) == 0);
	CHECK(strcmp(second->reference, expected) == 0);
	store_close(st);

	CHECK(count_rows(path, "SELECT count(*) FROM stories") == 2);
	CHECK(count_rows(path, "SELECT count(DISTINCT reference) FROM stories") == 2);
	CHECK(count_rows(path, "SELECT count(*) FROM drafts") == 0);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM stories WHERE id = '%s' AND reference = '%s'",
		 second->id, second->reference);
	CHECK(count_rows(path, sql) == 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM answers WHERE story_id = '%s'", second->id);
	CHECK(count_rows(path, sql) == 3);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE story_id = '%s'", second->id);
	CHECK(count_rows(path, sql) == 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM stories WHERE id = '%s'", draft_id);
	CHECK(count_rows(path, sql) == 0);
	story_free(first);
	story_free(second);
}

TEST(list_and_show_hide_contact_details)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "privacy");
	store *st = store_open(path, err, sizeof err);
	story *s = make_story("Hello \x1b[31mred\x1b[0m", 1);
	CHECK(store_save_story(st, s) == 0);
	int rc;
	char *out = capture(list_fn, st, &rc);
	CHECK(rc == 0);
	CHECK(strstr(out, s->id) != NULL);
	CHECK(strstr(out, "Ward 7; Day room café") != NULL);
	CHECK(strstr(out, "secret.person") == NULL && strstr(out, "LE1 5WW") == NULL);
	free(out);

	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char prefix[9];
	snprintf(prefix, sizeof prefix, "%.8s", s->id);
	CHECK(store_show(st, prefix, mem) == 0);
	fclose(mem);
	CHECK(strstr(text, s->id) != NULL);
	CHECK(strstr(text, "BlueHeron") != NULL);
	CHECK(strstr(text, "secret.person") == NULL && strstr(text, "LE1 5WW") == NULL);
	CHECK(strstr(text, "\x1b") == NULL); /* escape sequences made harmless */
	CHECK(strstr(text, "queued") != NULL);
	free(text);

	mem = open_memstream(&text, &len);
	CHECK(store_show(st, "ffffffff", mem) == 1);
	CHECK(store_show(st, "ab", mem) == 1);
	CHECK(store_show(st, "'; DROP TABLE stories; --", mem) == 1);
	fclose(mem);
	free(text);
	store_close(st);
	story_free(s);
}

TEST(list_filters_by_status)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "status");
	store *st = store_open(path, err, sizeof err);
	story *s = make_story("Fine", 1);
	CHECK(store_save_story(st, s) == 0);
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	CHECK(store_list(st, "failed", 0, mem) == 0);
	fclose(mem);
	CHECK(len == 0);
	free(text);
	story *second = make_story("Also", 1);
	CHECK(store_save_story(st, second) == 0);
	mem = open_memstream(&text, &len);
	CHECK(store_list(st, NULL, 1, mem) == 0);
	fclose(mem);
	/* One line: a first page of one (both were consented in the same second). */
	CHECK(strchr(text, '\n') != NULL && strchr(text, '\n') == text + strlen(text) - 1);
	free(text);
	story_free(second);
	store_close(st);
	story_free(s);
}


/* A whole file as a string (caller frees); NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, out);
	fclose(f);
	fclose(out);
	if (len)
		*len = size;
	return text;
}

/* The running counts agree with counting the tables themselves. */
static int counts_agree(const char *path)
{
	return count_rows(path,
		"SELECT (SELECT count(*) FROM"
		"  (SELECT status, posted_by_staff, count(*) FROM stories GROUP BY 1, 2"
		"   EXCEPT SELECT status, posted_by_staff, stories FROM story_counts WHERE stories > 0))"
		" + (SELECT count(*) FROM"
		"  (SELECT status, posted_by_staff, stories FROM story_counts WHERE stories > 0"
		"   EXCEPT SELECT status, posted_by_staff, count(*) FROM stories GROUP BY 1, 2))"
		" + (SELECT count(*) FROM"
		"  (SELECT code IS NOT NULL, coalesce(code, ''), name, count(*) FROM story_services"
		"   GROUP BY 1, 2, 3"
		"   EXCEPT SELECT coded, code, name, services FROM service_counts WHERE services > 0))"
		" + (SELECT count(*) FROM"
		"  (SELECT coded, code, name, services FROM service_counts WHERE services > 0"
		"   EXCEPT SELECT code IS NOT NULL, coalesce(code, ''), name, count(*) FROM story_services"
		"   GROUP BY 1, 2, 3))") == 0;
}

TEST(migrates_version_5_file_keeping_every_story)
{
	char path[512], err[512], dir[512];
	snprintf(dir, sizeof dir, "%s/v5", workdir);
	CHECK(mkdir(dir, 0700) == 0);
	queue_path(path, sizeof path, "v5");
	char *dump = slurp("tests/unit/fixtures/queue-v5.sql", NULL);
	char *want_export = slurp("tests/unit/fixtures/export-v5.jsonl", NULL);
	char *want_stats = slurp("tests/unit/fixtures/stats-v5.txt", NULL);
	CHECK(dump != NULL && want_export != NULL && want_stats != NULL);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, dump ? dump : "", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(count_rows(path, "PRAGMA user_version") == 5);
	long stories = count_rows(path, "SELECT count(*) FROM stories");
	long answers = count_rows(path, "SELECT count(*) FROM answers");
	long services = count_rows(path, "SELECT count(*) FROM story_services");
	long audit = count_rows(path, "SELECT count(*) FROM audit");
	CHECK(stories == 14);

	store *st = store_open(path, err, sizeof err);
	CHECK(st != NULL);
	if (st == NULL) {
		printf("# %s\n", err);
		return;
	}
	int rc;
	char *got = capture(cli_export_fn, st, &rc);
	CHECK(rc == 0);
	CHECK_STR(got, want_export);
	free(got);
	got = capture(stats_fn, st, &rc);
	CHECK(rc == 0);
	CHECK_STR(got, want_stats);
	free(got);
	draft_info info;
	CHECK(draft_find(st, NULL, &info) == 1);
	CHECK_STR(info.id, "0b9e1c6e-8f4c-4d2a-9a53-3f1e2d4c5b6a");
	size_t step = 99;
	story *s = draft_load(st, guide, info.id, &step);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(step == 3);
		CHECK_STR(story_answer_by_key(s, "good"), "Draftmarker: the night staff were kind.");
		CHECK_STR(story_answer_by_key(s, "different"), "Nothing «at all».");
		CHECK(s->n_services == 2);
		CHECK(s->no_email == 1);
		story_free(s);
	}
	store_close(st);
	CHECK(count_rows(path, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	CHECK(count_rows(path, "SELECT count(*) FROM stories") == stories);
	CHECK(count_rows(path, "SELECT count(*) FROM answers") == answers);
	CHECK(count_rows(path, "SELECT count(*) FROM story_services") == services);
	CHECK(count_rows(path, "SELECT count(*) FROM audit") == audit);
	CHECK(count_rows(path, "SELECT count(*) FROM story_findings") == 2);
	CHECK(count_rows(path, "SELECT count(*) FROM attempts") == 2);
	CHECK(count_rows(path, "SELECT count(*) FROM draft_answers") == 2);
	CHECK(count_rows(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v5'") == 0);
	CHECK(count_rows(path, "PRAGMA foreign_key_check") == -1); /* no rows: no orphans */
	CHECK(count_rows(path, "SELECT (SELECT * FROM pragma_integrity_check) = 'ok'") == 1);
	CHECK(counts_agree(path));
	free(dump);
	free(want_export);
	free(want_stats);
}

TEST(counts_follow_every_change)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "counts");
	store *st = store_open(path, err, sizeof err);
	story *a = make_story("One", 1), *b = make_story("Two", 0), *c = make_story("Three", 1);
	CHECK(store_save_story(st, a) == 0);
	CHECK(store_save_story(st, b) == 0);
	CHECK(store_save_story(st, c) == 0);
	CHECK(counts_agree(path));
	long staff = -1, total = -1;
	CHECK(store_staff_posted_share(st, &staff, &total) == 0);
	CHECK(staff == 1 && total == 3);
	/* What sync and withdraw do: status changes, a delete that cascades to
	 * the services, a service renamed. */
	sqlite3 *db = store_db(st);
	CHECK(sqlite3_exec(db, "UPDATE stories SET status = 'sending'", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE stories SET status = 'delivered' WHERE posted_by_staff = 1",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_stmt *stmt;
	CHECK(sqlite3_prepare_v2(db, "DELETE FROM stories WHERE id = ?1", -1, &stmt, NULL) == SQLITE_OK);
	sqlite3_bind_text(stmt, 1, a->id, -1, SQLITE_STATIC);
	CHECK(sqlite3_step(stmt) == SQLITE_DONE);
	sqlite3_finalize(stmt);
	CHECK(sqlite3_exec(db, "UPDATE story_services SET code = NULL WHERE code = 'LVH-W7'",
			   NULL, NULL, NULL) == SQLITE_OK);
	CHECK(counts_agree(path));
	CHECK(store_staff_posted_share(st, &staff, &total) == 0);
	CHECK(staff == 1 && total == 2);
	CHECK(sqlite3_exec(db, "UPDATE stories SET status = 'withdrawn'", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(store_staff_posted_share(st, &staff, &total) == 0);
	CHECK(staff == 0 && total == 0);
	int rc;
	char *out = capture(stats_fn, st, &rc);
	CHECK(rc == 0);
	CHECK(strstr(out, "withdrawn  2\n  total      2\n") != NULL);
	CHECK(strstr(out, "queued") == NULL);
	CHECK(strstr(out, "2  (not in the list)  Ward 7") != NULL);
	CHECK(strstr(out, "0 of 0\n") != NULL);
	free(out);
	CHECK(counts_agree(path));
	/* What a writer with the triggers off falls back on: counts taken again
	 * from the stories, whatever they said. */
	CHECK(sqlite3_exec(db, "UPDATE story_counts SET stories = 99;"
			   " INSERT INTO story_counts VALUES ('failed', 0, 5)", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(!counts_agree(path));
	CHECK(store_recount_stories(db) == SQLITE_OK);
	CHECK(counts_agree(path));
	store_close(st);
	story_free(a);
	story_free(b);
	story_free(c);
}

TEST(damaged_file_is_never_written)
{
	char path[512], err[512];
	queue_path(path, sizeof path, "damaged");
	store *st = store_open(path, err, sizeof err);
	story *s = make_story("Before the damage", 1);
	CHECK(store_save_story(st, s) == 0);
	CHECK(store_check(st) == 0); /* sound */
	store_close(st);
	story_free(s);
	long root = count_rows(path, "SELECT rootpage FROM sqlite_master WHERE name = 'stories_by_status'");
	CHECK(root > 1);
	/* Scribble over that index's page, as a failing disk might. */
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	char junk[2048];
	memset(junk, 0xde, sizeof junk);
	CHECK(fseek(f, (root - 1) * 4096, SEEK_SET) == 0 && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
	fclose(f);
	size_t before_len;
	char *before = slurp(path, &before_len);

	st = store_open(path, err, sizeof err);
	CHECK(st != NULL); /* opening reads nothing damaged */
	if (st == NULL)
		return;
	store_check_start(st);
	s = make_story("After the damage", 1);
	CHECK(store_save_story(st, s) == -1);
	CHECK_STR(store_problem(st), "The queue file is damaged.");
	CHECK(strstr(store_error(st), "damaged") != NULL);
	CHECK(draft_save(st, s, 2) == -1);
	CHECK_STR(store_problem(st), "The queue file is damaged.");
	CHECK(draft_discard(st, s->id) == -1);
	/* Nor through the handle the sync and import modules use: the commit
	 * itself is refused. */
	CHECK(sqlite3_exec(store_db(st), "INSERT INTO audit (story_id, at, event, actor)"
			   " VALUES ('x', 'now', 'test', 'test')", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_get_autocommit(store_db(st)));
	/* Nor through a second connection, as sync's applier opens one. */
	char why[256] = "";
	sqlite3 *second = store_open_writer(st, why, sizeof why);
	CHECK(second == NULL);
	CHECK(strstr(why, "damaged") != NULL);
	sqlite3_close(second);
	CHECK(store_check(st) == -1);
	store_close(st);
	size_t after_len;
	char *after = slurp(path, &after_len);
	CHECK(before != NULL && after != NULL && before_len == after_len &&
	      memcmp(before, after, before_len) == 0);
	free(before);
	free(after);
	story_free(s);
}

int main(void)
{
	setlocale(LC_ALL, "C.UTF-8");
	char err[512];
	guide = form_load("forms/default.form", err, sizeof err);
	if (guide == NULL || mkdtemp(workdir) == NULL) {
		printf("not ok - setup: %s\n", err);
		return 1;
	}
	RUN(open_creates_private_files);
	RUN(open_refuses_newer_schema);
	RUN(open_reports_unusable_path);
	RUN(save_and_export_round_trip);
	RUN(staff_posted_story_has_null_email);
	RUN(save_is_all_or_nothing);
	RUN(reference_collision_takes_a_new_id);
	RUN(list_and_show_hide_contact_details);
	RUN(list_filters_by_status);
	RUN(migrates_version_5_file_keeping_every_story);
	RUN(counts_follow_every_change);
	RUN(damaged_file_is_never_written);
	form_free(guide);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", workdir);
	return harness_report();
}
