/* story.c - the story being captured, held in memory until consent. Everything
 * here is wiped before it is freed so the next person's session cannot find it. */
#include "story.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uuid.h>

/* 32 symbols, none of which can be misread as another: no 0/O, no 1/I. */
static const char reference_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

int story_reference(const char *id, char *out, size_t outlen)
{
	/* Only a whole UUID has a reference: 8-4-4-4-12 hex digits. */
	if (id == NULL || strlen(id) != 36 || outlen < STORY_REFERENCE_SIZE)
		return -1;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : strchr("0123456789abcdefABCDEF", id[i]) == NULL)
			return -1;
	}
	unsigned long long bits = 0;
	int digits = 0;
	for (const char *p = id; digits < 10; p++) {
		if (*p == '-')
			continue;
		int value = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;
		bits = bits << 4 | (unsigned long long)value;
		digits++;
	}
	for (int i = 7; i >= 0; i--) {
		out[i < 4 ? i : i + 1] = reference_alphabet[bits & 31];
		bits >>= 5;
	}
	out[4] = '-';
	out[9] = '\0';
	return 0;
}

int story_normalise_reference(const char *typed, char *out, size_t outlen)
{
	char symbols[9];
	int n = 0;
	for (const char *p = typed; *p; p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		if (c == '-' || c == ' ')
			continue;
		if (n == 8 || strchr(reference_alphabet, c) == NULL)
			return -1;
		symbols[n++] = c;
	}
	if (n != 8 || outlen < STORY_REFERENCE_SIZE)
		return -1;
	snprintf(out, outlen, "%.4s-%.4s", symbols, symbols + 4);
	return 0;
}

static void wipe_string(char *text)
{
	if (text == NULL)
		return;
	/* volatile so the compiler cannot drop the wipe of memory about to be freed */
	volatile char *p = text;
	while (*p)
		*p++ = '\0';
	free(text);
}

static char *copy_or_null(const char *text)
{
	return text ? strdup(text) : NULL;
}

story *story_new(const form *f, const char *operator_name,
		 const char *operator_role)
{
	story *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->form = f;
	s->consent = -1;
	s->answers = calloc(f->n_steps ? f->n_steps : 1, sizeof *s->answers);
	s->confirmed = calloc(f->n_steps ? f->n_steps : 1, sizeof *s->confirmed);
	s->operator_name = strdup(operator_name ? operator_name : "");
	s->operator_role = strdup(operator_role ? operator_role : "");
	if (!s->answers || !s->confirmed || !s->operator_name || !s->operator_role) {
		story_free(s);
		return NULL;
	}
	if (story_new_id(s) != 0) {
		story_free(s);
		return NULL;
	}
	time_t now = time(NULL);
	struct tm utc;
	if (gmtime_r(&now, &utc) == NULL ||
	    strftime(s->created_at, sizeof s->created_at, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
		story_free(s);
		return NULL;
	}
	return s;
}

int story_new_id(story *s)
{
	uuid_t uuid;
	char id[sizeof s->id], reference[sizeof s->reference];
	uuid_generate_random(uuid);
	uuid_unparse_lower(uuid, id);
	if (story_reference(id, reference, sizeof reference) != 0)
		return -1;
	memcpy(s->id, id, sizeof id);
	memcpy(s->reference, reference, sizeof reference);
	return 0;
}

void story_free(story *s)
{
	if (s == NULL)
		return;
	if (s->answers || s->confirmed) {
		for (size_t i = 0; i < s->form->n_steps; i++) {
			if (s->answers)
				wipe_string(s->answers[i]);
			if (s->confirmed)
				wipe_string(s->confirmed[i]);
		}
	}
	free(s->answers);
	free(s->confirmed);
	for (size_t i = 0; i < s->n_services; i++) {
		wipe_string(s->services[i].code);
		wipe_string(s->services[i].name);
		wipe_string(s->services[i].postcode);
	}
	free(s->services);
	wipe_string(s->operator_name);
	wipe_string(s->operator_role);
	free(s);
}

int story_set_answer(story *s, size_t step, const char *value)
{
	if (step >= s->form->n_steps)
		return -1;
	char *copy = NULL;
	if (value != NULL && (copy = strdup(value)) == NULL)
		return -1;
	wipe_string(s->answers[step]);
	s->answers[step] = copy;
	wipe_string(s->confirmed[step]);
	s->confirmed[step] = NULL;
	return 0;
}

const char *story_answer(const story *s, size_t step)
{
	return step < s->form->n_steps ? s->answers[step] : NULL;
}

const char *story_answer_by_key(const story *s, const char *key)
{
	int step = form_find_step(s->form, key);
	return step < 0 ? NULL : s->answers[step];
}

int story_set_findings(story *s, const char *const *keys, const long *counts, size_t n)
{
	if (n > STORY_MAX_FINDING_KINDS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		snprintf(s->finding_keys[i], sizeof s->finding_keys[i], "%s", keys[i]);
		s->finding_counts[i] = counts[i];
	}
	s->n_finding_kinds = n;
	return 0;
}

int story_confirm(story *s, size_t step, const char *msg)
{
	if (step >= s->form->n_steps)
		return -1;
	char *copy = strdup(msg);
	if (copy == NULL)
		return -1;
	wipe_string(s->confirmed[step]);
	s->confirmed[step] = copy;
	return 0;
}

int story_is_confirmed(const story *s, size_t step, const char *msg)
{
	return step < s->form->n_steps && s->confirmed[step] != NULL &&
	       strcmp(s->confirmed[step], msg) == 0;
}

int story_find_service(const story *s, const char *code, const char *name)
{
	for (size_t i = 0; i < s->n_services; i++) {
		const story_service *chosen = &s->services[i];
		if (code != NULL ? chosen->code && strcmp(chosen->code, code) == 0
				 : !chosen->code && name && strcmp(chosen->name, name) == 0)
			return (int)i;
	}
	return -1;
}

int story_add_service(story *s, const char *code, const char *name,
		      const char *postcode)
{
	if (story_find_service(s, code, name) >= 0)
		return 1;
	story_service *grown = realloc(s->services, (s->n_services + 1) * sizeof *grown);
	if (grown == NULL)
		return -1;
	s->services = grown;
	story_service added = {
		.code = copy_or_null(code),
		.name = strdup(name ? name : ""),
		.postcode = strdup(postcode ? postcode : ""),
	};
	if ((code && !added.code) || !added.name || !added.postcode) {
		free(added.code);
		free(added.name);
		free(added.postcode);
		return -1;
	}
	s->services[s->n_services++] = added;
	return 0;
}

void story_remove_service(story *s, size_t i)
{
	if (i >= s->n_services)
		return;
	wipe_string(s->services[i].code);
	wipe_string(s->services[i].name);
	wipe_string(s->services[i].postcode);
	memmove(&s->services[i], &s->services[i + 1],
		(s->n_services - i - 1) * sizeof *s->services);
	s->n_services--;
}

const char *story_postcode(const story *s)
{
	if (!s->no_postcode) {
		int step = form_find_type(s->form, STEP_POSTCODE);
		return step < 0 ? NULL : s->answers[step];
	}
	if (s->n_services > 0 && s->services[0].postcode[0] != '\0')
		return s->services[0].postcode;
	return NULL;
}

const char *story_email(const story *s)
{
	if (s->no_email)
		return NULL;
	int step = form_find_type(s->form, STEP_EMAIL);
	return step < 0 ? NULL : s->answers[step];
}
