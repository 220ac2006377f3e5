/* editor.h - the text field: a multi-line story area with word wrap and
 * scrolling, or a single line that scrolls sideways. Wide characters inside,
 * UTF-8 outside. */
#ifndef STORYKIOSK_UI_EDITOR_H
#define STORYKIOSK_UI_EDITOR_H

#include <stddef.h>
#include <wchar.h>

/* What a key did to the editor. */
typedef enum {
	EDITOR_IGNORED,   /* not an editing key: the caller handles it */
	EDITOR_CHANGED,   /* the text changed */
	EDITOR_MOVED,     /* only the cursor moved */
	EDITOR_FULL       /* refused: the answer is at its length limit */
} editor_result;

/* A wrapped row of a multi-line field (private to editor.c). */
struct editor_row;

/* One field being edited. */
typedef struct {
	wchar_t *text;
	size_t len;
	size_t cap;
	size_t cursor;      /* index into text */
	size_t max_chars;   /* 0: no limit */
	int multiline;
	int top;            /* first wrapped row shown (multi-line) */
	int scroll;         /* first cell shown (single line) */
	int goal;           /* column Up and Down aim for, -1 when none */
	int width;          /* cells of the last draw, used for Up/Down */
	int height;         /* rows of the last draw */
	int cursor_y;       /* where the last draw put the terminal cursor */
	int cursor_x;
	size_t words;       /* word count, kept up to date by each edit */
	/* The wrap layout (multi-line), kept between keys: an edit re-wraps only
	 * the rows around it. wrap_width 0 means there is none yet. */
	struct editor_row *rows;
	size_t n_rows;
	size_t rows_cap;
	int wrap_width;
	/* What the last editor_draw put on screen, so editor_draw_changes can
	 * patch only the rows an edit touched. */
	int drawn;          /* 0: nothing of this field is known to be on screen */
	int drawn_y;
	int drawn_x;
	int drawn_top;
	size_t damage_from; /* rows [damage_from, damage_to) changed since */
	size_t damage_to;
} editor;

/* Start editing utf8 (NULL for empty); the cursor goes to the end. */
void editor_load(editor *ed, const char *utf8, int multiline, size_t max_chars);

/* The text as new UTF-8 (caller frees). */
char *editor_text(const editor *ed);

/* Wipe and free the text and its layout. */
void editor_clear(editor *ed);

/* Handle one key: is_key says ch is a KEY_* code rather than a character. */
editor_result editor_key(editor *ed, int is_key, unsigned int ch);

/* Draw the field inside the rectangle (y, x, height, width); the terminal
 * cursor's place is left in cursor_y and cursor_x. */
void editor_draw(editor *ed, int y, int x, int height, int width, int focused);

/* Redraw only what changed since the last editor_draw (rows an edit re-wrapped,
 * or all rows when the view scrolled), at the same place and size, and update
 * cursor_y and cursor_x; -1 when there was no such draw (the caller then
 * draws the whole screen). The screen under the field must be as left then. */
int editor_draw_changes(editor *ed);

/* Characters in the text. */
size_t editor_length(const editor *ed);

/* Words in the text (runs of non-space characters), as validate_word_count
 * counts them, without converting the text. */
size_t editor_word_count(const editor *ed);

#endif
