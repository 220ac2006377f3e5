/* sync.c - a story's life after consent: delivery (queued → sending →
 * delivered, or failed and retried with backoff), withdrawal, erasure of
 * contact details, and the queue's health. The queue changes state in chunks:
 * one transaction marks a chunk of due stories 'sending' (committed before any
 * of them leaves), the chunk is read and sent a step at a time with each
 * answer noted in memory, and a later transaction records the answers with
 * their audit and attempt rows. In a long run the queue has two connections,
 * the lanes: while the chunk marked on one is sent, a thread records the
 * chunk before on the other and marks the next there. The targets only send.
 * Exactly once comes from both ends: the story UUID is the key at the target,
 * and a story is only marked delivered after the target said so; answers lost
 * in a crash leave the stories 'sending', sent again by the next run and
 * found already there. */
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "exitcode.h"

#define PROGRESS_THRESHOLD 100
/* A chunk, for a target that can start a step and finish it later: stories
 * marked 'sending' in one transaction, and whose answers are recorded in one.
 * In a pipelined run (SYNC_PIPELINE_STORIES), a third of what is due, so that
 * a chunk is sent while the one before is recorded and the next is marked;
 * at most SYNC_CHUNK_STORIES (or one step, if more). A chunk is one stretch
 * of the stories table, but its entries in the indexes (by status and
 * consent time; audit and attempts by story id) are spread through them, and
 * each transaction rewrites every index page it touches: fewer and larger
 * chunks cost less. Syncing 100,000 stories to a local PostgreSQL took 13.3 s
 * in chunks of 3,334, 11.3 s in chunks of 5,000 and 9.4 s in chunks of
 * 10,000; the bound is the memory the answers wait in (about 110 bytes a
 * story, two chunks' worth: 17.3, 18.1 and 19.7 MB at the peak) and the
 * stories a killed run leaves maybe delivered. A target without start gets
 * chunks of one step, batch_size stories, as it sends them one by one. */
#define SYNC_CHUNK_STORIES 10000
/* From this many due, the run is pipelined, on two lanes: one chunk is sent
 * while a thread, on the other connection, records the chunk before and marks
 * the next. Below it, one lane, in the run's own thread: a second connection
 * and a thread cost about what the overlap saves. Medians of 7 to 9
 * alternating runs to a local PostgreSQL on 2 cores, one lane against two:
 * 1,000 stories 115 against 109 ms; 2,000: 188 against 184; 4,000: 344
 * against 313; 10,000: 851 against 740. */
#define SYNC_PIPELINE_STORIES 2000
/* The first lane's SQLite page cache, in KiB (SQLite's default is 2000). */
#define SYNC_CACHE_KIB "1024"
/* The second lane's page cache and its TEMP tables', in KiB: smaller, since
 * it writes each page of a chunk's stories once. With 1024 for both, syncing
 * 100,000 stories peaked 1.5 MB higher and was no faster. */
#define LANE_CACHE_KIB "512"
#define LANE_TEMP_CACHE_KIB "256"
#define STALE_SECONDS (24 * 3600)

/* What is delivered: stories, or withdrawals of delivered stories. */
enum sync_kind { KIND_STORIES, KIND_WITHDRAWALS, KIND_COUNT };

/* What the target said of one item, kept until a lane records it. */
typedef struct {
	char *id;
	sqlite3_int64 rid;             /* the story's rowid (stories only) */
	time_t sent;                   /* when its step was sent */
	time_t next_attempt;           /* when to try again; 0 when taken */
	char code[16];
	char *message;                 /* NULL when the target said nothing */
	unsigned char outcome;         /* a sync_outcome */
	unsigned char has_contact;     /* it held contact details when picked */
	unsigned char staff;           /* posted_by_staff, for the counts by state */
	unsigned char maybe_stored;
	unsigned char not_sent;        /* the target stopped before it left the terminal */
} sync_answer;

typedef struct {
	sync_answer *rows;
	size_t n, cap;
} answer_list;

/* A lane: a connection to the queue with the statements a chunk needs, to
 * pick it and mark it 'sending' (temp.sync_chunk), to read it, and to record
 * its answers (temp.sync_answers). A run long enough to pipeline has two:
 * while the run sends the chunk picked on one, a thread records the chunk
 * before on the other and picks the next there (lane_turn). Each turn is one
 * transaction, so the queue still has one writer at a time. */
typedef struct {
	sqlite3 *db;
	int own_db;                /* opened for the lane (else the store's connection) */
	sqlite3_stmt *pick[KIND_COUNT];       /* fill temp.sync_chunk after the keyset */
	sqlite3_stmt *read[KIND_COUNT];       /* records of a step of the chunk */
	sqlite3_stmt *mark_sending;
	sqlite3_stmt *chunk_leave;     /* the chunk's stories leave their counts... */
	sqlite3_stmt *chunk_enter;     /* ...and join 'sending' */
	sqlite3_stmt *chunk_last;
	sqlite3_stmt *restore_unsent;
	sqlite3_stmt *clear_chunk;
	sqlite3_stmt *insert;
	sqlite3_stmt *add_attempts;
	sqlite3_stmt *add_audit;
	sqlite3_stmt *taken[KIND_COUNT];      /* the items the target took */
	sqlite3_stmt *not_taken[KIND_COUNT];  /* the items tried and not taken */
	sqlite3_stmt *remove_withdrawn;
	sqlite3_stmt *remove_attempts;
	sqlite3_stmt *answers_leave;   /* answered stories leave 'sending'... */
	sqlite3_stmt *answers_enter;   /* ...for their new state */
	sqlite3_stmt *clear_answers;
	int has_chunk;             /* temp.sync_chunk holds a chunk, its stories marked */
	sqlite3_int64 sent_upto;   /* the chunk's last item tried (a seq) */
	answer_list work;          /* the answers of the chunk read from this lane */
	long taken_count;          /* of which the target took */
	char error[512];
} sync_lane;

/* One sync run's state: the queue, the target, and the lanes. */
typedef struct {
	store *st;
	sqlite3 *db;
	const config *cfg;
	const sync_target_ops *ops;
	sync_target *target;
	char target_label[512];    /* the target with any password hidden */
	int force;
	int erase_at_delivery;     /* retention 0: contact details go with the 'delivered' mark */
	char started[32];          /* UTC time the run began: "due" is judged against it */
	sync_lane lanes[2];        /* the second only in a pipelined run */
	answer_list answers;       /* the answers of the chunk being sent */
	sqlite3_int64 sent_upto;   /* the chunk's last item tried (a seq) */
	sqlite3_int64 last_rid;    /* the keyset: the last chunk's last story (rowid)... */
	char last_id[64];          /* ...or withdrawal (id) */
	long erased;               /* contact details erased at delivery */
	long removed;              /* withdrawn stories removed once done */
	int pipelined;             /* enough is due for a second lane to work beside the sends */
	int in_transaction;        /* a transaction is open on db (rolled back on error) */
	sync_summary *summary;
	long total_due;
	long done;
	FILE *progress;
} sync_run_state;

/* One turn of a lane, in a thread of its own while the run sends. */
typedef struct {
	sync_run_state *run;
	sync_lane *lane;
	enum sync_kind kind;
	size_t pick_cap;           /* pick up to this many next; 0: none */
	long picked;               /* out: how many, or -1 with lane->error */
	pthread_t thread;
	int running;
} lane_job;

/* One step's items and what sync.c keeps beside each: its place in the chunk
 * and how often it was tried before (for the backoff). */
typedef struct {
	sync_item *items;
	sqlite3_int64 *seq;
	long *attempts;
	sqlite3_int64 *rid;
	int *has_contact;
	int *staff;
	size_t n;
} sync_step;

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

