/* fuzz_form.c - libFuzzer target for form_parse (src/form.c). The input is a
 * form file. A form that parses must keep every promise storykiosk-form(5)
 * makes to the wizard (each step complete, exactly one consent step, ...),
 * and writing it back out must parse to the same form; a form that fails
 * must say where, in a message that is safe to print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "fuzz_common.h"

#define FORM_NAME "fuzz.form"
#define N_TYPES ((int)STEP_THANKS + 1)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_utf8_locale();
	return 0;
}

/* Step keys and option values: lower-case letters, digits and '_'. */
static int is_key(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* Names and versions: letters, digits, '.', '_' and '-'. */
static int is_identifier(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 40 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Text that reaches the screen: UTF-8, at most max characters, no control
 * but tab, nothing to trim at either end. */
static void check_text(const char *what, const char *s, size_t max_chars)
{
	size_t len, chars = 0;

	CHECKF(s != NULL, "%s is NULL", what);
	len = strlen(s);
	CHECKF(len > 0, "%s is empty", what);
	CHECKF(fuzz_utf8_valid(s, len, &chars), "%s '%s' is not UTF-8", what, fuzz_show(s, len));
	CHECKF(fuzz_no_controls(s, len, "\t"), "%s '%s' holds a control character", what,
	       fuzz_show(s, len));
	CHECKF(max_chars == 0 || chars <= max_chars, "%s has %zu characters", what, chars);
	CHECKF(s[0] != ' ' && s[0] != '\t' && s[len - 1] != ' ' && s[len - 1] != '\t',
	       "%s '%s' is not trimmed", what, fuzz_show(s, len));
}

static int is_question(step_type t)
{
	return t == STEP_TEXT || t == STEP_LINE || t == STEP_CHOICE || t == STEP_USERNAME ||
	       t == STEP_POSTCODE || t == STEP_SERVICES || t == STEP_EMAIL;
}

static int count_type(const form *f, step_type t)
{
	size_t i;
	int n = 0;

	for (i = 0; i < f->n_steps; i++)
		n += f->steps[i].type == t;
	return n;
}

/* Everything storykiosk-form(5) and the wizard rely on in a parsed form. */
static void check_form(const form *f)
{
	static const step_type exactly_one[] = {
	    STEP_USERNAME, STEP_POSTCODE, STEP_SERVICES, STEP_EMAIL, STEP_CONSENT,
	};
	size_t i, j, k;
	int consent, review, at;

	CHECK(f->path != NULL && strcmp(f->path, FORM_NAME) == 0);
	CHECK(f->name != NULL && is_identifier(f->name));
	CHECK(f->version != NULL && is_identifier(f->version));
	CHECK(f->consent_version != NULL && is_identifier(f->consent_version));
	check_text("the form's title", f->title, 60);
	if (f->theme != NULL)
		check_text("the theme", f->theme, 120);
	CHECKF(f->n_steps >= 1 && f->n_steps <= 100, "%zu steps", f->n_steps);

	for (i = 0; i < f->n_steps; i++) {
		const form_step *s = &f->steps[i];

		CHECKF(s->key != NULL && is_key(s->key, 40), "step %zu key", i);
		CHECKF(form_find_step(f, s->key) == (int)i, "key [%s] is not unique", s->key);
		CHECKF((int)s->type >= 0 && (int)s->type < N_TYPES, "step [%s] type %d", s->key,
		       (int)s->type);
		CHECK(strcmp(form_step_type_name(s->type), "unknown") != 0);
		check_text("a step title", s->title, 60);
		CHECK(s->line_no >= 1);
		CHECK(i == 0 || s->line_no > f->steps[i - 1].line_no);
		CHECK((s->text == NULL) == (s->n_text == 0));
		for (j = 0; j < s->n_text; j++)
			check_text("a paragraph", s->text[j], 0);
		if (s->type == STEP_INFO || s->type == STEP_CONSENT || s->type == STEP_THANKS)
			CHECKF(s->n_text > 0, "%s step [%s] has no text",
			       form_step_type_name(s->type), s->key);

		CHECKF(s->n_hints == 0 || s->type == STEP_TEXT, "hints on [%s]", s->key);
		for (j = 0; j < s->n_hints; j++)
			check_text("a hint", s->hints[j], 0);

		if (s->type == STEP_CHOICE)
			CHECKF(s->n_options >= 2 && s->n_options <= 12, "[%s] has %zu options",
			       s->key, s->n_options);
		else
			CHECKF(s->n_options == 0, "options on %s step [%s]",
			       form_step_type_name(s->type), s->key);
		for (j = 0; j < s->n_options; j++) {
			CHECK(is_key(s->options[j].value, 40));
			check_text("an option label", s->options[j].label, 60);
			for (k = 0; k < j; k++)
				CHECKF(strcmp(s->options[k].value, s->options[j].value) != 0,
				       "option '%s' twice in [%s]", s->options[j].value, s->key);
		}

		CHECK(s->required == 0 || s->required == 1);
		if (s->type == STEP_CONSENT)
			CHECKF(s->required, "consent step [%s] is not required", s->key);
		if (s->type == STEP_INFO || s->type == STEP_REVIEW || s->type == STEP_THANKS)
			CHECKF(!s->required, "%s step [%s] is required",
			       form_step_type_name(s->type), s->key);

		switch (s->type) {
		case STEP_TEXT:
		case STEP_LINE:
		case STEP_USERNAME:
			CHECKF(s->max_chars >= 1 && s->max_chars <= 100000, "[%s] max_chars %zu",
			       s->key, s->max_chars);
			break;
		case STEP_POSTCODE: CHECK(s->max_chars == 16); break;
		case STEP_EMAIL: CHECK(s->max_chars == 254); break;
		default:
			CHECKF(s->max_chars == 0, "[%s] max_chars %zu", s->key, s->max_chars);
			break;
		}
		if (s->type == STEP_TEXT)
			CHECKF(s->warn_words >= 1 && s->warn_words <= 100000, "[%s] warn_words %zu",
			       s->key, s->warn_words);
		else
			CHECKF(s->warn_words == 0, "[%s] warn_words %zu", s->key, s->warn_words);
	}

	/* The whole-form rules. */
	for (i = 0; i < sizeof exactly_one / sizeof exactly_one[0]; i++)
		CHECKF(count_type(f, exactly_one[i]) == 1, "%d %s steps",
		       count_type(f, exactly_one[i]), form_step_type_name(exactly_one[i]));
	CHECK(count_type(f, STEP_REVIEW) <= 1);
	consent = form_find_type(f, STEP_CONSENT);
	review = form_find_type(f, STEP_REVIEW);
	CHECK(consent >= 0 && f->steps[consent].type == STEP_CONSENT);
	CHECK(review < consent);
	for (i = (size_t)consent + 1; i < f->n_steps; i++)
		CHECKF(!is_question(f->steps[i].type), "question [%s] after consent",
		       f->steps[i].key);
	for (i = 0; i + 1 < f->n_steps; i++)
		CHECKF(f->steps[i].type != STEP_THANKS, "thanks step [%s] is not last",
		       f->steps[i].key);
	at = form_find_step(f, "title");
	CHECK(at >= 0 && f->steps[at].type == STEP_LINE);
	at = form_find_step(f, "role");
	CHECK(at >= 0 && f->steps[at].type == STEP_CHOICE);
	CHECK(form_find_step(f, "") == -1 && form_find_step(NULL, "title") == -1);
}

/* Output buffer for writing a form back out. */
typedef struct {
	char *text;
	size_t len;
	size_t cap;
} form_text;

static void put(form_text *out, const char *key, const char *value)
{
	size_t need = strlen(key) + strlen(value) + 3;

	if (out->len + need > out->cap) {
		out->cap = (out->len + need) * 2;
		out->text = realloc(out->text, out->cap);
		if (out->text == NULL)
			fuzz_setup_fail("out of memory");
	}
	out->len +=
	    (size_t)snprintf(out->text + out->len, out->cap - out->len, "%s=%s\n", key, value);
}

/* The form as a file: "key=value" lines, never longer than those read (so
 * the line limit cannot bite), every default spelt out. */
static char *write_form(const form *f, size_t *len)
{
	form_text out = {NULL, 0, 0};
	char number[32], line[4200];
	size_t i, j;

	put(&out, "name", f->name);
	put(&out, "version", f->version);
	put(&out, "title", f->title);
	if (f->theme)
		put(&out, "theme", f->theme);
	put(&out, "consent_version", f->consent_version);
	for (i = 0; i < f->n_steps; i++) {
		const form_step *s = &f->steps[i];

		snprintf(line, sizeof line, "[%s]\ntype", s->key);
		put(&out, line, form_step_type_name(s->type));
		put(&out, "title", s->title);
		for (j = 0; j < s->n_text; j++)
			put(&out, "text", s->text[j]);
		for (j = 0; j < s->n_hints; j++)
			put(&out, "hint", s->hints[j]);
		for (j = 0; j < s->n_options; j++) {
			snprintf(line, sizeof line, "%s|%s", s->options[j].value,
				 s->options[j].label);
			put(&out, "option", line);
		}
		if (is_question(s->type) || s->type == STEP_CONSENT)
			put(&out, "required", s->required ? "yes" : "no");
		if (s->type == STEP_TEXT || s->type == STEP_LINE || s->type == STEP_USERNAME) {
			snprintf(number, sizeof number, "%zu", s->max_chars);
			put(&out, "max_chars", number);
		}
		if (s->type == STEP_TEXT) {
			snprintf(number, sizeof number, "%zu", s->warn_words);
			put(&out, "warn_words", number);
		}
	}
	*len = out.len;
	return out.text;
}

static int same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same_form(const form *a, const form *b)
{
	size_t i, j;

	CHECK(same_string(a->name, b->name) && same_string(a->version, b->version));
	CHECK(same_string(a->title, b->title) && same_string(a->theme, b->theme));
	CHECK(same_string(a->consent_version, b->consent_version));
	CHECK(a->n_steps == b->n_steps);
	for (i = 0; i < a->n_steps; i++) {
		const form_step *s = &a->steps[i], *t = &b->steps[i];

		CHECKF(strcmp(s->key, t->key) == 0 && s->type == t->type, "step %zu", i);
		CHECKF(strcmp(s->title, t->title) == 0, "[%s] title", s->key);
		CHECKF(s->required == t->required && s->max_chars == t->max_chars &&
			   s->warn_words == t->warn_words,
		       "[%s] required %d/%d max_chars %zu/%zu warn_words %zu/%zu", s->key,
		       s->required, t->required, s->max_chars, t->max_chars, s->warn_words,
		       t->warn_words);
		CHECK(s->n_text == t->n_text && s->n_hints == t->n_hints &&
		      s->n_options == t->n_options);
		for (j = 0; j < s->n_text; j++)
			CHECK(strcmp(s->text[j], t->text[j]) == 0);
		for (j = 0; j < s->n_hints; j++)
			CHECK(strcmp(s->hints[j], t->hints[j]) == 0);
		for (j = 0; j < s->n_options; j++)
			CHECK(strcmp(s->options[j].value, t->options[j].value) == 0 &&
			      strcmp(s->options[j].label, t->options[j].label) == 0);
	}
}

/* The number of lines in the file, as an editor counts them. */
static size_t count_lines(const char *text, size_t size)
{
	size_t lines = 1, i;

	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	return lines;
}

/* An error message names the file and a line of it (0: the whole form), and
 * is safe to print (a tab from the file may be quoted in it). */
static void check_error(const char *err, size_t errlen, size_t lines)
{
	size_t len = strnlen(err, errlen);
	unsigned long line;

	CHECK(len < errlen);
	CHECKF(len > 0, "form_parse failed without a message");
	CHECKF(strncmp(err, FORM_NAME ":", sizeof FORM_NAME) == 0, "message '%s'", err);
	CHECKF(err[sizeof FORM_NAME] >= '0' && err[sizeof FORM_NAME] <= '9', "message '%s'", err);
	line = strtoul(err + sizeof FORM_NAME, NULL, 10);
	CHECKF(line <= lines, "message '%s' for a file of %zu lines", err, lines);
	/* Cut at errlen, the message may end inside a character: look at bytes. */
	for (; *err != '\0'; err++)
		CHECKF(((unsigned char)*err >= 0x20 || *err == '\t') && *err != 0x7f &&
			   !((unsigned char)err[0] == 0xc2 && (unsigned char)err[1] >= 0x80 &&
			     (unsigned char)err[1] <= 0x9f),
		       "message holds a control character: '%s'", fuzz_show(err, strlen(err)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_bytes(data, size);
	char *err = fuzz_alloc(512), *small = fuzz_alloc(16);
	form *f, *g;

	err[0] = 'x';
	f = form_parse(text, size, FORM_NAME, err, 512);
	/* Whatever room there is for a message, the verdict is the same. */
	g = form_parse(text, size, FORM_NAME, small, 16);
	CHECK((f == NULL) == (g == NULL));
	CHECK(strlen(small) < 16);
	form_free(g);
	g = form_parse(text, size, NULL, NULL, 0);
	CHECK((f == NULL) == (g == NULL));
	CHECK(g == NULL || strcmp(g->path, "(form)") == 0);
	form_free(g);

	if (f == NULL) {
		check_error(err, 512, count_lines(text, size));
	} else {
		size_t len;
		char *again;

		CHECKF(err[0] == '\0', "success, with message '%s'", err);
		check_form(f);
		again = write_form(f, &len);
		g = form_parse(again, len, FORM_NAME, err, 512);
		CHECKF(g != NULL, "the form written back does not parse: %s\n%s", err,
		       fuzz_show(again, len));
		check_same_form(f, g);
		form_free(g);
		free(again);
		form_free(f);
	}
	free(small);
	free(err);
	free(text);
	return 0;
}
