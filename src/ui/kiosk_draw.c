/* kiosk_draw.c - the kiosk's screens: sign-in, and one per form step. Every
 * screen is drawn from scratch from the story and the wizard, so a resize or an
 * interruption can never leave a stale layout. The one exception is typing in
 * the story box: keys that only edit it patch the box and its word count, so a
 * keystroke's cost does not grow with the story. */
#include "kiosk_priv.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "editor.h"
#include "fatal.h"
#include "screen.h"
#include "seal.h"
#include "story.h"
#include "wizard.h"

#define HINT_COLUMN 26

/* In the order of kiosk.role_choice, as operator_roles in kiosk_keys.c. */
static const char *const operator_role_labels[] = { "Staff member", "Volunteer" };

/* The paragraph with every {operator} replaced by the signed-in name. */
static char *expand_operator(const kiosk *k, const char *text)
{
	static const char mark[] = "{operator}";
	const char *name = k->operator_name ? k->operator_name : "";
	size_t marks = 0;
	for (const char *p = strstr(text, mark); p; p = strstr(p + 1, mark))
		marks++;
	size_t len = strlen(text) + marks * strlen(name) + 1;
	char *out = malloc(len);
	if (out == NULL)
		fatal("out of memory");
	char *end = out;
	const char *from = text;
	for (const char *p = strstr(from, mark); p; p = strstr(from, mark)) {
		memcpy(end, from, (size_t)(p - from));
		end += p - from;
		memcpy(end, name, strlen(name));
		end += strlen(name);
		from = p + strlen(mark);
	}
	memcpy(end, from, strlen(from) + 1);
	return out;
}

/* Draw the step's paragraphs from row y; returns the next free row. Rows
 * before skip are scrolled off; nothing is drawn at or past limit. */
static int draw_paragraphs(const kiosk *k, int y, int x, int width, int limit,
			   char *const *text, size_t n_text, int skip)
{
	int rows = 0;
	for (size_t i = 0; i < n_text; i++) {
		char *expanded = expand_operator(k, text[i]);
		int at = rows - skip; /* rows scrolled off the top are measured, not drawn */
		int used = at >= 0 ? screen_wrap(y + at, x, width, limit, 0, expanded, LOOK_NORMAL)
				   : screen_wrap(y, x, width, limit, -at, expanded, LOOK_NORMAL);
		free(expanded);
		rows += used + 1;
	}
	return y + rows - skip;
}

/* Draw as many whole paragraphs as fit in max_rows (at least the first, which
 * carries the question), so a small screen loses detail rather than the field. */
int kiosk_draw_paragraphs_fit(const kiosk *k, int y, int width, int max_rows,
			      char *const *text, size_t n_text)
{
	size_t fit = 0;
	int rows = 0;
	for (size_t i = 0; i < n_text; i++) {
		char *expanded = expand_operator(k, text[i]);
		int used = screen_wrap(LINES, 2, width, LINES, 0, expanded, LOOK_NORMAL) + 1;
		free(expanded);
		if (i > 0 && rows + used > max_rows)
			break;
		rows += used;
		fit = i + 1;
	}
	return draw_paragraphs(k, y, 2, width, y + (rows > max_rows ? max_rows : rows), text, fit, 0);
}

/* Rows the message needs above the footer: two are always kept for it, and a
 * longer message takes up to two more from the step, so it is never cut. */
static int message_rows(const kiosk *k)
{
	int rows = k->message[0] ? screen_wrap(LINES, 1, COLS - 2, LINES, 0, k->message, LOOK_NORMAL) : 0;
	return rows < 2 ? 2 : rows > 4 ? 4 : rows;
}

