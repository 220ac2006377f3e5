/* editor.c - a small UTF-8 text editor for story answers. Wrapping is worked
 * out afresh from the text on each use: answers are short (tens of KB at most)
 * and a layout that is never cached can never be stale after a resize. */
#include "editor.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "fatal.h"
#include "screen.h"
#include "validate.h"

/* A wrapped row: text[start, end) is shown; next is where the row after begins. */
typedef struct {
	size_t start;
	size_t end;
	size_t next;
} row_span;

void editor_load(editor *ed, const char *utf8, int multiline, size_t max_chars)
{
	editor_clear(ed);
	wchar_t *wide = screen_widen(utf8 ? utf8 : "");
	ed->len = wcslen(wide);
	ed->cap = ed->len + 64;
	ed->text = realloc(wide, ed->cap * sizeof *ed->text);
	if (ed->text == NULL)
		fatal("out of memory");
	ed->cursor = ed->len;
	ed->max_chars = max_chars;
	ed->multiline = multiline;
	ed->top = 0;
	ed->scroll = 0;
	ed->goal = -1;
	if (ed->width <= 0)
		ed->width = 40;
	if (ed->height <= 0)
		ed->height = 1;
}

char *editor_text(const editor *ed)
{
	return screen_narrow(ed->text ? ed->text : L"", ed->len);
}

void editor_clear(editor *ed)
{
	if (ed->text != NULL) {
		volatile wchar_t *p = ed->text;
		for (size_t i = 0; i < ed->cap; i++)
			p[i] = 0;
		free(ed->text);
	}
	ed->text = NULL;
	ed->len = ed->cap = ed->cursor = 0;
}

size_t editor_length(const editor *ed)
{
	return ed->len;
}

size_t editor_word_count(const editor *ed)
{
	size_t words = 0;
	int in_word = 0;
	for (size_t i = 0; i < ed->len; i++) {
		int space = validate_is_space((unsigned long)ed->text[i]);
		if (!space && !in_word)
			words++;
		in_word = !space;
	}
	return words;
}

/* Work out the wrapped rows for width cells; returns the row count (>= 1). */
static size_t wrap_rows(const editor *ed, int width, row_span **out)
{
	size_t cap = 16, n = 0;
	row_span *rows = malloc(cap * sizeof *rows);
	if (rows == NULL)
		fatal("out of memory");
	size_t start = 0;
	for (;;) {
		int cells = 0;
		size_t end = start, space_end = 0;
		int have_space = 0;
		while (end < ed->len && ed->text[end] != L'\n') {
			int w = screen_char_width(ed->text[end]);
			if (cells + w > width)
				break;
			cells += w;
			if (ed->text[end] == L' ') {
				space_end = end + 1;
				have_space = 1;
			}
			end++;
		}
		row_span row = { start, end, end };
		if (end < ed->len && ed->text[end] == L'\n') {
			row.next = end + 1;
		} else if (end < ed->len) {
			if (have_space) /* break after the last space that fit */
				row.end = row.next = space_end;
			else if (end == start) /* one character wider than the row */
				row.end = row.next = start + 1;
		}
		if (n == cap) {
			cap *= 2;
			row_span *grown = realloc(rows, cap * sizeof *rows);
			if (grown == NULL)
				fatal("out of memory");
			rows = grown;
		}
		rows[n++] = row;
		if (end >= ed->len)
			break;
		/* A trailing newline opens one more, empty row; nothing else does. */
		if (row.next >= ed->len && ed->text[ed->len - 1] != L'\n')
			break;
		start = row.next;
	}
	*out = rows;
	return n;
}

/* The row holding the cursor: the last row whose start is at or before it. */
static size_t cursor_row(const row_span *rows, size_t n, size_t cursor)
{
	size_t row = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].start <= cursor)
			row = i;
		else
			break;
	}
	return row;
}

