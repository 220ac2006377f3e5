/* detect.h - checks a story's free text before the patient consents: what
 * would identify someone or should not be published as written (findings),
 * and what a person must look at (safeguarding, patient safety incidents).
 * Pure: no curses, no output; only detect_lists_load reads files. Results are
 * byte spans of the caller's text, never copies of it. */
#ifndef STORYKIOSK_DETECT_H
#define STORYKIOSK_DETECT_H

#include <stddef.h>

/* What a finding is. When two start at the same byte, the earlier kind here
 * wins; findings of these kinds never overlap, except CAPITALS and TOO_LONG,
 * which are about the whole text and may contain others. */
typedef enum {
	FINDING_EMAIL,
	FINDING_WEB_ADDRESS,
	FINDING_PHONE,
	FINDING_NHS_NUMBER,
	FINDING_DATE_OF_BIRTH,
	FINDING_POSTCODE,
	FINDING_NAME_AFTER_TITLE,
	FINDING_CAPITALS,
	FINDING_SWEARING,
	FINDING_TOO_LONG,
	FINDING_KIND_COUNT
} finding_kind;

/* One finding: the bytes [start, end) of the text, on character boundaries. */
typedef struct {
	finding_kind kind;
	size_t start;
	size_t end;
} finding;

/* The swearing, safeguarding and safety incident phrase lists. */
typedef struct detect_lists detect_lists;

/* Load the three phrase lists (one phrase per line, '#' comments, '!' for an
 * exception; a NULL path leaves that list empty, so its check finds nothing).
 * NULL and "PATH:LINE: problem" or "PATH: problem" in err on failure. */
detect_lists *detect_lists_load(const char *swearing_path, const char *safeguarding_path,
				const char *safety_path, char *err, size_t errlen);

/* Free lists loaded by detect_lists_load (NULL is fine). */
void detect_lists_free(detect_lists *lists);

/* Check text (UTF-8, NUL-terminated) for every kind of finding; writes the
 * first cap of them to out in text order and returns how many there are in
 * all (may exceed cap). warn_words 0 turns the length check off; lists NULL
 * turns the swearing check off. */
size_t detect_identifiers(const char *text, const detect_lists *lists, size_t warn_words,
			  finding *out, size_t cap);

/* What a kind is called when telling the operator, e.g. "an email address". */
const char *detect_kind_label(finding_kind kind);

/* The kind's stable key for the counts stored with a story, e.g. "email". */
const char *detect_kind_key(finding_kind kind);

/* Non-zero when text has a phrase from the safeguarding list; the first
 * one's span goes to *start and *end (either may be NULL). */
int detect_safeguarding(const char *text, const detect_lists *lists, size_t *start,
			size_t *end);

/* Non-zero when text has a phrase from the safety incident list; the first
 * one's span goes to *start and *end (either may be NULL). */
int detect_safety_incident(const char *text, const detect_lists *lists, size_t *start,
			   size_t *end);

#endif
