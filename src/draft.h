/* draft.h - the story in progress, kept durably in the queue file while it is
 * typed, so a crash or a pulled plug loses seconds rather than a story. Drafts
 * are never synced or exported. No curses. */
#ifndef STORYKIOSK_DRAFT_H
#define STORYKIOSK_DRAFT_H

#include <stddef.h>

#include "form.h"
#include "store.h"
#include "story.h"

/* What the resume question shows about a draft. */
typedef struct {
	char id[40];
	char created_at[32];    /* UTC, ISO 8601 */
	char updated_at[32];
	char operator_name[128];
	char operator_role[16];
} draft_info;

/* Save s at step as its draft, replacing that story's earlier draft, in one
 * transaction. 0 or -1 (message in store_error). */
int draft_save(store *st, const story *s, size_t step);

/* Delete the draft of story id, or every draft when id is NULL. 0 or -1. */
int draft_discard(store *st, const char *id);

/* The newest draft other than exclude_id's (NULL: any): 1 found (info
 * filled), 0 none, -1 error. */
int draft_find(store *st, const char *exclude_id, draft_info *info);

/* Rebuild the story of draft id on form f (answers matched by step key) and
 * the step it was at. NULL on error, with the reason in store_error. */
story *draft_load(store *st, const form *f, const char *id, size_t *step);

/* Delete drafts not touched for max_age_seconds; how many, or -1. */
long draft_expire(store *st, long max_age_seconds);

#endif