static void draw_frame(const kiosk *k)
{
	attr_t bar = (attr_t)screen_attr(LOOK_HEADER);
	attron(bar);
	mvhline(0, 0, ' ', COLS);
	attroff(bar);
	char who[256], left[512];
	if (k->operator_name)
		snprintf(who, sizeof who, "signed in: %s (%s)", k->operator_name, k->operator_role);
	else
		snprintf(who, sizeof who, "not signed in");
	char right[64] = "";
	if (k->story)
		snprintf(right, sizeof right, "Step %zu of %zu ", k->wiz.step + 1,
			 k->ctx->form->n_steps);
	int right_width = screen_width_of(right);
	/* Who is signed in matters more than the form's title: drop the title first. */
	snprintf(left, sizeof left, " StoryKiosk · %s · %s",
		 k->ctx->form->title ? k->ctx->form->title : k->ctx->form->name, who);
	if (screen_width_of(left) > COLS - right_width - 1)
		snprintf(left, sizeof left, " StoryKiosk · %s", who);
	screen_put(0, 0, COLS - right_width - 1, left, LOOK_HEADER);
	screen_put(0, COLS - right_width, right_width, right, LOOK_HEADER);
	screen_rule(1);
	screen_rule(LINES - 2);

	/* Narrow screens get slimmer buttons so every key stays listed. */
	int wide = COLS >= 70;
	const char *back = wide ? "[ Back ]" : "[Back]";
	const char *next = wide ? "[ Next ]" : "[Next]";
	int button = (int)strlen(back);
	int x = COLS - 2 * button - 3;
	screen_put(LINES - 1, 1, x - 2, "^N Next  ^P Back  Tab Buttons  Esc Menu", LOOK_NORMAL);
	screen_put(LINES - 1, x, button, back, k->focus == FOCUS_BACK ? LOOK_SELECTED : LOOK_NORMAL);
	screen_put(LINES - 1, x + button + 1, button, next,
		   k->focus == FOCUS_NEXT ? LOOK_SELECTED : LOOK_NORMAL);
	if (k->message[0]) {
		int rows = message_rows(k);
		screen_wrap(LINES - 2 - rows, 1, COLS - 2, LINES - 2, 0, k->message, k->message_look);
	}
}

static void format_count(char *out, size_t outlen, size_t n)
{
	if (n >= 1000)
		snprintf(out, outlen, "%zu,%03zu", n / 1000, n % 1000);
	else
		snprintf(out, outlen, "%zu", n);
}

/* The line under the story box: the word count, and a warning past warn_words. */
static screen_look format_status(const kiosk *k, const form_step *fs, char *status, size_t len)
{
	size_t words = editor_word_count(&k->field);
	char count[32], warn[32];
	format_count(count, sizeof count, words);
	size_t warn_words = fs->warn_words ? fs->warn_words : 1000;
	format_count(warn, sizeof warn, warn_words);
	if (words > warn_words)
		snprintf(status, len, "%s words - that is long: stories are best under %s words",
			 count, warn);
	else
		snprintf(status, len, "%s word%s (stories are best under %s)", count,
			 words == 1 ? "" : "s", warn);
	return words > warn_words ? LOOK_WARNING : LOOK_HINT;
}

