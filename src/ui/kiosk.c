/* kiosk.c - the capture kiosk: sign-in, one screen per form step, the menu and
 * the confirmations. Every screen is drawn from scratch from the story and the
 * wizard, so a resize or an interruption can never leave a stale layout. The
 * one exception is typing in the story box: keys that only edit it patch the
 * box and its word count, so a keystroke's cost does not grow with the story. */
#include "ui.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "draft.h"
#include "editor.h"
#include "exitcode.h"
#include "fatal.h"
#include "pin.h"
#include "screen.h"
#include "seal.h"
#include "story.h"
#include "wizard.h"

#define KEY_CTRL(letter) ((letter) & 0x1f)
#define KEY_ESCAPE 27
#define INPUT_POLL_MS 500
#define PASTE_BATCH 8192
#define HINT_COLUMN 26
#define MAX_OPERATOR_CHARS 60
#define DRAFT_EVERY_SECONDS 3
#define PIN_MAX_DELAY 30

/* Where the keyboard is: the step's field or one of the two buttons. */
enum focus { FOCUS_FIELD, FOCUS_BACK, FOCUS_NEXT };

static volatile sig_atomic_t got_interrupt;
static volatile sig_atomic_t got_terminate;
static int curses_active;
extern char **environ;
static int kiosk_mode;     /* raw keys: Ctrl-C, Ctrl-Z and Ctrl-\ arrive as keys, and do nothing */

typedef struct {
	const ui_context *ctx;
	char *operator_name;     /* NULL until someone signs in */
	const char *operator_role;
	story *story;
	wizard wiz;
	size_t loaded_step;      /* the step whose answer is in field */
	editor field;            /* the step's text field (or the services search) */
	int item;                /* highlighted row in a list, -1 for none */
	int list_top;            /* first list row shown */
	int info_scroll;         /* rows scrolled on a long info screen */
	enum focus focus;
	char message[1024];
	screen_look message_look;
	long staff_posted;       /* the queue's staff-posted share, for the 5% notice */
	long stories_total;
	int share_known;
	size_t *matches;         /* services matching the search */
	size_t n_matches;
	int role_choice;         /* sign-in: -1, 0 staff, 1 volunteer */
	int quit;
	time_t last_key;         /* for the idle reset */
	time_t last_draft;       /* when the draft was last written */
	int draft_dirty;         /* keys since then */
	int draft_warned;        /* the operator has been told drafts cannot be saved */
	int pin_failures;        /* wrong PINs in a row, to slow guessing down */
	int offer_pending;       /* after an idle reset: ask about drafts at the next key */
	char *checked_text;      /* the story text the checks last ran on, to ask once */
	int key_in_field;        /* the last key went to a text step's story box */
	/* The last whole paint of a text step, so keys that only edited the story
	 * box can patch the box and the word count instead of repainting. */
	struct {
		int valid;       /* 0: the screen is not such a paint (or has more on it) */
		size_t step;
		int cols;
		int lines;
		enum focus focus;
		char message[1024];
		screen_look message_look;
		int status_y;    /* the word count's row, and the cells it may use */
		int status_width;
		char status[160];
		screen_look status_look;
	} painted;
} kiosk;

static const char *const operator_roles[] = { "staff", "volunteer" };
static const char *const operator_role_labels[] = { "Staff member", "Volunteer" };

static void on_interrupt(int signo)
{
	(void)signo;
	got_interrupt = 1;
}

static void on_terminate(int signo)
{
	(void)signo;
	got_terminate = 1;
}

void ui_init(void)
{
	if (curses_active)
		return;
	if (initscr() == NULL)
		fatal("cannot start the terminal interface (is TERM set?)");
	curses_active = 1;
	fatal_set_cleanup(ui_end);
	if (kiosk_mode)
		raw();
	else
		cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	timeout(INPUT_POLL_MS);
	screen_setup_looks();
}

void ui_end(void)
{
	if (!curses_active)
		return;
	curses_active = 0;
	curs_set(1);
	endwin();
}

static void install_signals(void)
{
	struct sigaction action;
	memset(&action, 0, sizeof action);
	sigemptyset(&action.sa_mask);
	/* No SA_RESTART: a signal should wake the input wait at once. */
	action.sa_handler = on_interrupt;
	sigaction(SIGINT, &action, NULL);
	action.sa_handler = on_terminate;
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
	if (kiosk_mode) {
		/* raw() already turns these keys into characters; ignore the signals
		 * too, in case one arrives from elsewhere. */
		action.sa_handler = SIG_IGN;
		sigaction(SIGINT, &action, NULL);
		sigaction(SIGQUIT, &action, NULL);
		sigaction(SIGTSTP, &action, NULL);
	}
}

static void set_message(kiosk *k, screen_look look, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_message(kiosk *k, screen_look look, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->message, sizeof k->message, fmt, ap);
	va_end(ap);
	k->message_look = look;
}

static const form_step *current_step(const kiosk *k)
{
	return &k->ctx->form->steps[k->wiz.step];
}

static int step_has_field(step_type type)
{
	return type == STEP_TEXT || type == STEP_LINE || type == STEP_USERNAME ||
	       type == STEP_POSTCODE || type == STEP_EMAIL || type == STEP_SERVICES;
}

/* Copy what is in the field back into the story before leaving a step. */
static void save_field(kiosk *k)
{
	if (k->story == NULL || k->loaded_step >= k->ctx->form->n_steps)
		return;
	step_type type = k->ctx->form->steps[k->loaded_step].type;
	if (!step_has_field(type) || type == STEP_SERVICES)
		return;
	char *typed = editor_text(&k->field);
	/* A sealed answer from a resumed draft cannot be shown; an empty box
	 * keeps it, anything typed replaces it. */
	int keep_sealed = typed[0] == '\0' && seal_is_sealed(story_answer(k->story, k->loaded_step));
	if (!keep_sealed && wizard_set_answer(&k->wiz, k->loaded_step, typed) != 0)
		fatal("out of memory");
	free(typed);
}

static void refresh_matches(kiosk *k)
{
	const catalogue *cat = k->ctx->services;
	char *query = editor_text(&k->field);
	k->n_matches = catalogue_search(cat, query, k->matches, cat->n_services);
	if (k->n_matches > cat->n_services)
		k->n_matches = cat->n_services;
	free(query);
}

