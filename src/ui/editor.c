/* editor.c - a small UTF-8 text editor for story answers. The wrap layout is
 * kept between keys and re-wrapped only around each edit, and a draw after a
 * key can repaint just the rows that changed: a keystroke costs the same at
 * the end of a long story as at the start. */
#include "editor.h"

#include <curses.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "fatal.h"
#include "screen.h"
#include "validate.h"

/* A wrapped row: text[start, end) is shown; next is where the row after
 * begins. seen is the last index the wrap looked at (len when it reached the
 * end): the row depends on text[start, seen], and on whether the text goes on
 * past seen (a wide character alone on the last row), and on nothing else. */
struct editor_row {
	size_t start;
	size_t end;
	size_t next;
	size_t seen;
};

typedef struct editor_row row_span;

#define DAMAGE_ALL SIZE_MAX

static void damage_rows(editor *ed, size_t from, size_t to)
{
	if (from >= to)
		return;
	if (ed->damage_from >= ed->damage_to) {
		ed->damage_from = from;
		ed->damage_to = to;
		return;
	}
	if (from < ed->damage_from)
		ed->damage_from = from;
	if (to > ed->damage_to)
		ed->damage_to = to;
}

static void forget_layout(editor *ed)
{
	free(ed->rows);
	ed->rows = NULL;
	ed->n_rows = ed->rows_cap = 0;
	ed->wrap_width = 0;
	ed->drawn = 0;
	ed->damage_from = ed->damage_to = 0;
}

/* Word starts among text[from, to): a non-space after a space or at the start. */
static size_t word_starts(const editor *ed, size_t from, size_t to)
{
	size_t words = 0;
	if (to > ed->len)
		to = ed->len;
	for (size_t i = from; i < to; i++)
		if (!validate_is_space((unsigned long)ed->text[i]) &&
		    (i == 0 || validate_is_space((unsigned long)ed->text[i - 1])))
			words++;
	return words;
}

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
	ed->words = word_starts(ed, 0, ed->len);
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
	ed->words = 0;
	forget_layout(ed);
}

size_t editor_length(const editor *ed)
{
	return ed->len;
}

size_t editor_word_count(const editor *ed)
{
	return ed->words;
}

/* Wrap the row that starts at start into width cells; *last says no row
 * follows it. A break goes after the last space that fits, or mid-word when
 * a word is wider than the row. */
static row_span wrap_row(const editor *ed, size_t start, int width, int *last)
{
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
	row_span row = { start, end, end, end };
	if (end < ed->len && ed->text[end] == L'\n') {
		row.next = end + 1;
	} else if (end < ed->len) {
		if (have_space) /* break after the last space that fit */
			row.end = row.next = space_end;
		else if (end == start) /* one character wider than the row */
			row.end = row.next = start + 1;
	}
	/* A trailing newline opens one more, empty row; nothing else does. */
	*last = end >= ed->len || (row.next >= ed->len && ed->text[ed->len - 1] != L'\n');
	return row;
}

static void reserve_rows(editor *ed, size_t n)
{
	if (n <= ed->rows_cap)
		return;
	size_t cap = ed->rows_cap ? ed->rows_cap : 16;
	while (cap < n)
		cap *= 2;
	row_span *grown = realloc(ed->rows, cap * sizeof *grown);
	if (grown == NULL)
		fatal("out of memory");
	ed->rows = grown;
	ed->rows_cap = cap;
}

/* Wrap the whole text for width cells: after a load or a change of width. */
static void wrap_all(editor *ed, int width)
{
	ed->n_rows = 0;
	size_t start = 0;
	for (;;) {
		int last;
		row_span row = wrap_row(ed, start, width, &last);
		reserve_rows(ed, ed->n_rows + 1);
		ed->rows[ed->n_rows++] = row;
		if (last)
			break;
		start = row.next;
	}
	ed->wrap_width = width;
	damage_rows(ed, 0, DAMAGE_ALL);
}

/* The layout for width cells, wrapping afresh only when there is none for it. */
static void need_layout(editor *ed, int width)
{
	if (ed->wrap_width != width || ed->rows == NULL)
		wrap_all(ed, width);
}