static void draw_text_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	if (k->ctx->form->theme) {
		char theme[512];
		snprintf(theme, sizeof theme, "Focus: %s", k->ctx->form->theme);
		y += screen_wrap(y, 2, width, limit, 0, theme, LOOK_HINT);
	}
	y = kiosk_draw_paragraphs_fit(k, y, width, limit - y - 6, fs->text, fs->n_text);
	int hints_beside = COLS >= 80 && fs->n_hints > 0;
	int box_width = hints_beside ? COLS - 4 - HINT_COLUMN - 2 : width;
	if (fs->n_hints > 0 && !hints_beside) {
		char line[2048] = "Ask, if it helps:";
		for (size_t i = 0; i < fs->n_hints; i++) {
			size_t used = strlen(line);
			snprintf(line + used, sizeof line - used, " · %s", fs->hints[i]);
		}
		/* Follow-up prompts are a help, the box is the point: show them only
		 * when the box keeps room to write in. */
		int rows = screen_wrap(LINES, 2, width, LINES, 0, line, LOOK_HINT);
		if (limit - (y + rows) >= 5)
			y += screen_wrap(y, 2, width, limit, 0, line, LOOK_HINT);
	}
	int box_height = limit - 1 - y;
	if (box_height < 3)
		box_height = 3;
	if (hints_beside) {
		/* The row under the box is the word count's, across the whole width. */
		int hy = y, hint_limit = y + box_height;
		hy += screen_wrap(hy, COLS - HINT_COLUMN - 2, HINT_COLUMN, hint_limit, 0,
				  "Ask, if it helps:", LOOK_HINT);
		for (size_t i = 0; i < fs->n_hints && hy < hint_limit; i++) {
			screen_put(hy, COLS - HINT_COLUMN - 2, 2, "·", LOOK_HINT);
			hy += screen_wrap(hy, COLS - HINT_COLUMN, HINT_COLUMN - 2, hint_limit, 0,
					  fs->hints[i], LOOK_HINT);
		}
	}
	char status[sizeof k->painted.status];
	screen_look status_look = format_status(k, fs, status, sizeof status);
	screen_put(y + box_height, 2, width, status, status_look);
	screen_box(y, 2, box_height, box_width, k->focus == FOCUS_FIELD);
	editor_draw(&k->field, y + 1, 4, box_height - 2, box_width - 4, k->focus == FOCUS_FIELD);
	/* A box stretched past limit overlaps the message and footer, which a
	 * patch would not redraw: only a box that fits is patched. */
	if (limit - 1 - y < 3)
		return;
	k->painted.valid = 1;
	k->painted.step = k->wiz.step;
	k->painted.cols = COLS;
	k->painted.lines = LINES;
	k->painted.focus = k->focus;
	snprintf(k->painted.message, sizeof k->painted.message, "%s", k->message);
	k->painted.message_look = k->message_look;
	k->painted.status_y = y + box_height;
	k->painted.status_width = width;
	snprintf(k->painted.status, sizeof k->painted.status, "%s", status);
	k->painted.status_look = status_look;
}

/* After keys that only edited the story box: redraw the box's changed rows
 * and the word count, not the screen. -1 when the screen may differ from the
 * last paint in anything else (step, size, focus, message), so paint it. */
static int patch_text_step(kiosk *k)
{
	if (!k->painted.valid || k->story == NULL || k->wiz.step != k->painted.step ||
	    k->loaded_step != k->wiz.step || kiosk_current_step(k)->type != STEP_TEXT ||
	    COLS != k->painted.cols || LINES != k->painted.lines ||
	    k->focus != k->painted.focus || k->message_look != k->painted.message_look ||
	    strcmp(k->message, k->painted.message) != 0)
		return -1;
	if (editor_draw_changes(&k->field) != 0)
		return -1;
	char status[sizeof k->painted.status];
	screen_look look = format_status(k, kiosk_current_step(k), status, sizeof status);
	if (look != k->painted.status_look || strcmp(status, k->painted.status) != 0) {
		mvhline(k->painted.status_y, 2, ' ', k->painted.status_width);
		screen_put(k->painted.status_y, 2, k->painted.status_width, status, look);
		snprintf(k->painted.status, sizeof k->painted.status, "%s", status);
		k->painted.status_look = look;
	}
	move(k->field.cursor_y, k->field.cursor_x);
	return 0;
}

/* A one-line field in a box; returns the row after it. */
int kiosk_draw_line_field(kiosk *k, int y, int width)
{
	screen_box(y, 2, 3, width, k->focus == FOCUS_FIELD && k->item == 0);
	editor_draw(&k->field, y + 1, 4, 1, width - 4, k->focus == FOCUS_FIELD && k->item == 0);
	return y + 3;
}

static void draw_option(int y, int width, int chosen, int highlighted, const char *label)
{
	char row[1024];
	snprintf(row, sizeof row, "%s %s", chosen ? "(*)" : "( )", label);
	screen_put(y, 4, width - 2, row, highlighted ? LOOK_SELECTED : LOOK_NORMAL);
}

