/* wizard.h - the flow through a form: which step is current, Next and Back,
 * and whether each answer is missing, needs confirming, or is fine. No curses. */
#ifndef STORYKIOSK_WIZARD_H
#define STORYKIOSK_WIZARD_H

#include <stddef.h>

#include "form.h"
#include "story.h"
#include "validate.h"

/* Where a story is in its form. */
typedef struct {
	const form *form;
	const validate_wordlists *words;
	story *story;
	size_t step;            /* index of the current step */
	int back_to_review;     /* editing an answer from review: Next returns there */
} wizard;

/* Begin walking story s through form f from its first step. */
void wizard_start(wizard *w, const form *f, const validate_wordlists *words,
		  story *s);

/* Store what was typed at step: postcodes and emails are normalised when
 * valid, lines and usernames trimmed, story text kept exactly. 0 or -1 (memory). */
int wizard_set_answer(wizard *w, size_t step, const char *typed);

/* Judge step's answer: OK, WARN (not yet confirmed) or BLOCK, with a message
 * that says how to fix it. A warning the operator has confirmed counts as OK. */
validate_verdict wizard_check(const wizard *w, size_t step, char *msg,
			      size_t msglen);

/* The first step, in form order, whose answer blocks or awaits confirmation,
 * or -1 when the story is complete; msg says what is wrong. */
int wizard_first_problem(const wizard *w, char *msg, size_t msglen);

/* Try to leave the current step forwards. BLOCK: stays, msg says why. WARN:
 * stays, msg asks for confirmation and a second Next with the same answer goes
 * on. OK: moved (to review when editing from there). On review and consent
 * the whole story is checked. */
validate_verdict wizard_next(wizard *w, char *msg, size_t msglen);

/* Go to the previous step (never before the first, never back from thanks). */
void wizard_back(wizard *w);

/* Jump to step to edit it from review; Next then returns to review. */
void wizard_jump(wizard *w, size_t step);

/* Non-zero when step asks the person something (so review lists it). */
int wizard_step_is_question(const form_step *step);

#endif
