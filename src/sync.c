/* sync.c - a story's life after consent: delivery in batches (queued → sending →
 * delivered, or failed and retried with backoff), withdrawal, erasure of
 * contact details, and the queue's health. Every state change is one SQLite
 * transaction with its audit rows; the targets only send. Exactly once comes
 * from both ends: the story UUID is the key at the target, and a story is only
 * marked delivered after the target said so. */
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "exitcode.h"

#define PROGRESS_THRESHOLD 100
/* Stories in one step for a target that splits steps into batches itself:
 * few enough that the records held stay small, many enough that the
 * queue's fsyncs are few. */
#define SYNC_STEP_STORIES 500
/* The sync connection's SQLite page cache, in KiB (SQLite's default is 2000). */
#define SYNC_CACHE_KIB "1024"
#define STALE_SECONDS (24 * 3600)

/* One sync run's state: the queue, the target, and the prepared statements. */
typedef struct {
	store *st;
	sqlite3 *db;
	const config *cfg;
	const sync_target_ops *ops;
	sync_target *target;
	char target_label[512];    /* the target with any password hidden */
	int force;
	char started[32];          /* UTC time the run began: "due" is judged against it */
	sqlite3_stmt *due_stories;
	sqlite3_stmt *due_withdrawals;
	sqlite3_stmt *mark_sending;
	sqlite3_stmt *story_done;
	sqlite3_stmt *story_failed;
	sqlite3_stmt *withdrawal_done;
	sqlite3_stmt *withdrawal_failed;
	sqlite3_stmt *attempt_count;
	sqlite3_stmt *add_attempt;
	sqlite3_stmt *add_audit;
	sync_summary *summary;
	long total_due;
	long done;
	FILE *progress;
} sync_run_state;