/* The value of a top-level "key":"value" pair in a record as SQLite's
 * json_object writes it (no spaces), into out; "" when absent or escaped. */
static void record_field(const char *record, const char *key, char *out, size_t outlen)
{
	char pattern[32];
	out[0] = '\0';
	snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
	const char *start = strstr(record, pattern);
	if (start == NULL)
		return;
	start += strlen(pattern);
	size_t len = strcspn(start, "\"\\");
	if (start[len] != '"' || len == 0 || len >= outlen)
		return;
	memcpy(out, start, len);
	out[len] = '\0';
}

/* Replace every case-insensitive occurrence of value in text with mark. */
static void redact_value(char *text, size_t textlen, const char *value, const char *mark)
{
	size_t vlen = strlen(value), mlen = strlen(mark);
	if (vlen < 3)
		return;
	for (char *at = text; *at != '\0';) {
		if (strncasecmp(at, value, vlen) != 0) {
			at++;
			continue;
		}
		size_t used = (size_t)(at - text), tail = strlen(at + vlen);
		if (used + mlen + 1 > textlen) {
			*at = '\0';
			return;
		}
		if (used + mlen + tail + 1 > textlen)
			tail = textlen - used - mlen - 1;
		memmove(at + mlen, at + vlen, tail);
		memcpy(at, mark, mlen);
		at[mlen + tail] = '\0';
		at += mlen;
	}
}

void sync_redact_contact(char *text, size_t textlen, const char *record)
{
	if (record != NULL) {
		char value[256];
		record_field(record, "email", value, sizeof value);
		redact_value(text, textlen, value, "[email]");
		record_field(record, "postcode", value, sizeof value);
		redact_value(text, textlen, value, "[postcode]");
	}
	for (char *at = strchr(text, '@'); at != NULL; at = strchr(at, '@')) {
		char *start = at, *end = at;
		while (start > text && start[-1] != ' ' && start[-1] != '"' && start[-1] != '<' &&
		       start[-1] != '>' && start[-1] != '\'' && start[-1] != ':' && start[-1] != '=')
			start--;
		while (*end != '\0' && *end != ' ' && *end != '"' && *end != '<' && *end != '>' &&
		       *end != '\'' && *end != ',')
			end++;
		static const char mark[] = "[email]";
		size_t tail = strlen(end);
		if ((size_t)(end - start) >= sizeof mark - 1) {
			memcpy(start, mark, sizeof mark - 1);
			memmove(start + sizeof mark - 1, end, tail + 1);
			at = start + sizeof mark - 1;
		} else {
			/* Too short to hold the mark: blank it in place. */
			memset(start, '?', (size_t)(end - start));
			at = end;
		}
	}
}

