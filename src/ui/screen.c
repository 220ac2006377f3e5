/* screen.c - text on the terminal measured in cells (wcwidth), never bytes, so
 * accented and non-Latin stories line up and nothing is cut mid-character. */
#include "screen.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "fatal.h"

static int look_attr[LOOK_COUNT];

wchar_t *screen_widen(const char *utf8)
{
	size_t bytes = strlen(utf8);
	wchar_t *wide = malloc((bytes + 1) * sizeof *wide);
	if (wide == NULL)
		fatal("out of memory");
	mbstate_t state;
	memset(&state, 0, sizeof state);
	size_t n = 0;
	const char *p = utf8;
	const char *end = utf8 + bytes;
	while (p < end) {
		/* ASCII is itself in every locale the kiosk runs in (UTF-8), and
		 * most text is ASCII: skip the library call for it. */
		if ((unsigned char)*p < 0x80) {
			wide[n++] = (wchar_t)(unsigned char)*p++;
			continue;
		}
		wchar_t ch;
		size_t used = mbrtowc(&ch, p, (size_t)(end - p), &state);
		if (used == (size_t)-1 || used == (size_t)-2) {
			ch = 0xFFFD;
			used = 1;
			memset(&state, 0, sizeof state);
		} else if (used == 0) {
			break;
		}
		wide[n++] = ch;
		p += used;
	}
	wide[n] = L'\0';
	return wide;
}

char *screen_narrow(const wchar_t *wide, size_t len)
{
	char *utf8 = malloc(len * MB_CUR_MAX + 1);
	if (utf8 == NULL)
		fatal("out of memory");
	mbstate_t state;
	memset(&state, 0, sizeof state);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		size_t used = wcrtomb(utf8 + n, wide[i], &state);
		if (used == (size_t)-1) {
			utf8[n++] = '?';
			memset(&state, 0, sizeof state);
		} else {
			n += used;
		}
	}
	utf8[n] = '\0';
	return utf8;
}

int screen_char_width(wchar_t ch)
{
	/* Printable ASCII is one cell in every locale; most of a story is ASCII,
	 * and this is asked for every character of every row drawn or wrapped. */
	if (ch >= 0x20 && ch < 0x7f)
		return 1;
	int width = wcwidth(ch);
	return width < 0 ? 1 : width;
}

int screen_put_wide(int y, int x, int width, const wchar_t *text, size_t len,
		    screen_look look)
{
	if (width <= 0 || y < 0 || y >= LINES)
		return 0;
	attr_t attr = (attr_t)screen_attr(look);
	int used = 0;
	for (size_t i = 0; i < len; i++) {
		wchar_t ch = text[i];
		if (ch == L'\n' || ch == L'\t')
			ch = L' ';
		int cells = screen_char_width(ch);
		if (used + cells > width)
			break;
		wchar_t one[2] = { ch, L'\0' };
		cchar_t cell;
		if (setcchar(&cell, one, attr, 0, NULL) == OK)
			mvadd_wch(y, x + used, &cell);
		used += cells;
	}
	return used;
}

int screen_put(int y, int x, int width, const char *utf8, screen_look look)
{
	wchar_t *wide = screen_widen(utf8);
	int used = screen_put_wide(y, x, width, wide, wcslen(wide), look);
	free(wide);
	return used;
}

int screen_width_of(const char *utf8)
{
	wchar_t *wide = screen_widen(utf8);
	int cells = 0;
	for (size_t i = 0; wide[i]; i++)
		cells += screen_char_width(wide[i]);
	free(wide);
	return cells;
}

int screen_wrap(int y, int x, int width, int limit, int skip, const char *utf8,
		screen_look look)
{
	if (width < 1)
		return 0;
	wchar_t *wide = screen_widen(utf8);
	size_t len = wcslen(wide);
	int rows = 0;
	size_t start = 0;
	while (start < len || (start == 0 && len == 0)) {
		/* Find the longest run from start that fits, breaking after a space. */
		int cells = 0;
		size_t end = start, last_space = 0;
		int have_space = 0;
		while (end < len && wide[end] != L'\n') {
			int w = screen_char_width(wide[end]);
			if (cells + w > width)
				break;
			cells += w;
			if (wide[end] == L' ') {
				last_space = end;
				have_space = 1;
			}
			end++;
		}
		size_t next = end;
		if (end < len && wide[end] != L'\n' && have_space) {
			end = last_space;
			next = last_space + 1;
		} else if (end < len && wide[end] == L'\n') {
			next = end + 1;
		}
		if (end == start && next == start)
			next = start + 1; /* a character wider than the line */
		int row = y + rows - skip;
		if (rows >= skip && row < limit)
			screen_put_wide(row, x, width, wide + start, end - start, look);
		rows++;
		start = next;
		if (len == 0)
			break;
	}
	free(wide);
	return rows;
}

void screen_setup_looks(void)
{
	look_attr[LOOK_NORMAL] = A_NORMAL;
	look_attr[LOOK_HEADER] = A_REVERSE;
	look_attr[LOOK_TITLE] = A_BOLD;
	look_attr[LOOK_HINT] = A_DIM;
	look_attr[LOOK_ERROR] = A_BOLD | A_REVERSE;
	look_attr[LOOK_WARNING] = A_BOLD;
	look_attr[LOOK_SELECTED] = A_REVERSE;
	const char *no_color = getenv("NO_COLOR");
	if ((no_color && no_color[0]) || !has_colors() || start_color() != OK)
		return;
	use_default_colors();
	/* Colour only reinforces what bold and reverse already say. */
	if (init_pair(1, COLOR_WHITE, COLOR_BLUE) == OK)
		look_attr[LOOK_HEADER] = COLOR_PAIR(1) | A_BOLD;
	if (init_pair(2, COLOR_WHITE, COLOR_RED) == OK)
		look_attr[LOOK_ERROR] = COLOR_PAIR(2) | A_BOLD;
	if (init_pair(3, COLOR_YELLOW, -1) == OK)
		look_attr[LOOK_WARNING] = COLOR_PAIR(3) | A_BOLD;
	if (init_pair(4, COLOR_CYAN, -1) == OK)
		look_attr[LOOK_HINT] = COLOR_PAIR(4);
}

int screen_attr(screen_look look)
{
	return look_attr[look];
}

void screen_rule(int y)
{
	mvhline(y, 0, ACS_HLINE, COLS);
}

void screen_box(int y, int x, int height, int width, int focused)
{
	if (height < 2 || width < 2)
		return;
	attr_t attr = focused ? A_BOLD : A_NORMAL;
	attron(attr);
	mvaddch(y, x, ACS_ULCORNER);
	mvhline(y, x + 1, ACS_HLINE, width - 2);
	mvaddch(y, x + width - 1, ACS_URCORNER);
	mvvline(y + 1, x, ACS_VLINE, height - 2);
	mvvline(y + 1, x + width - 1, ACS_VLINE, height - 2);
	mvaddch(y + height - 1, x, ACS_LLCORNER);
	mvhline(y + height - 1, x + 1, ACS_HLINE, width - 2);
	mvaddch(y + height - 1, x + width - 1, ACS_LRCORNER);
	attroff(attr);
}
