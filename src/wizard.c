/* wizard.c - the rules of moving through a form: required answers, validation,
 * warnings the operator must confirm, and review. The UI asks; this decides. */
#include "wizard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

void wizard_start(wizard *w, const form *f, const validate_wordlists *words,
		  story *s)
{
	w->form = f;
	w->words = words;
	w->story = s;
	w->step = 0;
	w->back_to_review = 0;
}

int wizard_step_is_question(const form_step *step)
{
	switch (step->type) {
	case STEP_TEXT:
	case STEP_LINE:
	case STEP_CHOICE:
	case STEP_USERNAME:
	case STEP_POSTCODE:
	case STEP_SERVICES:
	case STEP_EMAIL:
		return 1;
	default:
		return 0;
	}
}

int wizard_set_answer(wizard *w, size_t step, const char *typed)
{
	if (step >= w->form->n_steps)
		return -1;
	const form_step *fs = &w->form->steps[step];
	if (typed == NULL)
		return story_set_answer(w->story, step, NULL);
	if (fs->type == STEP_TEXT) {
		const char *old = story_answer(w->story, step);
		if (old && strcmp(old, typed) == 0)
			return 0;
		return story_set_answer(w->story, step, typed);
	}

	char *trimmed = strdup(typed);
	if (trimmed == NULL)
		return -1;
	validate_trim(trimmed);
	const char *value = trimmed;
	char normal[320];
	char ignored[256];
	if (fs->type == STEP_POSTCODE &&
	    validate_postcode(trimmed, normal, sizeof normal, ignored, sizeof ignored) != VALIDATE_BLOCK)
		value = normal;
	else if (fs->type == STEP_EMAIL &&
		 validate_email(trimmed, normal, sizeof normal, ignored, sizeof ignored) == VALIDATE_OK)
		value = normal;

	int rc = 0;
	const char *old = story_answer(w->story, step);
	/* Keep a confirmed warning when the answer did not really change. */
	if (!(old && strcmp(old, value) == 0))
		rc = story_set_answer(w->story, step, value[0] ? value : NULL);
	free(trimmed);
	return rc;
}

static int is_blank(const char *text)
{
	if (text == NULL)
		return 1;
	for (; *text; text++)
		if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r')
			return 0;
	return 1;
}

static validate_verdict check_choice(const form_step *fs, const char *answer,
				     char *msg, size_t msglen)
{
	if (answer == NULL) {
		if (!fs->required)
			return VALIDATE_OK;
		snprintf(msg, msglen, "Choose one of the answers: move with Up and Down, then press Enter.");
		return VALIDATE_BLOCK;
	}
	for (size_t i = 0; i < fs->n_options; i++)
		if (strcmp(fs->options[i].value, answer) == 0)
			return VALIDATE_OK;
	snprintf(msg, msglen, "That answer is not one of the choices. Choose one of the answers listed.");
	return VALIDATE_BLOCK;
}

static validate_verdict check_postcode(const wizard *w, const char *answer,
				       char *msg, size_t msglen)
{
	const story *s = w->story;
	if (s->no_postcode) {
		if (s->n_services > 0 && s->services[0].postcode[0] == '\0') {
			snprintf(msg, msglen, "The first service chosen has no postcode on file. "
				 "Type their postcode, or choose a listed service first.");
			return VALIDATE_BLOCK;
		}
		return VALIDATE_OK;
	}
	if (is_blank(answer)) {
		snprintf(msg, msglen, "Type their postcode, like LE1 5WW. If they have none, "
			 "choose 'No postcode'.");
		return VALIDATE_BLOCK;
	}
	if (seal_is_sealed(answer))
		return VALIDATE_OK; /* checked before it was sealed in a draft */
	char normal[64];
	return validate_postcode(answer, normal, sizeof normal, msg, msglen);
}

static validate_verdict check_email(const wizard *w, const char *answer,
				    char *msg, size_t msglen)
{
	if (w->story->no_email)
		return VALIDATE_OK;
	if (is_blank(answer)) {
		snprintf(msg, msglen, "Type their email address, or choose 'No email address' "
			 "if they do not have one.");
		return VALIDATE_BLOCK;
	}
	if (seal_is_sealed(answer))
		return VALIDATE_OK;
	char normal[320];
	validate_verdict verdict = validate_email(answer, normal, sizeof normal, msg, msglen);
	if (verdict != VALIDATE_OK)
		return verdict;
	/* Always read it back: a mistyped address means they never hear back. */
	snprintf(msg, msglen, "Read the address back to them: %s - is it right?", normal);
	return VALIDATE_WARN;
}

static validate_verdict check_services(const wizard *w, const form_step *fs,
				       char *msg, size_t msglen)
{
	if (w->story->n_services > 0 || !fs->required)
		return VALIDATE_OK;
	snprintf(msg, msglen, "Choose the service the story is about: type part of its name, "
		 "then press Enter on it. Several are allowed.");
	return VALIDATE_BLOCK;
}