static int prepare(sync_run_state *run, sqlite3_stmt **stmt, const char *sql)
{
	if (sqlite3_prepare_v2(run->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		store_set_error(run->st, "preparing a sync statement: %s", sqlite3_errmsg(run->db));
		return -1;
	}
	return 0;
}


/* The chunk being delivered: each item in the order it is sent, and the
 * status it had before it was marked 'sending'. TEMP: a crash loses it, and
 * the next run, finding the stories still 'sending', sends them again; the
 * target keeps one copy of each. */
static const char chunk_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS sync_chunk ("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL,"
	" rid INTEGER,"                /* the story's rowid: the updates find it without the id index */
	" was TEXT NOT NULL,"          /* status before 'sending' (withdrawals: unchanged) */
	" has_contact INTEGER,"        /* it held an email or postcode not yet erased when picked */
	" staff INTEGER);"             /* posted_by_staff, for the counts by state */
	"DELETE FROM temp.sync_chunk";

/* A lane's copy of the answers it records. */
static const char answers_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS sync_answers ("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL,"
	" rid INTEGER,"
	" has_contact INTEGER,"
	" staff INTEGER,"
	" sent_at TEXT,"               /* when its step was sent; NULL: it never left */
	" outcome TEXT NOT NULL,"      /* as recorded in attempts */
	" taken INTEGER NOT NULL,"     /* 1 delivered or already there */
	" event TEXT,"                 /* the audit event when taken */
	" code TEXT,"
	" message TEXT,"
	" next_attempt_at TEXT,"
	" maybe_stored INTEGER);"      /* 1: it left the terminal and no answer said what became of it */
	"DELETE FROM temp.sync_answers";

/* The read of a step of the chunk: the export record (store_record_select)
 * with the status the story had before this run marked it 'sending', then its
 * id, status, place in the chunk and attempts so far. The record a target
 * gets is the one export gives, whatever the queue's state while it is sent.
 * NULL when store_record_select no longer has the shape this relies on. */
static char *read_stories_sql(void)
{
	static const char status[] = "'status', s.status", was[] = "'status', c.was",
			  from[] = " FROM stories s",
			  rest[] = ", c.seq, s.attempt_count, 0, c.rid, c.has_contact,"
				   " s.posted_by_staff FROM stories s"
				   " JOIN temp.sync_chunk c ON s.rowid = c.rid"
				   " WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2";
	const char *select = store_record_select;
	size_t len = strlen(select);
	const char *at = strstr(select, status);
	if (at == NULL || strstr(at + 1, status) != NULL || len < strlen(from) ||
	    strcmp(select + len - strlen(from), from) != 0)
		return NULL;
	size_t head = (size_t)(at - select), tail = len - strlen(from) - head - strlen(status);
	char *sql = malloc(head + strlen(was) + tail + strlen(rest) + 1);
	if (sql == NULL)
		return NULL;
	memcpy(sql, select, head);
	memcpy(sql + head, was, strlen(was));
	memcpy(sql + head + strlen(was), at + strlen(status), tail);
	strcpy(sql + head + strlen(was) + tail, rest);
	return sql;
}

static int lane_prepare(sync_lane *lane, sqlite3_stmt **stmt, const char *sql)
{
	if (sqlite3_prepare_v2(lane->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "preparing a sync statement: %s",
			 sqlite3_errmsg(lane->db));
		return -1;
	}
	return 0;
}

/* Step a lane's statement that returns no rows and reset it; -1 on error. */
static int lane_step(sync_lane *lane, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		snprintf(lane->error, sizeof lane->error, "updating the queue: %s",
			 sqlite3_errmsg(lane->db));
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int lane_bind(sync_lane *lane, sqlite3_stmt *stmt, int i, const char *text)
{
	if (sqlite3_bind_text(stmt, i, text, -1, SQLITE_STATIC) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "binding: %s", sqlite3_errmsg(lane->db));
		return -1;
	}
	return 0;
}

/* On the lane's connection: its TEMP tables and its statements. 0, or -1
 * with lane->error. */
static int lane_prepare_all(sync_lane *lane)
{
	if (sqlite3_exec(lane->db, chunk_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(lane->db, answers_sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "setting up the sync: %s",
			 sqlite3_errmsg(lane->db));
		return -1;
	}
	char *read_stories = read_stories_sql();
	if (read_stories == NULL) {
		snprintf(lane->error, sizeof lane->error,
			 "store_record_select is not of the shape sync reads");
		return -1;
	}
	int rc = lane_prepare(lane, &lane->read[KIND_STORIES], read_stories);
	free(read_stories);
	if (rc != 0)
		return -1;
	if (lane_prepare(lane, &lane->pick[KIND_STORIES],
		    /* In the order the stories reached the queue (rowid): the
		     * kiosk adds each at consent, so oldest first, and an
		     * imported batch after them. A chunk is then one stretch of
		     * the file, whatever its stories' consent times: marking
		     * and recording it rewrites only the pages it is on. The
		     * unary + keeps SQLite on the rowid range. */
		    "INSERT INTO temp.sync_chunk (id, rid, was, has_contact, staff)"
		    " SELECT id, rowid, status, contact_erased_at IS NULL"
		    " AND (email IS NOT NULL OR postcode IS NOT NULL), posted_by_staff FROM stories"
		    " WHERE +status IN ('queued', 'failed')"
		    " AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2)"
		    " AND rowid > ?3 ORDER BY rowid LIMIT ?5") ||
	    lane_prepare(lane, &lane->pick[KIND_WITHDRAWALS],
		    "INSERT INTO temp.sync_chunk (id, rid, was)"
		    " SELECT id, rowid, status FROM stories WHERE withdrawal_pending > 0"
		    " AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2)"
		    " AND id > ?4 ORDER BY id LIMIT ?5") ||
	    lane_prepare(lane, &lane->read[KIND_WITHDRAWALS],
		    "SELECT json_object('withdrawal', json_object('id', s.id, 'withdrawn_at', s.withdrawn_at)),"
		    " s.id, s.status, c.seq, s.attempt_count, s.withdrawal_pending = 2, c.rid, 0,"
		    " s.posted_by_staff"
		    " FROM temp.sync_chunk c JOIN stories s ON s.rowid = c.rid"
		    " WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2") ||
	    lane_prepare(lane, &lane->mark_sending,
		    "UPDATE stories SET status = 'sending'"
		    " WHERE rowid IN (SELECT rid FROM temp.sync_chunk)") ||
	    lane_prepare(lane, &lane->chunk_leave,
		    "UPDATE story_counts SET stories = stories - d.n"
		    " FROM (SELECT was, staff, count(*) AS n FROM temp.sync_chunk GROUP BY was, staff) AS d"
		    " WHERE story_counts.status = d.was AND story_counts.posted_by_staff = d.staff") ||
	    lane_prepare(lane, &lane->chunk_enter,
		    "INSERT INTO story_counts (status, posted_by_staff, stories)"
		    " SELECT 'sending', staff, count(*) FROM temp.sync_chunk WHERE true GROUP BY staff"
		    " ON CONFLICT (status, posted_by_staff) DO UPDATE SET stories = stories + excluded.stories") ||
	    lane_prepare(lane, &lane->chunk_last,
		    "SELECT rid, id FROM temp.sync_chunk ORDER BY seq DESC LIMIT 1") ||
	    /* Marked and never handed to the target (the run stopped): as they were. */
	    lane_prepare(lane, &lane->restore_unsent,
		    "UPDATE stories SET status = c.was FROM temp.sync_chunk c"
		    " WHERE c.rid = stories.rowid AND c.seq > ?1 AND stories.status = 'sending'") ||
	    lane_prepare(lane, &lane->clear_chunk, "DELETE FROM temp.sync_chunk") ||
	    lane_prepare(lane, &lane->insert,
		    "INSERT INTO temp.sync_answers (id, rid, has_contact, sent_at, outcome, taken, event,"
		    " code, message, next_attempt_at, maybe_stored, staff)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)") ||
	    /* The audit and attempt rows go in in story id order: their
	     * story_id indexes are then filled leaf by leaf, not at random.
	     * A story's audit rows (sent, delivered, contact details erased)
	     * go in together, so that each index page is written once. */
	    lane_prepare(lane, &lane->add_attempts,
		    "INSERT INTO attempts (story_id, at, target, kind, outcome, code, message)"
		    " SELECT id, ?1, ?2, ?3, outcome, code, message FROM temp.sync_answers ORDER BY id") ||
	    lane_prepare(lane, &lane->add_audit,
		    "INSERT INTO audit (story_id, at, event, actor)"
		    " SELECT id, at, event, actor FROM ("
		    "  SELECT id, 0 AS k, sent_at AS at, 'sent' AS event, ?1 AS actor"
		    "  FROM temp.sync_answers WHERE ?3 AND sent_at IS NOT NULL"
		    "  UNION ALL SELECT id, 1, ?2, event, ?1 FROM temp.sync_answers WHERE taken = 1"
		    "  UNION ALL SELECT id, 2, ?2, 'contact details erased', 'retention'"
		    "  FROM temp.sync_answers WHERE ?4 AND taken = 1 AND has_contact)"
		    " ORDER BY id, k") ||
	    lane_prepare(lane, &lane->taken[KIND_STORIES],
		    "UPDATE stories SET status = 'delivered', delivered_at = ?1, delivered_to = ?2,"
		    " attempt_count = attempt_count + 1, next_attempt_at = NULL,"
		    " contact_erased_at = CASE WHEN ?3 AND contact_erased_at IS NULL"
		    "  AND (email IS NOT NULL OR postcode IS NOT NULL) THEN ?1 ELSE contact_erased_at END,"
		    " email = CASE WHEN ?3 THEN NULL ELSE email END,"
		    " postcode = CASE WHEN ?3 THEN NULL ELSE postcode END"
		    " WHERE status = 'sending' AND rowid IN (SELECT rid FROM temp.sync_answers WHERE taken = 1)") ||
	    lane_prepare(lane, &lane->not_taken[KIND_STORIES],
		    "UPDATE stories SET status = 'failed', attempt_count = attempt_count + 1,"
		    " next_attempt_at = c.next_attempt_at,"
		    " maybe_delivered = CASE WHEN c.maybe_stored THEN 1 ELSE maybe_delivered END"
		    " FROM temp.sync_answers c"
		    " WHERE c.rid = stories.rowid AND c.taken = 0 AND stories.status = 'sending'") ||
	    lane_prepare(lane, &lane->taken[KIND_WITHDRAWALS],
		    "UPDATE stories SET withdrawal_pending = 0, next_attempt_at = NULL,"
		    " attempt_count = attempt_count + 1"
		    " WHERE rowid IN (SELECT rid FROM temp.sync_answers WHERE taken = 1)") ||
	    /* A story withdrawn while it was only maybe delivered (pending 2),
	     * now withdrawn at the target or known never to have reached it:
	     * nothing of it needs to stay, as when a story is withdrawn before
	     * any sync had it. */
	    lane_prepare(lane, &lane->remove_withdrawn,
		    "DELETE FROM stories WHERE status = 'withdrawn' AND withdrawal_pending = 2"
		    " AND rowid IN (SELECT rid FROM temp.sync_answers WHERE taken = 1)") ||
	    lane_prepare(lane, &lane->remove_attempts,
		    "DELETE FROM attempts WHERE story_id IN (SELECT c.id FROM temp.sync_answers c"
		    " WHERE c.taken = 1 AND NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = c.id))") ||
	    lane_prepare(lane, &lane->not_taken[KIND_WITHDRAWALS],
		    "UPDATE stories SET attempt_count = attempt_count + 1,"
		    " next_attempt_at = c.next_attempt_at FROM temp.sync_answers c"
		    " WHERE c.rid = stories.rowid AND c.taken = 0") ||
	    lane_prepare(lane, &lane->answers_leave,
		    "UPDATE story_counts SET stories = stories - d.n"
		    " FROM (SELECT staff, count(*) AS n FROM temp.sync_answers WHERE taken = ?1"
		    "  GROUP BY staff) AS d"
		    " WHERE story_counts.status = 'sending' AND story_counts.posted_by_staff = d.staff") ||
	    lane_prepare(lane, &lane->answers_enter,
		    "INSERT INTO story_counts (status, posted_by_staff, stories)"
		    " SELECT ?2, staff, count(*) FROM temp.sync_answers WHERE taken = ?1 GROUP BY staff"
		    " ON CONFLICT (status, posted_by_staff) DO UPDATE SET stories = stories + excluded.stories") ||
	    lane_prepare(lane, &lane->clear_answers, "DELETE FROM temp.sync_answers"))
		return -1;
	return 0;
}

/* Turn db's triggers off (0) or back on (1). Statements prepared before are
 * prepared again when next run, as the setting then says. */
static int set_triggers(sqlite3 *db, int on)
{
	int now = -1;
	return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, &now) == SQLITE_OK &&
	       now == on ? 0 : -1;
}

/* Inside the caller's transaction on db: run change, a bulk change of
 * expected stories' status, with the triggers off, so the counts by state
 * (story_counts) move in the few set-based statements of moves instead of
 * two statements a story. Should the change touch other than the expected
 * rows, the counts are taken again from the stories. SQLITE_OK or an error
 * code, with db's message. */
static int counted_change(sqlite3 *db, sqlite3_stmt *change, long expected,
			  sqlite3_stmt *const *moves, size_t nmoves)
{
	if (set_triggers(db, 0) != 0)
		return SQLITE_ERROR;
	int rc = sqlite3_step(change);
	long changed = sqlite3_changes(db);
	sqlite3_reset(change);
	if (set_triggers(db, 1) != 0 && rc == SQLITE_DONE)
		rc = SQLITE_ERROR;
	if (rc != SQLITE_DONE)
		return rc;
	if (changed != expected)
		return store_recount_stories(db);
	for (size_t i = 0; i < nmoves; i++) {
		rc = sqlite3_step(moves[i]);
		sqlite3_reset(moves[i]);
		if (rc != SQLITE_DONE)
			return rc;
	}
	return SQLITE_OK;
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
		store_set_error(run->st, "binding: %s", sqlite3_errmsg(run->db));
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

static void free_step(sync_step *step)
{
	for (size_t i = 0; i < step->n; i++) {
		free(step->items[i].id);
		free(step->items[i].record);
		step->items[i].id = step->items[i].record = NULL;
	}
	step->n = 0;
}

/* Read the next up to cap items of the chunk, after *after (a seq), into
 * step. Returns how many, or -1. */
static long read_step(sync_run_state *run, sync_lane *lane, enum sync_kind kind, sync_step *step,
		      size_t cap, sqlite3_int64 *after)
{
	sqlite3_stmt *stmt = lane->read[kind];
	step->n = 0;
	if (sqlite3_bind_int64(stmt, 1, *after) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)cap) != SQLITE_OK) {
		store_set_error(run->st, "binding: %s", sqlite3_errmsg(lane->db));
		sqlite3_reset(stmt);
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *record = (const char *)sqlite3_column_text(stmt, 0);
		const char *id = (const char *)sqlite3_column_text(stmt, 1);
		if (record == NULL || id == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		sync_item *item = &step->items[step->n];
		memset(item, 0, sizeof *item);
		item->record = strdup(record);
		item->id = strdup(id);
		item->withdrawal = kind == KIND_WITHDRAWALS;
		item->never_delivered = item->withdrawal && sqlite3_column_int(stmt, 5) != 0;
		item->outcome = SYNC_TEMPORARY;
		step->seq[step->n] = sqlite3_column_int64(stmt, 3);
		step->attempts[step->n] = (long)sqlite3_column_int64(stmt, 4);
		step->rid[step->n] = sqlite3_column_int64(stmt, 6);
		step->has_contact[step->n] = sqlite3_column_int(stmt, 7);
		step->staff[step->n] = sqlite3_column_int(stmt, 8);
		*after = step->seq[step->n];
		step->n++;
		if (item->record == NULL || item->id == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(run->st, "reading due stories: %s",
				rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(lane->db));
		free_step(step);
		return -1;
	}
	return (long)step->n;
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

/* Items in one step: one batch. A target that can start a batch and finish it
 * later (start) is sent one while the next is read from the queue. */
static size_t step_size(const sync_run_state *run)
{
	return (size_t)run->cfg->batch_size;
}

/* Items in one chunk: for a target that takes many at once, all that is due
 * or, pipelined, a third of it, within SYNC_CHUNK_STORIES; for one that sends item by item, one step,
 * so its answers are kept as often as before. */
static size_t chunk_size(const sync_run_state *run)
{
	size_t step = step_size(run);
	if (run->target == NULL || run->ops->start == NULL)
		return step;
	if (!run->pipelined)
		return step > SYNC_CHUNK_STORIES ? step : SYNC_CHUNK_STORIES;
	size_t third = run->total_due > 1 ? ((size_t)run->total_due + 2) / 3 : 1;
	size_t chunk = third < SYNC_CHUNK_STORIES ? third : SYNC_CHUNK_STORIES;
	return chunk > step ? chunk : step;
}

/* Empty the list and give back its room. */
static void answers_free(answer_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->rows[i].id);
		free(list->rows[i].message);
	}
	free(list->rows);
	memset(list, 0, sizeof *list);
}

/* Note what the target said about each item of a step (in memory: nothing
 * durable changes here), and count it. 0, or -1 out of memory. */
static int note_answers(sync_run_state *run, const sync_step *step, time_t sent)
{
	answer_list *list = &run->answers;
	time_t now_time = time(NULL);
	if (list->n + step->n > list->cap) {
		/* A chunk's worth at once: a list doubled past it would hold a
		 * chunk's memory again, unused. */
		size_t cap = list->cap ? list->cap * 2 : chunk_size(run);
		while (cap < list->n + step->n)
			cap *= 2;
		sync_answer *rows = realloc(list->rows, cap * sizeof *rows);
		if (rows == NULL) {
			store_set_error(run->st, "out of memory");
			return -1;
		}
		list->rows = rows;
		list->cap = cap;
	}
	for (size_t i = 0; i < step->n; i++) {
		const sync_item *item = &step->items[i];
		int taken = item->outcome == SYNC_DELIVERED || item->outcome == SYNC_ALREADY_THERE;
		if (item->outcome == SYNC_DELIVERED)
			run->summary->delivered++;
		else if (item->outcome == SYNC_ALREADY_THERE)
			run->summary->already_there++;
		else
			run->summary->failed++;
		sync_answer *answer = &list->rows[list->n];
		memset(answer, 0, sizeof *answer);
		answer->id = strdup(item->id);
		answer->message = item->message[0] ? strdup(item->message) : NULL;
		if (answer->id == NULL || (item->message[0] && answer->message == NULL)) {
			free(answer->id);
			free(answer->message);
			store_set_error(run->st, "out of memory");
			return -1;
		}
		list->n++;
		answer->rid = step->rid[i];
		answer->has_contact = step->has_contact[i] != 0;
		answer->staff = step->staff[i] != 0;
		answer->outcome = (unsigned char)item->outcome;
		answer->sent = sent;
		snprintf(answer->code, sizeof answer->code, "%s", item->code);
		if (!taken) {
			/* Rejected items need a person to look: retry at the slowest pace. */
			long delay = item->outcome == SYNC_REJECTED
				? run->cfg->retry_max_seconds
				: backoff_seconds(run->cfg, step->attempts[i] + 1);
			answer->next_attempt = now_time + delay;
		}
		answer->maybe_stored = run->target != NULL && !item->withdrawal && !taken &&
				       item->maybe_stored;
		answer->not_sent = !taken && item->not_sent;
	}
	return 0;
}

/* ---- The lanes ---- */

static void lane_close(sync_lane *lane)
{
	sqlite3_stmt **all[] = {
		&lane->pick[KIND_STORIES], &lane->pick[KIND_WITHDRAWALS], &lane->read[KIND_STORIES],
		&lane->read[KIND_WITHDRAWALS], &lane->mark_sending, &lane->chunk_leave,
		&lane->chunk_enter, &lane->chunk_last, &lane->restore_unsent, &lane->clear_chunk,
		&lane->insert, &lane->add_attempts, &lane->add_audit,
		&lane->taken[KIND_STORIES], &lane->taken[KIND_WITHDRAWALS],
		&lane->not_taken[KIND_STORIES], &lane->not_taken[KIND_WITHDRAWALS],
		&lane->remove_withdrawn, &lane->remove_attempts, &lane->answers_leave,
		&lane->answers_enter, &lane->clear_answers };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	if (lane->db != NULL)
		(void)sqlite3_exec(lane->db, "DROP TABLE IF EXISTS temp.sync_chunk;"
				   " DROP TABLE IF EXISTS temp.sync_answers", NULL, NULL, NULL);
	if (lane->own_db)
		sqlite3_close(lane->db);
	lane->db = NULL;
	lane->own_db = 0;
	answers_free(&lane->work);
}

/* Open the second lane's connection, with caches smaller than the run's: it
 * writes each page of a chunk's stories once. 0, or -1 with lane->error (and
 * the lane closed again). */
static int lane_open(sync_run_state *run, sync_lane *lane)
{
	lane->db = store_open_writer(run->st, lane->error, sizeof lane->error);
	if (lane->db == NULL)
		return -1;
	lane->own_db = 1;
	if (sqlite3_exec(lane->db, "PRAGMA cache_size = -" LANE_CACHE_KIB "; PRAGMA temp_store = FILE;"
			 " PRAGMA temp.cache_size = -" LANE_TEMP_CACHE_KIB, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "setting up the sync: %s",
			 sqlite3_errmsg(lane->db));
		lane_close(lane);
		return -1;
	}
	if (lane_prepare_all(lane) != 0) {
		lane_close(lane);
		return -1;
	}
	return 0;
}

/* Inside the lane's transaction: change the status of the stories the
 * target took (taken 1) or did not (0) from 'sending' to status, with the
 * counts by state moved once for them all (counted_change). 0 or -1. */
static int lane_counted(sync_lane *lane, sqlite3_stmt *change, int taken, const char *status)
{
	long expected = taken ? lane->taken_count : (long)lane->work.n - lane->taken_count;
	sqlite3_stmt *const moves[] = { lane->answers_leave, lane->answers_enter };
	if (sqlite3_bind_int(lane->answers_leave, 1, taken) != SQLITE_OK ||
	    sqlite3_bind_int(lane->answers_enter, 1, taken) != SQLITE_OK ||
	    lane_bind(lane, lane->answers_enter, 2, status) != 0)
		return -1;
	if (counted_change(lane->db, change, expected, moves, 2) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "updating the queue: %s",
			 sqlite3_errmsg(lane->db));
		return -1;
	}
	return 0;
}

/* Copy the chunk's answers into the lane's TEMP table, in the caller's
 * transaction. 0 or -1. */
static int lane_load(sync_lane *lane, enum sync_kind kind)
{
	sqlite3_stmt *stmt = lane->insert;
	lane->taken_count = 0;
	/* A step's answers share one sent time: formatted once for them all. */
	time_t sent_formatted = (time_t)-1;
	char sent_at[32] = "", next_attempt_at[32] = "";
	for (size_t i = 0; i < lane->work.n; i++) {
		const sync_answer *answer = &lane->work.rows[i];
		int taken = answer->outcome == SYNC_DELIVERED || answer->outcome == SYNC_ALREADY_THERE;
		if (!answer->not_sent && answer->sent != sent_formatted) {
			utc_at(answer->sent, sent_at, sizeof sent_at);
			sent_formatted = answer->sent;
		}
		if (!taken)
			utc_at(answer->next_attempt, next_attempt_at, sizeof next_attempt_at);
		lane->taken_count += taken;
		const char *event = kind == KIND_WITHDRAWALS ? "withdrawal delivered"
			: answer->outcome == SYNC_ALREADY_THERE ? "delivered (already there)" : "delivered";
		if (lane_bind(lane, stmt, 1, answer->id) != 0 ||
		    sqlite3_bind_int64(stmt, 2, answer->rid) != SQLITE_OK ||
		    sqlite3_bind_int(stmt, 3, answer->has_contact) != SQLITE_OK ||
		    (!answer->not_sent &&
		     sqlite3_bind_text(stmt, 4, sent_at, -1, SQLITE_TRANSIENT) != SQLITE_OK) ||
		    lane_bind(lane, stmt, 5, outcome_name(answer->outcome)) != 0 ||
		    sqlite3_bind_int(stmt, 6, taken) != SQLITE_OK ||
		    (taken && lane_bind(lane, stmt, 7, event) != 0) ||
		    lane_bind(lane, stmt, 8, answer->code) != 0 ||
		    lane_bind(lane, stmt, 9, answer->message ? answer->message : "") != 0 ||
		    (!taken && sqlite3_bind_text(stmt, 10, next_attempt_at, -1, SQLITE_TRANSIENT) != SQLITE_OK) ||
		    sqlite3_bind_int(stmt, 11, answer->maybe_stored) != SQLITE_OK ||
		    sqlite3_bind_int(stmt, 12, answer->staff) != SQLITE_OK ||
		    lane_step(lane, stmt) != 0)
			return -1;
	}
	return 0;
}

/* Inside the lane's transaction: record the answers in lane->work, each
 * item's new state with its attempt row and audit rows. 0 or -1. */
static int lane_record(sync_run_state *run, sync_lane *lane, enum sync_kind kind)
{
	char now[32];
	utc_now(now, sizeof now);
	const char *kind_name = kind == KIND_WITHDRAWALS ? "withdrawal" : "story";
	/* Contact details go with the 'delivered' mark (retention 0), and the
	 * audit says so, before the update that erases them. */
	int erasing = kind == KIND_STORIES && run->erase_at_delivery;
	if (lane_load(lane, kind) != 0 ||
	    lane_bind(lane, lane->add_attempts, 1, now) != 0 ||
	    lane_bind(lane, lane->add_attempts, 2, run->target_label) != 0 ||
	    lane_bind(lane, lane->add_attempts, 3, kind_name) != 0 ||
	    lane_step(lane, lane->add_attempts) != 0 ||
	    /* Only what left the terminal was sent: an item that never left (the
	     * run stopped first, or never reached the target) has its attempt,
	     * not a "sent" (sent_at NULL). */
	    lane_bind(lane, lane->add_audit, 1, run->target_label) != 0 ||
	    lane_bind(lane, lane->add_audit, 2, now) != 0 ||
	    sqlite3_bind_int(lane->add_audit, 3, kind == KIND_STORIES) != SQLITE_OK ||
	    sqlite3_bind_int(lane->add_audit, 4, erasing) != SQLITE_OK ||
	    lane_step(lane, lane->add_audit) != 0)
		return -1;
	if (erasing) {
		for (size_t i = 0; i < lane->work.n; i++) {
			const sync_answer *answer = &lane->work.rows[i];
			run->erased += answer->has_contact && (answer->outcome == SYNC_DELIVERED ||
							       answer->outcome == SYNC_ALREADY_THERE);
		}
	}
	if (kind == KIND_WITHDRAWALS) {
		if (lane_step(lane, lane->remove_withdrawn) != 0)
			return -1;
		run->removed += sqlite3_changes(lane->db);
		if (lane_step(lane, lane->remove_attempts) != 0)
			return -1;
	}
	int withdrawals = kind == KIND_WITHDRAWALS;
	sqlite3_stmt *taken = lane->taken[withdrawals];
	if (!withdrawals) {
		if (lane_bind(lane, taken, 1, now) != 0 ||
		    lane_bind(lane, taken, 2, run->target_label) != 0 ||
		    sqlite3_bind_int(taken, 3, run->erase_at_delivery) != SQLITE_OK ||
		    lane_counted(lane, taken, 1, "delivered") != 0 ||
		    lane_counted(lane, lane->not_taken[KIND_STORIES], 0, "failed") != 0)
			return -1;
	} else if (lane_step(lane, taken) != 0 ||
		   lane_step(lane, lane->not_taken[KIND_WITHDRAWALS]) != 0) {
		return -1;
	}
	return lane_step(lane, lane->clear_answers);
}

/* Inside the lane's transaction: its chunk's stories marked and never sent
 * (the run stopped early) go back to how they were, and the chunk is emptied. */
static int lane_end_chunk(sync_lane *lane, enum sync_kind kind)
{
	if (kind == KIND_STORIES &&
	    (sqlite3_bind_int64(lane->restore_unsent, 1, lane->sent_upto) != SQLITE_OK ||
	     lane_step(lane, lane->restore_unsent) != 0))
		return -1;
	if (lane_step(lane, lane->clear_chunk) != 0)
		return -1;
	lane->has_chunk = 0;
	return 0;
}

/* Inside the lane's transaction: the next chunk of due items after the run's
 * keyset, marked 'sending' when they are stories, and the keyset moved past
 * it. Returns how many, or -1. */
static long lane_pick(sync_run_state *run, sync_lane *lane, enum sync_kind kind, size_t cap)
{
	sqlite3_stmt *stmt = lane->pick[kind];
	if (sqlite3_bind_int(stmt, 1, run->force) != SQLITE_OK ||
	    lane_bind(lane, stmt, 2, run->started) != 0 ||
	    sqlite3_bind_int64(stmt, 3, run->last_rid) != SQLITE_OK ||
	    lane_bind(lane, stmt, 4, run->last_id) != 0 ||
	    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)cap) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "binding: %s", sqlite3_errmsg(lane->db));
		sqlite3_clear_bindings(stmt);
		return -1;
	}
	if (lane_step(lane, stmt) != 0)
		return -1;
	long picked = (long)sqlite3_changes(lane->db);
	if (picked == 0)
		return 0;
	lane->has_chunk = 1;
	lane->sent_upto = 0;
	sqlite3_stmt *const moves[] = { lane->chunk_leave, lane->chunk_enter };
	if (kind == KIND_STORIES &&
	    counted_change(lane->db, lane->mark_sending, picked, moves, 2) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "marking stories 'sending': %s",
			 sqlite3_errmsg(lane->db));
		return -1;
	}
	stmt = lane->chunk_last;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		snprintf(lane->error, sizeof lane->error, "reading the chunk: %s",
			 sqlite3_errmsg(lane->db));
		sqlite3_reset(stmt);
		return -1;
	}
	run->last_rid = sqlite3_column_int64(stmt, 0);
	/* The keyset must be exact: a cut id would pick the same items again. */
	const char *last_id = (const char *)sqlite3_column_text(stmt, 1);
	if (last_id == NULL || (size_t)snprintf(run->last_id, sizeof run->last_id, "%s", last_id) >=
				       sizeof run->last_id) {
		snprintf(lane->error, sizeof lane->error, "an id in the queue is too long to page by");
		sqlite3_reset(stmt);
		return -1;
	}
	sqlite3_reset(stmt);
	return picked;
}

