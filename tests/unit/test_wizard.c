/* test_wizard.c - the rules of moving through the default form: what blocks,
 * what needs confirming, review and jumping back, and the story in memory. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "form.h"
#include "story.h"
#include "wizard.h"

static form *guide;
static validate_wordlists *words;

static story *fresh(wizard *w)
{
	story *s = story_new(guide, "Sam", "staff");
	CHECK(s != NULL);
	wizard_start(w, guide, words, s);
	return s;
}

static size_t step_of(const char *key)
{
	int step = form_find_step(guide, key);
	CHECK(step >= 0);
	return (size_t)step;
}

static size_t step_of_type(step_type type)
{
	int step = form_find_type(guide, type);
	CHECK(step >= 0);
	return (size_t)step;
}

/* Fill every question with valid answers, as an operator would. */
static void fill(wizard *w)
{
	story *s = w->story;
	CHECK(wizard_set_answer(w, step_of("good"), "Kind nurses") == 0);
	CHECK(wizard_set_answer(w, step_of("different"), "") == 0);
	CHECK(wizard_set_answer(w, step_of("title"), "  Kind night staff  ") == 0);
	CHECK(story_set_answer(s, step_of("role"), "carer") == 0);
	CHECK(wizard_set_answer(w, step_of_type(STEP_USERNAME), "BlueHeron") == 0);
	CHECK(wizard_set_answer(w, step_of_type(STEP_POSTCODE), "le15ww") == 0);
	CHECK(story_add_service(s, "LVH-W7", "Ward 7", "LE5 9QZ") == 0);
	s->no_email = 1;
	s->consent = 1;
}

TEST(new_story_has_uuid_and_time)
{
	wizard w;
	story *s = fresh(&w);
	CHECK(strlen(s->id) == 36);
	CHECK(s->id[14] == '4'); /* version 4 */
	CHECK(strlen(s->created_at) == 20 && s->created_at[19] == 'Z');
	story *other = story_new(guide, "Sam", "staff");
	CHECK(strcmp(s->id, other->id) != 0);
	story_free(other);
	story_free(s);
}

TEST(reference_only_for_a_whole_uuid)
{
	char ref[STORY_REFERENCE_SIZE];
	CHECK(story_reference("cd613e30-d8f1-4adf-91b7-584a2265b1f5", ref, sizeof ref) == 0);
	CHECK_STR(ref, "TPJM-WE8S");
	CHECK(story_reference("CD613E30-D8F1-4ADF-91B7-584A2265B1F5", ref, sizeof ref) == 0);
	CHECK_STR(ref, "TPJM-WE8S");
	CHECK(story_reference("0123456789", ref, sizeof ref) == -1);
	CHECK(story_reference("cd613e30d8f14adf91b7584a2265b1f5", ref, sizeof ref) == -1);
	CHECK(story_reference("cd613e30-d8f1-4adf-91b7-584a2265b1fz", ref, sizeof ref) == -1);
	CHECK(story_reference("cd613e30-d8f1-4adf-91b7-584a2265b1f5", ref, 5) == -1);
	CHECK(story_normalise_reference("tpjm we8s", ref, sizeof ref) == 0);
	CHECK_STR(ref, "TPJM-WE8S");
	CHECK(story_normalise_reference("TPJM-WE80", ref, sizeof ref) == -1); /* no 0 */
	CHECK(story_normalise_reference("TPJM-WE8SX", ref, sizeof ref) == -1);
}

TEST(info_step_moves_on)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	CHECK(guide->steps[0].type == STEP_INFO);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(w.step == 1);
	wizard_back(&w);
	CHECK(w.step == 0);
	wizard_back(&w);
	CHECK(w.step == 0);
	story_free(s);
}

TEST(required_text_blocks_until_written)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	w.step = step_of("good");
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "Nothing to add") != NULL);
	CHECK(w.step == step_of("good"));
	CHECK(wizard_set_answer(&w, w.step, "  \n ") == 0);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(wizard_set_answer(&w, w.step, "Zoë was kind\n") == 0);
	CHECK_STR(story_answer(s, w.step), "Zoë was kind\n"); /* story text kept exactly */
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(w.step == step_of("good") + 1);
	story_free(s);
}

