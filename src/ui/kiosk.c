/* kiosk.c - the capture kiosk: the story in progress, moving between steps,
 * and the main loop (keys, drafts, the idle reset). Its screens are drawn in
 * kiosk_draw.c, its questions asked in kiosk_dialog.c and its keys answered in
 * kiosk_keys.c; the state they share is declared in kiosk_priv.h. */
#include "ui.h"

#include <curses.h>
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
#include "kiosk_priv.h"
#include "screen.h"
#include "seal.h"
#include "story.h"
#include "wizard.h"

#define PASTE_BATCH 8192
#define MAX_OPERATOR_CHARS 60
#define DRAFT_EVERY_SECONDS 3

static volatile sig_atomic_t got_interrupt;
volatile sig_atomic_t kiosk_got_terminate;
static int curses_active;
extern char **environ;
int kiosk_mode;     /* raw keys: Ctrl-C, Ctrl-Z and Ctrl-\ arrive as keys, and do nothing */

static void on_interrupt(int signo)
{
	(void)signo;
	got_interrupt = 1;
}

static void on_terminate(int signo)
{
	(void)signo;
	kiosk_got_terminate = 1;
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

/* Read one key, waking for signals; returns ERR on timeout. */
int kiosk_read_key(wint_t *ch)
{
	int rc = get_wch(ch);
	return rc;
}

void kiosk_set_message(kiosk *k, screen_look look, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->message, sizeof k->message, fmt, ap);
	va_end(ap);
	k->message_look = look;
}

const form_step *kiosk_current_step(const kiosk *k)
{
	return &k->ctx->form->steps[k->wiz.step];
}

int kiosk_step_has_field(step_type type)
{
	return type == STEP_TEXT || type == STEP_LINE || type == STEP_USERNAME ||
	       type == STEP_POSTCODE || type == STEP_EMAIL || type == STEP_SERVICES;
}

/* Copy what is in the field back into the story before leaving a step. */
void kiosk_save_field(kiosk *k)
{
	if (k->story == NULL || k->loaded_step >= k->ctx->form->n_steps)
		return;
	step_type type = k->ctx->form->steps[k->loaded_step].type;
	if (!kiosk_step_has_field(type) || type == STEP_SERVICES)
		return;
	char *typed = editor_text(&k->field);
	/* A sealed answer from a resumed draft cannot be shown; an empty box
	 * keeps it, anything typed replaces it. */
	int keep_sealed = typed[0] == '\0' && seal_is_sealed(story_answer(k->story, k->loaded_step));
	if (!keep_sealed && wizard_set_answer(&k->wiz, k->loaded_step, typed) != 0)
		fatal("out of memory");
	free(typed);
}

/* Load the current step's answer into the field and reset the step's view. */
void kiosk_enter_step(kiosk *k)
{
	const form_step *fs = kiosk_current_step(k);
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
			kiosk_set_message(k, LOOK_HINT, "This was given before and is sealed, so it cannot be "
					  "shown. Leave the box empty to keep it, or type it again.");
		break;
	case STEP_SERVICES:
		editor_load(&k->field, NULL, 0, 200);
		kiosk_services_refresh(k);
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
	curs_set(kiosk_step_has_field(fs->type) ? 1 : 0);
}

void kiosk_start_story(kiosk *k)
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
	kiosk_enter_step(k);
	/* A fresh screen for the next person: nothing of the last story stays. */
	clear();
}

void kiosk_end_shift(kiosk *k)
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
int kiosk_story_has_words(const kiosk *k)
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
	    kiosk_step_has_field(k->ctx->form->steps[k->loaded_step].type)) {
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
void kiosk_save_draft(kiosk *k)
{
	if (k->story == NULL || k->ctx->form->steps[k->wiz.step].type == STEP_THANKS)
		return;
	kiosk_save_field(k);
	int rc = kiosk_story_has_words(k) ? draft_save(k->ctx->queue, k->story, k->wiz.step)
					  : draft_discard(k->ctx->queue, k->story->id);
	k->last_draft = time(NULL);
	k->draft_dirty = 0;
	if (rc != 0 && !k->draft_warned) {
		k->draft_warned = 1;
		kiosk_set_message(k, LOOK_ERROR, "%s Call IT. This story is safe on screen for now: "
				  "please finish it.", store_problem(k->ctx->queue));
	} else if (rc == 0) {
		k->draft_warned = 0;
	}
}

/* Throw the story away on purpose (they asked, or declined consent): its
 * draft goes too, and the next story starts. */
void kiosk_discard_story(kiosk *k)
{
	if (k->story != NULL && draft_discard(k->ctx->queue, k->story->id) != 0)
		kiosk_set_message(k, LOOK_ERROR, "%s The story was not kept.", store_problem(k->ctx->queue));
	kiosk_start_story(k);
}

/* Question steps in form order: review lists these. */
size_t kiosk_question_steps(const kiosk *k, size_t *steps, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < k->ctx->form->n_steps && n < cap; i++)
		if (wizard_step_is_question(&k->ctx->form->steps[i]))
			steps[n++] = i;
	return n;
}

/* ---- moving between steps ---- */