/* One turn of a lane, in one transaction: record the answers of the chunk
 * last read from it, end that chunk, and pick the next (up to pick_cap; none
 * when 0). The run's first transaction, if still open, is this lane's first.
 * Returns how many were picked, or -1 with lane->error (nothing of the turn
 * is kept: the stories stay 'sending', sent again by the next run). */
static long lane_turn(sync_run_state *run, sync_lane *lane, enum sync_kind kind, size_t pick_cap)
{
	int first = lane->db == run->db && run->in_transaction;
	lane->error[0] = '\0';
	if (!first && sqlite3_exec(lane->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(lane->error, sizeof lane->error, "updating the queue: %s",
			 sqlite3_errmsg(lane->db));
		return -1;
	}
	if (first)
		run->in_transaction = 0;
	long picked = 0;
	if ((lane->work.n > 0 && lane_record(run, lane, kind) != 0) ||
	    (lane->has_chunk && lane_end_chunk(lane, kind) != 0) ||
	    (pick_cap > 0 && (picked = lane_pick(run, lane, kind, pick_cap)) < 0))
		goto fail;
	if (sqlite3_exec(lane->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	/* Freed, not kept for the next chunk: only two lists need the room. */
	answers_free(&lane->work);
	return picked;
fail:
	/* A failed COMMIT, or bind of a number, says nothing of its own. */
	if (lane->error[0] == '\0')
		snprintf(lane->error, sizeof lane->error, "updating the queue: %s",
			 sqlite3_errmsg(lane->db));
	(void)sqlite3_exec(lane->db, "ROLLBACK", NULL, NULL, NULL);
	/* Its stories stay 'sending', for the next run; its answers are lost. */
	lane->has_chunk = 0;
	answers_free(&lane->work);
	return -1;
}

static void *lane_job_main(void *context)
{
	lane_job *job = context;
	if (job->lane->db == NULL && lane_open(job->run, job->lane) != 0)
		job->picked = -1;
	else
		job->picked = lane_turn(job->run, job->lane, job->kind, job->pick_cap);
	return NULL;
}

/* Start a turn of the lane in a thread of its own (or here, when no thread
 * can be had). */
static void lane_job_start(lane_job *job, sync_run_state *run, sync_lane *lane,
			   enum sync_kind kind, size_t pick_cap)
{
	*job = (lane_job){ .run = run, .lane = lane, .kind = kind, .pick_cap = pick_cap };
	if (sqlite3_threadsafe() != 0 && pthread_create(&job->thread, NULL, lane_job_main, job) == 0)
		job->running = 1;
	else
		(void)lane_job_main(job);
}

/* Wait for the turn started by lane_job_start. Returns how many it picked, or
 * -1 with the error in the lane. */
static long lane_job_wait(lane_job *job)
{
	if (job->running) {
		int rc = pthread_join(job->thread, NULL);
		job->running = 0;
		if (rc != 0) {
			snprintf(job->lane->error, sizeof job->lane->error,
				 "waiting for the queue's writer: %s", strerror(rc));
			return -1;
		}
	}
	return job->picked;
}

static int step_alloc(sync_step *step, size_t cap)
{
	step->items = calloc(cap, sizeof *step->items);
	step->seq = calloc(cap, sizeof *step->seq);
	step->attempts = calloc(cap, sizeof *step->attempts);
	step->rid = calloc(cap, sizeof *step->rid);
	step->has_contact = calloc(cap, sizeof *step->has_contact);
	step->staff = calloc(cap, sizeof *step->staff);
	step->n = 0;
	return step->items && step->seq && step->attempts && step->rid && step->has_contact &&
	       step->staff ? 0 : -1;
}

static void step_free(sync_step *step)
{
	free_step(step);
	free(step->items);
	free(step->seq);
	free(step->attempts);
	free(step->rid);
	free(step->has_contact);
	free(step->staff);
}

/* Send the chunk (marked and committed) a step at a time, noting each answer.
 * While the target works on one step, the next is read from the queue. Stops
 * early when the target says so (*status). 0, or -1 when the queue could not
 * be read. */
static int send_chunk(sync_run_state *run, sync_lane *lane, enum sync_kind kind, sync_step *step,
		      sync_step *next, size_t cap, sync_run_status *status, char *err,
		      size_t errlen)
{
	int overlap = run->target != NULL && run->ops->start != NULL;
	sqlite3_int64 after = 0;
	if (read_step(run, lane, kind, step, cap, &after) < 0)
		return -1;
	while (step->n > 0) {
		time_t sent = time(NULL);
		/* From here the step may reach the target: whatever becomes of its
		 * answers, it is never put back as unsent (lane_end_chunk). */
		run->sent_upto = step->seq[step->n - 1];
		if (overlap)
			run->ops->start(run->target, step->items, step->n);
		next->n = 0;
		if (overlap && read_step(run, lane, kind, next, cap, &after) < 0) {
			/* The started step must still be collected before the target is
			 * used again or closed, and what it said kept. */
			*status = run->ops->send(run->target, step->items, step->n, err, errlen);
			(void)note_answers(run, step, sent);
			free_step(step);
			return -1;
		}
		if (run->target != NULL) {
			*status = run->ops->send(run->target, step->items, step->n, err, errlen);
		} else {
			/* The target could not be reached at all: each due item still
			 * gets its attempt on record, and its backoff, but no "sent". */
			for (size_t i = 0; i < step->n; i++) {
				step->items[i].not_sent = 1;
				snprintf(step->items[i].message, sizeof step->items[i].message, "%s", err);
			}
		}
		int rc = note_answers(run, step, sent);
		run->done += (long)step->n;
		show_progress(run);
		free_step(step);
		if (rc != 0 || *status != SYNC_RUN_GO_ON) {
			free_step(next);
			return rc;
		}
		if (!overlap && read_step(run, lane, kind, next, cap, &after) < 0)
			return -1;
		sync_step swap = *step;
		*step = *next;
		*next = swap;
	}
	return 0;
}

/* The answers noted while the lane's chunk was sent become the lane's, to be
 * recorded at its next turn. */
static void hand_answers(sync_run_state *run, sync_lane *lane)
{
	answer_list emptied = lane->work;
	lane->work = run->answers;
	run->answers = emptied;
	lane->sent_upto = run->sent_upto;
}

/* Deliver everything due of one kind, a chunk at a time. A lane's turn marks
 * a chunk 'sending' and commits before any of it is sent. In a pipelined run,
 * while the chunk picked on one lane is sent, the other lane's turn records
 * the chunk sent before and picks the next one; the lanes then change
 * places. 0, or -1 when the queue could not be read or updated: stories that
 * may have reached the target stay 'sending', for the next run. */
static int deliver_kind(sync_run_state *run, enum sync_kind kind, sync_run_status *status,
			char *err, size_t errlen)
{
	size_t cap = step_size(run), chunk = chunk_size(run);
	int lanes = run->pipelined ? 2 : 1;
	sync_step step = { 0 }, next = { 0 };
	int rc = 0;
	long picked = 0;
	run->last_rid = 0;
	run->last_id[0] = '\0';
	sync_lane *sending = &run->lanes[0];
	if (step_alloc(&step, cap) != 0 || step_alloc(&next, cap) != 0) {
		store_set_error(run->st, "out of memory");
		rc = -1;
	} else if ((picked = lane_turn(run, sending, kind,
				       *status == SYNC_RUN_GO_ON ? chunk : 0)) < 0) {
		/* After the target said stop, the turn only ends the run's first
		 * transaction: nothing more is picked or sent. */
		store_set_error(run->st, "%s", sending->error);
		rc = -1;
	}
	while (rc == 0 && picked > 0) {
		sync_lane *other = lanes == 2 ? &run->lanes[sending == &run->lanes[0]] : sending;
		lane_job job = { .picked = 0 };
		if (other != sending)
			lane_job_start(&job, run, other, kind, chunk);
		run->sent_upto = 0;
		rc = send_chunk(run, sending, kind, &step, &next, cap, status, err, errlen);
		long next_picked = other != sending ? lane_job_wait(&job) : 0;
		hand_answers(run, sending);
		if (next_picked < 0) {
			/* The first error is the one said. */
			if (rc == 0)
				store_set_error(run->st, "%s", other->error);
			rc = -1;
		}
		if (rc != 0 || *status != SYNC_RUN_GO_ON)
			break;
		if (other == sending && (next_picked = lane_turn(run, sending, kind, chunk)) < 0) {
			store_set_error(run->st, "%s", sending->error);
			rc = -1;
			break;
		}
		sending = other;
		picked = next_picked;
	}
	/* Each lane records the answers it still holds, and ends its chunk: what
	 * was marked and never handed to the target (the run stopped, or could
	 * not read the queue) goes back as it was. */
	for (int i = 0; i < lanes; i++) {
		sync_lane *lane = &run->lanes[i];
		if (lane->db == NULL || (lane->work.n == 0 && !lane->has_chunk))
			continue;
		if (lane_turn(run, lane, kind, 0) < 0 && rc == 0) {
			store_set_error(run->st, "%s", lane->error);
			rc = -1;
		}
	}
	answers_free(&run->answers);
	step_free(&step);
	step_free(&next);
	return rc;
}

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

/* Close the run's sync_runs row with its summary: what status reports as the
 * last complete sync. 0 or -1 with the error in the store. */
static int finish_run_row(sync_run_state *run, sqlite3_int64 run_id)
{
	sqlite3_stmt *stmt;
	char now[32];
	utc_now(now, sizeof now);
	if (prepare(run, &stmt, "UPDATE sync_runs SET finished_at = ?2, delivered = ?3, already_there = ?4,"
			       " failed = ?5, left_over = ?6 WHERE id = ?1") != 0)
		return -1;
	int rc = -1;
	if (sqlite3_bind_int64(stmt, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, run->summary->delivered) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, run->summary->already_there) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 5, run->summary->failed) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 6, run->summary->left) != SQLITE_OK)
		store_set_error(run->st, "recording the sync run: %s", sqlite3_errmsg(run->db));
	else if (sqlite3_step(stmt) != SQLITE_DONE)
		store_set_error(run->st, "recording the sync run: %s", sqlite3_errmsg(run->db));
	else
		rc = 0;
	sqlite3_finalize(stmt);
	return rc;
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

/* Inside the run's first transaction: the chunk table and the statements,
 * the stories a run that died left 'sending' made due again, and the run's
 * row. Returns the row's id, or -1. A story left 'sending' may or may not
 * have arrived: it is sent again (the target's UUID key makes a second copy
 * harmless), and until then counts as maybe delivered, for sync_withdraw;
 * 'failed', so that an export and import to another terminal keeps that too. */
static sqlite3_int64 begin_run(sync_run_state *run)
{
	sync_lane *lane = &run->lanes[0];
	lane->db = run->db;
	if (lane_prepare_all(lane) != 0) {
		store_set_error(run->st, "%s", lane->error);
		return -1;
	}
	if (store_exec(run->st, "UPDATE stories SET status = 'failed', maybe_delivered = 1"
		       " WHERE status = 'sending'", NULL) != 0)
		return -1;
	return start_run_row(run);
}

long sync_count_left(store *st)
{
	sqlite3_stmt *stmt;
	long left = -1;
	if (sqlite3_prepare_v2(store_db(st),
			       "SELECT (SELECT count(*) FROM stories WHERE status IN ('queued', 'failed', 'sending'))"
			       " + (SELECT count(*) FROM stories WHERE withdrawal_pending > 0)",
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
#ifdef M_MMAP_THRESHOLD
	/* Large blocks (SQLite's sorters, a step's records) straight from the
	 * system and back to it when freed. glibc otherwise raises the threshold
	 * after the first such block is freed and keeps the later ones in the
	 * heap of each thread that used them: with the lanes' two threads,
	 * syncing 100,000 stories peaked at 21.9 MB instead of 19.3. */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
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

	run.erase_at_delivery = cfg->retention_seconds <= 0;

	/* The run reads each story once: a small page cache does, and keeps the
	 * sync's memory flat however long the queue. Each lane's TEMP tables
	 * hold a chunk, SYNC_CHUNK_STORIES at most: in a temp file behind a
	 * cache as small, so a chunk costs little memory beyond its answers
	 * waiting to be recorded. */
	if (store_exec(run.st, "PRAGMA cache_size = -" SYNC_CACHE_KIB, NULL) != 0 ||
	    store_exec(run.st, "PRAGMA temp_store = FILE", NULL) != 0 ||
	    store_exec(run.st, "PRAGMA temp.cache_size = -" SYNC_CACHE_KIB, NULL) != 0)
		goto queue_error;
	/* A queued story has never been tried, so it has no next attempt and is
	 * always due: it is counted from the status index alone (reading every
	 * queued row for its next_attempt_at took 18 ms at 10,000 stories). One
	 * a dead run left 'sending' is counted as begin_run will leave it,
	 * failed, with its next attempt as it was. */
	run.total_due = count_due(&run,
		"SELECT (SELECT count(*) FROM stories WHERE status = 'queued')"
		" + (SELECT count(*) FROM stories WHERE status IN ('failed', 'sending')"
		"  AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2))"
		" + (SELECT count(*) FROM stories WHERE withdrawal_pending > 0"
		"  AND (?1 OR next_attempt_at IS NULL OR next_attempt_at <= ?2))");
	if (run.total_due < 0)
		goto queue_error;
	run.pipelined = run.total_due >= SYNC_PIPELINE_STORIES;
	if (run.total_due > 0)
		run.target = ops->open(cfg, &run_status, err, errlen);

	/* The integrity check has run in the background meanwhile. Its verdict
	 * comes before the write lock is taken: a kiosk saving a story must not
	 * wait for the check. The run's first transaction goes on into the first
	 * chunk's. */
	if (store_check(run.st) != 0 || store_exec(run.st, "BEGIN IMMEDIATE", NULL) != 0)
		goto queue_error;
	run.in_transaction = 1;
	if ((run_id = begin_run(&run)) < 0)
		goto queue_error;
	if (run.target != NULL || run_status == SYNC_RUN_UNREACHABLE) {
		/* With no target (unreachable), deliver_kind records a failed
		 * attempt for each due item. */
		sync_run_status record_only = SYNC_RUN_GO_ON;
		sync_run_status *said = run.target != NULL ? &run_status : &record_only;
		if (deliver_kind(&run, KIND_STORIES, said, err, errlen) != 0 ||
		    deliver_kind(&run, KIND_WITHDRAWALS, said, err, errlen) != 0)
			goto queue_error;
	}
	if (run.in_transaction) {
		if (store_exec(run.st, "COMMIT", NULL) != 0)
			goto queue_error;
		run.in_transaction = 0;
	}
	if (run.target != NULL) {
		ops->close(run.target);
		run.target = NULL;
	}
	if (run_status == SYNC_RUN_CONFIG_ERROR)
		status = EXIT_CONFIG;
	/* Contact details past a retention period (or delivered by an earlier run
	 * under another one); with retention 0 this run's were erased as they were
	 * marked delivered. */
	long erased = sync_erase_contact_details(st, cfg->retention_seconds);
	if (erased < 0)
		goto queue_error;
	/* secure_delete zeroes the old values in the file, but the WAL may still
	 * hold the pages as they were: fold it back and truncate it. A busy reader
	 * only delays this to the next run. */
	if (erased + run.erased + run.removed > 0)
		sqlite3_wal_checkpoint_v2(run.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	summary->left = sync_count_left(st);
	if (summary->left < 0)
		goto queue_error;
	if (status == EXIT_OK && summary->left > 0)
		status = EXIT_TEMPFAIL;
	/* Every answer is recorded by now: a failure here leaves status reporting
	 * an older run, and is said with exit 74 like any other queue error. */
	if (finish_run_row(&run, run_id) != 0)
		goto queue_error;
	goto done;

queue_error:
	snprintf(err, errlen, "the queue could not be updated: %s", store_error(st));
	status = EXIT_IOERR;
	if (run.in_transaction)
		(void)sqlite3_exec(run.db, "ROLLBACK", NULL, NULL, NULL);
	if (run.target != NULL)
		ops->close(run.target);
done:
	lane_close(&run.lanes[1]);
	lane_close(&run.lanes[0]);
	close(lock);
	return status;
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
	int lock = -1; /* the sync lock, when taken to check for a running sync */
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
	if (sqlite3_prepare_v2(db, "SELECT status, reference, maybe_delivered FROM stories WHERE id = ?1",
			       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		goto fail;
	char status[16], reference[16];
	snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(stmt, 0));
	snprintf(reference, sizeof reference, "%s", (const char *)sqlite3_column_text(stmt, 1));
	/* A sync may have been cut off after the target stored it and before
	 * the answer came back (a dropped connection, a killed run). */
	int maybe_there = sqlite3_column_int(stmt, 2) != 0;
	sqlite3_finalize(stmt);
	stmt = NULL;

	/* withdrawal_pending 1: delivered; 2: maybe delivered, so the target
	 * not holding it is no error, and the story goes once it is told. */
	static const char keep_and_tell_sql[] =
		"UPDATE stories SET status = 'withdrawn', withdrawn_at = ?2,"
		" withdrawal_pending = ?3, next_attempt_at = NULL, email = NULL, postcode = NULL,"
		" contact_erased_at = coalesce(contact_erased_at, ?2) WHERE id = ?1";
	int pending; /* what withdrawal_pending becomes; 0: the story is removed */
	const char *event;
	if (strcmp(status, "sending") == 0) {
		/* Only a running sync holds its lock; without one, the mark was
		 * left by a sync that died, and the story may be at the target. */
		char lock_err[256];
		lock = take_lock(store_path(st), lock_err, sizeof lock_err);
		if (lock == -1) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			store_set_error(st, "cannot tell whether a sync is delivering story %s: %s",
					reference, lock_err);
			return -1;
		}
		if (lock < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			store_set_error(st, "story %s is being delivered right now; withdraw it again "
					"in a minute, when the sync has finished", reference);
			return 2;
		}
		maybe_there = 1;
	}
	if (strcmp(status, "withdrawn") == 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(said, saidlen, "Story %s was already withdrawn.", reference);
		return 0;
	} else if (strcmp(status, "delivered") == 0) {
		pending = 1;
		event = "withdrawn";
		snprintf(said, saidlen, "Story %s is withdrawn. It had been delivered, so the central "
			 "store will be told at the next sync.", reference);
	} else if (maybe_there) {
		/* Kept until a sync has made sure the central store does not show
		 * it; then removed, as below. */
		pending = 2;
		event = "withdrawn (maybe delivered)";
		snprintf(said, saidlen, "Story %s is withdrawn. It may have reached the central "
			 "store, so the central store will be told at the next sync, and the story "
			 "is then removed from the queue.", reference);
	} else {
		/* Never reached the target: nothing of it needs to stay. */
		pending = 0;
		event = "withdrawn (removed before delivery)";
		snprintf(said, saidlen, "Story %s is withdrawn and removed from the queue; it had not "
			 "been delivered.", reference);
	}
	const char *change_sql = pending ? keep_and_tell_sql
					 : "DELETE FROM stories WHERE id = ?1 AND ?2 IS NOT NULL";
	if (sqlite3_prepare_v2(db, change_sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (pending && sqlite3_bind_int(stmt, 3, pending) != SQLITE_OK) ||
	    sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (!pending) {
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
	if (lock >= 0)
		close(lock);
	/* Push the removed words out of the WAL too. */
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return 0;
fail:
	store_set_error(st, "withdrawing the story: %s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (lock >= 0)
		close(lock);
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
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM stories WHERE withdrawal_pending > 0", -1, &stmt,
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