static void utc_at(time_t when, char *out, size_t outlen)
{
	struct tm utc;
	if (gmtime_r(&when, &utc) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

static void utc_now(char *out, size_t outlen)
{
	utc_at(time(NULL), out, outlen);
}

void sync_redact_target(const char *target, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", target ? target : "");
	char *scheme = strstr(out, "://");
	if (scheme != NULL) {
		char *authority = scheme + 3;
		size_t authority_len = strcspn(authority, "/?#");
		char *at = NULL;
		for (char *p = authority; p < authority + authority_len; p++)
			if (*p == '@')
				at = p;
		char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
		if (colon != NULL) {
			char rest[1024];
			snprintf(rest, sizeof rest, "%s", at);
			snprintf(colon, outlen - (size_t)(colon - out), ":***%s", rest);
		}
		return;
	}
	/* key=value conninfo: hide the value after password= */
	char *key = strstr(out, "password");
	while (key != NULL) {
		char *p = key + strlen("password");
		while (*p == ' ')
			p++;
		if (*p == '=') {
			p++;
			while (*p == ' ')
				p++;
			char *end = p;
			if (*p == '\'') {
				for (end = p + 1; *end && *end != '\''; end++)
					if (*end == '\\' && end[1])
						end++;
				if (*end == '\'')
					end++;
			} else {
				end = p + strcspn(p, " ");
			}
			char rest[1024];
			snprintf(rest, sizeof rest, "%s", end);
			snprintf(p, outlen - (size_t)(p - out), "***%s", rest);
			key = strstr(p, "password");
		} else {
			key = strstr(p, "password");
		}
	}
}

int sync_target_has_password(const char *target)
{
	char redacted[2048];
	sync_redact_target(target, redacted, sizeof redacted);
	return strcmp(redacted, target) != 0;
}

static int prepare(sync_run_state *run, sqlite3_stmt **stmt, const char *sql)
{
	if (sqlite3_prepare_v2(run->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		store_set_error(run->st, "preparing a sync statement: %s", sqlite3_errmsg(run->db));
		return -1;
	}
	return 0;
}

static int exec_sql(sync_run_state *run, const char *sql)
{
	char *message = NULL;
	if (sqlite3_exec(run->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		store_set_error(run->st, "%s", message ? message : sqlite3_errmsg(run->db));
		sqlite3_free(message);
		return -1;
	}
	return 0;
}

static void finalize_all(sync_run_state *run)
{
	sqlite3_stmt **all[] = { &run->due_stories, &run->due_withdrawals, &run->mark_sending,
				 &run->story_done, &run->story_failed, &run->withdrawal_done,
				 &run->withdrawal_failed, &run->attempt_count, &run->add_attempt,
				 &run->add_audit };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

static int prepare_all(sync_run_state *run)
{
	char due_sql[8192];
	/* The ids are picked first, through the consent-order index, so JSON is
	 * built only for the batch, not for every due story on every batch. The
	 * unary + keeps SQLite off stories_by_status: with the IN on two statuses
	 * it would read and sort every due story for every batch. */
	snprintf(due_sql, sizeof due_sql,
		 "%s WHERE s.id IN (SELECT id FROM stories"
		 "  WHERE +status IN ('queued', 'failed')"
		 "  AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2)"
		 "  AND (consented_at, id) > (?3, ?4)"
		 "  ORDER BY consented_at, id LIMIT ?5)"
		 " ORDER BY s.consented_at, s.id",
		 store_record_select);
	if (prepare(run, &run->due_stories, due_sql) ||
	    prepare(run, &run->due_withdrawals,
		    "SELECT json_object('withdrawal', json_object('id', id, 'withdrawn_at', withdrawn_at)), id"
		    " FROM stories WHERE withdrawal_pending = 1"
		    " AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2)"
		    " AND id > ?3 ORDER BY id LIMIT ?4") ||
	    prepare(run, &run->mark_sending,
		    "UPDATE stories SET status = 'sending' WHERE id = ?1 AND status IN ('queued', 'failed')") ||
	    prepare(run, &run->story_done,
		    "UPDATE stories SET status = 'delivered', delivered_at = ?2, delivered_to = ?3,"
		    " attempt_count = attempt_count + 1, next_attempt_at = NULL"
		    " WHERE id = ?1 AND status = 'sending'") ||
	    prepare(run, &run->story_failed,
		    "UPDATE stories SET status = 'failed', attempt_count = attempt_count + 1,"
		    " next_attempt_at = ?2 WHERE id = ?1 AND status = 'sending'") ||
	    prepare(run, &run->withdrawal_done,
		    "UPDATE stories SET withdrawal_pending = 0, next_attempt_at = NULL,"
		    " attempt_count = attempt_count + 1 WHERE id = ?1") ||
	    prepare(run, &run->withdrawal_failed,
		    "UPDATE stories SET attempt_count = attempt_count + 1, next_attempt_at = ?2"
		    " WHERE id = ?1") ||
	    prepare(run, &run->attempt_count, "SELECT attempt_count FROM stories WHERE id = ?1") ||
	    prepare(run, &run->add_attempt,
		    "INSERT INTO attempts (story_id, at, target, kind, outcome, code, message)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") ||
	    prepare(run, &run->add_audit,
		    "INSERT INTO audit (story_id, at, event, actor) VALUES (?1, ?2, ?3, ?4)"))
		return -1;
	return 0;
}

/* Step a statement that returns no rows and reset it; -1 on error. */
static int step_done(sync_run_state *run, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(run->st, "updating the queue: %s", sqlite3_errmsg(run->db));
		return -1;
	}
	return 0;
}

static int audit(sync_run_state *run, const char *id, const char *at, const char *event)
{
	sqlite3_stmt *stmt = run->add_audit;
	if (sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, at, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 3, event, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 4, run->target_label, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		store_set_error(run->st, "binding: %s", sqlite3_errmsg(run->db));
		return -1;
	}
	return step_done(run, stmt);
}

/* Exponential backoff with jitter, capped: retries spread out instead of all
 * terminals hammering the central store the moment it comes back. */
static long backoff_seconds(const config *cfg, long attempts)
{
	long delay = cfg->retry_base_seconds;
	for (long i = 1; i < attempts && delay < cfg->retry_max_seconds; i++)
		delay *= 2;
	if (delay > cfg->retry_max_seconds)
		delay = cfg->retry_max_seconds;
	unsigned int noise = 0;
	if (getrandom(&noise, sizeof noise, GRND_NONBLOCK) != (ssize_t)sizeof noise)
		noise = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	long half = delay / 2;
	return half + (half > 0 ? (long)(noise % (unsigned long)(half + 1)) : 0);
}

static void free_items(sync_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].id);
		free(items[i].record);
	}
}

/* Take up to cap due stories (or withdrawals) after the keyset position. */
static long fetch_due(sync_run_state *run, int withdrawals, sync_item *items, size_t cap,
		      char *last_time, size_t last_time_len, char *last_id, size_t last_id_len)
{
	sqlite3_stmt *stmt = withdrawals ? run->due_withdrawals : run->due_stories;
	int i = 1;
	if (sqlite3_bind_int(stmt, i++, run->force) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, i++, run->started, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (!withdrawals && sqlite3_bind_text(stmt, i++, last_time, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    sqlite3_bind_text(stmt, i++, last_id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, i, (sqlite3_int64)cap) != SQLITE_OK) {
		store_set_error(run->st, "binding: %s", sqlite3_errmsg(run->db));
		sqlite3_reset(stmt);
		return -1;
	}
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *record = (const char *)sqlite3_column_text(stmt, 0);
		const char *id = (const char *)sqlite3_column_text(stmt, 1);
		if (record == NULL || id == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		memset(&items[n], 0, sizeof items[n]);
		items[n].record = strdup(record);
		items[n].id = strdup(id);
		items[n].withdrawal = withdrawals;
		items[n].outcome = SYNC_TEMPORARY;
		n++;
		if (!items[n - 1].record || !items[n - 1].id) {
			rc = SQLITE_NOMEM;
			break;
		}
		snprintf(last_id, last_id_len, "%s", id);
		if (!withdrawals) {
			const char *consented = strstr(record, "\"consented_at\":\"");
			/* The record carries consented_at; keyset on it and the id. */
			if (consented != NULL)
				snprintf(last_time, last_time_len, "%.20s", consented + strlen("\"consented_at\":\""));
		}
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(run->st, "reading due stories: %s",
				rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(run->db));
		free_items(items, n);
		return -1;
	}
	return (long)n;
}

/* Mark stories 'sending' (with a 'sent' audit row) before they leave; a story
 * withdrawn meanwhile is dropped from the batch. Runs inside the caller's
 * transaction, which must commit before any of them is sent. Returns the
 * items kept. */
static long mark_sending(sync_run_state *run, sync_item *items, size_t n, const char *now)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i].withdrawal)
			continue;
		if (sqlite3_bind_text(run->mark_sending, 1, items[i].id, -1, SQLITE_STATIC) != SQLITE_OK ||
		    step_done(run, run->mark_sending) != 0)
			return -1;
		if (sqlite3_changes(run->db) == 0) {
			free(items[i].id);
			free(items[i].record);
			items[i].id = items[i].record = NULL;
			continue;
		}
		if (audit(run, items[i].id, now, "sent") != 0)
			return -1;
	}
	/* Close the gaps only now, so that on failure every item is still freed once. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i].id != NULL)
			items[kept++] = items[i];
	for (size_t i = kept; i < n; i++)
		items[i].id = items[i].record = NULL;
	return (long)kept;
}

static const char *outcome_name(sync_outcome outcome)
{
	switch (outcome) {
	case SYNC_DELIVERED: return "delivered";
	case SYNC_ALREADY_THERE: return "already there";
	case SYNC_TEMPORARY: return "failed, will retry";
	case SYNC_REJECTED: return "rejected";
	}
	return "unknown";
}

static int record_attempt(sync_run_state *run, const sync_item *item, const char *now)
{
	sqlite3_stmt *stmt = run->add_attempt;
	if (sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 3, run->target_label, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 4, item->withdrawal ? "withdrawal" : "story", -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 5, outcome_name(item->outcome), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 6, item->code, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 7, item->message, -1, SQLITE_STATIC) != SQLITE_OK) {
		store_set_error(run->st, "binding: %s", sqlite3_errmsg(run->db));
		return -1;
	}
	return step_done(run, stmt);
}

static long attempts_so_far(sync_run_state *run, const char *id)
{
	sqlite3_stmt *stmt = run->attempt_count;
	long count = 0;
	if (sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		count = (long)sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return count;
}

/* Write what the target said about each item, inside the caller's transaction. */
static int record_outcomes(sync_run_state *run, sync_item *items, size_t n, time_t now_time,
			   const char *now)
{
	for (size_t i = 0; i < n; i++) {
		sync_item *item = &items[i];
		int taken = item->outcome == SYNC_DELIVERED || item->outcome == SYNC_ALREADY_THERE;
		if (record_attempt(run, item, now) != 0)
			return -1;
		if (taken) {
			sqlite3_stmt *stmt = item->withdrawal ? run->withdrawal_done : run->story_done;
			if (sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC) != SQLITE_OK ||
			    (!item->withdrawal &&
			     (sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
			      sqlite3_bind_text(stmt, 3, run->target_label, -1, SQLITE_STATIC) != SQLITE_OK)) ||
			    step_done(run, stmt) != 0)
				return -1;
			const char *event = item->withdrawal ? "withdrawal delivered"
				: item->outcome == SYNC_ALREADY_THERE ? "delivered (already there)" : "delivered";
			if (audit(run, item->id, now, event) != 0)
				return -1;
			if (item->outcome == SYNC_DELIVERED)
				run->summary->delivered++;
			else
				run->summary->already_there++;
		} else {
			char next[32];
			long attempts = attempts_so_far(run, item->id) + 1;
			/* Rejected items need a person to look: retry at the slowest pace. */
			long delay = item->outcome == SYNC_REJECTED ? run->cfg->retry_max_seconds
								     : backoff_seconds(run->cfg, attempts);
			utc_at(now_time + delay, next, sizeof next);
			sqlite3_stmt *stmt = item->withdrawal ? run->withdrawal_failed : run->story_failed;
			if (sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC) != SQLITE_OK ||
			    sqlite3_bind_text(stmt, 2, next, -1, SQLITE_STATIC) != SQLITE_OK ||
			    step_done(run, stmt) != 0)
				return -1;
			run->summary->failed++;
		}
	}
	return 0;
}