/* Load the current step's answer into the field and reset the step's view. */
static void enter_step(kiosk *k)
{
	const form_step *fs = current_step(k);
	k->loaded_step = k->wiz.step;
	k->focus = FOCUS_FIELD;
	k->item = -1;
	k->list_top = 0;
	k->info_scroll = 0;
	const char *answer = story_answer(k->story, k->wiz.step);
	switch (fs->type) {
	case STEP_TEXT:
		editor_load(&k->field, answer, 1, fs->max_chars);
		break;
	case STEP_LINE:
	case STEP_USERNAME:
	case STEP_POSTCODE:
	case STEP_EMAIL:
		editor_load(&k->field, seal_is_sealed(answer) ? NULL : answer, 0, fs->max_chars);
		k->item = 0;
		if (seal_is_sealed(answer))
			set_message(k, LOOK_HINT, "This was given before and is sealed, so it cannot be "
				    "shown. Leave the box empty to keep it, or type it again.");
		break;
	case STEP_SERVICES:
		editor_load(&k->field, NULL, 0, 200);
		refresh_matches(k);
		k->item = 0;
		break;
	case STEP_CHOICE:
		k->item = 0;
		for (size_t i = 0; answer && i < fs->n_options; i++)
			if (strcmp(fs->options[i].value, answer) == 0)
				k->item = (int)i;
		break;
	case STEP_REVIEW:
		k->item = 0;
		break;
	case STEP_CONSENT:
		/* No default: nothing is highlighted until they choose. */
		k->item = k->story->consent < 0 ? -1 : (k->story->consent ? 0 : 1);
		break;
	case STEP_INFO:
	case STEP_THANKS:
		break;
	}
	if (fs->type == STEP_EMAIL) {
		k->share_known = store_staff_posted_share(k->ctx->queue, &k->staff_posted,
							  &k->stories_total) == 0;
	}
	curs_set(step_has_field(fs->type) ? 1 : 0);
}

static void start_story(kiosk *k)
{
	story_free(k->story);
	free(k->checked_text);
	k->checked_text = NULL;
	k->draft_dirty = 0;
	k->story = story_new(k->ctx->form, k->operator_name, k->operator_role);
	if (k->story == NULL)
		fatal("out of memory starting a story");
	wizard_start(&k->wiz, k->ctx->form, k->ctx->words, k->story);
	k->message[0] = '\0';
	enter_step(k);
	/* A fresh screen for the next person: nothing of the last story stays. */
	clear();
}

static void end_shift(kiosk *k)
{
	story_free(k->story);
	k->story = NULL;
	free(k->operator_name);
	k->operator_name = NULL;
	k->operator_role = NULL;
	k->role_choice = -1;
	editor_load(&k->field, NULL, 0, MAX_OPERATOR_CHARS);
	k->item = 0;
	k->focus = FOCUS_FIELD;
	k->message[0] = '\0';
	clear();
}

/* Non-zero when the story holds anything the person said. */
static int story_has_words(const kiosk *k)
{
	/* On the thank-you screen the words are safe in the queue already. */
	if (k->story == NULL || k->ctx->form->steps[k->wiz.step].type == STEP_THANKS)
		return 0;
	for (size_t i = 0; i < k->ctx->form->n_steps; i++)
		if (k->story->answers[i] != NULL && validate_word_count(k->story->answers[i]) > 0)
			return 1;
	if (k->story->n_services > 0)
		return 1;
	if (k->loaded_step < k->ctx->form->n_steps &&
	    step_has_field(k->ctx->form->steps[k->loaded_step].type)) {
		char *typed = editor_text(&k->field);
		int has_words = validate_word_count(typed) > 0;
		free(typed);
		return has_words;
	}
	return 0;
}

/* Keep the story in progress on disk: when a step is left, and every few
 * seconds while typing. A story with no words yet leaves no draft. A failure
 * is said once on screen; the story stays in memory either way. */
static void save_draft(kiosk *k)
{
	if (k->story == NULL || k->ctx->form->steps[k->wiz.step].type == STEP_THANKS)
		return;
	save_field(k);
	int rc = story_has_words(k) ? draft_save(k->ctx->queue, k->story, k->wiz.step)
				    : draft_discard(k->ctx->queue, k->story->id);
	k->last_draft = time(NULL);
	k->draft_dirty = 0;
	if (rc != 0 && !k->draft_warned) {
		k->draft_warned = 1;
		set_message(k, LOOK_ERROR, "%s Call IT. This story is safe on screen for now: "
			    "please finish it.", store_problem(k->ctx->queue));
	} else if (rc == 0) {
		k->draft_warned = 0;
	}
}

/* Throw the story away on purpose (they asked, or declined consent): its
 * draft goes too, and the next story starts. */
static void discard_story(kiosk *k)
{
	if (k->story != NULL && draft_discard(k->ctx->queue, k->story->id) != 0)
		set_message(k, LOOK_ERROR, "%s The story was not kept.", store_problem(k->ctx->queue));
	start_story(k);
}

/* ---- drawing ---- */

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
static int draw_paragraphs_fit(const kiosk *k, int y, int width, int max_rows,
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
	y = draw_paragraphs_fit(k, y, width, limit - y - 6, fs->text, fs->n_text);
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
	    k->loaded_step != k->wiz.step || current_step(k)->type != STEP_TEXT ||
	    COLS != k->painted.cols || LINES != k->painted.lines ||
	    k->focus != k->painted.focus || k->message_look != k->painted.message_look ||
	    strcmp(k->message, k->painted.message) != 0)
		return -1;
	if (editor_draw_changes(&k->field) != 0)
		return -1;
	char status[sizeof k->painted.status];
	screen_look look = format_status(k, current_step(k), status, sizeof status);
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
static int draw_line_field(kiosk *k, int y, int width)
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
	y = draw_paragraphs_fit(k, y, width, limit - y - reserved, fs->text, fs->n_text);
	int field_width = width < 64 ? width : 64;
	y = draw_line_field(k, y, field_width);
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
	y = draw_paragraphs_fit(k, y, width, limit - y - (int)fs->n_options - 2, fs->text, fs->n_text);
	const char *answer = story_answer(k->story, k->wiz.step);
	for (size_t i = 0; i < fs->n_options && y < limit; i++, y++)
		draw_option(y, width, answer && strcmp(answer, fs->options[i].value) == 0,
			    k->item == (int)i && k->focus == FOCUS_FIELD, fs->options[i].label);
	screen_put(limit - 1, 2, width, "Up and Down to move, Enter to choose.", LOOK_HINT);
}

/* What a row of the services list holds. */
typedef enum { ROW_OWN, ROW_MATCH, ROW_NOT_LISTED } service_row_kind;

/* Chosen "not in the list" services to show: all of them while the search is
 * empty (so they can be taken off), else only those the search words find. */
static size_t own_rows(const kiosk *k, size_t *own, size_t cap)
{
	char *query = editor_text(&k->field);
	int searching = validate_word_count(query) > 0;
	size_t n = 0;
	for (size_t i = 0; i < k->story->n_services && n < cap; i++) {
		const story_service *svc = &k->story->services[i];
		if (svc->code != NULL)
			continue;
		if (searching && !catalogue_text_matches(svc->name, query))
			continue;
		own[n++] = i;
	}
	free(query);
	return n;
}

/* Rows: with an empty search, chosen free-text entries come first, then the
 * catalogue; while searching, the catalogue's matches come first so Enter
 * picks the best match. "Not in the list" is always last. Writes what row
 * holds and its index (into story services or the catalogue). */
