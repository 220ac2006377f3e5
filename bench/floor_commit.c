/* floor_commit.c - the floor for "consent to durable commit" in `make bench`:
 * one BEGIN IMMEDIATE; INSERT; COMMIT in WAL mode with synchronous=FULL, on
 * the same disk as the kiosk's queue. The connection is opened and warmed up
 * (one untimed transaction) first, as the kiosk's is by the time consent is
 * given; only the transaction is timed.
 *   floor_commit DB            prints "commit_us N"
 *   floor_commit DB --frames   also empties the WAL first and then prints
 *                              "floor_wal_frames N": the pages the commit wrote */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void check(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "floor_commit: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static void one(sqlite3 *db, sqlite3_stmt *insert, int n)
{
	char id[64];
	snprintf(id, sizeof id, "%lld-%d", now_us(), n);
	check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
	sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
	check(sqlite3_step(insert), db, "insert");
	sqlite3_reset(insert);
	check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
}

int main(int argc, char **argv)
{
	int frames = argc == 3 && strcmp(argv[2], "--frames") == 0;
	if (argc != 2 && !frames) {
		fputs("usage: floor_commit DB [--frames]\n", stderr);
		return 64;
	}
	sqlite3 *db;
	check(sqlite3_open(argv[1], &db), db, "open");
	check(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			   " CREATE TABLE IF NOT EXISTS stories (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
			   NULL, NULL, NULL), db, "setup");
	sqlite3_stmt *insert;
	check(sqlite3_prepare_v2(db, "INSERT INTO stories (id, body) VALUES (?1,"
				 " 'The nurses were kind. Shorter waits. Kind nurses. patient. BlueHeron.'"
				 " || ' LE1 5WW jo.bloggs@example.org Ward 7')", -1, &insert, NULL), db, "prepare");
	one(db, insert, 0);
	if (frames)
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	long long t0 = now_us();
	one(db, insert, 1);
	long long t1 = now_us();
	printf("commit_us %lld\n", t1 - t0);
	if (frames) {
		int log = -1, done = -1;
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		printf("floor_wal_frames %d\n", log);
	}
	sqlite3_finalize(insert);
	sqlite3_close(db);
	return 0;
}