static validate_verdict check_text(const form_step *fs, const char *answer,
				   char *msg, size_t msglen)
{
	if (is_blank(answer)) {
		if (!fs->required)
			return VALIDATE_OK;
		if (fs->type == STEP_TEXT)
			snprintf(msg, msglen, "Write down what they say here. If they have nothing "
				 "to add, write 'Nothing to add'.");
		else
			snprintf(msg, msglen, "This needs an answer before going on.");
		return VALIDATE_BLOCK;
	}
	if (fs->max_chars > 0 && validate_utf8_length(answer) > fs->max_chars) {
		snprintf(msg, msglen, "This answer is longer than %zu characters. Please shorten it.",
			 fs->max_chars);
		return VALIDATE_BLOCK;
	}
	return VALIDATE_OK;
}

static validate_verdict check_raw(const wizard *w, size_t step, char *msg,
				  size_t msglen)
{
	const form_step *fs = &w->form->steps[step];
	const char *answer = story_answer(w->story, step);
	switch (fs->type) {
	case STEP_TEXT:
	case STEP_LINE:
		return check_text(fs, answer, msg, msglen);
	case STEP_CHOICE:
		return check_choice(fs, answer, msg, msglen);
	case STEP_USERNAME:
		if (is_blank(answer)) {
			snprintf(msg, msglen, "Choose a username with them: anonymous, not their "
				 "name, like 'BlueHeron'.");
			return VALIDATE_BLOCK;
		}
		return validate_username(answer, seal_is_sealed(story_email(w->story)) ? NULL
							 : story_email(w->story), w->words, msg, msglen);
	case STEP_POSTCODE:
		return check_postcode(w, answer, msg, msglen);
	case STEP_SERVICES:
		return check_services(w, fs, msg, msglen);
	case STEP_EMAIL:
		return check_email(w, answer, msg, msglen);
	case STEP_CONSENT:
		if (w->story->consent < 0) {
			snprintf(msg, msglen, "Ask them, then choose Yes or No. There is no default.");
			return VALIDATE_BLOCK;
		}
		return VALIDATE_OK;
	case STEP_INFO:
	case STEP_REVIEW:
	case STEP_THANKS:
		return VALIDATE_OK;
	}
	return VALIDATE_OK;
}

validate_verdict wizard_check(const wizard *w, size_t step, char *msg,
			      size_t msglen)
{
	if (msglen > 0)
		msg[0] = '\0';
	if (step >= w->form->n_steps)
		return VALIDATE_OK;
	validate_verdict verdict = check_raw(w, step, msg, msglen);
	if (verdict == VALIDATE_WARN && story_is_confirmed(w->story, step, msg))
		return VALIDATE_OK;
	return verdict;
}

int wizard_first_problem(const wizard *w, char *msg, size_t msglen)
{
	for (size_t step = 0; step < w->form->n_steps; step++) {
		const form_step *fs = &w->form->steps[step];
		if (!wizard_step_is_question(fs))
			continue;
		char why[512];
		if (wizard_check(w, step, why, sizeof why) != VALIDATE_OK) {
			snprintf(msg, msglen, "%s: %s", fs->title, why);
			return (int)step;
		}
	}
	return -1;
}

validate_verdict wizard_next(wizard *w, char *msg, size_t msglen)
{
	const form_step *fs = &w->form->steps[w->step];
	if (fs->type == STEP_THANKS)
		return VALIDATE_BLOCK;
	if (fs->type == STEP_REVIEW || fs->type == STEP_CONSENT) {
		if (wizard_first_problem(w, msg, msglen) >= 0)
			return VALIDATE_BLOCK;
	}
	validate_verdict verdict = wizard_check(w, w->step, msg, msglen);
	if (verdict == VALIDATE_BLOCK)
		return verdict;
	if (verdict == VALIDATE_WARN) {
		/* The warning is now on screen: the same answer and Next again accepts it. */
		if (story_confirm(w->story, w->step, msg) != 0)
			snprintf(msg, msglen, "Out of memory.");
		return verdict;
	}
	int review = form_find_type(w->form, STEP_REVIEW);
	if (w->back_to_review && review >= 0 && (size_t)review > w->step)
		w->step = (size_t)review;
	else if (w->step + 1 < w->form->n_steps)
		w->step++;
	w->back_to_review = 0;
	return VALIDATE_OK;
}

void wizard_back(wizard *w)
{
	w->back_to_review = 0;
	if (w->step > 0 && w->form->steps[w->step].type != STEP_THANKS)
		w->step--;
}

void wizard_jump(wizard *w, size_t step)
{
	if (step >= w->form->n_steps)
		return;
	w->step = step;
	w->back_to_review = 1;
}
