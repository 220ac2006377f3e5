/* test_form.c - unit tests of the form parser: the shipped forms load with the
 * steps the wizard expects, defaults are filled in, and every malformed form
 * is refused with "NAME:LINE: problem". Run from the repository root. */
#include "form.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* A smallest form that passes every whole-form rule; line numbers are in the
 * comments because the error tests below depend on them. */
#define MINI_HEADER                                                          \
	"name = mini\n"                          /* 1 */                     \
	"version = 2\n"                          /* 2 */                     \
	"\n"                                     /* 3 */
#define MINI_QUESTIONS                                                       \
	"[good]\n"                               /* 4 */                     \
	"type = text\n"                          /* 5 */                     \
	"title = What was good?\n"               /* 6 */                     \
	"[title]\n"                              /* 7 */                     \
	"type = line\n"                          /* 8 */                     \
	"title = A title\n"                      /* 9 */                     \
	"[role]\n"                               /* 10 */                    \
	"type = choice\n"                        /* 11 */                    \
	"title = Who are you?\n"                 /* 12 */                    \
	"option = patient | The patient\n"       /* 13 */                    \
	"option = carer | A carer\n"             /* 14 */                    \
	"[username]\n"                           /* 15 */                    \
	"type = username\n"                      /* 16 */                    \
	"title = A name\n"                       /* 17 */                    \
	"[postcode]\n"                           /* 18 */                    \
	"type = postcode\n"                      /* 19 */                    \
	"title = Postcode\n"                     /* 20 */                    \
	"[services]\n"                           /* 21 */                    \
	"type = services\n"                      /* 22 */                    \
	"title = Where?\n"                       /* 23 */                    \
	"[email]\n"                              /* 24 */                    \
	"type = email\n"                         /* 25 */                    \
	"title = Email\n"                        /* 26 */
#define MINI_CONSENT                                                         \
	"[consent]\n"                            /* 27 */                    \
	"type = consent\n"                       /* 28 */                    \
	"title = Consent\n"                      /* 29 */                    \
	"text = May we publish it?\n"            /* 30 */
#define MINI MINI_HEADER MINI_QUESTIONS MINI_CONSENT

static char err[512];

static form *parse(const char *text)
{
	return form_parse(text, strlen(text), "t", err, sizeof err);
}

/* Non-zero when text is refused, the message starts with where ("t:5: ")
 * and mentions words. Prints the message when it is not the one expected. */