static int cells_between(const editor *ed, size_t from, size_t to)
{
	int cells = 0;
	for (size_t i = from; i < to && i < ed->len; i++)
		cells += screen_char_width(ed->text[i]);
	return cells;
}

/* Index in row whose column is closest to, but not past, goal. */
static size_t index_at_column(const editor *ed, const row_span *row, int goal)
{
	int cells = 0;
	size_t i = row->start;
	while (i < row->end && ed->text[i] != L'\n') {
		int w = screen_char_width(ed->text[i]);
		if (cells + w > goal)
			break;
		cells += w;
		i++;
	}
	return i;
}

static int is_allowed_char(unsigned int ch)
{
	if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0))
		return 0;
	/* Bidirectional overrides can make a story read differently from what was typed. */
	if ((ch >= 0x202a && ch <= 0x202e) || (ch >= 0x2066 && ch <= 0x2069))
		return 0;
	if (ch >= 0xd800 && ch <= 0xdfff)
		return 0;
	return iswprint((wint_t)ch) || wcwidth((wchar_t)ch) >= 0;
}

static editor_result insert_char(editor *ed, wchar_t ch)
{
	if (ed->max_chars && ed->len >= ed->max_chars)
		return EDITOR_FULL;
	if (ed->len + 1 >= ed->cap) {
		size_t cap = ed->cap * 2 + 64;
		wchar_t *grown = malloc(cap * sizeof *grown);
		if (grown == NULL)
			fatal("out of memory");
		memcpy(grown, ed->text, ed->len * sizeof *grown);
		/* Copy then wipe, so no earlier draft of the story lingers in freed memory. */
		volatile wchar_t *old = ed->text;
		for (size_t i = 0; i < ed->cap; i++)
			old[i] = 0;
		free(ed->text);
		ed->text = grown;
		ed->cap = cap;
	}
	memmove(ed->text + ed->cursor + 1, ed->text + ed->cursor,
		(ed->len - ed->cursor) * sizeof *ed->text);
	ed->text[ed->cursor++] = ch;
	ed->len++;
	ed->goal = -1;
	return EDITOR_CHANGED;
}

static void delete_at(editor *ed, size_t at)
{
	memmove(ed->text + at, ed->text + at + 1, (ed->len - at - 1) * sizeof *ed->text);
	ed->len--;
	ed->text[ed->len] = 0;
	ed->goal = -1;
}

static editor_result move_vertically(editor *ed, int rows_to_move)
{
	if (!ed->multiline)
		return EDITOR_IGNORED;
	row_span *rows;
	size_t n = wrap_rows(ed, ed->width, &rows);
	size_t row = cursor_row(rows, n, ed->cursor);
	if (ed->goal < 0)
		ed->goal = cells_between(ed, rows[row].start, ed->cursor);
	long target = (long)row + rows_to_move;
	if (target < 0)
		target = 0;
	if (target >= (long)n)
		target = (long)n - 1;
	if ((size_t)target == row) {
		ed->cursor = rows_to_move < 0 ? 0 : ed->len;
	} else {
		int goal = ed->goal;
		ed->cursor = index_at_column(ed, &rows[target], goal);
		ed->goal = goal;
	}
	free(rows);
	return EDITOR_MOVED;
}

static editor_result move_in_row(editor *ed, int to_end)
{
	if (!ed->multiline) {
		ed->cursor = to_end ? ed->len : 0;
		return EDITOR_MOVED;
	}
	row_span *rows;
	size_t n = wrap_rows(ed, ed->width, &rows);
	size_t row = cursor_row(rows, n, ed->cursor);
	size_t end = rows[row].end;
	/* Stay before a wrapped row's trailing space so End lands on the last word. */
	if (end > rows[row].start && end < ed->len && ed->text[end - 1] == L' ' &&
	    rows[row].next == end)
		end--;
	ed->cursor = to_end ? end : rows[row].start;
	ed->goal = -1;
	free(rows);
	return EDITOR_MOVED;
}