static size_t services_rows(const kiosk *k, size_t row, service_row_kind *kind, size_t *index)
{
	size_t own[64];
	size_t n_own = own_rows(k, own, 64);
	char *query = editor_text(&k->field);
	int own_first = validate_word_count(query) == 0;
	free(query);
	size_t first_block = own_first ? n_own : k->n_matches;
	size_t total = n_own + k->n_matches + 1;
	if (kind != NULL) {
		if (row >= total - 1) {
			*kind = ROW_NOT_LISTED;
		} else if (row < first_block) {
			*kind = own_first ? ROW_OWN : ROW_MATCH;
			*index = own_first ? own[row] : k->matches[row];
		} else {
			*kind = own_first ? ROW_MATCH : ROW_OWN;
			*index = own_first ? k->matches[row - first_block] : own[row - first_block];
		}
	}
	return total;
}

static void draw_services_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	y = draw_paragraphs_fit(k, y, width, limit - y - 11, fs->text, fs->n_text);
	screen_put(y, 2, width, "Search (type part of a name):", LOOK_NORMAL);
	int field_width = width < 64 ? width : 64;
	int after = draw_line_field(k, y + 1, field_width);
	/* Keep the search box looking focused: typing always goes there. */
	size_t n_rows = services_rows(k, 0, NULL, NULL);
	int list_rows = limit - 2 - after;
	if (list_rows < 1)
		list_rows = 1;
	if (k->item >= (int)n_rows)
		k->item = (int)n_rows - 1;
	if (k->item < k->list_top)
		k->list_top = k->item;
	if (k->item >= k->list_top + list_rows)
		k->list_top = k->item - list_rows + 1;
	char *query = editor_text(&k->field);
	for (int r = 0; r < list_rows && (size_t)(k->list_top + r) < n_rows; r++) {
		size_t row = (size_t)(k->list_top + r), index = 0;
		service_row_kind kind;
		services_rows(k, row, &kind, &index);
		char line[1024];
		if (kind == ROW_OWN) {
			snprintf(line, sizeof line, "[x] %s (not in the list)", k->story->services[index].name);
		} else if (kind == ROW_MATCH) {
			const catalogue_service *svc = &k->ctx->services->services[index];
			snprintf(line, sizeof line, "[%c] %s", story_find_service(k->story, svc->code, NULL) >= 0 ? 'x' : ' ',
				 svc->name);
		} else if (validate_word_count(query) > 0) {
			snprintf(line, sizeof line, "+ Not in the list: add \"%s\" as written", query);
		} else {
			snprintf(line, sizeof line, "+ Not in the list? Type its name in the search box, then choose this");
		}
		screen_put(after + r, 2, width, line, (int)row == k->item ? LOOK_SELECTED : LOOK_NORMAL);
	}
	free(query);
	char chosen[2048];
	int used = snprintf(chosen, sizeof chosen, "Chosen (%zu):", k->story->n_services);
	for (size_t i = 0; i < k->story->n_services && used > 0 && (size_t)used < sizeof chosen; i++)
		used += snprintf(chosen + used, sizeof chosen - (size_t)used, "%s %s", i ? ";" : "",
				 k->story->services[i].name);
	if (k->story->n_services == 0)
		snprintf(chosen, sizeof chosen, "Chosen: none yet. Up and Down to move, Enter to choose.");
	screen_put(limit - 1, 2, width, chosen, LOOK_TITLE);
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

/* Question steps in form order: review lists these. */
static size_t question_steps(const kiosk *k, size_t *steps, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < k->ctx->form->n_steps && n < cap; i++)
		if (wizard_step_is_question(&k->ctx->form->steps[i]))
			steps[n++] = i;
	return n;
}

static void draw_review_step(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	y = draw_paragraphs_fit(k, y, width, 3, fs->text, fs->n_text);
	size_t steps[256];
	size_t n = question_steps(k, steps, 256);
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
	y = draw_line_field(k, y, field_width);
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
static void paint(kiosk *k)
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
	const form_step *fs = current_step(k);
	/* Short screens lose the blank rows around the title, not the content. */
	int title_row = LINES < 22 ? 2 : 3;
	screen_put(title_row, 2, COLS - 4, fs->title, LOOK_TITLE);
	int y = title_row + (LINES < 22 ? 1 : 2);
	int show_cursor = k->focus == FOCUS_FIELD && step_has_field(fs->type) &&
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
		draw_services_step(k, fs, y, limit);
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

static void draw(kiosk *k)
{
	paint(k);
	refresh();
}

/* Bring the screen up to date after keys: patched when they only edited the
 * story box (field_only), painted whole otherwise. */
static void redraw(kiosk *k, int field_only)
{
	if (!field_only || patch_text_step(k) != 0)
		paint(k);
	refresh();
}

/* ---- dialogs ---- */

/* Read one key, waking for signals; returns ERR on timeout. */
static int read_key(wint_t *ch)
{
	int rc = get_wch(ch);
	return rc;
}

static void draw_dialog(const char *title, const char *text, const char *const *choices,
			size_t n_choices, int chosen)
{
	int width = COLS - 8 < 64 ? COLS - 8 : 64;
	int rows = screen_wrap(LINES, 0, width - 4, LINES, 0, text, LOOK_NORMAL);
	int height = rows + (int)n_choices + 5;
	if (height > LINES - 2)
		height = LINES - 2;
	int y = (LINES - height) / 2, x = (COLS - width) / 2;
	for (int r = 0; r < height; r++)
		mvhline(y + r, x, ' ', width);
	screen_box(y, x, height, width, 1);
	screen_put(y, x + 2, width - 4, title, LOOK_TITLE);
	screen_wrap(y + 2, x + 2, width - 4, y + height - 1 - (int)n_choices, 0, text, LOOK_NORMAL);
	for (size_t i = 0; i < n_choices; i++) {
		char row[256];
		snprintf(row, sizeof row, " %s ", choices[i]);
		screen_put(y + height - 1 - (int)n_choices + (int)i, x + 2, width - 4, row,
			   (int)i == chosen ? LOOK_SELECTED : LOOK_NORMAL);
	}
	curs_set(0);
	refresh();
}

#define DIALOG_STAY (-2)

/* One key in a dialog: DIALOG_STAY, -1 for Esc, or the index chosen. */
static int dialog_key(int is_key, unsigned int ch, size_t n_choices, int *chosen)
{
	if (is_key) {
		if (ch == KEY_UP && *chosen > 0)
			(*chosen)--;
		else if (ch == KEY_DOWN && *chosen + 1 < (int)n_choices)
			(*chosen)++;
		else if (ch == KEY_ENTER)
			return *chosen;
		return DIALOG_STAY;
	}
	if (ch == KEY_ESCAPE)
		return -1;
	if (ch == '\r' || ch == '\n')
		return *chosen;
	if (ch == '\t')
		*chosen = (*chosen + 1) % (int)n_choices;
	if (ch >= '1' && ch <= '9' && (size_t)(ch - '1') < n_choices)
		return (int)(ch - '1');
	return DIALOG_STAY;
}

/* A list of choices in a box; returns the index chosen, or -1 for Esc. Digits
 * and the first letter of a choice pick it directly. */
static int dialog_choose(kiosk *k, const char *title, const char *text,
			 const char *const *choices, size_t n_choices, int initial)
{
	int chosen = initial;
	/* A dialog may open in the middle of a paste, when input is not waited
	 * for: wait here, and give the caller back the mode it had. */
	int saved_delay = wgetdelay(stdscr);
	timeout(INPUT_POLL_MS);
	for (;;) {
		if (got_terminate) {
			chosen = -1;
			break;
		}
		paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS)
			draw_dialog(title, text, choices, n_choices, chosen);
		else
			refresh();
		wint_t ch;
		int rc = read_key(&ch);
		if (rc == ERR)
			continue;
		if (COLS < SCREEN_MIN_COLS || LINES < SCREEN_MIN_ROWS)
			continue; /* nothing can be seen, so nothing is chosen */
		int picked = dialog_key(rc == KEY_CODE_YES, (unsigned int)ch, n_choices, &chosen);
		if (picked != DIALOG_STAY) {
			chosen = picked;
			break;
		}
	}
	timeout(saved_delay);
	return chosen;
}