static int refused(const char *text, const char *where, const char *words)
{
	form *f = parse(text);

	if (f != NULL) {
		printf("#   parsed, but should have failed with %s...%s\n", where,
		       words);
		form_free(f);
		return 0;
	}
	if (strncmp(err, where, strlen(where)) != 0 ||
	    strstr(err, words) == NULL) {
		printf("#   got \"%s\", want \"%s...%s...\"\n", err, where, words);
		return 0;
	}
	return 1;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* MINI with extra appended at line 31. */
static int refused_after(const char *extra, const char *where,
			 const char *words)
{
	char *text = join(MINI, extra);
	int ok = refused(text, where, words);

	free(text);
	return ok;
}

static int step_is(const form *f, size_t i, const char *key, step_type type)
{
	if (i >= f->n_steps) {
		printf("#   no step %zu\n", i);
		return 0;
	}
	if (strcmp(f->steps[i].key, key) != 0 || f->steps[i].type != type) {
		printf("#   step %zu is [%s] %s, want [%s] %s\n", i,
		       f->steps[i].key, form_step_type_name(f->steps[i].type),
		       key, form_step_type_name(type));
		return 0;
	}
	return 1;
}

static int same_paragraphs(char **a, size_t na, char **b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

TEST(default_form_loads_in_guide_order)
{
	form *f = form_load("forms/default.form", err, sizeof err);

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_STR(f->name, "default");
	CHECK_STR(f->version, "1");
	CHECK_STR(f->consent_version, "1");
	CHECK_STR(f->title, "Tell us about your care");
	CHECK(f->theme == NULL);
	CHECK_STR(f->path, "forms/default.form");
	CHECK(f->n_steps == 12);
	CHECK(step_is(f, 0, "intro", STEP_INFO));
	CHECK(step_is(f, 1, "good", STEP_TEXT));
	CHECK(step_is(f, 2, "different", STEP_TEXT));
	CHECK(step_is(f, 3, "title", STEP_LINE));
	CHECK(step_is(f, 4, "role", STEP_CHOICE));
	CHECK(step_is(f, 5, "username", STEP_USERNAME));
	CHECK(step_is(f, 6, "postcode", STEP_POSTCODE));
	CHECK(step_is(f, 7, "services", STEP_SERVICES));
	CHECK(step_is(f, 8, "email", STEP_EMAIL));
	CHECK(step_is(f, 9, "review", STEP_REVIEW));
	CHECK(step_is(f, 10, "consent", STEP_CONSENT));
	CHECK(step_is(f, 11, "thanks", STEP_THANKS));
	form_free(f);
}

TEST(default_form_words)
{
	form *f = form_load("forms/default.form", err, sizeof err);
	const form_step *step;
	size_t i;
	int has_operator = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	step = &f->steps[0];
	for (i = 0; i < step->n_text; i++)
		if (strstr(step->text[i], "{operator}") != NULL)
			has_operator = 1;
	CHECK(has_operator);
	CHECK(step->n_hints == 0);
	step = &f->steps[1];
	CHECK_STR(step->title, "What was good?");
	CHECK(step->n_hints >= 3);
	CHECK(step->n_hints > 0 &&
	      strcmp(step->hints[0],
		     "You said you felt safe — what made you feel that way?") == 0);
	CHECK(step->required);
	CHECK_STR(f->steps[2].title, "What could have been different?");
	CHECK(!f->steps[2].required);
	step = &f->steps[4];
	CHECK(step->n_options == 5);
	if (step->n_options == 5) {
		CHECK_STR(step->options[0].value, "patient");
		CHECK_STR(step->options[0].label, "The patient themselves");
		CHECK_STR(step->options[1].value, "carer");
		CHECK_STR(step->options[2].value, "relative");
		CHECK_STR(step->options[3].value, "friend");
		CHECK_STR(step->options[4].value, "other");
	}
	step = &f->steps[10];
	CHECK(step->required);
	CHECK(step->n_text >= 2);
	CHECK(step->n_text > 0 && strstr(step->text[0], "public website") != NULL);
	form_free(f);
}

TEST(discharge_form_adds_theme_and_step)
{
	form *f = form_load("forms/discharge.form", err, sizeof err);
	int at;

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_STR(f->name, "discharge");
	CHECK_STR(f->version, "1");
	CHECK_STR(f->theme, "Leaving hospital (discharge)");
	CHECK(f->n_steps == 13);
	CHECK(step_is(f, 2, "different", STEP_TEXT));
	CHECK(step_is(f, 3, "discharge", STEP_TEXT));
	CHECK(step_is(f, 4, "title", STEP_LINE));
	CHECK(step_is(f, 12, "thanks", STEP_THANKS));
	at = form_find_step(f, "discharge");
	CHECK(at == 3);
	if (at == 3) {
		CHECK(f->steps[3].n_hints >= 3);
		CHECK(f->steps[3].n_hints > 0 &&
		      strcmp(f->steps[3].hints[0],
			     "Did you know when you were going home?") == 0);
	}
	form_free(f);
}

TEST(shipped_forms_share_wording)
{
	form *a = form_load("forms/default.form", err, sizeof err);
	form *b = form_load("forms/discharge.form", err, sizeof err);
	size_t i, j, shared = 0;

	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		form_free(a);
		form_free(b);
		return;
	}
	CHECK_STR(a->title, b->title);
	CHECK_STR(a->consent_version, b->consent_version);
	for (i = 0; i < a->n_steps; i++) {
		int k = form_find_step(b, a->steps[i].key);
		const form_step *sa = &a->steps[i], *sb;

		CHECK(k >= 0);
		if (k < 0)
			continue;
		sb = &b->steps[k];
		shared++;
		CHECK(sa->type == sb->type);
		CHECK_STR(sa->title, sb->title);
		CHECK(same_paragraphs(sa->text, sa->n_text, sb->text, sb->n_text));
		CHECK(same_paragraphs(sa->hints, sa->n_hints, sb->hints,
				      sb->n_hints));
		CHECK(sa->n_options == sb->n_options);
		for (j = 0; j < sa->n_options && j < sb->n_options; j++) {
			CHECK_STR(sa->options[j].value, sb->options[j].value);
			CHECK_STR(sa->options[j].label, sb->options[j].label);
		}
		CHECK(sa->required == sb->required);
	}
	CHECK(shared == a->n_steps);
	form_free(a);
	form_free(b);
}

TEST(minimal_form_and_defaults)
{
	form *f = parse(MINI);

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_STR(f->path, "t");
	CHECK_STR(f->title, "mini");         /* defaults to the name */
	CHECK_STR(f->consent_version, "2");  /* defaults to the version */
	CHECK(f->theme == NULL);
	CHECK(f->n_steps == 8);
	CHECK(f->steps[0].line_no == 4);
	CHECK(f->steps[7].line_no == 27);
	/* text */
	CHECK(f->steps[0].required == 1);
	CHECK(f->steps[0].max_chars == 20000);
	CHECK(f->steps[0].warn_words == 1000);
	CHECK(f->steps[0].n_text == 0);
	CHECK(f->steps[0].text == NULL);
	/* line, choice, username, postcode, services, email, consent */
	CHECK(f->steps[1].required == 1 && f->steps[1].max_chars == 120);
	CHECK(f->steps[1].warn_words == 0);
	CHECK(f->steps[2].required == 1 && f->steps[2].max_chars == 0);
	CHECK(f->steps[3].required == 1 && f->steps[3].max_chars == 30);
	CHECK(f->steps[4].required == 1 && f->steps[4].max_chars == 16);
	CHECK(f->steps[5].required == 1 && f->steps[5].max_chars == 0);
	CHECK(f->steps[6].required == 1 && f->steps[6].max_chars == 254);
	CHECK(f->steps[7].required == 1);
	form_free(f);
}

TEST(info_review_thanks_are_not_required)
{
	form *f = parse(MINI_HEADER
			"[hello]\ntype = info\ntitle = Hello\ntext = Hi {operator}.\n"
			MINI_QUESTIONS
			"[check]\ntype = review\ntitle = Check\n"
			MINI_CONSENT
			"[bye]\ntype = thanks\ntitle = Thanks\ntext = Thank you.\n");

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK(f->n_steps == 11);
	CHECK(step_is(f, 0, "hello", STEP_INFO));
	CHECK(f->steps[0].required == 0 && f->steps[0].max_chars == 0);
	CHECK_STR(f->steps[0].text[0], "Hi {operator}.");
	CHECK(step_is(f, 8, "check", STEP_REVIEW));
	CHECK(f->n_steps == 11 && f->steps[8].required == 0);
	CHECK(step_is(f, 10, "bye", STEP_THANKS));
	CHECK(f->n_steps == 11 && f->steps[10].required == 0);
	CHECK(form_find_type(f, STEP_REVIEW) == 8);
	form_free(f);
}

TEST(explicit_limits_and_required)
{
	form *f = parse(MINI_HEADER
			"[good]\ntype = text\ntitle = Good\nrequired = no\n"
			"max_chars = 500\nwarn_words = 50\n"
			"[extra]\nmax_chars = 40\nrequired = no\ntype = line\n"
			"title = Extra\n"
			"[title]\ntype = line\ntitle = T\n"
			"[role]\ntype = choice\ntitle = R\noption = a | A\n"
			"option = b | B\nrequired = no\n"
			"[username]\ntype = username\ntitle = U\nmax_chars = 20\n"
			"[postcode]\ntype = postcode\ntitle = P\n"
			"[services]\ntype = services\ntitle = S\n"
			"[email]\ntype = email\ntitle = E\n"
			MINI_CONSENT);

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK(f->steps[0].required == 0);
	CHECK(f->steps[0].max_chars == 500);
	CHECK(f->steps[0].warn_words == 50);
	CHECK(f->steps[1].type == STEP_LINE);
	CHECK(f->steps[1].max_chars == 40);
	CHECK(f->steps[1].required == 0);
	CHECK(f->steps[3].required == 0);
	CHECK(f->steps[4].max_chars == 20);
	form_free(f);
}

TEST(values_keep_equals_and_hash)
{
	form *f = parse("  # a comment after spaces\n"
			"\t# and after a tab\n"
			"name=mini\n"
			"version   =   2   \n"
			"title = Tell us = please # not a comment\n"
			"theme = Food #1\n"
			"consent_version = 2024-03.b\n"
			MINI_QUESTIONS MINI_CONSENT
			"text =   a = b  #c   \n");

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_STR(f->name, "mini");
	CHECK_STR(f->version, "2");
	CHECK_STR(f->title, "Tell us = please # not a comment");
	CHECK_STR(f->theme, "Food #1");
	CHECK_STR(f->consent_version, "2024-03.b");
	CHECK(f->steps[7].n_text == 2);
	if (f->steps[7].n_text == 2)
		CHECK_STR(f->steps[7].text[1], "a = b  #c");
	form_free(f);
}

TEST(options_parse_value_and_label)
{
	form *f = parse(MINI_HEADER
			"[good]\ntype = text\ntitle = Good\n"
			"[title]\ntype = line\ntitle = T\n"
			"[role]\n"
			"option = patient|The patient themselves\n"
			"type = choice\n"
			"title = R\n"
			"option =   other_1   |   Someone else | or not  \n"
			"[username]\ntype = username\ntitle = U\n"
			"[postcode]\ntype = postcode\ntitle = P\n"
			"[services]\ntype = services\ntitle = S\n"
			"[email]\ntype = email\ntitle = E\n"
			MINI_CONSENT);

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK(f->steps[2].n_options == 2);
	if (f->steps[2].n_options == 2) {
		CHECK_STR(f->steps[2].options[0].value, "patient");
		CHECK_STR(f->steps[2].options[0].label, "The patient themselves");
		CHECK_STR(f->steps[2].options[1].value, "other_1");
		CHECK_STR(f->steps[2].options[1].label, "Someone else | or not");
	}
	form_free(f);
}

TEST(crlf_and_byte_order_mark)
{
	form *f = parse("\xef\xbb\xbfname = mini\r\nversion = 2\r\n" MINI_QUESTIONS
			MINI_CONSENT "text = last line without newline");

	CHECK(f != NULL);
	if (f == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_STR(f->name, "mini");
	CHECK_STR(f->version, "2");
	CHECK(f->steps[7].n_text == 2);
	if (f->steps[7].n_text == 2)
		CHECK_STR(f->steps[7].text[1], "last line without newline");
	form_free(f);
}

TEST(utf8_text_is_kept)
{
	form *f = parse(MINI "text = Ça va? 你好 — ok\n");

	CHECK(f != NULL);
	if (f != NULL && f->steps[7].n_text == 2)
		CHECK_STR(f->steps[7].text[1], "Ça va? 你好 — ok");
	form_free(f);
}

TEST(lookups_and_type_names)
{
	form *f = parse(MINI);

	CHECK(f != NULL);
	CHECK(form_find_step(f, "good") == 0);
	CHECK(form_find_step(f, "consent") == 7);
	CHECK(form_find_step(f, "nope") == -1);
	CHECK(form_find_step(NULL, "good") == -1);
	CHECK(form_find_type(f, STEP_EMAIL) == 6);
	CHECK(form_find_type(f, STEP_CONSENT) == 7);
	CHECK(form_find_type(f, STEP_THANKS) == -1);
	CHECK_STR(form_step_type_name(STEP_INFO), "info");
	CHECK_STR(form_step_type_name(STEP_TEXT), "text");
	CHECK_STR(form_step_type_name(STEP_USERNAME), "username");
	CHECK_STR(form_step_type_name(STEP_THANKS), "thanks");
	form_free(f);
	form_free(NULL);
}

TEST(error_unknown_attribute)
{
	CHECK(refused_after("colour = red\n", "t:31: ",
			    "unknown attribute 'colour'"));
	CHECK(refused("colour = red\n" MINI, "t:1: ", "unknown attribute 'colour'"));
}

TEST(error_unknown_type)
{
	CHECK(refused_after("[x]\ntype = essay\ntitle = X\n", "t:32: ",
			    "unknown step type 'essay'"));
}

TEST(error_missing_type)
{
	/* Reported at the step's own line once the step ends. */
	CHECK(refused(MINI_HEADER "[intro]\ntitle = Hello\ntext = Hi\n"
		      MINI_QUESTIONS MINI_CONSENT,
		      "t:4: ", "has no type"));
	CHECK(refused_after("[last]\n", "t:31: ", "step [last] has no type"));
}

TEST(error_duplicate_step_key)
{
	CHECK(refused_after("[good]\ntype = text\ntitle = Again\n", "t:31: ",
			    "step key [good] is used twice (first at line 4)"));
}

TEST(error_bad_key_characters)
{
	CHECK(refused_after("[Good]\n", "t:31: ", "lower-case letters"));
	CHECK(refused_after("[good-bit]\n", "t:31: ", "lower-case letters"));
	CHECK(refused_after("[a b]\n", "t:31: ", "lower-case letters"));
	CHECK(refused_after("[ ]\n", "t:31: ", "needs a key"));
	CHECK(refused_after("[good\n", "t:31: ", "[good]"));
	CHECK(refused_after("[extra] trailing\n", "t:31: ", "nothing after"));
}

TEST(error_step_attribute_before_any_step)
{
	CHECK(refused("type = text\n" MINI, "t:1: ",
		      "'type' must come after a step line"));
	CHECK(refused("name = a\nversion = 1\ntext = Hello\n", "t:3: ",
		      "must come after a step line"));
}

TEST(error_header_attribute_inside_step)
{
	CHECK(refused_after("name = other\n", "t:31: ",
			    "'name' describes the whole form"));
	CHECK(refused_after("theme = Food\n", "t:31: ", "before the first step"));
}

TEST(error_missing_name_or_version)
{
	CHECK(refused("version = 2\n" MINI_QUESTIONS MINI_CONSENT, "t:0: ",
		      "no 'name = ...'"));
	CHECK(refused("name = mini\n" MINI_QUESTIONS MINI_CONSENT, "t:0: ",
		      "no 'version = ...'"));
}

TEST(error_bad_header_values)
{
	CHECK(refused("name = my form\n", "t:1: ", "name 'my form' may only use"));
	CHECK(refused("name = a\nname = b\n", "t:2: ",
		      "'name' is given twice (first at line 1)"));
	CHECK(refused("name = a\nversion = 1/2\n", "t:2: ", "version '1/2'"));
	CHECK(refused("name =\n", "t:1: ", "'name' has no value"));
	CHECK(refused("name = a\ntitle = "
		      "This title goes on and on and on, far beyond what would "
		      "fit on the screen\n",
		      "t:2: ", "longer than 60 characters"));
}

TEST(error_option_on_non_choice_step)
{
	/* Type first: caught on the line itself. */
	CHECK(refused_after("[extra]\ntype = line\ntitle = X\noption = a | A\n",
			    "t:34: ", "'option' only belongs on choice steps"));
	/* Type last: caught when the step ends, still on the option's line. */
	CHECK(refused_after("[extra]\noption = a | A\ntitle = X\ntype = text\n",
			    "t:32: ", "step [extra] is a text step"));
}

TEST(error_choice_needs_two_options)
{
	CHECK(refused(MINI_HEADER
		      "[role]\ntype = choice\ntitle = R\noption = a | A\n",
		      "t:4: ", "at least two"));
	CHECK(refused_after("[pick]\ntype = choice\ntitle = Pick\n", "t:31: ",
			    "choice step [pick] needs at least two"));
}

TEST(error_option_syntax)
{
	CHECK(refused_after("[pick]\ntype = choice\ntitle = P\noption = yes\n",
			    "t:34: ", "'value | label'"));
	CHECK(refused_after("[pick]\ntype = choice\ntitle = P\noption = | Yes\n",
			    "t:34: ", "both a value and a label"));
	CHECK(refused_after("[pick]\ntype = choice\ntitle = P\noption = yes |\n",
			    "t:34: ", "both a value and a label"));
	CHECK(refused_after("[pick]\ntype = choice\ntitle = P\noption = Yes | Yes\n",
			    "t:34: ", "option value 'Yes'"));
	CHECK(refused_after("[pick]\ntype = choice\ntitle = P\noption = a | A\n"
			    "option = a | Again\n",
			    "t:35: ", "option value 'a' is used twice"));
}

TEST(error_too_many_options)
{
	char *text = join(MINI, "[pick]\ntype = choice\ntitle = P\n"
				"option = a | A\noption = b | B\noption = c | C\n"
				"option = d | D\noption = e | E\noption = f | F\n"
				"option = g | G\noption = h | H\noption = i | I\n"
				"option = j | J\noption = k | K\noption = l | L\n"
				"option = m | M\n");

	CHECK(refused(text, "t:46: ", "at most 12 options"));
	free(text);
}

TEST(error_bad_numbers)
{
	CHECK(refused_after("[x]\ntype = text\ntitle = X\nmax_chars = lots\n",
			    "t:34: ", "max_chars must be a whole number"));
	CHECK(refused_after("[x]\ntype = text\ntitle = X\nmax_chars = 0\n",
			    "t:34: ", "from 1 to 100000, not '0'"));
	CHECK(refused_after("[x]\ntype = text\ntitle = X\nmax_chars = 100001\n",
			    "t:34: ", "not '100001'"));
	CHECK(refused_after("[x]\ntype = text\ntitle = X\n"
			    "max_chars = 99999999999999999999999\n",
			    "t:34: ", "whole number"));
	CHECK(refused_after("[x]\ntype = text\ntitle = X\nwarn_words = -5\n",
			    "t:34: ", "warn_words must be a whole number"));
	CHECK(refused_after("[x]\ntype = text\ntitle = X\nwarn_words = 1.5\n",
			    "t:34: ", "not '1.5'"));
}

TEST(error_required_values_and_places)
{
	CHECK(refused_after("[x]\ntype = text\ntitle = X\nrequired = maybe\n",
			    "t:34: ", "'yes' or 'no', not 'maybe'"));
	CHECK(refused_after("[x]\ntype = info\ntitle = X\ntext = Hi\nrequired = yes\n",
			    "t:35: ", "'required' does not apply to info steps"));
	CHECK(refused(MINI_HEADER MINI_QUESTIONS
		      "[consent]\ntype = consent\ntitle = C\ntext = OK?\n"
		      "required = no\n",
		      "t:31: ", "consent step is always required"));
	CHECK(refused_after("[x]\ntype = choice\ntitle = X\nmax_chars = 3\n",
			    "t:34: ", "'max_chars' only belongs on text, line"));
	CHECK(refused_after("[x]\ntype = line\ntitle = X\nwarn_words = 3\n",
			    "t:34: ", "'warn_words' only belongs on text steps"));
	CHECK(refused_after("[x]\ntype = line\ntitle = X\nhint = Why?\n",
			    "t:34: ", "'hint' only belongs on text steps"));
}

TEST(error_duplicate_step_attribute)
{
	CHECK(refused_after("[x]\ntype = text\ntitle = X\ntitle = Y\n", "t:34: ",
			    "'title' is given twice in step [x] (first at line 33)"));
	CHECK(refused_after("[x]\ntype = text\ntype = line\n", "t:33: ",
			    "'type' is given twice"));
}

TEST(error_missing_title_or_text)
{
	CHECK(refused_after("[x]\ntype = text\ntext = Hello\n", "t:31: ",
			    "step [x] has no title"));
	CHECK(refused(MINI_HEADER "[hello]\ntype = info\ntitle = Hi\n"
		      MINI_QUESTIONS MINI_CONSENT,
		      "t:4: ", "info step [hello] has nothing to show"));
	CHECK(refused(MINI_HEADER MINI_QUESTIONS
		      "[consent]\ntype = consent\ntitle = C\n",
		      "t:27: ", "consent step [consent] has nothing to show"));
}

TEST(error_placeholders)
{
	CHECK(refused_after("text = Hello {operater}\n", "t:31: ",
			    "unknown placeholder {operater}"));
	CHECK(refused_after("[x]\ntype = text\ntitle = Hi {operator}\n", "t:33: ",
			    "only work in 'text'"));
	/* Braces that are not a placeholder are plain text. */
	{
		form *f = parse(MINI "text = Use {} or { x } or {A}\n");

		CHECK(f != NULL);
		form_free(f);
	}
}

TEST(error_line_syntax)
{
	CHECK(refused_after("just some words\n", "t:31: ",
			    "expected 'attribute = value'"));
	CHECK(refused_after("= value\n", "t:31: ", "no attribute name"));
	CHECK(refused_after("title =   \n", "t:31: ", "'title' has no value"));
}

TEST(error_invalid_utf8)
{
	CHECK(refused_after("text = caf\xe9\n", "t:31: ", "not valid UTF-8"));
	CHECK(refused_after("# comment \xc0\xaf overlong\n", "t:31: ",
			    "not valid UTF-8"));
	CHECK(refused_after("text = \xed\xa0\x80 surrogate\n", "t:31: ",
			    "not valid UTF-8"));
	CHECK(refused("\xff\xfe" "n\0a\0", "t:1: ", "not valid UTF-8"));
}

TEST(error_control_characters)
{
	CHECK(refused_after("text = red \x1b[31m alert\n", "t:31: ",
			    "control character (byte 0x1B)"));
	CHECK(refused_after("text = \xc2\x9b" "31m\n", "t:31: ",
			    "control character (U+009B)"));
	{
		/* A NUL means a binary file, even inside a comment. */
		static const char text[] = "name = a\n# x\0y\n";
		form *f = form_parse(text, sizeof text - 1, "t", err, sizeof err);

		CHECK(f == NULL);
		CHECK(strncmp(err, "t:2: ", 5) == 0);
		CHECK(strstr(err, "byte 0x00") != NULL);
	}
	/* Tabs are fine. */
	{
		form *f = parse(MINI "text =\tTabbed\tout\n");

		CHECK(f != NULL);
		form_free(f);
	}
}

TEST(error_line_too_long)
{
	size_t n = 4097;
	char *text = malloc(sizeof MINI + 16 + n);
	char *end;
	form *f;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	memcpy(text, MINI "text = ", sizeof MINI - 1 + 7);
	end = text + sizeof MINI - 1 + 7;
	memset(end, 'a', n - 7);
	end[n - 7] = '\n';
	end[n - 6] = '\0';
	CHECK(refused(text, "t:31: ", "longer than 4096 bytes"));
	/* 4096 bytes exactly is allowed. */
	end[n - 8] = '\n';
	end[n - 7] = '\0';
	f = parse(text);
	CHECK(f != NULL);
	form_free(f);
	free(text);
}

TEST(error_file_too_large)
{
	size_t n = 1024 * 1024 + 1;
	char *text = malloc(n);
	form *f;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	memset(text, '\n', n);
	f = form_parse(text, n, "big.form", err, sizeof err);
	CHECK(f == NULL);
	CHECK(strncmp(err, "big.form:0: ", 12) == 0);
	CHECK(strstr(err, "larger than 1 MiB") != NULL);
	free(text);
}

/* The same through form_load, which reads the file: a buffer sized to the
 * file must still show that it is too big. */
TEST(error_file_too_large_loaded)
{
	char path[] = "/tmp/sk-form-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *out = fdopen(fd, "w");
	CHECK(out != NULL);
	if (out == NULL) {
		close(fd);
		unlink(path);
		return;
	}
	for (size_t i = 0; i < 1024 * 1024 + 10; i++)
		fputc('\n', out);
	CHECK(fclose(out) == 0);
	form *f = form_load(path, err, sizeof err);
	CHECK(f == NULL);
	CHECK(strstr(err, "larger than 1 MiB") != NULL);
	form_free(f);
	unlink(path);
}

TEST(error_empty_form)
{
	CHECK(refused("", "t:0: ", "empty"));
	CHECK(refused("# only a comment\n\n   \n", "t:0: ", "the form is empty"));
	CHECK(refused("name = a\nversion = 1\n", "t:0: ", "has no steps"));
	{
		form *f = form_parse(NULL, 0, "t", err, sizeof err);

		CHECK(f == NULL);
		CHECK(strstr(err, "empty") != NULL);
	}
}

TEST(error_exactly_one_of_each)
{
	CHECK(refused(MINI_HEADER MINI_QUESTIONS, "t:0: ",
		      "no consent step; every form needs exactly one"));
	CHECK(refused(MINI_HEADER
		      "[good]\ntype = text\ntitle = G\n"
		      "[title]\ntype = line\ntitle = T\n"
		      "[role]\ntype = choice\ntitle = R\noption = a|A\noption = b|B\n"
		      "[postcode]\ntype = postcode\ntitle = P\n"
		      "[services]\ntype = services\ntitle = S\n"
		      "[email]\ntype = email\ntitle = E\n" MINI_CONSENT,
		      "t:0: ", "no username step"));
	CHECK(refused(MINI_HEADER MINI_QUESTIONS
		      "[email2]\ntype = email\ntitle = Again\n" MINI_CONSENT,
		      "t:27: ",
		      "[email2] is a second email step; a form has exactly one "
		      "(the first is [email] at line 24)"));
	CHECK(refused_after("[consent2]\ntype = consent\ntitle = C\ntext = x\n",
			    "t:31: ", "second consent step"));
}

TEST(error_review_order)
{
	CHECK(refused_after("[check]\ntype = review\ntitle = Check\n", "t:31: ",
			    "review step [check] must come before the consent step"));
	CHECK(refused(MINI_HEADER MINI_QUESTIONS
		      "[a]\ntype = review\ntitle = A\n"
		      "[b]\ntype = review\ntitle = B\n" MINI_CONSENT,
		      "t:30: ", "second review step"));
}

TEST(error_question_after_consent)
{
	CHECK(refused_after("[more]\ntype = text\ntitle = More?\n", "t:31: ",
			    "asks a question after the consent step [consent]"));
	/* An info step after consent is fine. */
	{
		char *text = join(MINI, "[note]\ntype = info\ntitle = N\ntext = x\n");
		form *f = parse(text);

		CHECK(f != NULL);
		form_free(f);
		free(text);
	}
}

TEST(error_thanks_not_last)
{
	CHECK(refused_after("[bye]\ntype = thanks\ntitle = Bye\ntext = Thanks\n"
			    "[note]\ntype = info\ntitle = N\ntext = x\n",
			    "t:31: ", "thanks step [bye] must be the last step"));
}

TEST(error_title_and_role_steps)
{
	CHECK(refused(MINI_HEADER
		      "[good]\ntype = text\ntitle = G\n"
		      "[role]\ntype = choice\ntitle = R\noption = a|A\noption = b|B\n"
		      "[username]\ntype = username\ntitle = U\n"
		      "[postcode]\ntype = postcode\ntitle = P\n"
		      "[services]\ntype = services\ntitle = S\n"
		      "[email]\ntype = email\ntitle = E\n" MINI_CONSENT,
		      "t:0: ", "no step [title]"));
	CHECK(refused(MINI_HEADER
		      "[title]\ntype = text\ntitle = T\n"
		      "[role]\ntype = choice\ntitle = R\noption = a|A\noption = b|B\n"
		      "[username]\ntype = username\ntitle = U\n"
		      "[postcode]\ntype = postcode\ntitle = P\n"
		      "[services]\ntype = services\ntitle = S\n"
		      "[email]\ntype = email\ntitle = E\n" MINI_CONSENT,
		      "t:4: ", "step [title] must be a line step"));
	CHECK(refused(MINI_HEADER
		      "[title]\ntype = line\ntitle = T\n"
		      "[role]\ntype = line\ntitle = R\n"
		      "[username]\ntype = username\ntitle = U\n"
		      "[postcode]\ntype = postcode\ntitle = P\n"
		      "[services]\ntype = services\ntitle = S\n"
		      "[email]\ntype = email\ntitle = E\n" MINI_CONSENT,
		      "t:7: ", "step [role] must be a choice step"));
}

TEST(error_missing_file)
{
	form *f = form_load("tests/unit/no-such.form", err, sizeof err);

	CHECK(f == NULL);
	CHECK(strstr(err, "tests/unit/no-such.form: ") == err);
	CHECK(strstr(err, "No such file or directory") != NULL);
}

TEST(error_message_fits_small_buffer)
{
	char small[8];
	form *f = form_parse("nonsense", 8, "a-long-file-name", small,
			     sizeof small);

	CHECK(f == NULL);
	CHECK(strlen(small) < sizeof small);
	CHECK(strncmp(small, "a-long-", 7) == 0);
	f = form_parse("nonsense", 8, "t", NULL, 0);
	CHECK(f == NULL);
}

int main(void)
{
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		printf("# note: no C.UTF-8 locale\n");
	RUN(default_form_loads_in_guide_order);
	RUN(default_form_words);
	RUN(discharge_form_adds_theme_and_step);
	RUN(shipped_forms_share_wording);
	RUN(minimal_form_and_defaults);
	RUN(info_review_thanks_are_not_required);
	RUN(explicit_limits_and_required);
	RUN(values_keep_equals_and_hash);
	RUN(options_parse_value_and_label);
	RUN(crlf_and_byte_order_mark);
	RUN(utf8_text_is_kept);
	RUN(lookups_and_type_names);
	RUN(error_unknown_attribute);
	RUN(error_unknown_type);
	RUN(error_missing_type);
	RUN(error_duplicate_step_key);
	RUN(error_bad_key_characters);
	RUN(error_step_attribute_before_any_step);
	RUN(error_header_attribute_inside_step);
	RUN(error_missing_name_or_version);
	RUN(error_bad_header_values);
	RUN(error_option_on_non_choice_step);
	RUN(error_choice_needs_two_options);
	RUN(error_option_syntax);
	RUN(error_too_many_options);
	RUN(error_bad_numbers);
	RUN(error_required_values_and_places);
	RUN(error_duplicate_step_attribute);
	RUN(error_missing_title_or_text);
	RUN(error_placeholders);
	RUN(error_line_syntax);
	RUN(error_invalid_utf8);
	RUN(error_control_characters);
	RUN(error_line_too_long);
	RUN(error_file_too_large);
	RUN(error_file_too_large_loaded);
	RUN(error_empty_form);
	RUN(error_exactly_one_of_each);
	RUN(error_review_order);
	RUN(error_question_after_consent);
	RUN(error_thanks_not_last);
	RUN(error_title_and_role_steps);
	RUN(error_missing_file);
	RUN(error_message_fits_small_buffer);
	return harness_report();
}