editor_result editor_key(editor *ed, int is_key, unsigned int ch)
{
	if (!is_key) {
		if (ch == '\r' || ch == '\n')
			return ed->multiline ? insert_char(ed, L'\n') : EDITOR_IGNORED;
		if (ch == '\t')
			return EDITOR_IGNORED;
		if (ch == 0x7f || ch == 0x08)
			return editor_key(ed, 1, KEY_BACKSPACE);
		if (!is_allowed_char(ch))
			return EDITOR_IGNORED;
		return insert_char(ed, (wchar_t)ch);
	}
	switch (ch) {
	case KEY_LEFT:
		if (ed->cursor > 0)
			ed->cursor--;
		ed->goal = -1;
		return EDITOR_MOVED;
	case KEY_RIGHT:
		if (ed->cursor < ed->len)
			ed->cursor++;
		ed->goal = -1;
		return EDITOR_MOVED;
	case KEY_UP:
		return move_vertically(ed, -1);
	case KEY_DOWN:
		return move_vertically(ed, 1);
	case KEY_PPAGE:
		return move_vertically(ed, -(ed->height > 1 ? ed->height - 1 : 1));
	case KEY_NPAGE:
		return move_vertically(ed, ed->height > 1 ? ed->height - 1 : 1);
	case KEY_HOME:
		return move_in_row(ed, 0);
	case KEY_END:
		return move_in_row(ed, 1);
	case KEY_BACKSPACE:
		if (ed->cursor == 0)
			return EDITOR_MOVED;
		delete_at(ed, --ed->cursor);
		return EDITOR_CHANGED;
	case KEY_DC:
		if (ed->cursor >= ed->len)
			return EDITOR_MOVED;
		delete_at(ed, ed->cursor);
		return EDITOR_CHANGED;
	case KEY_ENTER:
		return ed->multiline ? insert_char(ed, L'\n') : EDITOR_IGNORED;
	default:
		return EDITOR_IGNORED;
	}
}

static void draw_single(editor *ed, int y, int x, int width, int focused)
{
	int before = cells_between(ed, 0, ed->cursor);
	if (before - ed->scroll >= width)
		ed->scroll = before - width + 1;
	if (before < ed->scroll)
		ed->scroll = before;
	/* Skip whole characters until the scroll offset is passed. */
	size_t first = 0;
	int skipped = 0;
	while (first < ed->len && skipped < ed->scroll)
		skipped += screen_char_width(ed->text[first++]);
	mvhline(y, x, ' ', width);
	screen_put_wide(y, x, width, ed->text + first, ed->len - first, LOOK_NORMAL);
	(void)focused;
	ed->cursor_y = y;
	ed->cursor_x = x + before - skipped;
}

void editor_draw(editor *ed, int y, int x, int height, int width, int focused)
{
	if (width < 1 || height < 1)
		return;
	ed->width = width;
	ed->height = height;
	if (!ed->multiline) {
		draw_single(ed, y, x, width, focused);
		return;
	}
	row_span *rows;
	size_t n = wrap_rows(ed, width, &rows);
	int row = (int)cursor_row(rows, n, ed->cursor);
	if (row < ed->top)
		ed->top = row;
	if (row >= ed->top + height)
		ed->top = row - height + 1;
	if (ed->top > 0 && (int)n - ed->top < height)
		ed->top = (int)n > height ? (int)n - height : 0;
	for (int i = 0; i < height; i++) {
		mvhline(y + i, x, ' ', width);
		size_t r = (size_t)(ed->top + i);
		if (r < n)
			screen_put_wide(y + i, x, width, ed->text + rows[r].start,
					rows[r].end - rows[r].start, LOOK_NORMAL);
	}
	(void)focused;
	int col = cells_between(ed, rows[row].start, ed->cursor);
	if (col >= width)
		col = width - 1;
	ed->cursor_y = y + row - ed->top;
	ed->cursor_x = x + col;
	free(rows);
}
