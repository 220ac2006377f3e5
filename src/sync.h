/* sync.h - delivering queued stories to the organisation's central store,
 * exactly once. A target (sync_pg.c, sync_http.c) only sends; sync.c decides
 * what to send, records every attempt and moves each story through its states. */
#ifndef STORYKIOSK_SYNC_H
#define STORYKIOSK_SYNC_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* What became of one item sent to a target. */
typedef enum {
	SYNC_DELIVERED,      /* the target took it now */
	SYNC_ALREADY_THERE,  /* the target already held it (a retry, or another kiosk) */
	SYNC_TEMPORARY,      /* not sent or not taken for now: retried later with backoff */
	SYNC_REJECTED        /* the target refuses this item: kept, reported, retried much later */
} sync_outcome;

/* One thing to deliver: a story, or the news that a story that reached (or
 * may have reached) the target was withdrawn. */
typedef struct {
	char *id;                /* the story's UUID (owned by sync.c: targets only read) */
	char *record;            /* JSON: the export record, or {"withdrawal":{"id","withdrawn_at"}} */
	int withdrawal;          /* non-zero for a withdrawal */
	int never_delivered;     /* a withdrawal of a story only maybe delivered (a sync was cut
				  * off before its answer): a target that does not hold it
				  * has nothing to withdraw */
	sync_outcome outcome;    /* set by the target; starts as SYNC_TEMPORARY */
	int maybe_stored;        /* set by the target when not taken: the story left the terminal
				  * and no answer says whether the target stored it (a lost
				  * connection, a timeout, a reply that does not say) */
	int not_sent;            /* set by the target: it stopped before this item left the
				  * terminal, so no 'sent' audit row is written for it */
	char code[16];           /* HTTP status ("201") or SQLSTATE ("08006"); "" when none */
	char message[256];       /* the server's words, cut short; never contact details */
} sync_item;

/* How a target's send went as a whole. */
typedef enum {
	SYNC_RUN_GO_ON = 0,      /* carry on with the next batch */
	SYNC_RUN_UNREACHABLE,    /* the target went away: stop now, retry everything later */
	SYNC_RUN_CONFIG_ERROR    /* bad URL, credentials, certificate...: stop, tell the operator */
} sync_run_status;

typedef struct sync_target sync_target;

/* A delivery target's operations. */
typedef struct {
	const char *name;  /* "postgresql" or "https", recorded with each attempt */
	/* Connect (and for PostgreSQL create the schema if missing). NULL on failure,
	 * with *status UNREACHABLE or CONFIG_ERROR and a message in err. */
	sync_target *(*open)(const config *cfg, sync_run_status *status, char *err, size_t errlen);
	/* Send n items, setting each item's outcome, code and message. Items it
	 * never got to stay SYNC_TEMPORARY. */
	sync_run_status (*send)(sync_target *target, sync_item *items, size_t n,
				char *err, size_t errlen);
	/* Optional (NULL when the target cannot). Begin sending n items (one
	 * batch) and return without waiting; the next send, with the same items,
	 * finishes the work and sets the outcomes. */
	void (*start)(sync_target *target, sync_item *items, size_t n);
	/* Disconnect and free (NULL is fine). */
	void (*close)(sync_target *target);
} sync_target_ops;

/* The PostgreSQL target (libpq). */
extern const sync_target_ops sync_pg_ops;

/* The HTTPS intake target (libcurl). */
extern const sync_target_ops sync_http_ops;

/* Which target handles this URL or connection string, or NULL. */
const sync_target_ops *sync_target_for(const char *target);

/* Counts from one sync run. */
typedef struct {
	long delivered;      /* taken by the target in this run */
	long already_there;  /* the target had them already */
	long failed;         /* tried in this run and not taken (kept, retried later) */
	long left;           /* stories and withdrawals still waiting after the run */
} sync_summary;

/* Deliver every due story and withdrawal to cfg->target, in batches, then
 * erase contact details past their retention. force ignores retry backoff.
 * progress (a terminal, or NULL) gets a progress bar for large batches.
 * Returns an exit status: EXIT_OK when nothing is left, EXIT_TEMPFAIL when
 * something is, EXIT_CONFIG for configuration or credentials problems (err
 * says which); another sync already running is EXIT_TEMPFAIL. */
int sync_run(store *st, const config *cfg, int force, FILE *progress,
	     sync_summary *summary, char *err, size_t errlen);

/* Withdraw a story by id, id prefix or reference: removed at once when it has
 * not reached the target; when it has, or may have, marked withdrawn, its
 * contact details erased, and a withdrawal queued for the next sync. Writes
 * what happened to said. 0, 1 when no such story, 2 when a running sync is
 * sending it (try again later), -1 on error. */
int sync_withdraw(store *st, const char *which, const char *actor, char *said,
		  size_t saidlen);

/* Erase email and postcode of stories delivered more than retention seconds
 * ago. Returns how many were erased, or -1. */
long sync_erase_contact_details(store *st, long retention_seconds);

/* Stories and withdrawals still waiting for delivery, or -1. */
long sync_count_left(store *st);

/* Print the queue's health: counts by state, the oldest undelivered story's
 * age, the last successful sync, and a warning past 24 hours. 0 or -1. */
int sync_status(store *st, FILE *out);

/* A copy of target safe to record and print: any password in it hidden. */
void sync_redact_target(const char *target, char *out, size_t outlen);

/* Blank out of text (an error a target gave: attempts keep it and the ward
 * sees it) the email and postcode of record, a story's export record (NULL:
 * none), and every word holding an '@'. */
void sync_redact_contact(char *text, size_t textlen, const char *record);

/* Non-zero when target carries a password (URL user:password@ or password=). */
int sync_target_has_password(const char *target);

#endif
