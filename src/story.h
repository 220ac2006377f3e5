/* story.h - the story being captured, in memory: answers by step, services,
 * contact details and consent. No curses, no storage. */
#ifndef STORYKIOSK_STORY_H
#define STORYKIOSK_STORY_H

#include <stddef.h>

#include "form.h"

/* One service the story is about; code is NULL for a "not in the list" entry. */
typedef struct {
	char *code;
	char *name;
	char *postcode; /* the site's postcode, or "" when unknown */
} story_service;

/* Characters of a reference: "ABCD-EFGH" and its terminator. */
#define STORY_REFERENCE_SIZE 10

/* Kinds of finding a story can record (see detect.h). */
#define STORY_MAX_FINDING_KINDS 16

/* A story in progress. answers[i] belongs to form step i. */
typedef struct {
	char id[37];            /* v4 UUID, given when the story is started */
	char reference[STORY_REFERENCE_SIZE]; /* short form of id to quote when withdrawing */
	char created_at[32];    /* UTC, ISO 8601 */
	const form *form;
	char *operator_name;
	char *operator_role;    /* "staff" or "volunteer" */
	char **answers;         /* per step: the typed or chosen value, or NULL */
	char **confirmed;       /* per step: the warning the operator accepted */
	int no_postcode;        /* use the first service's postcode */
	int no_email;           /* posted by a staff member for the patient */
	story_service *services;
	size_t n_services;
	int consent;            /* -1 not yet answered, 0 no, 1 yes */
	/* What the checks before consent found, kept as counts, never the text. */
	char finding_keys[STORY_MAX_FINDING_KINDS][24];
	long finding_counts[STORY_MAX_FINDING_KINDS];
	size_t n_finding_kinds;
	int safeguarding;       /* mentions harm: the team looks at it first */
	int safety_incident;    /* may describe a patient safety incident */
} story;

/* Start a story on form f for the signed-in operator: new UUID, created now. */
story *story_new(const form *f, const char *operator_name,
		 const char *operator_role);

/* Give the story a new UUID and the reference that goes with it (when its
 * reference turns out to be taken); 0, or -1 leaving it as it was. */
int story_new_id(story *s);

/* Write the short reference for a story id: 40 bits of the UUID as 8
 * characters with no 0/O or 1/I, grouped "ABCD-EFGH". -1 when id is not a UUID. */
int story_reference(const char *id, char *out, size_t outlen);

/* Normalise a typed reference ("abcd efgh", "ABCDEFGH") to "ABCD-EFGH";
 * -1 when it cannot be one. */
int story_normalise_reference(const char *typed, char *out, size_t outlen);

/* Overwrite every answer in memory, then free (NULL is fine). */
void story_free(story *s);

/* Set step's answer to a copy of value (NULL clears it); any confirmed warning
 * is forgotten. Returns 0, or -1 when out of memory. */
int story_set_answer(story *s, size_t step, const char *value);

/* The answer of step, or NULL when none. */
const char *story_answer(const story *s, size_t step);

/* The answer of the step with this key, or NULL. */
const char *story_answer_by_key(const story *s, const char *key);

/* Replace the recorded finding counts with count of kind key (call with
 * n 0 to clear). 0, or -1 when there are too many kinds. */
int story_set_findings(story *s, const char *const *keys, const long *counts, size_t n);

/* Remember that the operator accepted warning msg for step. 0 or -1 (memory). */
int story_confirm(story *s, size_t step, const char *msg);

/* Non-zero when msg is the warning already accepted for step. */
int story_is_confirmed(const story *s, size_t step, const char *msg);

/* Add a service (code NULL for free text). 0, 1 when already chosen, -1 memory. */
int story_add_service(story *s, const char *code, const char *name,
		      const char *postcode);

/* Remove the i-th chosen service. */
void story_remove_service(story *s, size_t i);

/* Index of the chosen service with this code (or, for code NULL, this free-text
 * name), or -1. */
int story_find_service(const story *s, const char *code, const char *name);

/* The postcode to store: the typed one, or the first service's when the person
 * has none; NULL when neither is known. */
const char *story_postcode(const story *s);

/* The email to store, or NULL when posted by staff or not given. */
const char *story_email(const story *s);

#endif
