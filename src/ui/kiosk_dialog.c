/* kiosk_dialog.c - boxes drawn over the screen that ask something: the menu,
 * the confirmations, the exit PIN, the offer of an unfinished story, the idle
 * countdown, and the passages the checks quote. */
#include "kiosk_priv.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "draft.h"
#include "fatal.h"
#include "pin.h"
#include "screen.h"
#include "story.h"
#include "wizard.h"

#define PIN_MAX_DELAY 30

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

/* Draws more on a dialog just drawn (the passage a check found), before it
 * goes to the screen again. */
typedef void (*dialog_extra)(const char *text, size_t n_choices, const void *context);

/* A list of choices in a box; returns the index chosen, or -1 for Esc. A
 * digit picks its choice directly. extra, when not NULL, adds to each
 * drawing. */
static int dialog_run(kiosk *k, const char *title, const char *text,
		      const char *const *choices, size_t n_choices, int initial,
		      dialog_extra extra, const void *context)
{
	int chosen = initial;
	/* A dialog may open in the middle of a paste, when input is not waited
	 * for: wait here, and give the caller back the mode it had. */
	int saved_delay = wgetdelay(stdscr);
	timeout(INPUT_POLL_MS);
	for (;;) {
		if (kiosk_got_terminate) {
			chosen = -1;
			break;
		}
		kiosk_paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS) {
			draw_dialog(title, text, choices, n_choices, chosen);
			if (extra != NULL) {
				extra(text, n_choices, context);
				refresh();
			}
		} else {
			refresh();
		}
		wint_t ch;
		int rc = kiosk_read_key(&ch);
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

static int dialog_choose(kiosk *k, const char *title, const char *text,
			 const char *const *choices, size_t n_choices, int initial)
{
	return dialog_run(k, title, text, choices, n_choices, initial, NULL, NULL);
}

/* Ask before anything that loses words; the safe answer is the default. */
int kiosk_confirm(kiosk *k, const char *title, const char *text, const char *yes,
		  const char *no)
{
	const char *choices[2] = { no, yes };
	return dialog_choose(k, title, text, choices, 2, 0) == 1;
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
void kiosk_offer_draft(kiosk *k)
{
	draft_info info;
	int found;
	while ((found = draft_find(k->ctx->queue, k->story ? k->story->id : NULL, &info)) > 0 &&
	       !kiosk_got_terminate) {
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
				kiosk_set_message(k, LOOK_ERROR, "The unfinished story could not be read back: %s",
						  store_error(k->ctx->queue));
				return;
			}
			kiosk_save_draft(k); /* whatever was on screen is kept too */
			story_free(k->story);
			k->story = resumed;
			wizard_start(&k->wiz, k->ctx->form, k->ctx->words, k->story);
			k->wiz.step = step;
			kiosk_enter_step(k);
			clear();
			kiosk_set_message(k, LOOK_HINT, "The unfinished story is back, at the step it was left on.");
			return;
		}
		if (chosen == 1 &&
		    kiosk_confirm(k, "Discard the unfinished story?", "Everything typed in it will be deleted "
				  "and cannot be brought back.", "Delete it", "Keep it")) {
			if (draft_discard(k->ctx->queue, info.id) != 0) {
				kiosk_set_message(k, LOOK_ERROR, "%s", store_problem(k->ctx->queue));
				return;
			}
			continue; /* there may be another */
		}
		if (chosen < 0)
			return; /* Esc: ask again next time */
	}
	if (found < 0)
		kiosk_set_message(k, LOOK_ERROR, "%s", store_problem(k->ctx->queue));
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
	while (result < 0 && !kiosk_got_terminate) {
		char masked[80], text[256];
		memset(masked, '*', len);
		masked[len] = '\0';
		snprintf(text, sizeof text, "%s Type the exit PIN and press Enter (Esc to cancel). PIN: %s",
			 why, masked);
		kiosk_paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS)
			draw_dialog("Exit PIN", text, NULL, 0, -1);
		else
			refresh();
		wint_t ch;
		int rc = kiosk_read_key(&ch);
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
				kiosk_set_message(k, LOOK_ERROR, "Wrong PIN. Wait %d second%s before trying again.",
						  wait, wait == 1 ? "" : "s");
				kiosk_draw(k);
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

void kiosk_quit(kiosk *k)
{
	if (kiosk_mode && !ask_pin(k, "Leaving StoryKiosk needs the exit PIN."))
		return;
	if (kiosk_story_has_words(k) &&
	    !kiosk_confirm(k, "Quit StoryKiosk?",
			   "The story in progress will be kept as a draft: when StoryKiosk starts again "
			   "you can resume it or discard it. Quit now?",
			   "Quit (keep it as a draft)", "Keep going"))
		return;
	kiosk_save_draft(k);
	k->quit = 1;
}

void kiosk_open_menu(kiosk *k)
{
	if (k->story == NULL) {
		const char *choices[] = { "1 Help", "2 Quit StoryKiosk", "3 Back" };
		int chosen = dialog_choose(k, "Menu", "Sign in to start taking stories.", choices, 3, 2);
		if (chosen == 0)
			show_help(k);
		else if (chosen == 1)
			kiosk_quit(k);
		return;
	}
	kiosk_save_field(k);
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
		if (!kiosk_story_has_words(k) ||
		    kiosk_confirm(k, "Start again?", "Everything typed for this story will be deleted "
				  "and cannot be brought back.", "Delete it and start again", "Keep the story"))
			kiosk_discard_story(k);
		break;
	case 2:
		if (kiosk_mode && !ask_pin(k, "Ending the shift needs the exit PIN."))
			break;
		if (!kiosk_story_has_words(k) ||
		    kiosk_confirm(k, "End your shift?", "The story in progress has not been saved and "
				  "will be deleted. End the shift anyway?", "End shift and delete it",
				  "Keep the story")) {
			if (k->story != NULL)
				draft_discard(k->ctx->queue, k->story->id);
			kiosk_end_shift(k);
		}
		break;
	case 3:
		kiosk_quit(k);
		break;
	default:
		break;
	}
}

