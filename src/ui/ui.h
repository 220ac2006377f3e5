/* ui.h - the kiosk's terminal interface: the only part of StoryKiosk that
 * includes curses. main() hands it what it needs and gets an exit status back. */
#ifndef STORYKIOSK_UI_H
#define STORYKIOSK_UI_H

#include "catalogue.h"
#include "config.h"
#include "detect.h"
#include "form.h"
#include "store.h"
#include "validate.h"

/* Everything the kiosk works with, loaded and checked before the screen opens. */
typedef struct {
	const form *form;
	const catalogue *services;
	const validate_wordlists *words;
	store *queue;
	const config *settings;   /* idle reset, drafts, kiosk mode and PIN */
	const detect_lists *checks; /* swearing, safeguarding and safety phrases */
} ui_context;

/* Take over the terminal (idempotent): locale-aware curses, no echo, keypad. */
void ui_init(void);

/* Give the terminal back (idempotent); safe from every exit path. */
void ui_end(void);

/* Run the capture kiosk until the operator quits or a signal ends it; returns
 * an exit status from exitcode.h. */
int ui_capture(const ui_context *ctx);

#endif