/* The row holding index at: the last row whose start is at or before it. */
static size_t row_of(const editor *ed, size_t at)
{
	size_t lo = 0, hi = ed->n_rows; /* rows[lo].start <= at; answer in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ed->rows[mid].start <= at)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The text changed: removed characters at index at were replaced by inserted
 * ones. Re-wrap from the first row whose wrap looked at the changed place
 * (often the row above the edit's: a shortened word may fit there now) until
 * a row starts where an old row started after the edit, moved by it: from
 * there the old rows hold, shifted. Rows whose content changed are marked
 * for redraw. */
static void rewrap_after_edit(editor *ed, size_t at, size_t removed, size_t inserted)
{
	if (ed->wrap_width <= 0 || ed->rows == NULL)
		return;
	int width = ed->wrap_width;
	size_t first = row_of(ed, at);
	while (first > 0 && ed->rows[first - 1].seen + 1 >= at)
		first--;
	/* Old rows at or past kept begin in text the edit left alone. */
	size_t kept_from = at + removed;
	size_t n_old = ed->n_rows;
	size_t cap = 8, n_fresh = 0;
	row_span *fresh = malloc(cap * sizeof *fresh);
	if (fresh == NULL)
		fatal("out of memory");
	size_t start = ed->rows[first].start;
	size_t sync = n_old; /* the old row the layout re-joins, n_old for none */
	size_t j = first;
	for (;;) {
		int last;
		row_span row = wrap_row(ed, start, width, &last);
		if (n_fresh == cap) {
			cap *= 2;
			row_span *grown = realloc(fresh, cap * sizeof *grown);
			if (grown == NULL)
				fatal("out of memory");
			fresh = grown;
		}
		fresh[n_fresh++] = row;
		if (last)
			break;
		start = row.next;
		/* start is in the new text; an old row at s starts at s - removed +
		 * inserted in it, compared without going below zero. */
		while (j < n_old && ed->rows[j].start + inserted < start + removed)
			j++;
		if (j < n_old && ed->rows[j].start >= kept_from &&
		    ed->rows[j].start + inserted == start + removed) {
			sync = j;
			break;
		}
	}
	/* The first re-wrapped rows often come out as before (the row above the
	 * edit): with the same span, before the edit, they show the same text. */
	size_t same = 0;
	while (same < n_fresh && first + same < n_old && fresh[same].end <= at &&
	       fresh[same].start == ed->rows[first + same].start &&
	       fresh[same].end == ed->rows[first + same].end)
		same++;
	size_t n_tail = n_old - sync;
	size_t n_new = first + n_fresh + n_tail;
	reserve_rows(ed, n_new);
	if (n_tail > 0)
		memmove(ed->rows + first + n_fresh, ed->rows + sync, n_tail * sizeof *ed->rows);
	memcpy(ed->rows + first, fresh, n_fresh * sizeof *fresh);
	for (size_t i = first + n_fresh; i < n_new; i++) {
		row_span *row = &ed->rows[i];
		row->start = row->start + inserted - removed;
		row->end = row->end + inserted - removed;
		row->next = row->next + inserted - removed;
		row->seen = row->seen + inserted - removed;
	}
	ed->n_rows = n_new;
	free(fresh);
	/* Rows after the re-wrapped ones show the same text; they only need
	 * drawing again if they moved up or down. */
	damage_rows(ed, first + same,
		    n_new == n_old && sync < n_old ? first + n_fresh : DAMAGE_ALL);
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
	size_t at = ed->cursor;
	ed->words -= word_starts(ed, at, at + 1);
	memmove(ed->text + at + 1, ed->text + at, (ed->len - at) * sizeof *ed->text);
	ed->text[at] = ch;
	ed->cursor++;
	ed->len++;
	ed->words += word_starts(ed, at, at + 2);
	ed->goal = -1;
	rewrap_after_edit(ed, at, 0, 1);
	return EDITOR_CHANGED;
}

static void delete_at(editor *ed, size_t at)
{
	/* Only the characters at and after the gap can start or stop being a word's first. */
	ed->words -= word_starts(ed, at, at + 2);
	memmove(ed->text + at, ed->text + at + 1, (ed->len - at - 1) * sizeof *ed->text);
	ed->len--;
	ed->text[ed->len] = 0;
	ed->words += word_starts(ed, at, at + 1);
	ed->goal = -1;
	rewrap_after_edit(ed, at, 1, 0);
}

static editor_result move_vertically(editor *ed, int rows_to_move)
{
	if (!ed->multiline)
		return EDITOR_IGNORED;
	need_layout(ed, ed->width);
	const row_span *rows = ed->rows;
	size_t n = ed->n_rows;
	size_t row = row_of(ed, ed->cursor);
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
	return EDITOR_MOVED;
}

static editor_result move_in_row(editor *ed, int to_end)
{
	if (!ed->multiline) {
		ed->cursor = to_end ? ed->len : 0;
		return EDITOR_MOVED;
	}
	need_layout(ed, ed->width);
	const row_span *rows = ed->rows;
	size_t row = row_of(ed, ed->cursor);
	size_t end = rows[row].end;
	/* Stay before a wrapped row's trailing space so End lands on the last word. */
	if (end > rows[row].start && end < ed->len && ed->text[end - 1] == L' ' &&
	    rows[row].next == end)
		end--;
	ed->cursor = to_end ? end : rows[row].start;
	ed->goal = -1;
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

/* Scroll so the cursor's row is in view; returns that row. */
static size_t place_view(editor *ed)
{
	int height = ed->height;
	int row = (int)row_of(ed, ed->cursor);
	int n = (int)ed->n_rows;
	if (row < ed->top)
		ed->top = row;
	if (row >= ed->top + height)
		ed->top = row - height + 1;
	if (ed->top > 0 && n - ed->top < height)
		ed->top = n > height ? n - height : 0;
	return (size_t)row;
}

/* Draw the visible rows in [from, to) and place the cursor. */
static void draw_rows(editor *ed, size_t row, size_t from, size_t to)
{
	int y = ed->drawn_y, x = ed->drawn_x, width = ed->width;
	for (int i = 0; i < ed->height; i++) {
		size_t r = (size_t)(ed->top + i);
		if (r < from || r >= to)
			continue;
		mvhline(y + i, x, ' ', width);
		if (r < ed->n_rows)
			screen_put_wide(y + i, x, width, ed->text + ed->rows[r].start,
					ed->rows[r].end - ed->rows[r].start, LOOK_NORMAL);
	}
	int col = cells_between(ed, ed->rows[row].start, ed->cursor);
	if (col >= width)
		col = width - 1;
	ed->cursor_y = y + (int)row - ed->top;
	ed->cursor_x = x + col;
	ed->drawn_top = ed->top;
	ed->damage_from = ed->damage_to = 0;
}

void editor_draw(editor *ed, int y, int x, int height, int width, int focused)
{
	if (width < 1 || height < 1) {
		ed->drawn = 0; /* what an earlier draw left is not this screen's */
		return;
	}
	ed->width = width;
	ed->height = height;
	ed->drawn = 1;
	ed->drawn_y = y;
	ed->drawn_x = x;
	(void)focused;
	if (!ed->multiline) {
		draw_single(ed, y, x, width, focused);
		return;
	}
	need_layout(ed, width);
	size_t row = place_view(ed);
	draw_rows(ed, row, 0, DAMAGE_ALL);
}

int editor_draw_changes(editor *ed)
{
	if (!ed->drawn || ed->width < 1 || ed->height < 1)
		return -1;
	if (!ed->multiline) {
		draw_single(ed, ed->drawn_y, ed->drawn_x, ed->width, 1);
		return 0;
	}
	need_layout(ed, ed->width);
	size_t row = place_view(ed);
	if (ed->top != ed->drawn_top) /* scrolled: every row shows another */
		damage_rows(ed, 0, DAMAGE_ALL);
	draw_rows(ed, row, ed->damage_from, ed->damage_to);
	return 0;
}