/* Ask before anything that loses words; the safe answer is the default. */
static int confirm(kiosk *k, const char *title, const char *text, const char *yes,
		   const char *no)
{
	const char *choices[2] = { no, yes };
	for (;;) {
		int chosen = dialog_choose(k, title, text, choices, 2, 0);
		return chosen == 1;
	}
}

/* "2026-11-22T14:05:00Z" as local "14:05 on 22 Nov". */
static void local_time(const char *utc, char *out, size_t outlen)
{
	struct tm when;
	memset(&when, 0, sizeof when);
	const char *end = strptime(utc, "%Y-%m-%dT%H:%M:%SZ", &when);
	time_t seconds = end ? timegm(&when) : (time_t)-1;
	struct tm local;
	if (seconds == (time_t)-1 || localtime_r(&seconds, &local) == NULL ||
	    strftime(out, outlen, "%H:%M on %d %b", &local) == 0)
		snprintf(out, outlen, "%s", utc);
}

/* A story left unfinished (a crash, a power cut, an idle reset) is never
 * resumed or deleted silently: the operator chooses. */
static void offer_draft(kiosk *k)
{
	draft_info info;
	int found;
	while ((found = draft_find(k->ctx->queue, k->story ? k->story->id : NULL, &info)) > 0 &&
	       !got_terminate) {
		char started[64], saved[64], text[512];
		local_time(info.created_at, started, sizeof started);
		local_time(info.updated_at, saved, sizeof saved);
		snprintf(text, sizeof text, "A story was not finished. It was started at %s by %s (%s), "
			 "and last saved at %s. Resume it, or discard it?", started, info.operator_name,
			 info.operator_role, saved);
		const char *choices[] = { "Resume the story", "Discard it" };
		int chosen = dialog_choose(k, "Unfinished story", text, choices, 2, 0);
		if (chosen == 0) {
			size_t step = 0;
			story *resumed = draft_load(k->ctx->queue, k->ctx->form, info.id, &step);
			if (resumed == NULL) {
				set_message(k, LOOK_ERROR, "The unfinished story could not be read back: %s",
					    store_error(k->ctx->queue));
				return;
			}
			save_draft(k); /* whatever was on screen is kept too */
			story_free(k->story);
			k->story = resumed;
			wizard_start(&k->wiz, k->ctx->form, k->ctx->words, k->story);
			k->wiz.step = step;
			enter_step(k);
			clear();
			set_message(k, LOOK_HINT, "The unfinished story is back, at the step it was left on.");
			return;
		}
		if (chosen == 1 &&
		    confirm(k, "Discard the unfinished story?", "Everything typed in it will be deleted "
			    "and cannot be brought back.", "Delete it", "Keep it")) {
			if (draft_discard(k->ctx->queue, info.id) != 0) {
				set_message(k, LOOK_ERROR, "%s", store_problem(k->ctx->queue));
				return;
			}
			continue; /* there may be another */
		}
		if (chosen < 0)
			return; /* Esc: ask again next time */
	}
	if (found < 0)
		set_message(k, LOOK_ERROR, "%s", store_problem(k->ctx->queue));
}

/* Ask for the exit PIN; non-zero when it is right. Each wrong PIN doubles the
 * wait before the next try, so guessing takes too long to be worth it. */
static int ask_pin(kiosk *k, const char *why)
{
	const char *hash = k->ctx->settings ? k->ctx->settings->pin_hash : NULL;
	if (hash == NULL)
		return 1;
	char pin[64] = "";
	size_t len = 0;
	int saved_delay = wgetdelay(stdscr);
	timeout(INPUT_POLL_MS);
	int result = -1;
	while (result < 0 && !got_terminate) {
		char masked[80], text[256];
		memset(masked, '*', len);
		masked[len] = '\0';
		snprintf(text, sizeof text, "%s Type the exit PIN and press Enter (Esc to cancel). PIN: %s",
			 why, masked);
		paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS)
			draw_dialog("Exit PIN", text, NULL, 0, -1);
		else
			refresh();
		wint_t ch;
		int rc = read_key(&ch);
		if (rc == ERR || rc == KEY_CODE_YES) {
			if (rc == KEY_CODE_YES && ch == KEY_BACKSPACE && len > 0)
				len--;
			continue;
		}
		if (ch == KEY_ESCAPE) {
			result = 0;
		} else if (ch == 0x7f || ch == 0x08) {
			if (len > 0)
				len--;
		} else if (ch == '\r' || ch == '\n') {
			pin[len] = '\0';
			if (pin_verify(hash, pin)) {
				k->pin_failures = 0;
				result = 1;
			} else {
				int wait = 1 << (k->pin_failures < 5 ? k->pin_failures : 5);
				if (wait > PIN_MAX_DELAY)
					wait = PIN_MAX_DELAY;
				k->pin_failures++;
				set_message(k, LOOK_ERROR, "Wrong PIN. Wait %d second%s before trying again.",
					    wait, wait == 1 ? "" : "s");
				draw(k);
				sleep((unsigned int)wait);
				flushinp();
				len = 0;
				k->message[0] = '\0';
			}
		} else if (ch >= 0x20 && ch < 0x7f && len < sizeof pin - 1) {
			pin[len++] = (char)ch;
		}
	}
	volatile char *wipe = pin;
	for (size_t i = 0; i < sizeof pin; i++)
		wipe[i] = '\0';
	timeout(saved_delay);
	return result == 1;
}

static void show_help(kiosk *k)
{
	const char *text =
		"Ctrl-N: next step (Enter too, except in story boxes).  "
		"Ctrl-P: previous step; nothing typed is lost.  "
		"Tab: move to the Back and Next buttons.  "
		"Up/Down: move in lists; Enter chooses.  "
		"Esc: this menu.  "
		"In story boxes: arrows, Home/End, Page Up/Down, Backspace/Delete; Enter starts a new line.  "
		"Nothing is kept unless they say Yes at the consent step.";
	const char *choices[1] = { "Close" };
	dialog_choose(k, "Help", text, choices, 1, 0);
}

static void quit_kiosk(kiosk *k)
{
	if (kiosk_mode && !ask_pin(k, "Leaving StoryKiosk needs the exit PIN."))
		return;
	if (story_has_words(k) &&
	    !confirm(k, "Quit StoryKiosk?",
		     "The story in progress will be kept as a draft: when StoryKiosk starts again "
		     "you can resume it or discard it. Quit now?",
		     "Quit (keep it as a draft)", "Keep going"))
		return;
	save_draft(k);
	k->quit = 1;
}

