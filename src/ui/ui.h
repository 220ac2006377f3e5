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

/* Everything the kiosk works with. The form and settings are ready before the
 * screen opens; the queue, services, words and checks may be left NULL for
 * load_rest to fill in once the first screen is up. */
typedef struct ui_context {
	const form *form;
	const catalogue *services;
	const validate_wordlists *words;
	store *queue;
	const config *settings;   /* idle reset, drafts, kiosk mode and PIN */
	const detect_lists *checks; /* swearing, safeguarding and safety phrases */
	/* Called once, right after the first screen is drawn and before the
	 * first key is read, to load what only later steps need: the sign-in
	 * screen appears without waiting for it. Returns EXIT_OK, or an exit
	 * status and the kiosk closes (the caller reports why). May be NULL. */
	int (*load_rest)(struct ui_context *ctx);
	void *loader;             /* the caller's, for load_rest */
} ui_context;

/* Take over the terminal (idempotent): locale-aware curses, no echo, keypad. */
void ui_init(void);

/* Give the terminal back (idempotent); safe from every exit path. */
void ui_end(void);

/* Run the capture kiosk until the operator quits or a signal ends it; returns
 * an exit status from exitcode.h. */
int ui_capture(ui_context *ctx);

#endif