/* One transaction (one fsync): what the target said about the step just sent
 * (done, or NULL), and the next step (next, or NULL) marked 'sending'. Sets
 * *kept to how many of next are still to be sent. */
static int change_states(sync_run_state *run, sync_item *done, size_t ndone, sync_item *next,
			 size_t nnext, size_t *kept)
{
	if (exec_sql(run, "BEGIN IMMEDIATE") != 0)
		return -1;
	char now[32];
	time_t now_time = time(NULL);
	utc_at(now_time, now, sizeof now);
	long marked = 0;
	if ((done != NULL && record_outcomes(run, done, ndone, now_time, now) != 0) ||
	    (next != NULL && (marked = mark_sending(run, next, nnext, now)) < 0) ||
	    exec_sql(run, "COMMIT") != 0) {
		sqlite3_exec(run->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	*kept = (size_t)marked;
	return 0;
}

static void show_progress(sync_run_state *run)
{
	if (run->progress == NULL || run->total_due < PROGRESS_THRESHOLD)
		return;
	const int width = 40;
	long done = run->done > run->total_due ? run->total_due : run->done;
	int filled = (int)(done * width / (run->total_due ? run->total_due : 1));
	char bar[64];
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '.', (size_t)(width - filled));
	bar[width] = '\0';
	fprintf(run->progress, "\r[%s] %ld/%ld", bar, done, run->total_due);
	if (done >= run->total_due)
		fputc('\n', run->progress);
	fflush(run->progress);
}

static long count_due(sync_run_state *run, const char *sql)
{
	sqlite3_stmt *stmt;
	long count = -1;
	if (prepare(run, &stmt, sql) != 0)
		return -1;
	if (sqlite3_bind_int(stmt, 1, run->force) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, run->started, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return -1;
	}
	if (sqlite3_step(stmt) == SQLITE_ROW)
		count = (long)sqlite3_column_int64(stmt, 0);
	else
		store_set_error(run->st, "counting: %s", sqlite3_errmsg(run->db));
	sqlite3_finalize(stmt);
	return count;
}

/* How many items one step takes: a step's state changes are one local
 * transaction each way. A target that can take many batches at once (start)
 * gets steps of several batches, each still its own transaction there. */
static size_t step_size(const sync_run_state *run)
{
	size_t batch = (size_t)run->cfg->batch_size;
	if (run->target != NULL && run->ops->start != NULL && batch < SYNC_STEP_STORIES)
		return SYNC_STEP_STORIES;
	return batch;
}

/* Send everything due of one kind, a step at a time. While the target works
 * on one step, the next is read from the queue; once the target has answered,
 * one transaction records the answers and marks the next step 'sending'.
 * Returns 0, or -1 when the queue could not be read or updated. */
static int deliver_all(sync_run_state *run, int withdrawals, sync_run_status *status,
		       char *err, size_t errlen)
{
	size_t cap = step_size(run);
	sync_item *items = calloc(cap, sizeof *items), *next = calloc(cap, sizeof *next);
	if (items == NULL || next == NULL) {
		free(items);
		free(next);
		store_set_error(run->st, "out of memory");
		return -1;
	}
	char last_time[32] = "", last_id[64] = "";
	size_t n = 0, nnext = 0;
	int rc = 0;
	int overlap = run->target != NULL && run->ops->start != NULL;
	long got = fetch_due(run, withdrawals, items, cap, last_time, sizeof last_time, last_id,
			     sizeof last_id);
	if (got < 0) {
		rc = -1;
	} else if (got > 0 && change_states(run, NULL, 0, items, (size_t)got, &n) != 0) {
		free_items(items, (size_t)got);
		rc = -1;
	}
	while (rc == 0 && got > 0) {
		/* got: how many were fetched, n: how many of them are 'sending'. */
		if (overlap && n > 0)
			run->ops->start(run->target, items, n);
		/* The next step is read while the target is busy with this one. */
		long got_next = 0;
		if (overlap) {
			got_next = fetch_due(run, withdrawals, next, cap, last_time, sizeof last_time,
					     last_id, sizeof last_id);
			if (got_next < 0)
				rc = -1;
		}
		if (run->target != NULL) {
			if (n > 0)
				*status = run->ops->send(run->target, items, n, err, errlen);
		} else {
			/* The target could not be reached at all: each due story still gets
			 * its attempt on record, and its backoff. */
			for (size_t i = 0; i < n; i++)
				snprintf(items[i].message, sizeof items[i].message, "%s", err);
		}
		if (!overlap && rc == 0 && *status == SYNC_RUN_GO_ON) {
			got_next = fetch_due(run, withdrawals, next, cap, last_time, sizeof last_time,
					     last_id, sizeof last_id);
			if (got_next < 0)
				rc = -1;
		}
		if (rc != 0 || *status != SYNC_RUN_GO_ON) {
			/* Only what was sent is recorded; the next step was never marked. */
			free_items(next, got_next > 0 ? (size_t)got_next : 0);
			got_next = 0;
		}
		nnext = 0;
		if (change_states(run, items, n, got_next > 0 ? next : NULL,
				  got_next > 0 ? (size_t)got_next : 0, &nnext) != 0) {
			free_items(next, got_next > 0 ? (size_t)got_next : 0);
			rc = -1;
		}
		free_items(items, n);
		run->done += got;
		show_progress(run);
		sync_item *swap = items;
		items = next;
		next = swap;
		got = got_next;
		n = nnext;
	}
	free(items);
	free(next);
	return rc;
}

/* One sync at a time per queue: a second one waits for nothing and says so. */
static int take_lock(const char *queue_path, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.sync-lock", queue_path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the sync lock %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "another sync of this queue is running; this one did nothing "
			 "(try again when it has finished)");
		close(fd);
		return -2;
	}
	return fd;
}