static void open_menu(kiosk *k)
{
	if (k->story == NULL) {
		const char *choices[] = { "1 Help", "2 Quit StoryKiosk", "3 Back" };
		int chosen = dialog_choose(k, "Menu", "Sign in to start taking stories.", choices, 3, 2);
		if (chosen == 0)
			show_help(k);
		else if (chosen == 1)
			quit_kiosk(k);
		return;
	}
	save_field(k);
	const char *choices[] = { "1 Help: the keys", "2 Start again: discard this story",
				  "3 End shift: sign out", "4 Quit StoryKiosk",
				  "5 Back to the story" };
	int chosen = dialog_choose(k, "Menu", "Choose with Up/Down and Enter, or press a number.",
				   choices, 5, 4);
	switch (chosen) {
	case 0:
		show_help(k);
		break;
	case 1:
		if (!story_has_words(k) ||
		    confirm(k, "Start again?", "Everything typed for this story will be deleted "
			    "and cannot be brought back.", "Delete it and start again", "Keep the story"))
			discard_story(k);
		break;
	case 2:
		if (kiosk_mode && !ask_pin(k, "Ending the shift needs the exit PIN."))
			break;
		if (!story_has_words(k) ||
		    confirm(k, "End your shift?", "The story in progress has not been saved and "
			    "will be deleted. End the shift anyway?", "End shift and delete it",
			    "Keep the story")) {
			if (k->story != NULL)
				draft_discard(k->ctx->queue, k->story->id);
			end_shift(k);
		}
		break;
	case 3:
		quit_kiosk(k);
		break;
	default:
		break;
	}
}

/* ---- checks before consent ---- */

#define MAX_FINDINGS 64

/* A dialog that quotes a passage of the story with the match in reverse
 * video, so the operator sees exactly what was found; returns the choice,
 * or -1 for Esc. */
static int passage_dialog(kiosk *k, const char *title, const char *text, const char *answer,
			  size_t start, size_t end, const char *const *choices, size_t n_choices)
{
	/* About a line of context either side, cut on character boundaries. */
	size_t from = start > 60 ? start - 60 : 0, to = end + 60;
	if (to > strlen(answer))
		to = strlen(answer);
	while (from > 0 && ((unsigned char)answer[from] & 0xc0) == 0x80)
		from--;
	while (to < strlen(answer) && ((unsigned char)answer[to] & 0xc0) == 0x80)
		to++;
	char *before = strndup(answer + from, start - from);
	char *match = strndup(answer + start, end - start);
	char *after = strndup(answer + end, to - end);
	if (!before || !match || !after)
		fatal("out of memory");
	int chosen = 0;
	int saved_delay = wgetdelay(stdscr);
	timeout(INPUT_POLL_MS);
	for (;;) {
		if (got_terminate) {
			chosen = -1;
			break;
		}
		paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS) {
			draw_dialog(title, text, choices, n_choices, chosen);
			/* The quote goes on the dialog's last text row, above the choices. */
			int width = COLS - 8 < 64 ? COLS - 8 : 64;
			int rows = screen_wrap(LINES, 0, width - 4, LINES, 0, text, LOOK_NORMAL);
			int height = rows + (int)n_choices + 5;
			if (height > LINES - 2)
				height = LINES - 2;
			int y = (LINES - height) / 2 + height - 2 - (int)n_choices;
			int x = (COLS - width) / 2 + 2;
			mvhline(y, x, ' ', width - 4);
			int used = screen_put(y, x, 1, "\"", LOOK_NORMAL);
			int room = width - 6;
			wchar_t *wide_before = screen_widen(before);
			int before_cells = 0;
			for (size_t i = 0; wide_before[i]; i++)
				before_cells += screen_char_width(wide_before[i]);
			/* Keep the match in view: drop the start of the context first. */
			size_t skip = 0;
			while (before_cells > room / 3 && wide_before[skip]) {
				before_cells -= screen_char_width(wide_before[skip]);
				skip++;
			}
			used += screen_put_wide(y, x + used, room - used, wide_before + skip,
						wcslen(wide_before + skip), LOOK_NORMAL);
			free(wide_before);
			used += screen_put(y, x + used, room - used, match, LOOK_SELECTED);
			used += screen_put(y, x + used, room - used, after, LOOK_NORMAL);
			screen_put(y, x + used, 1, "\"", LOOK_NORMAL);
			refresh();
		} else {
			refresh();
		}
		wint_t ch;
		int rc = read_key(&ch);
		if (rc == ERR || COLS < SCREEN_MIN_COLS || LINES < SCREEN_MIN_ROWS)
			continue;
		int picked = dialog_key(rc == KEY_CODE_YES, (unsigned int)ch, n_choices, &chosen);
		if (picked != DIALOG_STAY) {
			chosen = picked;
			break;
		}
	}
	timeout(saved_delay);
	free(before);
	free(match);
	free(after);
	return chosen;
}

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
	enter_step(k);
	const char *answer = story_answer(k->story, step);
	size_t characters = 0;
	for (size_t i = 0; answer && i < at && answer[i]; i++)
		if (((unsigned char)answer[i] & 0xc0) != 0x80)
			characters++;
	if (characters <= k->field.len)
		k->field.cursor = characters;
	set_message(k, LOOK_HINT, "Change what needs changing, then press Ctrl-N to go back to the review.");
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
	while (passage_dialog(k, title, text, story_answer(k->story, step), start, end, choices, 1) != 0 &&
	       !got_terminate)
		;
}

/* Before review: look for what would identify someone or should not be
 * published, and for what a person must act on. Warnings only: the story is
 * never changed without the operator. Returns non-zero when the operator went
 * to edit an answer. */
