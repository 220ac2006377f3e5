/* kiosk_priv.h - private to src/ui: the capture kiosk's state and the functions
 * its files call across one another. Only kiosk*.c include it; the rest of
 * StoryKiosk sees the kiosk through ui.h alone. */
#ifndef STORYKIOSK_UI_KIOSK_PRIV_H
#define STORYKIOSK_UI_KIOSK_PRIV_H

#include <signal.h>
#include <stddef.h>
#include <time.h>
#include <wchar.h>

#include "editor.h"
#include "screen.h"
#include "story.h"
#include "ui.h"
#include "wizard.h"

#define KEY_ESCAPE 27
#define INPUT_POLL_MS 500

/* Where the keyboard is: the step's field or one of the two buttons. */
enum focus { FOCUS_FIELD, FOCUS_BACK, FOCUS_NEXT };

/* One kiosk: who is signed in, the story in progress and what is on screen. */
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

/* Set by SIGTERM and SIGHUP: every wait for a key gives up, and the kiosk closes. */
extern volatile sig_atomic_t kiosk_got_terminate;

/* Kiosk mode (storykiosk.conf): raw keys, and the exit PIN to quit or end a shift. */
extern int kiosk_mode;

/* kiosk.c: the story in progress and moving between steps */

/* Read one key, waking for signals; returns ERR on timeout. */
int kiosk_read_key(wint_t *ch);

/* Set the message shown above the footer, printf-style. */
void kiosk_set_message(kiosk *k, screen_look look, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The form step the wizard is on. */
const form_step *kiosk_current_step(const kiosk *k);

/* Non-zero when a step of this type has a text field (or the services search). */
int kiosk_step_has_field(step_type type);

/* Fill steps with the question steps in form order (at most cap); returns how many. */
size_t kiosk_question_steps(const kiosk *k, size_t *steps, size_t cap);

/* Copy what is in the field back into the story before leaving a step. */
void kiosk_save_field(kiosk *k);

/* Load the current step's answer into the field and reset the step's view. */
void kiosk_enter_step(kiosk *k);

/* Start a new story for the signed-in operator, on a cleared screen. */
void kiosk_start_story(kiosk *k);

/* Sign out: drop the story and the operator, and show the sign-in screen. */
void kiosk_end_shift(kiosk *k);

/* Non-zero when the story holds anything the person said. */
int kiosk_story_has_words(const kiosk *k);

/* Keep the story in progress on disk as a draft (or none, if it has no words). */
void kiosk_save_draft(kiosk *k);

/* Throw the story and its draft away on purpose, and start the next story. */
void kiosk_discard_story(kiosk *k);

/* Next (Ctrl-N): check the step and move on; run the checks before review, save at consent. */
void kiosk_go_next(kiosk *k);

/* Back (Ctrl-P): to the previous step, keeping what was typed. */
void kiosk_go_back(kiosk *k);

/* kiosk_draw.c: the screens */

/* Draw the whole screen into curses' buffer, without refreshing the terminal. */
void kiosk_paint(kiosk *k);

/* Draw the whole screen and show it. */
void kiosk_draw(kiosk *k);

/* Show the screen after keys: patched if they only edited the story box (field_only). */
void kiosk_redraw(kiosk *k, int field_only);

/* Draw the step's paragraphs that fit in max_rows from row y; returns the next free row. */
int kiosk_draw_paragraphs_fit(const kiosk *k, int y, int width, int max_rows,
			      char *const *text, size_t n_text);

/* Draw the one-line field in a box at row y; returns the row after it. */
int kiosk_draw_line_field(kiosk *k, int y, int width);

/* kiosk_dialog.c: questions over the screen */

/* Ask yes or no, with no as the default; non-zero for yes. */
int kiosk_confirm(kiosk *k, const char *title, const char *text, const char *yes,
		  const char *no);

/* Offer each unfinished story in the queue: resume it, or discard it. */
void kiosk_offer_draft(kiosk *k);

/* The menu (Esc): help, start again, end shift, quit. */
void kiosk_open_menu(kiosk *k);

/* Quit, after the exit PIN in kiosk mode and a confirmation if words would go. */
void kiosk_quit(kiosk *k);

/* A dialog quoting answer[start, end) in context; returns the choice, or -1 for Esc. */
int kiosk_passage_dialog(kiosk *k, const char *title, const char *text, const char *answer,
			 size_t start, size_t end, const char *const *choices, size_t n_choices);

/* "Are you still there?" with a countdown; non-zero when someone pressed a key. */
int kiosk_still_there(kiosk *k);

/* kiosk_keys.c: what a key does */

/* Non-zero for Enter, as a key code (is_key) or as a character. */
int kiosk_is_enter(int is_key, unsigned int ch);

/* Handle one key at any screen; non-zero when it only went to a text step's story box. */
int kiosk_handle_field_key(kiosk *k, int is_key, unsigned int ch);

/* kiosk_services.c: the services step */

/* Search the catalogue for what is in the search box, into k->matches. */
void kiosk_services_refresh(kiosk *k);

/* Draw the services step (search box, list, what is chosen) from row y to limit. */
void kiosk_services_draw(kiosk *k, const form_step *fs, int y, int limit);

/* One key at the services step: move in the list, tick a row, or search. */
void kiosk_services_key(kiosk *k, int is_key, unsigned int ch);

/* kiosk_checks.c: the checks before consent */

/* Check the story's answers on the way to review; non-zero when the operator went to edit one. */
int kiosk_check_story(kiosk *k);

#endif