static void draw_field_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	int reserved = fs->type == STEP_EMAIL ? 9 : fs->type == STEP_POSTCODE ? 6 : 4;
	y = kiosk_draw_paragraphs_fit(k, y, width, limit - y - reserved, fs->text, fs->n_text);
	int field_width = width < 64 ? width : 64;
	y = kiosk_draw_line_field(k, y, field_width);
	if (fs->type == STEP_POSTCODE) {
		draw_option(y + 1, width, k->story->no_postcode, k->item == 1,
			    "No postcode - use the service's postcode");
	} else if (fs->type == STEP_EMAIL) {
		draw_option(y + 1, width, k->story->no_email, k->item == 1,
			    "No email address - a staff member posts it for them");
		if (k->share_known && k->stories_total > 0 &&
		    k->staff_posted * 20 >= k->stories_total) {
			char notice[512];
			snprintf(notice, sizeof notice,
				 "Note: %ld of the %ld stories in this queue (%.0f%%) have no email "
				 "address. Guidance says fewer than 5%% should: please check "
				 "whether they have one they could use.",
				 k->staff_posted, k->stories_total,
				 100.0 * (double)k->staff_posted / (double)k->stories_total);
			screen_wrap(y + 3, 2, width, limit, 0, notice, LOOK_WARNING);
		}
	}
	if (fs->type == STEP_POSTCODE || fs->type == STEP_EMAIL)
		screen_put(limit - 1, 2, width, "Up and Down move between the box and the choice below it.",
			   LOOK_HINT);
}

static void draw_choice_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	y = kiosk_draw_paragraphs_fit(k, y, width, limit - y - (int)fs->n_options - 2, fs->text, fs->n_text);
	const char *answer = story_answer(k->story, k->wiz.step);
	for (size_t i = 0; i < fs->n_options && y < limit; i++, y++)
		draw_option(y, width, answer && strcmp(answer, fs->options[i].value) == 0,
			    k->item == (int)i && k->focus == FOCUS_FIELD, fs->options[i].label);
	screen_put(limit - 1, 2, width, "Up and Down to move, Enter to choose.", LOOK_HINT);
}

/* The review's one-line summary of a step's answer. */
static void review_value(const kiosk *k, size_t step, char *out, size_t outlen)
{
	const form_step *fs = &k->ctx->form->steps[step];
	const story *s = k->story;
	const char *answer = story_answer(s, step);
	if (fs->type == STEP_SERVICES) {
		int used = 0;
		out[0] = '\0';
		for (size_t i = 0; i < s->n_services && used >= 0 && (size_t)used < outlen; i++)
			used += snprintf(out + used, outlen - (size_t)used, "%s%s", i ? "; " : "",
					 s->services[i].name);
		if (s->n_services == 0)
			snprintf(out, outlen, "(none chosen)");
	} else if (fs->type == STEP_POSTCODE && s->no_postcode) {
		const char *from = story_postcode(s);
		snprintf(out, outlen, "None: the service's (%s)", from ? from : "not known");
	} else if (fs->type == STEP_EMAIL && s->no_email) {
		snprintf(out, outlen, "None: posted by staff");
	} else if (seal_is_sealed(answer)) {
		snprintf(out, outlen, "(given, and sealed)");
	} else if (fs->type == STEP_CHOICE && answer) {
		snprintf(out, outlen, "%s", answer);
		for (size_t i = 0; i < fs->n_options; i++)
			if (strcmp(fs->options[i].value, answer) == 0)
				snprintf(out, outlen, "%s", fs->options[i].label);
	} else {
		snprintf(out, outlen, "%s", answer && validate_word_count(answer) ? answer : "(no answer)");
	}
}