static void finish_run_row(sync_run_state *run, sqlite3_int64 run_id)
{
	sqlite3_stmt *stmt;
	char now[32];
	utc_now(now, sizeof now);
	if (prepare(run, &stmt, "UPDATE sync_runs SET finished_at = ?2, delivered = ?3, already_there = ?4,"
			       " failed = ?5, left_over = ?6 WHERE id = ?1") != 0)
		return;
	sqlite3_bind_int64(stmt, 1, run_id);
	sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, run->summary->delivered);
	sqlite3_bind_int64(stmt, 4, run->summary->already_there);
	sqlite3_bind_int64(stmt, 5, run->summary->failed);
	sqlite3_bind_int64(stmt, 6, run->summary->left);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		store_set_error(run->st, "recording the sync run: %s", sqlite3_errmsg(run->db));
	sqlite3_finalize(stmt);
}

static sqlite3_int64 start_run_row(sync_run_state *run)
{
	sqlite3_stmt *stmt;
	if (prepare(run, &stmt, "INSERT INTO sync_runs (started_at, target) VALUES (?1, ?2)") != 0)
		return -1;
	sqlite3_int64 id = -1;
	if (sqlite3_bind_text(stmt, 1, run->started, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(stmt, 2, run->target_label, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(run->db);
	else
		store_set_error(run->st, "recording the sync run: %s", sqlite3_errmsg(run->db));
	sqlite3_finalize(stmt);
	return id;
}

long sync_count_left(store *st)
{
	sqlite3_stmt *stmt;
	long left = -1;
	if (sqlite3_prepare_v2(store_db(st),
			       "SELECT (SELECT count(*) FROM stories WHERE status IN ('queued', 'failed', 'sending'))"
			       " + (SELECT count(*) FROM stories WHERE withdrawal_pending = 1)",
			       -1, &stmt, NULL) != SQLITE_OK) {
		store_set_error(st, "counting: %s", sqlite3_errmsg(store_db(st)));
		return -1;
	}
	if (sqlite3_step(stmt) == SQLITE_ROW)
		left = (long)sqlite3_column_int64(stmt, 0);
	else
		store_set_error(st, "counting: %s", sqlite3_errmsg(store_db(st)));
	sqlite3_finalize(stmt);
	return left;
}

int sync_run(store *st, const config *cfg, int force, FILE *progress,
	     sync_summary *summary, char *err, size_t errlen)
{
	memset(summary, 0, sizeof *summary);
	/* Until the run says otherwise, everything waiting is left. */
	summary->left = sync_count_left(st);
	const sync_target_ops *ops = sync_target_for(cfg->target);
	if (ops == NULL) {
		snprintf(err, errlen, cfg->target ? "the target is neither an https:// URL nor a PostgreSQL "
						    "connection string" :
						    "no target: give one (storykiosk sync URL) or set target "
						    "in storykiosk.conf");
		return EXIT_CONFIG;
	}
	if (sync_target_has_password(cfg->target)) {
		snprintf(err, errlen, "the target holds a password; put the password in a file of mode "
			 "0600 and name it with credentials_file in storykiosk.conf");
		return EXIT_CONFIG;
	}
	int lock = take_lock(store_path(st), err, errlen);
	if (lock < 0)
		return lock == -2 ? EXIT_TEMPFAIL : EXIT_CANTCREAT;

	sync_run_state run = { .st = st, .db = store_db(st), .cfg = cfg, .ops = ops, .force = force,
			       .summary = summary, .progress = progress };
	sync_redact_target(cfg->target, run.target_label, sizeof run.target_label);
	utc_now(run.started, sizeof run.started);
	int status = EXIT_OK;
	sync_run_status run_status = SYNC_RUN_GO_ON;
	sqlite3_int64 run_id = -1;

	/* A story left 'sending' by a run that died may or may not have arrived:
	 * send it again; the target's UUID key makes the second copy harmless. */
	/* The run reads each story once, in order: a small page cache does, and
	 * keeps the sync's memory flat however long the queue. */
	if (exec_sql(&run, "PRAGMA cache_size = -" SYNC_CACHE_KIB) != 0 ||
	    exec_sql(&run, "UPDATE stories SET status = 'queued' WHERE status = 'sending'") != 0 ||
	    prepare_all(&run) != 0 || (run_id = start_run_row(&run)) < 0)
		goto queue_error;
	run.total_due = count_due(&run,
		"SELECT (SELECT count(*) FROM stories WHERE status IN ('queued', 'failed')"
		"  AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2))"
		" + (SELECT count(*) FROM stories WHERE withdrawal_pending = 1"
		"  AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2))");
	if (run.total_due < 0)
		goto queue_error;

	if (run.total_due > 0) {
		run.target = ops->open(cfg, &run_status, err, errlen);
		if (run.target != NULL) {
			if (deliver_all(&run, 0, &run_status, err, errlen) != 0 ||
			    (run_status == SYNC_RUN_GO_ON &&
			     deliver_all(&run, 1, &run_status, err, errlen) != 0)) {
				ops->close(run.target);
				goto queue_error;
			}
			ops->close(run.target);
		} else if (run_status == SYNC_RUN_UNREACHABLE) {
			/* deliver_all with no target records a failed attempt for each. */
			sync_run_status record_only = SYNC_RUN_GO_ON;
			if (deliver_all(&run, 0, &record_only, err, errlen) != 0 ||
			    deliver_all(&run, 1, &record_only, err, errlen) != 0)
				goto queue_error;
		}
		if (run_status == SYNC_RUN_CONFIG_ERROR)
			status = EXIT_CONFIG;
	}
	if (sync_erase_contact_details(st, cfg->retention_seconds) < 0)
		goto queue_error;
	summary->left = sync_count_left(st);
	if (summary->left < 0)
		goto queue_error;
	if (status == EXIT_OK && summary->left > 0)
		status = EXIT_TEMPFAIL;
	finish_run_row(&run, run_id);
	finalize_all(&run);
	close(lock);
	return status;

queue_error:
	snprintf(err, errlen, "the queue could not be updated: %s", store_error(st));
	finalize_all(&run);
	close(lock);
	return EXIT_IOERR;
}

long sync_erase_contact_details(store *st, long retention_seconds)
{
	sqlite3 *db = store_db(st);
	char now[32], cutoff[32];
	time_t now_time = time(NULL);
	utc_at(now_time, now, sizeof now);
	utc_at(now_time - retention_seconds, cutoff, sizeof cutoff);
	sqlite3_stmt *pick = NULL, *erase = NULL, *add_audit = NULL;
	long erased = 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		store_set_error(st, "starting erasure: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT id FROM stories WHERE contact_erased_at IS NULL"
			       " AND delivered_at IS NOT NULL AND delivered_at <= ?1"
			       " AND (email IS NOT NULL OR postcode IS NOT NULL)", -1, &pick, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE stories SET email = NULL, postcode = NULL, contact_erased_at = ?2"
			       " WHERE id = ?1", -1, &erase, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO audit (story_id, at, event, actor)"
			       " VALUES (?1, ?2, 'contact details erased', 'retention')", -1, &add_audit,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_text(pick, 1, cutoff, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	int rc;
	while ((rc = sqlite3_step(pick)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(pick, 0);
		if (sqlite3_bind_text(erase, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(erase, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(erase) != SQLITE_DONE ||
		    sqlite3_bind_text(add_audit, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(add_audit, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(add_audit) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(erase);
		sqlite3_reset(add_audit);
		erased++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(pick);
	sqlite3_finalize(erase);
	sqlite3_finalize(add_audit);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_set_error(st, "finishing erasure: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/* secure_delete zeroes the old values in the file, but the WAL still holds
	 * the pages as they were: fold it back and truncate it. A busy reader only
	 * delays this to the next run. */
	if (erased > 0)
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return erased;
fail:
	store_set_error(st, "erasing contact details: %s", sqlite3_errmsg(db));
	sqlite3_finalize(pick);
	sqlite3_finalize(erase);
	sqlite3_finalize(add_audit);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int sync_withdraw(store *st, const char *which, const char *actor, char *said, size_t saidlen)
{
	char id[64];
	int found = store_resolve(st, which, id, sizeof id);
	if (found != 0)
		return found;
	sqlite3 *db = store_db(st);
	char now[32];
	utc_now(now, sizeof now);
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT status, reference FROM stories WHERE id = ?1", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		goto fail;
	char status[16], reference[16];
	snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(stmt, 0));
	snprintf(reference, sizeof reference, "%s", (const char *)sqlite3_column_text(stmt, 1));
	sqlite3_finalize(stmt);
	stmt = NULL;

	const char *change_sql, *event;
	if (strcmp(status, "sending") == 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		store_set_error(st, "story %s is being delivered right now; withdraw it again in a "
				"minute, when the sync has finished", reference);
		return 1;
	} else if (strcmp(status, "withdrawn") == 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(said, saidlen, "Story %s was already withdrawn.", reference);
		return 0;
	} else if (strcmp(status, "delivered") == 0) {
		change_sql = "UPDATE stories SET status = 'withdrawn', withdrawn_at = ?2,"
			     " withdrawal_pending = 1, next_attempt_at = NULL, email = NULL, postcode = NULL,"
			     " contact_erased_at = coalesce(contact_erased_at, ?2) WHERE id = ?1";
		event = "withdrawn";
		snprintf(said, saidlen, "Story %s is withdrawn. It had been delivered, so the central "
			 "store will be told at the next sync.", reference);
	} else {
		/* Never delivered: nothing of it needs to stay. */
		change_sql = "DELETE FROM stories WHERE id = ?1 AND ?2 IS NOT NULL";
		event = "withdrawn (removed before delivery)";
		snprintf(said, saidlen, "Story %s is withdrawn and removed from the queue; it had not "
			 "been delivered.", reference);
	}
	if (sqlite3_prepare_v2(db, change_sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (strcmp(status, "delivered") != 0) {
		if (sqlite3_prepare_v2(db, "DELETE FROM attempts WHERE story_id = ?1", -1, &stmt, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(stmt);
		stmt = NULL;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO audit (story_id, at, event, actor) VALUES (?1, ?2, ?3, ?4)",
			       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 3, event, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 4, actor, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		stmt = NULL;
		goto fail;
	}
	/* Push the removed words out of the WAL too. */
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return 0;
fail:
	store_set_error(st, "withdrawing the story: %s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void describe_age(long seconds, char *out, size_t outlen)
{
	if (seconds < 3600)
		snprintf(out, outlen, "%ld minute%s", seconds / 60, seconds / 60 == 1 ? "" : "s");
	else if (seconds < 2 * 86400)
		snprintf(out, outlen, "%ld hour%s", seconds / 3600, seconds / 3600 == 1 ? "" : "s");
	else
		snprintf(out, outlen, "%ld days", seconds / 86400);
}

int sync_status(store *st, FILE *out)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt = NULL;
	static const char *const states[] = { "queued", "sending", "failed", "delivered", "withdrawn" };
	fprintf(out, "Queue %s\n", store_path(st));
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM stories WHERE status = ?1", -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		if (sqlite3_bind_text(stmt, 1, states[i], -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_ROW)
			goto fail;
		fprintf(out, "  %-10s %lld\n", states[i], (long long)sqlite3_column_int64(stmt, 0));
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM stories WHERE withdrawal_pending = 1", -1, &stmt,
			       NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
		goto fail;
	fprintf(out, "  withdrawals waiting to be sent: %lld\n", (long long)sqlite3_column_int64(stmt, 0));
	sqlite3_finalize(stmt);

	if (sqlite3_prepare_v2(db, "SELECT min(consented_at), CAST(strftime('%s', 'now') AS INTEGER)"
			       " - CAST(strftime('%s', min(consented_at)) AS INTEGER)"
			       " FROM stories WHERE status IN ('queued', 'sending', 'failed')", -1, &stmt,
			       NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
		goto fail;
	int stale = 0;
	if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
		fputs("Oldest undelivered story: none waiting\n", out);
	} else {
		long age = (long)sqlite3_column_int64(stmt, 1);
		char age_text[64];
		describe_age(age, age_text, sizeof age_text);
		fprintf(out, "Oldest undelivered story: waiting %s (consented %s)\n", age_text,
			(const char *)sqlite3_column_text(stmt, 0));
		stale = age > STALE_SECONDS;
	}
	sqlite3_finalize(stmt);

	if (sqlite3_prepare_v2(db, "SELECT finished_at, target, delivered FROM sync_runs"
			       " WHERE finished_at IS NOT NULL AND left_over = 0 ORDER BY id DESC LIMIT 1",
			       -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		fprintf(out, "Last complete sync: %s to %s (%lld delivered)\n",
			(const char *)sqlite3_column_text(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
			(long long)sqlite3_column_int64(stmt, 2));
	else if (rc == SQLITE_DONE)
		fputs("Last complete sync: never\n", out);
	else
		goto fail;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (stale)
		fputs("WARNING: stories have waited more than 24 hours. Check the network and run "
		      "'storykiosk sync', or hand them over with 'storykiosk export --mark-exported'.\n",
		      out);
	return fflush(out) == 0 ? 0 : -1;
fail:
	store_set_error(st, "reading the queue: %s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	return -1;
}
