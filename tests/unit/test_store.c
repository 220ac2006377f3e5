/* test_store.c - the queue on a real SQLite file: creation and permissions,
 * migration, atomic saves, list/show without contact details, and the export
 * record read back through SQLite's own JSON functions. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
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
	RUN(list_and_show_hide_contact_details);
	RUN(list_filters_by_status);
	form_free(guide);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", workdir);
	return harness_report();
}