static void draw_review_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	y = kiosk_draw_paragraphs_fit(k, y, width, 3, fs->text, fs->n_text);
	size_t steps[256];
	size_t n = kiosk_question_steps(k, steps, 256);
	int rows = limit - 1 - y;
	if (k->item < k->list_top)
		k->list_top = k->item;
	if (k->item >= k->list_top + rows)
		k->list_top = k->item - rows + 1;
	int label_width = width / 2 - 2 > 36 ? 36 : width / 2 - 2;
	for (int r = 0; r < rows && (size_t)(k->list_top + r) < n; r++) {
		size_t step = steps[k->list_top + r];
		char value[2048], why[512];
		review_value(k, step, value, sizeof value);
		int problem = wizard_check(&k->wiz, step, why, sizeof why) != VALIDATE_OK;
		screen_look look = k->list_top + r == k->item ? LOOK_SELECTED : LOOK_NORMAL;
		char label[300];
		snprintf(label, sizeof label, "%s%s", problem ? "! " : "  ", k->ctx->form->steps[step].title);
		mvhline(y + r, 2, ' ', width);
		if (look == LOOK_SELECTED) {
			attron(A_REVERSE);
			mvhline(y + r, 2, ' ', width);
			attroff(A_REVERSE);
		}
		screen_put(y + r, 2, label_width, label, problem && look != LOOK_SELECTED ? LOOK_WARNING : look);
		screen_put(y + r, 2 + label_width + 1, width - label_width - 1, value, look);
	}
	screen_put(limit - 1, 2, width, "Up and Down to choose an answer, Enter to change it.", LOOK_HINT);
}

static void draw_consent_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	/* The statement must be readable in full before they answer: on a small
	 * screen it scrolls with Page Up/Down above the fixed Yes/No. */
	int room = limit - 3 - y;
	int total = draw_paragraphs(k, LINES, 2, width, LINES, fs->text, fs->n_text, 0) - LINES;
	int most = total > room ? total - room + 1 : 0;
	if (k->info_scroll > most)
		k->info_scroll = most;
	int end = draw_paragraphs(k, y, 2, width, limit - 3 - (most > 0), fs->text, fs->n_text,
				  k->info_scroll);
	if (most > 0) {
		screen_put(limit - 4, 2, width, k->info_scroll < most ? "More below: press Page Down."
								       : "Page Up to read from the start.",
			   LOOK_HINT);
		end = limit - 3;
	}
	if (end > limit - 3)
		end = limit - 3;
	draw_option(end, width, k->story->consent == 1, k->item == 0 && k->focus == FOCUS_FIELD,
		    "Yes - they agree to their story being published");
	draw_option(end + 1, width, k->story->consent == 0, k->item == 1 && k->focus == FOCUS_FIELD,
		    "No - do not keep their story");
	screen_put(limit - 1, 2, width, "Press Y or N (or Up/Down and Enter). There is no default.",
		   LOOK_HINT);
}

static void draw_info_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	int thanks = fs->type == STEP_THANKS;
	/* The thank-you adds the reference and the Enter hint below its text. */
	int total = draw_paragraphs(k, LINES, 2, width, LINES, fs->text, fs->n_text, 0) - LINES +
		    (thanks ? 3 : 0);
	int room = thanks ? limit - y : limit - 1 - y;
	int most = total > room ? total - room : 0;
	if (k->info_scroll > most)
		k->info_scroll = most;
	int end = draw_paragraphs(k, y, 2, width, limit - 1, fs->text, fs->n_text, k->info_scroll);
	if (k->info_scroll < most)
		screen_put(limit - 1, 2, width, "More below: press Down or Page Down.", LOOK_HINT);
	if (fs->type == STEP_THANKS && end + 2 < limit) {
		char ref[128];
		snprintf(ref, sizeof ref, "Story reference: %s", k->story->reference);
		screen_put(end, 2, width, ref, LOOK_TITLE);
		screen_put(end + 2, 2, width, "Press Enter when you are ready for the next person.",
			   LOOK_HINT);
	}
}