static int check_story(kiosk *k)
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
			int chosen = passage_dialog(k, title, why, answer, found[i].start, found[i].end,
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

/* ---- moving between steps ---- */

static void finish_consent(kiosk *k)
{
	size_t consent_step = k->wiz.step;
	if (k->story->consent == 0) {
		if (confirm(k, "They said No",
			    "Their story will not be kept: everything typed will be deleted now. "
			    "Is that right?", "Yes, delete it", "No, go back")) {
			discard_story(k);
			set_message(k, LOOK_WARNING, "The story was not kept, as they asked.");
		}
		return;
	}
	char msg[1024];
	validate_verdict verdict = wizard_next(&k->wiz, msg, sizeof msg);
	if (verdict != VALIDATE_OK) {
		set_message(k, LOOK_ERROR, "%s", msg);
		return;
	}
	if (store_save_story(k->ctx->queue, k->story) != 0) {
		k->wiz.step = consent_step;
		set_message(k, LOOK_ERROR, "%s Call IT. This story is safe on this screen: do not "
			    "close StoryKiosk. Press Ctrl-N to try saving again.",
			    store_problem(k->ctx->queue));
		return;
	}
	k->message[0] = '\0';
	enter_step(k);
}

static void go_next(kiosk *k)
{
	const form_step *fs = current_step(k);
	if (fs->type == STEP_THANKS) {
		start_story(k);
		return;
	}
	save_field(k);
	if (fs->type == STEP_CONSENT) {
		finish_consent(k);
		return;
	}
	char msg[1024];
	validate_verdict verdict = wizard_next(&k->wiz, msg, sizeof msg);
	if (verdict == VALIDATE_BLOCK) {
		set_message(k, LOOK_ERROR, "%s", msg);
		if (fs->type == STEP_REVIEW) {
			size_t steps[256];
			size_t n = question_steps(k, steps, 256);
			int problem = wizard_first_problem(&k->wiz, msg, sizeof msg);
			for (size_t i = 0; i < n; i++)
				if ((int)steps[i] == problem)
					k->item = (int)i;
		}
		return;
	}
	if (verdict == VALIDATE_WARN) {
		set_message(k, LOOK_WARNING, "%s Press Ctrl-N again to accept it.", msg);
		return;
	}
	k->message[0] = '\0';
	if (current_step(k)->type == STEP_REVIEW && fs->type != STEP_REVIEW && check_story(k)) {
		save_draft(k);
		return; /* they chose to edit a finding */
	}
	enter_step(k);
	save_draft(k);
}

static void go_back(kiosk *k)
{
	if (current_step(k)->type == STEP_THANKS)
		return;
	save_field(k);
	if (k->wiz.step == 0) {
		set_message(k, LOOK_HINT, "This is the first step.");
		return;
	}
	wizard_back(&k->wiz);
	k->message[0] = '\0';
	enter_step(k);
	save_draft(k);
}

/* ---- keys per step ---- */

static int move_item(kiosk *k, unsigned int key, int count)
{
	if (key == KEY_UP && k->item > 0) {
		k->item--;
		return 1;
	}
	if (key == KEY_DOWN && k->item + 1 < count) {
		k->item++;
		return 1;
	}
	if (key == KEY_UP && k->item < 0 && count > 0) {
		k->item = 0;
		return 1;
	}
	return key == KEY_UP || key == KEY_DOWN;
}

static int is_enter(int is_key, unsigned int ch)
{
	return is_key ? ch == KEY_ENTER : (ch == '\r' || ch == '\n');
}

static void edit_field(kiosk *k, int is_key, unsigned int ch)
{
	editor_result result = editor_key(&k->field, is_key, ch);
	if (result == EDITOR_FULL)
		set_message(k, LOOK_WARNING, "This answer has reached its limit of %zu characters.",
			    k->field.max_chars);
	else if (result == EDITOR_CHANGED && k->message_look != LOOK_ERROR)
		k->message[0] = '\0';
	else if (result == EDITOR_CHANGED)
		k->message[0] = '\0';
}

static void toggle_service_row(kiosk *k)
{
	size_t n_rows = services_rows(k, 0, NULL, NULL);
	if (k->item < 0 || (size_t)k->item >= n_rows)
		return;
	service_row_kind kind;
	size_t index = 0;
	services_rows(k, (size_t)k->item, &kind, &index);
	story *s = k->story;
	if (kind == ROW_OWN) {
		set_message(k, LOOK_HINT, "Taken off. Type a name to search, or Ctrl-N to go on.");
		story_remove_service(s, index);
		return;
	}
	if (kind == ROW_MATCH) {
		const catalogue_service *svc = &k->ctx->services->services[index];
		int at = story_find_service(s, svc->code, NULL);
		if (at >= 0) {
			story_remove_service(s, (size_t)at);
			set_message(k, LOOK_HINT, "Taken off: %s.", svc->name);
			return;
		}
		if (story_add_service(s, svc->code, svc->name, svc->postcode) < 0)
			fatal("out of memory");
		/* A fresh search for the next one: stories often cover several services. */
		editor_load(&k->field, NULL, 0, 200);
		refresh_matches(k);
		k->item = 0;
		set_message(k, LOOK_HINT, "Added: %s. Search for another, or press Ctrl-N to go on.",
			    svc->name);
		return;
	}
	char *query = editor_text(&k->field);
	validate_trim(query);
	if (query[0] == '\0') {
		set_message(k, LOOK_ERROR, "Type the service's name in the search box first, then "
			    "choose 'Not in the list'.");
	} else if (story_add_service(s, NULL, query, "") < 0) {
		fatal("out of memory");
	} else {
		editor_load(&k->field, NULL, 0, 200);
		refresh_matches(k);
		k->item = 0;
		set_message(k, LOOK_HINT, "Added as not in the list. The team will match it to a service.");
	}
	free(query);
}

static void services_key(kiosk *k, int is_key, unsigned int ch)
{
	size_t n_rows = services_rows(k, 0, NULL, NULL);
	if (is_key && (ch == KEY_UP || ch == KEY_DOWN || ch == KEY_PPAGE || ch == KEY_NPAGE)) {
		int step = ch == KEY_PPAGE || ch == KEY_NPAGE ? 10 : 1;
		int delta = ch == KEY_UP || ch == KEY_PPAGE ? -step : step;
		k->item += delta;
		if (k->item < 0)
			k->item = 0;
		if (k->item >= (int)n_rows)
			k->item = (int)n_rows - 1;
		return;
	}
	if (is_enter(is_key, ch) || (!is_key && ch == ' ' && editor_length(&k->field) == 0)) {
		toggle_service_row(k);
		return;
	}
	editor_result result = editor_key(&k->field, is_key, ch);
	if (result == EDITOR_CHANGED) {
		refresh_matches(k);
		k->item = 0;
		k->list_top = 0;
		k->message[0] = '\0';
	}
}

/* A field with one extra choice below it (postcode, email). */
static void field_with_option_key(kiosk *k, int is_key, unsigned int ch)
{
	story *s = k->story;
	int *flag = current_step(k)->type == STEP_POSTCODE ? &s->no_postcode : &s->no_email;
	if (is_key && (ch == KEY_UP || ch == KEY_DOWN)) {
		k->item = ch == KEY_UP ? 0 : 1;
		return;
	}
	if (k->item == 1) {
		if (is_enter(is_key, ch) || (!is_key && ch == ' ')) {
			*flag = !*flag;
			if (*flag && is_enter(is_key, ch))
				go_next(k);
			return;
		}
		if (is_key)
			return;
		k->item = 0; /* typing goes to the box */
	}
	if (is_enter(is_key, ch)) {
		go_next(k);
		return;
	}
	size_t before = editor_length(&k->field);
	edit_field(k, is_key, ch);
	if (editor_length(&k->field) != before)
		*flag = 0; /* typing an answer takes back "none" */
}

static void choice_key(kiosk *k, int is_key, unsigned int ch)
{
	const form_step *fs = current_step(k);
	if (is_key && move_item(k, ch, (int)fs->n_options))
		return;
	int pick = -1;
	if (is_enter(is_key, ch) && k->item >= 0)
		pick = k->item;
	else if (!is_key && ch >= '1' && ch <= '9' && (size_t)(ch - '1') < fs->n_options)
		pick = (int)(ch - '1');
	if (pick < 0)
		return;
	k->item = pick;
	if (story_set_answer(k->story, k->wiz.step, fs->options[pick].value) != 0)
		fatal("out of memory");
	go_next(k);
}

static void consent_key(kiosk *k, int is_key, unsigned int ch)
{
	if (is_key && (ch == KEY_NPAGE || ch == KEY_PPAGE)) {
		k->info_scroll += ch == KEY_NPAGE ? 5 : -5;
		if (k->info_scroll < 0)
			k->info_scroll = 0;
		return;
	}
	if (is_key && move_item(k, ch, 2))
		return;
	int pick = -1;
	if (!is_key && (ch == 'y' || ch == 'Y'))
		pick = 0;
	else if (!is_key && (ch == 'n' || ch == 'N'))
		pick = 1;
	else if (is_enter(is_key, ch)) {
		if (k->item < 0) {
			set_message(k, LOOK_ERROR, "Ask them, then choose Yes or No. There is no default.");
			return;
		}
		pick = k->item;
	}
	if (pick < 0)
		return;
	k->item = pick;
	k->story->consent = pick == 0 ? 1 : 0;
	if (is_enter(is_key, ch))
		go_next(k);
}

static void review_key(kiosk *k, int is_key, unsigned int ch)
{
	size_t steps[256];
	size_t n = question_steps(k, steps, 256);
	if (is_key && move_item(k, ch, (int)n))
		return;
	if (is_enter(is_key, ch) && k->item >= 0 && (size_t)k->item < n) {
		wizard_jump(&k->wiz, steps[k->item]);
		k->message[0] = '\0';
		enter_step(k);
		save_draft(k);
		set_message(k, LOOK_HINT, "Change the answer, then press Ctrl-N to go back to the review.");
	}
}

static void step_key(kiosk *k, int is_key, unsigned int ch)
{
	const form_step *fs = current_step(k);
	switch (fs->type) {
	case STEP_TEXT:
		edit_field(k, is_key, ch);
		k->key_in_field = 1;
		break;
	case STEP_LINE:
	case STEP_USERNAME:
		if (is_enter(is_key, ch))
			go_next(k);
		else
			edit_field(k, is_key, ch);
		break;
	case STEP_POSTCODE:
	case STEP_EMAIL:
		field_with_option_key(k, is_key, ch);
		break;
	case STEP_CHOICE:
		choice_key(k, is_key, ch);
		break;
	case STEP_SERVICES:
		services_key(k, is_key, ch);
		break;
	case STEP_REVIEW:
		review_key(k, is_key, ch);
		break;
	case STEP_CONSENT:
		consent_key(k, is_key, ch);
		break;
	case STEP_INFO:
	case STEP_THANKS:
		if (is_enter(is_key, ch))
			go_next(k);
		else if (is_key && (ch == KEY_DOWN || ch == KEY_NPAGE))
			k->info_scroll += ch == KEY_DOWN ? 1 : 10;
		else if (is_key && (ch == KEY_UP || ch == KEY_PPAGE))
			k->info_scroll -= ch == KEY_UP ? 1 : 10;
		if (k->info_scroll < 0)
			k->info_scroll = 0;
		break;
	}
}

static void try_sign_in(kiosk *k)
{
	char *name = editor_text(&k->field);
	validate_trim(name);
	if (name[0] == '\0') {
		set_message(k, LOOK_ERROR, "Type your name or staff ID first.");
		k->item = 0;
		free(name);
		return;
	}
	if (k->role_choice < 0) {
		set_message(k, LOOK_ERROR, "Choose whether you are a staff member or a volunteer.");
		k->item = 1;
		free(name);
		return;
	}
	/* A story must not be started on a queue that could never keep it: the
	 * background check has normally long finished by now. */
	if (store_check(k->ctx->queue) != 0) {
		set_message(k, LOOK_ERROR, "%s Call IT. No story can be taken on this terminal until "
			    "then: it could not be kept.", store_problem(k->ctx->queue));
		free(name);
		return;
	}
	k->operator_name = name;
	k->operator_role = operator_roles[k->role_choice];
	start_story(k);
	offer_draft(k);
}

static void sign_in_key(kiosk *k, int is_key, unsigned int ch)
{
	if (is_key && (ch == KEY_UP || ch == KEY_DOWN)) {
		move_item(k, ch, 3);
		return;
	}
	if (k->item == 0) {
		if (is_enter(is_key, ch))
			k->item = 1;
		else
			edit_field(k, is_key, ch);
		return;
	}
	if (is_enter(is_key, ch) || (!is_key && ch == ' ')) {
		k->role_choice = k->item - 1;
		try_sign_in(k);
	} else if (!is_key && ch >= 0x20) {
		k->item = 0;
		edit_field(k, is_key, ch);
	}
}

/* Non-zero when another key is already waiting: a key that arrives in the
 * same burst as others came from a paste (or a stuck key), not a person. */
static int key_waiting(void)
{
	int saved_delay = wgetdelay(stdscr);
	nodelay(stdscr, TRUE);
	wint_t next;
	int rc = get_wch(&next);
	if (rc == KEY_CODE_YES)
		ungetch((int)next);
	else if (rc != ERR)
		unget_wch((wchar_t)next);
	timeout(saved_delay);
	return rc != ERR;
}

/* One key from the keyboard, at any screen. */
static void handle_key(kiosk *k, int is_key, unsigned int ch)
{
	/* Esc opens the menu, whose digits act at once: an Esc that arrives in
	 * the same burst as more keys is from a paste (or a broken escape
	 * sequence), never a person, so pasted text cannot drive the menu. */
	if (!is_key && ch == KEY_ESCAPE && key_waiting())
		return;
	if (is_key && ch == KEY_RESIZE)
		return;
	if (COLS < SCREEN_MIN_COLS || LINES < SCREEN_MIN_ROWS)
		return; /* nothing can be seen, so nothing is changed */
	if (!is_key && (ch == KEY_CTRL('c') || ch == KEY_CTRL('z') || ch == KEY_CTRL('\\')))
		return; /* only reach here in kiosk mode (raw keys): they do nothing */
	if (!is_key && ch == KEY_ESCAPE) {
		open_menu(k);
		return;
	}
	if (!is_key && ch == '\t') {
		k->focus = k->focus == FOCUS_FIELD ? FOCUS_BACK :
			   k->focus == FOCUS_BACK  ? FOCUS_NEXT : FOCUS_FIELD;
		return;
	}
	if (is_key && ch == KEY_BTAB) {
		k->focus = k->focus == FOCUS_FIELD ? FOCUS_NEXT :
			   k->focus == FOCUS_NEXT  ? FOCUS_BACK : FOCUS_FIELD;
		return;
	}
	if (k->story == NULL) {
		if (!is_key && ch == KEY_CTRL('n'))
			try_sign_in(k);
		else if (k->focus == FOCUS_FIELD)
			sign_in_key(k, is_key, ch);
		else if (is_enter(is_key, ch) && k->focus == FOCUS_NEXT)
			try_sign_in(k);
		else if (!is_key)
			k->focus = FOCUS_FIELD;
		return;
	}
	if (!is_key && ch == KEY_CTRL('n')) {
		go_next(k);
		return;
	}
	if (!is_key && ch == KEY_CTRL('p')) {
		go_back(k);
		return;
	}
	if (k->focus != FOCUS_FIELD) {
		if (is_enter(is_key, ch)) {
			enum focus pressed = k->focus;
			k->focus = FOCUS_FIELD;
			if (pressed == FOCUS_NEXT)
				go_next(k);
			else
				go_back(k);
			return;
		}
		if (is_key && (ch == KEY_LEFT || ch == KEY_RIGHT)) {
			k->focus = ch == KEY_LEFT ? FOCUS_BACK : FOCUS_NEXT;
			return;
		}
		k->focus = FOCUS_FIELD; /* typing returns to the field */
	}
	step_key(k, is_key, ch);
}

/* handle_key, saying whether the key only went to a text step's story box. */
static int handle_field_key(kiosk *k, int is_key, unsigned int ch)
{
	k->key_in_field = 0;
	handle_key(k, is_key, ch);
	return k->key_in_field;
}

/* Ask the terminal (and tmux, when the kiosk runs inside it) to forget what
 * scrolled off the screen, so the next person cannot scroll back to a story. */
static void clear_scrollback(void)
{
	fputs("\033[H\033[2J\033[3J", stdout);
	fflush(stdout);
	const char *pane = getenv("TMUX_PANE");
	if (getenv("TMUX") != NULL && pane != NULL) {
		char program[] = "tmux", command[] = "clear-history", flag[] = "-t";
		char *target = strdup(pane);
		char *const argv[] = { program, command, flag, target, NULL };
		pid_t child;
		if (target != NULL && posix_spawnp(&child, "tmux", NULL, NULL, argv, environ) == 0)
			waitpid(child, NULL, 0);
		free(target);
	}
	clearok(curscr, TRUE);
}

/* "Are you still there?" with a countdown; non-zero when someone pressed a key. */
static int still_there(kiosk *k)
{
	long wait = k->ctx->settings ? k->ctx->settings->still_there_seconds : 30;
	time_t until = time(NULL) + wait;
	int saved_delay = wgetdelay(stdscr);
	timeout(INPUT_POLL_MS);
	int answered = 0;
	while (!got_terminate) {
		long left = (long)(until - time(NULL));
		if (left <= 0)
			break;
		char text[256];
		snprintf(text, sizeof text, "Nobody has pressed a key for a while. This story will be "
			 "put away in %ld second%s. Press any key to carry on.", left, left == 1 ? "" : "s");
		paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS)
			draw_dialog("Are you still there?", text, NULL, 0, -1);
		else
			refresh();
		wint_t ch;
		int rc = read_key(&ch);
		if (rc != ERR && !(rc == KEY_CODE_YES && ch == KEY_RESIZE)) {
			answered = 1;
			break;
		}
	}
	timeout(saved_delay);
	return answered;
}

