/* exchange.h - handing stories over without a network: export as JSON Lines,
 * CSV or a printable "taking a story" form, and import a JSON Lines export
 * into this queue. No curses. */
#ifndef STORYKIOSK_EXCHANGE_H
#define STORYKIOSK_EXCHANGE_H

#include <stdio.h>

#include "store.h"
#include "validate.h"

/* The export formats. */
typedef enum {
	EXPORT_JSONL,
	EXPORT_CSV,
	EXPORT_TEXT
} export_format;

/* The format named "jsonl", "csv" or "text"; -1 for anything else. */
int exchange_format_from_name(const char *name);

/* Called once the exported bytes are safely in place (flushed, synced,
 * renamed); non-zero means they are not, and nothing is marked exported. */
typedef int (*exchange_commit_fn)(void *context);

/* Write stories to out in format, oldest first. With mark_exported, only
 * stories never exported before are written, and they are marked exported
 * (with an audit row naming actor) in the same transaction, after commit_output
 * succeeds. Withdrawn stories are never exported. Returns how many stories were
 * written, or -1 with a message in err. */
long exchange_export(store *st, export_format format, int mark_exported,
		     const char *actor, FILE *out, exchange_commit_fn commit_output,
		     void *context, char *err, size_t errlen);

/* What an import did. */
typedef struct {
	long imported;   /* new stories added */
	long skipped;    /* already in this queue (same id), left as they were */
	long withdrawn;  /* withdrawn from this queue before: left out */
} exchange_import_summary;

/* Why an import imported nothing. */
enum {
	IMPORT_BAD_RECORD = -1,   /* a record is malformed or clashes with a story here */
	IMPORT_UNREADABLE = -2,   /* the file cannot be opened or read */
	IMPORT_QUEUE_FAILED = -3  /* the queue could not be written (full, locked, damaged) */
};

/* Import a JSON Lines export: every record is checked with the wizard's
 * validators; all records go in one transaction, so a bad record imports
 * nothing, and err says "FILE:LINE: field: problem". 0, or one of the
 * IMPORT_ failures. */
int exchange_import(store *st, const char *path, const validate_wordlists *words,
		    exchange_import_summary *summary, char *err, size_t errlen);

#endif