static void draw_sign_in(kiosk *k)
{
	int width = COLS - 4;
	int limit = LINES - 2 - message_rows(k);
	int title_row = LINES < 22 ? 2 : 3;
	screen_put(title_row, 2, width, "Start of shift: please sign in", LOOK_TITLE);
	int y = title_row + (LINES < 22 ? 1 : 2);
	y += screen_wrap(y, 2, width, limit, 0,
			 "Type your name or staff ID. It is saved with every story you take, "
			 "until you end your shift from the menu (Esc).", LOOK_NORMAL);
	if (LINES >= 22)
		y++;
	int field_width = width < 50 ? width : 50;
	y = kiosk_draw_line_field(k, y, field_width);
	if (LINES >= 22)
		y++;
	screen_put(y, 2, width, "You are:", LOOK_NORMAL);
	for (int i = 0; i < 2; i++)
		draw_option(y + 1 + i, width, k->role_choice == i, k->item == i + 1 && k->focus == FOCUS_FIELD,
			    operator_role_labels[i]);
	screen_put(limit - 1, 2, width, "Up and Down to move, Enter to choose, Ctrl-N to start.",
		   LOOK_HINT);
}

/* Draw the whole screen into curses' buffer; the caller refreshes once, so a
 * dialog on top never flickers. */
void kiosk_paint(kiosk *k)
{
	erase();
	k->painted.valid = 0;
	if (COLS < SCREEN_MIN_COLS || LINES < SCREEN_MIN_ROWS) {
		char ask[128];
		snprintf(ask, sizeof ask, "Please make this window larger (at least %d x %d).",
			 SCREEN_MIN_COLS, SCREEN_MIN_ROWS);
		int w = screen_width_of(ask);
		if (w <= COLS)
			screen_put(LINES / 2, (COLS - w) / 2, COLS, ask, LOOK_TITLE);
		else
			screen_wrap(LINES / 2 - 1, 0, COLS, LINES, 0, ask, LOOK_TITLE);
		curs_set(0);
		return;
	}
	draw_frame(k);
	int limit = LINES - 2 - message_rows(k);
	if (k->story == NULL) {
		curs_set(k->item == 0 && k->focus == FOCUS_FIELD ? 1 : 0);
		draw_sign_in(k);
		if (k->item == 0 && k->focus == FOCUS_FIELD)
			move(k->field.cursor_y, k->field.cursor_x);
		return;
	}
	const form_step *fs = kiosk_current_step(k);
	/* Short screens lose the blank rows around the title, not the content. */
	int title_row = LINES < 22 ? 2 : 3;
	screen_put(title_row, 2, COLS - 4, fs->title, LOOK_TITLE);
	int y = title_row + (LINES < 22 ? 1 : 2);
	int show_cursor = k->focus == FOCUS_FIELD && kiosk_step_has_field(fs->type) &&
			  (fs->type == STEP_TEXT || k->item == 0);
	curs_set(show_cursor ? 1 : 0);
	switch (fs->type) {
	case STEP_TEXT:
		draw_text_step(k, fs, y, limit);
		break;
	case STEP_LINE:
	case STEP_USERNAME:
	case STEP_POSTCODE:
	case STEP_EMAIL:
		draw_field_step(k, fs, y, limit);
		break;
	case STEP_CHOICE:
		draw_choice_step(k, fs, y, limit);
		break;
	case STEP_SERVICES:
		kiosk_services_draw(k, fs, y, limit);
		break;
	case STEP_REVIEW:
		draw_review_step(k, fs, y, limit);
		break;
	case STEP_CONSENT:
		draw_consent_step(k, fs, y, limit);
		break;
	case STEP_INFO:
	case STEP_THANKS:
		draw_info_step(k, fs, y, limit);
		break;
	}
	/* Everything else drawn after the field moved the cursor: put it back. */
	if (show_cursor)
		move(k->field.cursor_y, k->field.cursor_x);
}

void kiosk_draw(kiosk *k)
{
	kiosk_paint(k);
	refresh();
}

/* Bring the screen up to date after keys: patched when they only edited the
 * story box (field_only), painted whole otherwise. */
void kiosk_redraw(kiosk *k, int field_only)
{
	if (!field_only || patch_text_step(k) != 0)
		kiosk_paint(k);
	refresh();
}