static void finish_consent(kiosk *k)
{
	size_t consent_step = k->wiz.step;
	if (k->story->consent == 0) {
		if (kiosk_confirm(k, "They said No",
				  "Their story will not be kept: everything typed will be deleted now. "
				  "Is that right?", "Yes, delete it", "No, go back")) {
			kiosk_discard_story(k);
			kiosk_set_message(k, LOOK_WARNING, "The story was not kept, as they asked.");
		}
		return;
	}
	char msg[1024];
	validate_verdict verdict = wizard_next(&k->wiz, msg, sizeof msg);
	if (verdict != VALIDATE_OK) {
		kiosk_set_message(k, LOOK_ERROR, "%s", msg);
		return;
	}
	if (store_save_story(k->ctx->queue, k->story) != 0) {
		k->wiz.step = consent_step;
		kiosk_set_message(k, LOOK_ERROR, "%s Call IT. This story is safe on this screen: do not "
				  "close StoryKiosk. Press Ctrl-N to try saving again.",
				  store_problem(k->ctx->queue));
		return;
	}
	k->message[0] = '\0';
	kiosk_enter_step(k);
}

void kiosk_go_next(kiosk *k)
{
	const form_step *fs = kiosk_current_step(k);
	if (fs->type == STEP_THANKS) {
		kiosk_start_story(k);
		return;
	}
	kiosk_save_field(k);
	if (fs->type == STEP_CONSENT) {
		finish_consent(k);
		return;
	}
	char msg[1024];
	validate_verdict verdict = wizard_next(&k->wiz, msg, sizeof msg);
	if (verdict == VALIDATE_BLOCK) {
		kiosk_set_message(k, LOOK_ERROR, "%s", msg);
		if (fs->type == STEP_REVIEW) {
			size_t steps[256];
			size_t n = kiosk_question_steps(k, steps, 256);
			int problem = wizard_first_problem(&k->wiz, msg, sizeof msg);
			for (size_t i = 0; i < n; i++)
				if ((int)steps[i] == problem)
					k->item = (int)i;
		}
		return;
	}
	if (verdict == VALIDATE_WARN) {
		kiosk_set_message(k, LOOK_WARNING, "%s Press Ctrl-N again to accept it.", msg);
		return;
	}
	k->message[0] = '\0';
	if (kiosk_current_step(k)->type == STEP_REVIEW && fs->type != STEP_REVIEW && kiosk_check_story(k)) {
		kiosk_save_draft(k);
		return; /* they chose to edit a finding */
	}
	kiosk_enter_step(k);
	kiosk_save_draft(k);
}

void kiosk_go_back(kiosk *k)
{
	if (kiosk_current_step(k)->type == STEP_THANKS)
		return;
	kiosk_save_field(k);
	if (k->wiz.step == 0) {
		kiosk_set_message(k, LOOK_HINT, "This is the first step.");
		return;
	}
	wizard_back(&k->wiz);
	k->message[0] = '\0';
	kiosk_enter_step(k);
	kiosk_save_draft(k);
}

/* ---- the main loop ---- */

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

/* Nobody is there: put the story away (as a draft, or discarded, as
 * configured), wipe the screen and its scrollback, and start afresh. */
static void idle_reset(kiosk *k)
{
	if (k->story != NULL) {
		int keep = k->ctx->settings ? k->ctx->settings->idle_keeps_draft : 1;
		if (keep)
			kiosk_save_draft(k);
		else
			draft_discard(k->ctx->queue, k->story->id);
		kiosk_start_story(k);
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
	return kiosk_story_has_words(k) || k->wiz.step != 0;
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
	kiosk_end_shift(&k);
	/* Sign-in first; keys typed meanwhile wait in the terminal. */
	kiosk_draw(&k);
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
		kiosk_set_message(&k, LOOK_WARNING, "Note for IT: email addresses and postcodes are stored "
				  "unsealed on this terminal (no public_key in storykiosk.conf).");
	k.matches = calloc(ctx->services->n_services + 1, sizeof *k.matches);
	if (k.matches == NULL)
		fatal("out of memory");
	k.last_key = k.last_draft = time(NULL);
	int field_only = 0; /* every key since the last draw only edited the story box */
	int unchanged = 0;  /* the last wait timed out and changed nothing on screen */
	while (!k.quit && !kiosk_got_terminate) {
		if (!unchanged)
			kiosk_redraw(&k, field_only);
		field_only = 0;
		unchanged = 0;
		wint_t ch;
		int rc = kiosk_read_key(&ch);
		if (got_interrupt) {
			got_interrupt = 0;
			kiosk_quit(&k);
			continue;
		}
		if (rc == ERR) {
			int acted = 0;
			if (k.draft_dirty && time(NULL) - k.last_draft >= DRAFT_EVERY_SECONDS) {
				kiosk_save_draft(&k);
				acted = 1;
			}
			if (idle_due(&k)) {
				if (!kiosk_still_there(&k) && !kiosk_got_terminate)
					idle_reset(&k);
				/* Whoever answered, or the reset, starts the idle time again. */
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
			kiosk_offer_draft(&k);
			continue;
		}
		field_only = kiosk_handle_field_key(&k, rc == KEY_CODE_YES, (unsigned int)ch);
		/* Take a paste in one go: draw once it has all arrived. */
		nodelay(stdscr, TRUE);
		for (int n = 0; n < PASTE_BATCH && !k.quit; n++) {
			rc = kiosk_read_key(&ch);
			if (rc == ERR)
				break;
			field_only &= kiosk_handle_field_key(&k, rc == KEY_CODE_YES, (unsigned int)ch);
		}
		nodelay(stdscr, FALSE);
		timeout(INPUT_POLL_MS);
		k.draft_dirty = k.story != NULL;
		if (k.draft_dirty && time(NULL) - k.last_draft >= DRAFT_EVERY_SECONDS)
			kiosk_save_draft(&k);
	}
	/* Closed, shut down or hung up: keep what was typed for next time. */
	if (kiosk_got_terminate)
		kiosk_save_draft(&k);
	ui_end();
	story_free(k.story);
	editor_clear(&k.field);
	free(k.operator_name);
	free(k.matches);
	free(k.checked_text);
	return EXIT_OK;
}