TEST(optional_text_may_be_empty)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	w.step = step_of("different");
	CHECK(!guide->steps[w.step].required);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	story_free(s);
}

TEST(choice_must_be_an_option)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	w.step = step_of("role");
	CHECK(wizard_check(&w, w.step, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(story_set_answer(s, w.step, "manager") == 0);
	CHECK(wizard_check(&w, w.step, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(story_set_answer(s, w.step, "relative") == 0);
	CHECK(wizard_check(&w, w.step, msg, sizeof msg) == VALIDATE_OK);
	story_free(s);
}

TEST(line_answers_are_trimmed)
{
	wizard w;
	story *s = fresh(&w);
	CHECK(wizard_set_answer(&w, step_of("title"), "  A long wait \t") == 0);
	CHECK_STR(story_answer(s, step_of("title")), "A long wait");
	CHECK(wizard_set_answer(&w, step_of("title"), "   ") == 0);
	CHECK(story_answer(s, step_of("title")) == NULL);
	story_free(s);
}

TEST(postcode_is_normalised_and_checked)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	size_t step = step_of_type(STEP_POSTCODE);
	w.step = step;
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "No postcode") != NULL);
	CHECK(wizard_set_answer(&w, step, " sw1a1aa ") == 0);
	CHECK_STR(story_answer(s, step), "SW1A 1AA");
	CHECK(wizard_set_answer(&w, step, "LE1 5W") == 0);
	CHECK_STR(story_answer(s, step), "LE1 5W");
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(w.step == step);
	story_free(s);
}

TEST(pseudo_postcode_needs_confirming_twice)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	size_t step = step_of_type(STEP_POSTCODE);
	w.step = step;
	CHECK(wizard_set_answer(&w, step, "zz99 3vz") == 0);
	CHECK_STR(story_answer(s, step), "ZZ99 3VZ");
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_WARN);
	CHECK(w.step == step);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(w.step == step + 1);
	/* The same answer stored again keeps the confirmation. */
	CHECK(wizard_set_answer(&w, step, "ZZ99 3VZ") == 0);
	CHECK(wizard_check(&w, step, msg, sizeof msg) == VALIDATE_OK);
	story_free(s);
}

TEST(no_postcode_uses_first_service)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	size_t step = step_of_type(STEP_POSTCODE);
	s->no_postcode = 1;
	CHECK(wizard_check(&w, step, msg, sizeof msg) == VALIDATE_OK);
	CHECK(story_postcode(s) == NULL);
	CHECK(story_add_service(s, NULL, "Day room", "") == 0);
	CHECK(wizard_check(&w, step, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "no postcode on file") != NULL);
	story_remove_service(s, 0);
	CHECK(story_add_service(s, "LVH-W7", "Ward 7", "LE5 9QZ") == 0);
	CHECK(story_add_service(s, NULL, "Day room", "") == 0);
	CHECK(wizard_check(&w, step, msg, sizeof msg) == VALIDATE_OK);
	CHECK_STR(story_postcode(s), "LE5 9QZ");
	story_free(s);
}

TEST(services_required_and_deduplicated)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	size_t step = step_of_type(STEP_SERVICES);
	CHECK(wizard_check(&w, step, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(story_add_service(s, "A1", "Ward A", "") == 0);
	CHECK(story_add_service(s, "A1", "Ward A", "") == 1);
	CHECK(story_add_service(s, NULL, "Free text", "") == 0);
	CHECK(story_add_service(s, NULL, "Free text", "") == 1);
	CHECK(s->n_services == 2);
	CHECK(story_find_service(s, NULL, "Free text") == 1);
	CHECK(story_find_service(s, "A1", NULL) == 0);
	CHECK(wizard_check(&w, step, msg, sizeof msg) == VALIDATE_OK);
	story_free(s);
}

TEST(email_read_back_then_confirmed)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	size_t step = step_of_type(STEP_EMAIL);
	w.step = step;
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(wizard_set_answer(&w, step, "jo@@example.org") == 0);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(wizard_set_answer(&w, step, " Jo@Example.ORG ") == 0);
	CHECK_STR(story_answer(s, step), "Jo@example.org");
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_WARN);
	CHECK(strstr(msg, "Jo@example.org") != NULL);
	/* A changed address must be read back again. */
	CHECK(wizard_set_answer(&w, step, "jo@example.com") == 0);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_WARN);
	CHECK(w.step == step);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(w.step == step + 1);
	CHECK_STR(story_email(s), "jo@example.com");
	s->no_email = 1;
	CHECK(story_email(s) == NULL);
	story_free(s);
}

