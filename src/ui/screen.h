/* screen.h - drawing primitives shared by the kiosk's screens: UTF-8 text
 * measured in terminal cells, wrapping, the frame (header, footer, message). */
#ifndef STORYKIOSK_UI_SCREEN_H
#define STORYKIOSK_UI_SCREEN_H

#include <stddef.h>
#include <wchar.h>

/* The smallest terminal the kiosk draws its screens in. */
#define SCREEN_MIN_COLS 60
#define SCREEN_MIN_ROWS 18

/* Attributes by meaning, so colour is never the only carrier. */
typedef enum {
	LOOK_NORMAL,
	LOOK_HEADER,    /* reverse video bar */
	LOOK_TITLE,     /* bold */
	LOOK_HINT,      /* dim where the terminal can */
	LOOK_ERROR,     /* bold, reverse where no colour */
	LOOK_WARNING,   /* bold */
	LOOK_SELECTED,  /* reverse video */
	LOOK_COUNT
} screen_look;

/* Decode UTF-8 into a new wide string; invalid bytes become U+FFFD. */
wchar_t *screen_widen(const char *utf8);

/* Encode a wide string as new UTF-8. */
char *screen_narrow(const wchar_t *wide, size_t len);

/* Terminal cells a wide character takes (0 for combining, 1 for unknown). */
int screen_char_width(wchar_t ch);

/* Draw UTF-8 text at (y, x) cut to width cells; returns cells used. */
int screen_put(int y, int x, int width, const char *utf8, screen_look look);

/* Draw wide text at (y, x) cut to width cells; returns cells used. */
int screen_put_wide(int y, int x, int width, const wchar_t *text, size_t len,
		    screen_look look);

/* Cells the UTF-8 text takes on one line. */
int screen_width_of(const char *utf8);

/* Draw UTF-8 text word-wrapped into width cells from row y, skipping the first
 * skip wrapped rows and stopping before row limit; returns the rows the whole
 * text needs (drawn or not), so callers can measure by drawing with y >= limit. */
int screen_wrap(int y, int x, int width, int limit, int skip, const char *utf8,
		screen_look look);

/* Set up colours (unless NO_COLOR is set or the terminal has none). */
void screen_setup_looks(void);

/* The attribute for a look. */
int screen_attr(screen_look look);

/* Draw a horizontal rule across the screen at row y. */
void screen_rule(int y);

/* Draw a box outline with its top-left corner at (y, x). */
void screen_box(int y, int x, int height, int width, int focused);

#endif
