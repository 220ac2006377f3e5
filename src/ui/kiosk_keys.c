/* kiosk_keys.c - what a key does: the menu, step and button keys every screen
 * shares, then the keys of the sign-in screen and of each kind of step. */
#include "kiosk_priv.h"

#include <curses.h>
#include <stdlib.h>

#include "editor.h"
#include "fatal.h"
#include "screen.h"
#include "story.h"
#include "wizard.h"

#define KEY_CTRL(letter) ((letter) & 0x1f)

/* In the order of kiosk.role_choice, as operator_role_labels in kiosk_draw.c. */
static const char *const operator_roles[] = { "staff", "volunteer" };

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

int kiosk_is_enter(int is_key, unsigned int ch)
{
	return is_key ? ch == KEY_ENTER : (ch == '\r' || ch == '\n');
}

static void edit_field(kiosk *k, int is_key, unsigned int ch)
{
	editor_result result = editor_key(&k->field, is_key, ch);
	if (result == EDITOR_FULL)
		kiosk_set_message(k, LOOK_WARNING, "This answer has reached its limit of %zu characters.",
				  k->field.max_chars);
	else if (result == EDITOR_CHANGED && k->message_look != LOOK_ERROR)
		k->message[0] = '\0';
	else if (result == EDITOR_CHANGED)
		k->message[0] = '\0';
}

/* A field with one extra choice below it (postcode, email). */
static void field_with_option_key(kiosk *k, int is_key, unsigned int ch)
{
	story *s = k->story;
	int *flag = kiosk_current_step(k)->type == STEP_POSTCODE ? &s->no_postcode : &s->no_email;
	if (is_key && (ch == KEY_UP || ch == KEY_DOWN)) {
		k->item = ch == KEY_UP ? 0 : 1;
		return;
	}
	if (k->item == 1) {
		if (kiosk_is_enter(is_key, ch) || (!is_key && ch == ' ')) {
			*flag = !*flag;
			if (*flag && kiosk_is_enter(is_key, ch))
				kiosk_go_next(k);
			return;
		}
		if (is_key)
			return;
		k->item = 0; /* typing goes to the box */
	}
	if (kiosk_is_enter(is_key, ch)) {
		kiosk_go_next(k);
		return;
	}
	size_t before = editor_length(&k->field);
	edit_field(k, is_key, ch);
	if (editor_length(&k->field) != before)
		*flag = 0; /* typing an answer takes back "none" */
}

static void choice_key(kiosk *k, int is_key, unsigned int ch)
{
	const form_step *fs = kiosk_current_step(k);
	if (is_key && move_item(k, ch, (int)fs->n_options))
		return;
	int pick = -1;
	if (kiosk_is_enter(is_key, ch) && k->item >= 0)
		pick = k->item;
	else if (!is_key && ch >= '1' && ch <= '9' && (size_t)(ch - '1') < fs->n_options)
		pick = (int)(ch - '1');
	if (pick < 0)
		return;
	k->item = pick;
	if (story_set_answer(k->story, k->wiz.step, fs->options[pick].value) != 0)
		fatal("out of memory");
	kiosk_go_next(k);
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
	else if (kiosk_is_enter(is_key, ch)) {
		if (k->item < 0) {
			kiosk_set_message(k, LOOK_ERROR, "Ask them, then choose Yes or No. There is no default.");
			return;
		}
		pick = k->item;
	}
	if (pick < 0)
		return;
	k->item = pick;
	k->story->consent = pick == 0 ? 1 : 0;
	if (kiosk_is_enter(is_key, ch))
		kiosk_go_next(k);
}

static void review_key(kiosk *k, int is_key, unsigned int ch)
{
	size_t steps[256];
	size_t n = kiosk_question_steps(k, steps, 256);
	if (is_key && move_item(k, ch, (int)n))
		return;
	if (kiosk_is_enter(is_key, ch) && k->item >= 0 && (size_t)k->item < n) {
		wizard_jump(&k->wiz, steps[k->item]);
		k->message[0] = '\0';
		kiosk_enter_step(k);
		kiosk_save_draft(k);
		kiosk_set_message(k, LOOK_HINT, "Change the answer, then press Ctrl-N to go back to the review.");
	}
}

static void step_key(kiosk *k, int is_key, unsigned int ch)
{
	const form_step *fs = kiosk_current_step(k);
	switch (fs->type) {
	case STEP_TEXT:
		edit_field(k, is_key, ch);
		k->key_in_field = 1;
		break;
	case STEP_LINE:
	case STEP_USERNAME:
		if (kiosk_is_enter(is_key, ch))
			kiosk_go_next(k);
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
		kiosk_services_key(k, is_key, ch);
		break;
	case STEP_REVIEW:
		review_key(k, is_key, ch);
		break;
	case STEP_CONSENT:
		consent_key(k, is_key, ch);
		break;
	case STEP_INFO:
	case STEP_THANKS:
		if (kiosk_is_enter(is_key, ch))
			kiosk_go_next(k);
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
		kiosk_set_message(k, LOOK_ERROR, "Type your name or staff ID first.");
		k->item = 0;
		free(name);
		return;
	}
	if (k->role_choice < 0) {
		kiosk_set_message(k, LOOK_ERROR, "Choose whether you are a staff member or a volunteer.");
		k->item = 1;
		free(name);
		return;
	}
	/* A story must not be started on a queue that could never keep it: the
	 * background check has normally long finished by now. */
	if (store_check(k->ctx->queue) != 0) {
		kiosk_set_message(k, LOOK_ERROR, "%s Call IT. No story can be taken on this terminal until "
				  "then: it could not be kept.", store_problem(k->ctx->queue));
		free(name);
		return;
	}
	k->operator_name = name;
	k->operator_role = operator_roles[k->role_choice];
	kiosk_start_story(k);
	kiosk_offer_draft(k);
}

static void sign_in_key(kiosk *k, int is_key, unsigned int ch)
{
	if (is_key && (ch == KEY_UP || ch == KEY_DOWN)) {
		move_item(k, ch, 3);
		return;
	}
	if (k->item == 0) {
		if (kiosk_is_enter(is_key, ch))
			k->item = 1;
		else
			edit_field(k, is_key, ch);
		return;
	}
	if (kiosk_is_enter(is_key, ch) || (!is_key && ch == ' ')) {
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
		kiosk_open_menu(k);
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
		else if (kiosk_is_enter(is_key, ch) && k->focus == FOCUS_NEXT)
			try_sign_in(k);
		else if (!is_key)
			k->focus = FOCUS_FIELD;
		return;
	}
	if (!is_key && ch == KEY_CTRL('n')) {
		kiosk_go_next(k);
		return;
	}
	if (!is_key && ch == KEY_CTRL('p')) {
		kiosk_go_back(k);
		return;
	}
	if (k->focus != FOCUS_FIELD) {
		if (kiosk_is_enter(is_key, ch)) {
			enum focus pressed = k->focus;
			k->focus = FOCUS_FIELD;
			if (pressed == FOCUS_NEXT)
				kiosk_go_next(k);
			else
				kiosk_go_back(k);
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
int kiosk_handle_field_key(kiosk *k, int is_key, unsigned int ch)
{
	k->key_in_field = 0;
	handle_key(k, is_key, ch);
	return k->key_in_field;
}