/* The passage a check found, in three parts: the match goes in reverse video. */
typedef struct {
	const char *before, *match, *after;
} passage;

/* dialog_extra for kiosk_passage_dialog: the quote goes on the dialog's last
 * text row, above the choices, laid out as draw_dialog lays out the box. */
static void draw_passage(const char *text, size_t n_choices, const void *context)
{
	const passage *p = context;
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
	wchar_t *wide_before = screen_widen(p->before);
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
	used += screen_put(y, x + used, room - used, p->match, LOOK_SELECTED);
	used += screen_put(y, x + used, room - used, p->after, LOOK_NORMAL);
	screen_put(y, x + used, 1, "\"", LOOK_NORMAL);
}

/* A dialog that quotes a passage of the story with the match in reverse
 * video, so the operator sees exactly what was found; returns the choice,
 * or -1 for Esc. */
int kiosk_passage_dialog(kiosk *k, const char *title, const char *text, const char *answer,
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
	const passage quoted = { before, match, after };
	int chosen = dialog_run(k, title, text, choices, n_choices, 0, draw_passage, &quoted);
	free(before);
	free(match);
	free(after);
	return chosen;
}

/* "Are you still there?" with a countdown; non-zero when someone pressed a key. */
int kiosk_still_there(kiosk *k)
{
	long wait = k->ctx->settings ? k->ctx->settings->still_there_seconds : 30;
	time_t until = time(NULL) + wait;
	int saved_delay = wgetdelay(stdscr);
	timeout(INPUT_POLL_MS);
	int answered = 0;
	while (!kiosk_got_terminate) {
		long left = (long)(until - time(NULL));
		if (left <= 0)
			break;
		char text[256];
		snprintf(text, sizeof text, "Nobody has pressed a key for a while. This story will be "
			 "put away in %ld second%s. Press any key to carry on.", left, left == 1 ? "" : "s");
		kiosk_paint(k);
		if (COLS >= SCREEN_MIN_COLS && LINES >= SCREEN_MIN_ROWS)
			draw_dialog("Are you still there?", text, NULL, 0, -1);
		else
			refresh();
		wint_t ch;
		int rc = kiosk_read_key(&ch);
		if (rc != ERR && !(rc == KEY_CODE_YES && ch == KEY_RESIZE)) {
			answered = 1;
			break;
		}
	}
	timeout(saved_delay);
	return answered;
}
