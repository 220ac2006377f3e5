/* kiosk_checks.c - the checks on the way to review, before consent: what
 * would identify someone or should not be published, and what a person must
 * act on (safeguarding, a possible safety incident). */
#include "kiosk_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "editor.h"
#include "fatal.h"
#include "screen.h"
#include "story.h"
#include "wizard.h"

#define MAX_FINDINGS 64

/* Every text and line answer, joined: the checks run again only when it changes. */
static char *story_text(const kiosk *k)
{
	char *all = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&all, &len);
	if (out == NULL)
		fatal("out of memory");
	for (size_t i = 0; i < k->ctx->form->n_steps; i++) {
		step_type type = k->ctx->form->steps[i].type;
		const char *answer = story_answer(k->story, i);
		if ((type == STEP_TEXT || type == STEP_LINE) && answer)
			fprintf(out, "%zu:%s\n", i, answer);
	}
	if (fclose(out) != 0)
		fatal("out of memory");
	return all;
}

/* Move to step and put the cursor at byte offset at of its answer, to edit a
 * finding; Next then returns to review. */
static void edit_at(kiosk *k, size_t step, size_t at)
{
	wizard_jump(&k->wiz, step);
	k->message[0] = '\0';
	kiosk_enter_step(k);
	const char *answer = story_answer(k->story, step);
	size_t characters = 0;
	for (size_t i = 0; answer && i < at && answer[i]; i++)
		if (((unsigned char)answer[i] & 0xc0) != 0x80)
			characters++;
	if (characters <= k->field.len)
		k->field.cursor = characters;
	kiosk_set_message(k, LOOK_HINT, "Change what needs changing, then press Ctrl-N to go back to the review.");
}

/* Signposting for a mention of harm, or a possible patient safety incident:
 * the form's words, acknowledged before going on. */
static void signpost(kiosk *k, const char *title, const char *words, const char *fallback,
		     size_t step, size_t start, size_t end)
{
	char text[2048];
	snprintf(text, sizeof text, "%s The story is flagged so that the team sees it first. "
		 "This is what it says:", words ? words : fallback);
	const char *choices[] = { "I have read this: carry on" };
	while (kiosk_passage_dialog(k, title, text, story_answer(k->story, step), start, end, choices, 1) != 0 &&
	       !kiosk_got_terminate)
		;
}

/* Before review: look for what would identify someone or should not be
 * published, and for what a person must act on. Warnings only: the story is
 * never changed without the operator. Returns non-zero when the operator went
 * to edit an answer. */
int kiosk_check_story(kiosk *k)
{
	char *text = story_text(k);
	if (k->checked_text != NULL && strcmp(text, k->checked_text) == 0) {
		free(text);
		return 0;
	}
	free(k->checked_text);
	k->checked_text = text;

	const form *f = k->ctx->form;
	long counts[FINDING_KIND_COUNT] = { 0 };
	int leave_all = 0, safeguarding = 0, safety = 0;
	for (size_t step = 0; step < f->n_steps; step++) {
		const form_step *fs = &f->steps[step];
		const char *answer = story_answer(k->story, step);
		if ((fs->type != STEP_TEXT && fs->type != STEP_LINE) || answer == NULL)
			continue;
		size_t start, end;
		/* Each signposting screen is shown once a story; the flags are worked
		 * out afresh every time. */
		if (!safeguarding && detect_safeguarding(answer, k->ctx->checks, &start, &end)) {
			safeguarding = 1;
			if (!k->story->safeguarding)
				signpost(k, "Safeguarding: please read", f->safeguarding,
				 "This story may mention someone being harmed or at risk. Follow your "
				 "organisation's safeguarding procedure now.", step, start, end);
		}
		if (!safety && detect_safety_incident(answer, k->ctx->checks, &start, &end)) {
			safety = 1;
			if (!k->story->safety_incident)
				signpost(k, "Possible patient safety incident", f->safety,
				 "This story may describe something that went wrong in care. Tell them the "
				 "patient safety team may contact them to follow it up, if they agree.",
				 step, start, end);
		}
		finding found[MAX_FINDINGS];
		size_t n = detect_identifiers(answer, k->ctx->checks,
					      fs->type == STEP_TEXT ? (fs->warn_words ? fs->warn_words : 1000) : 0,
					      found, MAX_FINDINGS);
		for (size_t i = 0; i < n && i < MAX_FINDINGS; i++) {
			counts[found[i].kind]++;
			if (leave_all)
				continue;
			char title[128], why[512];
			snprintf(title, sizeof title, "Check before they agree");
			finding_kind kind = found[i].kind;
			const char *advice =
				kind == FINDING_TOO_LONG ? "Long stories are best shortened, with them." :
				kind == FINDING_CAPITALS ? "Stories are easier to read in ordinary letters." :
				kind == FINDING_SWEARING ? "Stories with swearing may not be published as "
							   "written." :
							   "Details like this could identify someone: moderators "
							   "take them out, but it is better changed now, with them.";
			snprintf(why, sizeof why, "Found in \"%s\": %s. %s Edit it, or leave it as it is?",
				 fs->title, detect_kind_label(kind), advice);
			const char *choices[] = { "1 Edit this answer", "2 Leave it as it is",
						  "3 Leave all of them" };
			int chosen = kiosk_passage_dialog(k, title, why, answer, found[i].start, found[i].end,
							  choices, 3);
			if (chosen == 0) {
				k->story->safeguarding |= safeguarding;
				k->story->safety_incident |= safety;
				/* Their edit will be checked again on the way back. */
				free(k->checked_text);
				k->checked_text = NULL;
				edit_at(k, step, found[i].start);
				return 1;
			}
			if (chosen == 2)
				leave_all = 1;
		}
	}
	const char *keys[FINDING_KIND_COUNT];
	long kept[FINDING_KIND_COUNT];
	size_t kinds = 0;
	for (int kind = 0; kind < FINDING_KIND_COUNT; kind++) {
		if (counts[kind] == 0)
			continue;
		keys[kinds] = detect_kind_key((finding_kind)kind);
		kept[kinds++] = counts[kind];
	}
	story_set_findings(k->story, keys, kept, kinds);
	/* Sticky: what was said in the conversation still matters if the words
	 * were later edited out. */
	k->story->safeguarding |= safeguarding;
	k->story->safety_incident |= safety;
	return 0;
}