TEST(username_checked_against_email_at_review)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	fill(&w);
	size_t username = step_of_type(STEP_USERNAME);
	CHECK(wizard_set_answer(&w, username, "Bloggsy") == 0);
	CHECK(wizard_first_problem(&w, msg, sizeof msg) == -1);
	s->no_email = 0;
	CHECK(wizard_set_answer(&w, step_of_type(STEP_EMAIL), "bloggsy@example.org") == 0);
	int problem = wizard_first_problem(&w, msg, sizeof msg);
	CHECK(problem == (int)username);
	story_free(s);
}

TEST(review_blocks_on_first_problem)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	fill(&w);
	size_t review = step_of_type(STEP_REVIEW);
	w.step = review;
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(w.step == review + 1);
	CHECK(story_set_answer(s, step_of("role"), NULL) == 0);
	w.step = review;
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, guide->steps[step_of("role")].title) != NULL);
	CHECK(wizard_first_problem(&w, msg, sizeof msg) == (int)step_of("role"));
	story_free(s);
}

TEST(jump_from_review_returns_there)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	fill(&w);
	size_t review = step_of_type(STEP_REVIEW);
	w.step = review;
	wizard_jump(&w, step_of("good"));
	CHECK(w.step == step_of("good"));
	CHECK(wizard_set_answer(&w, w.step, "Changed") == 0);
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(w.step == review);
	/* Back from a jumped-to step walks normally and forgets the return. */
	wizard_jump(&w, step_of("title"));
	wizard_back(&w);
	CHECK(!w.back_to_review);
	story_free(s);
}

TEST(consent_has_no_default)
{
	wizard w;
	story *s = fresh(&w);
	char msg[512];
	fill(&w);
	s->consent = -1;
	size_t consent = step_of_type(STEP_CONSENT);
	w.step = consent;
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "no default") != NULL);
	s->consent = 1;
	CHECK(wizard_next(&w, msg, sizeof msg) == VALIDATE_OK);
	CHECK(guide->steps[w.step].type == STEP_THANKS);
	wizard_back(&w);
	CHECK(guide->steps[w.step].type == STEP_THANKS);
	story_free(s);
}

TEST(confirmation_forgotten_when_answer_changes)
{
	wizard w;
	story *s = fresh(&w);
	size_t step = step_of("good");
	CHECK(story_confirm(s, step, "warning") == 0);
	CHECK(story_is_confirmed(s, step, "warning"));
	CHECK(!story_is_confirmed(s, step, "other"));
	CHECK(story_set_answer(s, step, "new") == 0);
	CHECK(!story_is_confirmed(s, step, "warning"));
	story_free(s);
}

int main(void)
{
	setlocale(LC_ALL, "C.UTF-8");
	char err[512];
	guide = form_load("forms/default.form", err, sizeof err);
	words = validate_wordlists_load("data/username-blocked.txt", "data/username-warn.txt",
					err, sizeof err);
	if (guide == NULL || words == NULL) {
		printf("not ok - setup: %s\n", err);
		return 1;
	}
	RUN(new_story_has_uuid_and_time);
	RUN(reference_only_for_a_whole_uuid);
	RUN(info_step_moves_on);
	RUN(required_text_blocks_until_written);
	RUN(optional_text_may_be_empty);
	RUN(choice_must_be_an_option);
	RUN(line_answers_are_trimmed);
	RUN(postcode_is_normalised_and_checked);
	RUN(pseudo_postcode_needs_confirming_twice);
	RUN(no_postcode_uses_first_service);
	RUN(services_required_and_deduplicated);
	RUN(email_read_back_then_confirmed);
	RUN(username_checked_against_email_at_review);
	RUN(review_blocks_on_first_problem);
	RUN(jump_from_review_returns_there);
	RUN(consent_has_no_default);
	RUN(confirmation_forgotten_when_answer_changes);
	validate_wordlists_free(words);
	form_free(guide);
	return harness_report();
}