/* Nobody is there: put the story away (as a draft, or discarded, as
 * configured), wipe the screen and its scrollback, and start afresh. */
static void idle_reset(kiosk *k)
{
	if (k->story != NULL) {
		int keep = k->ctx->settings ? k->ctx->settings->idle_keeps_draft : 1;
		if (keep)
			save_draft(k);
		else
			draft_discard(k->ctx->queue, k->story->id);
		start_story(k);
	}
	k->message[0] = '\0';
	k->offer_pending = 1;
	erase();
	refresh();
	clear_scrollback();
}

/* Idle long enough to ask? Only when someone's words could be on screen. */
static int idle_due(const kiosk *k)
{
	long idle = k->ctx->settings ? k->ctx->settings->idle_seconds : 180;
	if (k->story == NULL || time(NULL) - k->last_key < idle)
		return 0;
	return story_has_words(k) || k->wiz.step != 0;
}

int ui_capture(ui_context *ctx)
{
	kiosk k;
	memset(&k, 0, sizeof k);
	k.ctx = ctx;
	k.loaded_step = SIZE_MAX;
	k.role_choice = -1;
	kiosk_mode = ctx->settings && ctx->settings->kiosk;
	install_signals();
	ui_init();
	end_shift(&k);
	/* Sign-in first; keys typed meanwhile wait in the terminal. */
	draw(&k);
	if (ctx->load_rest != NULL) {
		int status = ctx->load_rest(ctx);
		if (status != EXIT_OK) {
			/* Keys typed while it loaded must not reach the shell. */
			flushinp();
			ui_end();
			editor_clear(&k.field);
			return status;
		}
	}
	if (store_seal_key(ctx->queue) == NULL)
		set_message(&k, LOOK_WARNING, "Note for IT: email addresses and postcodes are stored "
			    "unsealed on this terminal (no public_key in storykiosk.conf).");
	k.matches = calloc(ctx->services->n_services + 1, sizeof *k.matches);
	if (k.matches == NULL)
		fatal("out of memory");
	k.last_key = k.last_draft = time(NULL);
	int field_only = 0; /* every key since the last draw only edited the story box */
	int unchanged = 0;  /* the last wait timed out and changed nothing on screen */
	while (!k.quit && !got_terminate) {
		if (!unchanged)
			redraw(&k, field_only);
		field_only = 0;
		unchanged = 0;
		wint_t ch;
		int rc = read_key(&ch);
		if (got_interrupt) {
			got_interrupt = 0;
			quit_kiosk(&k);
			continue;
		}
		if (rc == ERR) {
			int acted = 0;
			if (k.draft_dirty && time(NULL) - k.last_draft >= DRAFT_EVERY_SECONDS) {
				save_draft(&k);
				acted = 1;
			}
			if (idle_due(&k)) {
				if (still_there(&k))
					k.last_key = time(NULL);
				else if (!got_terminate)
					idle_reset(&k);
				k.last_key = time(NULL);
				acted = 1;
			}
			/* The wait wakes twice a second only to keep time: a kiosk left
			 * alone does not repaint a screen that has not changed. */
			unchanged = !acted;
			continue;
		}
		k.last_key = time(NULL);
		if (k.offer_pending) {
			/* The first key after an idle reset is someone arriving: before
			 * anything else, ask about the story that was put away. */
			k.offer_pending = 0;
			offer_draft(&k);
			continue;
		}
		field_only = handle_field_key(&k, rc == KEY_CODE_YES, (unsigned int)ch);
		/* Take a paste in one go: draw once it has all arrived. */
		nodelay(stdscr, TRUE);
		for (int n = 0; n < PASTE_BATCH && !k.quit; n++) {
			rc = read_key(&ch);
			if (rc == ERR)
				break;
			field_only &= handle_field_key(&k, rc == KEY_CODE_YES, (unsigned int)ch);
		}
		nodelay(stdscr, FALSE);
		timeout(INPUT_POLL_MS);
		k.draft_dirty = k.story != NULL;
		if (k.draft_dirty && time(NULL) - k.last_draft >= DRAFT_EVERY_SECONDS)
			save_draft(&k);
	}
	/* Closed, shut down or hung up: keep what was typed for next time. */
	if (got_terminate)
		save_draft(&k);
	ui_end();
	story_free(k.story);
	editor_clear(&k.field);
	free(k.operator_name);
	free(k.matches);
	free(k.checked_text);
	return EXIT_OK;
}
