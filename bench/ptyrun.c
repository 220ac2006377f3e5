/* ptyrun.c - run a terminal program in a pseudo-terminal and time it, for
 * `make bench`. Not a script: the clock is read in this process, right
 * around forkpty() and the read() that completes the screen.
 *
 * Start-up mode:
 *   ptyrun [-c COLS] [-r ROWS] [-t SECONDS] [-m] -e MARKER [-e MARKER...] -- PROGRAM [ARGS...]
 *   Starts PROGRAM in an 80x24 pty with TERM=xterm-256color and
 *   LANG=LC_ALL=C.UTF-8, reads the pty into a small terminal emulator until
 *   the screen shows every MARKER at once (runs of white space count as one
 *   space, and a row break as a space), stops the clock, kills the program's
 *   process group and prints
 *       startup_us N
 *   and, with -m, the program's memory at that moment (kB, from /proc):
 *       vmhwm_kb N      peak resident set
 *       rssanon_kb N    of which anonymous now (heap, stacks)
 *       rssfile_kb N    of which file-backed now (the program and its libraries)
 *   The clock starts just before forkpty(), so it covers fork, exec, the
 *   dynamic loader and everything the program does before its first screen.
 *
 * Script mode:
 *   ptyrun [-c COLS] [-r ROWS] [-t SECONDS] -s SCRIPT -- PROGRAM [ARGS...]
 *   SCRIPT holds one command a line (# starts a comment line). TEXT takes
 *   C escapes: \r \n \t \e \\ \xHH.
 *     expect TEXT   wait until the screen shows TEXT
 *     send TEXT     write TEXT to the program's terminal
 *     settle        wait until the program has answered the last key: it wrote
 *                   something or made a read call since, and now sleeps in
 *                   read/poll/select with no input and no output left unread
 *     type N        type N characters of prose (letters, spaces, full stops),
 *                   one at a time, each followed by settle: what a person does
 *     mark          start the lap clock
 *     lap LABEL     print "LABEL N" (microseconds since mark)
 *     memory PREFIX print the program's peak resident memory and what is in
 *                   it now, from /proc: PREFIXvmhwm_kb, PREFIXrssanon_kb and
 *                   PREFIXrssfile_kb, in kB
 *     sh COMMAND    run COMMAND with /bin/sh -c (its output goes to ours)
 *     repeat N      repeat the commands up to the matching "end" N times
 *     end
 *     kill          kill the program's process group and reap it
 *     term          send SIGTERM to the program and wait for it to exit (so a
 *                   profiler running it writes its results)
 *     exit          wait for the program to exit by itself
 *   On a timeout it prints the last output it saw (made readable) on stderr
 *   and exits 2. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <locale.h>

static int master_fd = -1, slave_fd = -1;
static pid_t child = -1;
static double timeout_s = 20.0;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ptyrun: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (child > 0) {
		kill(-child, SIGKILL);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	exit(2);
}

/* A small terminal emulator: enough of xterm for what ncurses sends it, so a
 * marker is looked for on the screen as a person would see it, not in a
 * stream that ncurses optimises (it rewrites only the cells that changed). */
#define MAX_ROWS 200
#define MAX_COLS 400
static wchar_t screen[MAX_ROWS][MAX_COLS];
static int rows = 24, cols = 80;
static int cur_y, cur_x, wrap_pending, saved_y, saved_x;
static int top_margin, bottom_margin; /* scrolling region, inclusive */
static int graphics_charset;          /* G0 is the DEC line-drawing set */
static wchar_t last_char = L' ';
/* Parser state. */
static int esc_state;
static char csi_buf[64];
static size_t csi_len;
static unsigned char utf8_buf[4];
static int utf8_need, utf8_have;
static unsigned long screen_version; /* bumped on every change */
/* The raw tail, for a failure report. */
static char raw_tail[4096];
static size_t raw_tail_len;
static unsigned long bytes_since_send;

static void clear_cells(int y, int x0, int x1)
{
	for (int x = x0; x < x1 && x < cols; x++)
		screen[y][x] = L' ';
}

static void screen_reset(void)
{
	for (int y = 0; y < rows; y++)
		clear_cells(y, 0, cols);
	top_margin = 0;
	bottom_margin = rows - 1;
}

static void scroll_up(int top, int bottom, int n)
{
	for (int i = 0; i < n; i++) {
		for (int y = top; y < bottom; y++)
			memcpy(screen[y], screen[y + 1], sizeof screen[y]);
		clear_cells(bottom, 0, cols);
	}
}

static void scroll_down(int top, int bottom, int n)
{
	for (int i = 0; i < n; i++) {
		for (int y = bottom; y > top; y--)
			memcpy(screen[y], screen[y - 1], sizeof screen[y]);
		clear_cells(top, 0, cols);
	}
}

static void line_feed(void)
{
	if (cur_y == bottom_margin)
		scroll_up(top_margin, bottom_margin, 1);
	else if (cur_y < rows - 1)
		cur_y++;
}

static void put_char(wchar_t c)
{
	if (graphics_charset && c >= 0x60 && c <= 0x7e) {
		/* Line drawing: corners and tees as '+', lines as '-' and '|'. */
		if (c == 'q' || c == 's' || c == 'o' || c == 'p' || c == 'r')
			c = L'-';
		else if (c == 'x')
			c = L'|';
		else if (c >= 'j' && c <= 'w')
			c = L'+';
		else
			c = L'#';
	}
	int width = wcwidth(c);
	if (width < 0)
		width = 1;
	if (width == 0)
		return; /* combining marks: ignored */
	if (wrap_pending) {
		cur_x = 0;
		line_feed();
		wrap_pending = 0;
	}
	if (cur_x + width > cols) {
		cur_x = 0;
		line_feed();
	}
	screen[cur_y][cur_x] = c;
	if (width == 2 && cur_x + 1 < cols)
		screen[cur_y][cur_x + 1] = 0; /* the right half of a wide character */
	last_char = c;
	if (cur_x + width >= cols) {
		cur_x = cols - 1;
		wrap_pending = 1;
	} else {
		cur_x += width;
	}
}

static int param(int *p, int n, int i, int dflt)
{
	return i < n && p[i] > 0 ? p[i] : dflt;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void do_csi(char final)
{
	int p[16] = { 0 }, n = 0;
	int private_mode = csi_len > 0 && (csi_buf[0] == '?' || csi_buf[0] == '>' || csi_buf[0] == '=');
	for (size_t i = private_mode ? 1 : 0; i <= csi_len && n < 16; i++) {
		if (i == csi_len || csi_buf[i] == ';' || csi_buf[i] == ':') {
			n++;
			continue;
		}
		if (csi_buf[i] >= '0' && csi_buf[i] <= '9')
			p[n] = p[n] * 10 + (csi_buf[i] - '0');
	}
	if (private_mode) {
		/* 1049: the alternate screen, which starts clear. */
		if ((final == 'h' || final == 'l') && p[0] == 1049) {
			screen_reset();
			cur_y = cur_x = 0;
		}
		return;
	}
	wrap_pending = 0;
	switch (final) {
	case 'H': case 'f':
		cur_y = clampi(param(p, n, 0, 1) - 1, 0, rows - 1);
		cur_x = clampi(param(p, n, 1, 1) - 1, 0, cols - 1);
		break;
	case 'd': cur_y = clampi(param(p, n, 0, 1) - 1, 0, rows - 1); break;
	case 'G': case '`': cur_x = clampi(param(p, n, 0, 1) - 1, 0, cols - 1); break;
	case 'A': cur_y = clampi(cur_y - param(p, n, 0, 1), 0, rows - 1); break;
	case 'B': case 'e': cur_y = clampi(cur_y + param(p, n, 0, 1), 0, rows - 1); break;
	case 'C': case 'a': cur_x = clampi(cur_x + param(p, n, 0, 1), 0, cols - 1); break;
	case 'D': cur_x = clampi(cur_x - param(p, n, 0, 1), 0, cols - 1); break;
	case 'E': cur_y = clampi(cur_y + param(p, n, 0, 1), 0, rows - 1); cur_x = 0; break;
	case 'F': cur_y = clampi(cur_y - param(p, n, 0, 1), 0, rows - 1); cur_x = 0; break;
	case 'K':
		if (p[0] == 0)
			clear_cells(cur_y, cur_x, cols);
		else if (p[0] == 1)
			clear_cells(cur_y, 0, cur_x + 1);
		else
			clear_cells(cur_y, 0, cols);
		break;
	case 'J':
		if (p[0] == 0) {
			clear_cells(cur_y, cur_x, cols);
			for (int y = cur_y + 1; y < rows; y++)
				clear_cells(y, 0, cols);
		} else if (p[0] == 1) {
			for (int y = 0; y < cur_y; y++)
				clear_cells(y, 0, cols);
			clear_cells(cur_y, 0, cur_x + 1);
		} else {
			for (int y = 0; y < rows; y++)
				clear_cells(y, 0, cols);
		}
		break;
	case 'X': clear_cells(cur_y, cur_x, cur_x + param(p, n, 0, 1)); break;
	case 'b': {
		int count = param(p, n, 0, 1);
		for (int i = 0; i < count; i++)
			put_char(last_char);
		break;
	}
	case '@': {
		int count = clampi(param(p, n, 0, 1), 0, cols - cur_x);
		memmove(&screen[cur_y][cur_x + count], &screen[cur_y][cur_x],
			(size_t)(cols - cur_x - count) * sizeof(wchar_t));
		clear_cells(cur_y, cur_x, cur_x + count);
		break;
	}
	case 'P': {
		int count = clampi(param(p, n, 0, 1), 0, cols - cur_x);
		memmove(&screen[cur_y][cur_x], &screen[cur_y][cur_x + count],
			(size_t)(cols - cur_x - count) * sizeof(wchar_t));
		clear_cells(cur_y, cols - count, cols);
		break;
	}
	case 'L':
		if (cur_y >= top_margin && cur_y <= bottom_margin)
			scroll_down(cur_y, bottom_margin, param(p, n, 0, 1));
		break;
	case 'M':
		if (cur_y >= top_margin && cur_y <= bottom_margin)
			scroll_up(cur_y, bottom_margin, param(p, n, 0, 1));
		break;
	case 'S': scroll_up(top_margin, bottom_margin, param(p, n, 0, 1)); break;
	case 'T': scroll_down(top_margin, bottom_margin, param(p, n, 0, 1)); break;
	case 'r':
		top_margin = clampi(param(p, n, 0, 1) - 1, 0, rows - 1);
		bottom_margin = clampi(param(p, n, 1, rows) - 1, 0, rows - 1);
		if (bottom_margin <= top_margin) {
			top_margin = 0;
			bottom_margin = rows - 1;
		}
		cur_y = cur_x = 0;
		break;
	case 's': saved_y = cur_y; saved_x = cur_x; break;
	case 'u': cur_y = saved_y; cur_x = saved_x; break;
	default: break; /* m (colours), t (window), h/l (modes) and the rest: nothing to draw */
	}
}

/* Feed raw terminal output to the emulator. */
static void absorb(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (raw_tail_len == sizeof raw_tail) {
			memmove(raw_tail, raw_tail + sizeof raw_tail / 2, sizeof raw_tail / 2);
			raw_tail_len = sizeof raw_tail / 2;
		}
		raw_tail[raw_tail_len++] = (char)c;
		screen_version++;
		switch (esc_state) {
		case 0:
			if (utf8_need) {
				if ((c & 0xc0) == 0x80) {
					utf8_buf[utf8_have++] = c;
					if (utf8_have == utf8_need) {
						wchar_t wc;
						mbstate_t st;
						memset(&st, 0, sizeof st);
						if (mbrtowc(&wc, (const char *)utf8_buf, (size_t)utf8_need, &st) ==
						    (size_t)utf8_need)
							put_char(wc);
						utf8_need = 0;
					}
					continue;
				}
				utf8_need = 0; /* a broken sequence: drop it */
			}
			if (c == 27) {
				esc_state = 1;
			} else if (c == '\r') {
				cur_x = 0;
				wrap_pending = 0;
			} else if (c == '\n' || c == 11 || c == 12) {
				wrap_pending = 0;
				line_feed();
			} else if (c == '\b') {
				wrap_pending = 0;
				if (cur_x > 0)
					cur_x--;
			} else if (c == '\t') {
				cur_x = clampi((cur_x / 8 + 1) * 8, 0, cols - 1);
			} else if (c == 14 || c == 15) {
				graphics_charset = 0; /* SO/SI: not used by ncurses here */
			} else if (c >= 0xc0 && c < 0xf8) {
				utf8_need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
				utf8_have = 1;
				utf8_buf[0] = c;
			} else if (c >= 32 && c < 127) {
				put_char((wchar_t)c);
			}
			break;
		case 1: /* after ESC */
			esc_state = 0;
			if (c == '[') {
				esc_state = 2;
				csi_len = 0;
			} else if (c == ']' || c == 'P' || c == '_' || c == '^') {
				esc_state = 3;
			} else if (c == '(') {
				esc_state = 6;
			} else if (c == ')' || c == '*' || c == '+' || c == '#' || c == '%') {
				esc_state = 4;
			} else if (c == '7') {
				saved_y = cur_y;
				saved_x = cur_x;
			} else if (c == '8') {
				cur_y = saved_y;
				cur_x = saved_x;
			} else if (c == 'D') {
				line_feed();
			} else if (c == 'E') {
				cur_x = 0;
				line_feed();
			} else if (c == 'M') {
				if (cur_y == top_margin)
					scroll_down(top_margin, bottom_margin, 1);
				else if (cur_y > 0)
					cur_y--;
			} else if (c == 'c') {
				screen_reset();
				cur_y = cur_x = 0;
			}
			break;
		case 2: /* CSI: parameters until a final byte */
			if (c >= 0x40 && c <= 0x7e) {
				do_csi((char)c);
				esc_state = 0;
			} else if (csi_len < sizeof csi_buf - 1) {
				csi_buf[csi_len++] = (char)c;
			}
			break;
		case 3: /* OSC/DCS: until BEL or ESC \ */
			if (c == 7)
				esc_state = 0;
			else if (c == 27)
				esc_state = 5;
			break;
		case 4: /* one more byte */
			esc_state = 0;
			break;
		case 5:
			esc_state = c == '\\' ? 0 : 3;
			break;
		case 6: /* G0 charset */
			graphics_charset = c == '0';
			esc_state = 0;
			break;
		}
	}
}

/* The screen as one line of text: rows joined by spaces, runs of white space
 * made one space, so a marker matches whether or not a row break or the
 * layout's padding falls inside it. */
static char *screen_text(void)
{
	size_t cap = (size_t)rows * (size_t)(cols + 1) * MB_CUR_MAX + 1, len = 0;
	char *out = malloc(cap);
	int space = 0;
	for (int y = 0; y < rows; y++) {
		for (int x = 0; x < cols; x++) {
			wchar_t c = screen[y][x];
			if (c == 0)
				continue;
			if (c == L' ') {
				space = 1;
				continue;
			}
			if (space && len > 0)
				out[len++] = ' ';
			space = 0;
			mbstate_t st;
			memset(&st, 0, sizeof st);
			size_t k = wcrtomb(out + len, c, &st);
			if (k != (size_t)-1)
				len += k;
		}
		space = 1;
	}
	out[len] = '\0';
	return out;
}

static char *collapse(const char *text)
{
	char *out = malloc(strlen(text) + 1);
	size_t n = 0;
	int space = 0;
	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			space = 1;
			continue;
		}
		if (space && n > 0)
			out[n++] = ' ';
		space = 0;
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

static void show_screen(void)
{
	fputs("ptyrun: the screen:\n", stderr);
	for (int y = 0; y < rows; y++) {
		fputs("  |", stderr);
		for (int x = 0; x < cols; x++) {
			char mb[8];
			mbstate_t st;
			memset(&st, 0, sizeof st);
			if (screen[y][x] == 0)
				continue;
			size_t k = wcrtomb(mb, screen[y][x], &st);
			if (k != (size_t)-1)
				fwrite(mb, 1, k, stderr);
		}
		fputs("|\n", stderr);
	}
}

static void show_tail(void)
{
	show_screen();
	fputs("ptyrun: last output (escapes shown as ^[):\n", stderr);
	for (size_t i = 0; i < raw_tail_len; i++) {
		unsigned char c = (unsigned char)raw_tail[i];
		if (c == 27)
			fputs("^[", stderr);
		else if (c == '\n' || c >= 32)
			fputc(c, stderr);
		else if (c == '\r')
			fputc('\n', stderr);
	}
	fputc('\n', stderr);
}

/* Read whatever the program wrote, waiting up to wait_ms for the first byte.
 * Returns bytes read, 0 on timeout, -1 when the terminal closed. */
static long pump(int wait_ms)
{
	struct pollfd p = { .fd = master_fd, .events = POLLIN };
	long total = 0;
	for (;;) {
		int rc = poll(&p, 1, total ? 0 : wait_ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (rc == 0)
			return total;
		char buf[65536];
		ssize_t n = read(master_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return total ? total : -1;
		absorb(buf, (size_t)n);
		bytes_since_send += (unsigned long)n;
		total += n;
	}
}

/* Wait until the screen shows every marker at once. */
static void expect_all(char **markers, int n)
{
	char **want = calloc((size_t)n, sizeof *want);
	for (int i = 0; i < n; i++)
		want[i] = collapse(markers[i]);
	int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);
	unsigned long seen_version = (unsigned long)-1;
	for (;;) {
		if (seen_version != screen_version) {
			seen_version = screen_version;
			char *text = screen_text();
			int all = 1;
			for (int i = 0; i < n && all; i++)
				all = strstr(text, want[i]) != NULL;
			free(text);
			if (all)
				break;
		}
		int64_t left = deadline - now_us();
		if (left <= 0) {
			show_tail();
			die("timed out waiting for \"%s\"%s", markers[0], n > 1 ? " (and others)" : "");
		}
		if (pump((int)(left / 1000) + 1) < 0) {
			show_tail();
			die("the program closed its terminal before \"%s\" appeared", markers[0]);
		}
	}
	for (int i = 0; i < n; i++)
		free(want[i]);
	free(want);
}

/* Is the program asleep waiting for input, with nothing left to read? */
static int program_idle(void)
{
	int unread_input = 0;
	if (ioctl(slave_fd, FIONREAD, &unread_input) != 0 || unread_input > 0)
		return 0;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *close_paren = strrchr(buf, ')');
	if (close_paren == NULL || close_paren[1] != ' ' || close_paren[2] != 'S')
		return 0;
	snprintf(path, sizeof path, "/proc/%d/syscall", (int)child);
	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	long nr = -1;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	/* read, poll, select, pselect6, ppoll */
	return nr == 0 || nr == 7 || nr == 23 || nr == 270 || nr == 271;
}

/* How many read system calls the program has made (from /proc/PID/io). */
static long read_calls(void)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/io", (int)child);
	FILE *f = fopen(path, "r");
	long n = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "syscr: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static unsigned long settle_timeouts;
static long reads_at_send = -1;

static void settle(void)
{
	int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);
	/* First the program must have taken the key: it wrote something, or it
	 * made a read call since we sent it. A key we sent may still be on its
	 * way through the terminal layer, so "asleep" alone proves nothing. */
	int64_t answer_deadline = now_us() + 2000000;
	while (bytes_since_send == 0 && (reads_at_send < 0 || read_calls() <= reads_at_send)) {
		if (now_us() > answer_deadline) {
			settle_timeouts++;
			break;
		}
		if (pump(1) < 0)
			die("the program closed its terminal");
	}
	int quiet = 0;
	while (quiet < 2) {
		long got = pump(0);
		if (got < 0)
			die("the program closed its terminal");
		if (got == 0 && program_idle()) {
			quiet++;
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
			continue;
		}
		quiet = 0;
		if (now_us() > deadline) {
			show_tail();
			die("the program never settled");
		}
		if (got == 0)
			pump(1);
	}
}

static void send_bytes(const char *text, size_t len)
{
	bytes_since_send = 0;
	reads_at_send = read_calls();
	while (len > 0) {
		ssize_t n = write(master_fd, text, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pump(1);
				continue;
			}
			die("write: %s", strerror(errno));
		}
		text += n;
		len -= (size_t)n;
	}
}

/* Decode C escapes in place; returns the length. */
static size_t unescape(char *s)
{
	char *out = s;
	for (char *p = s; *p; p++) {
		if (*p != '\\' || p[1] == '\0') {
			*out++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'r': *out++ = '\r'; break;
		case 'n': *out++ = '\n'; break;
		case 't': *out++ = '\t'; break;
		case 'e': *out++ = 27; break;
		case '\\': *out++ = '\\'; break;
		case 'x': {
			unsigned v = 0;
			int k = 0;
			while (k < 2 && isxdigit((unsigned char)p[1])) {
				p++;
				v = v * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0'
						      : tolower((unsigned char)*p) - 'a' + 10);
				k++;
			}
			*out++ = (char)v;
			break;
		}
		default: *out++ = *p; break;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* A field of /proc/PID/status, in kB (VmHWM, RssAnon, RssFile...); -1 if absent. */
static long status_kb(const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)child);
	FILE *f = fopen(path, "r");
	long kb = -1;
	size_t len = strlen(field);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Peak and current resident memory: the peak, and what is in it now -
 * anonymous (heap, stacks) and file-backed (the program and its libraries). */
static void print_memory(const char *prefix)
{
	printf("%svmhwm_kb %ld\n%srssanon_kb %ld\n%srssfile_kb %ld\n", prefix, status_kb("VmHWM"),
	       prefix, status_kb("RssAnon"), prefix, status_kb("RssFile"));
	fflush(stdout);
}

static void kill_child(void)
{
	if (child <= 0)
		return;
	kill(-child, SIGKILL);
	kill(child, SIGKILL);
	/* Keep draining so nothing blocks on a full terminal. */
	while (waitpid(child, NULL, WNOHANG) == 0)
		pump(1);
	child = -1;
}

static void start(char **argv)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	char name[256];
	child = forkpty(&master_fd, name, NULL, &ws);
	if (child < 0)
		die("forkpty: %s", strerror(errno));
	if (child == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		execvp(argv[0], argv);
		fprintf(stderr, "ptyrun: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	slave_fd = open(name, O_RDWR | O_NOCTTY);
	if (slave_fd < 0)
		die("cannot open %s: %s", name, strerror(errno));
}

/* The prose `type` sends: ordinary words, so the editor wraps as it would. */
static const char prose[] =
	"The nurses on the night shift were kind and patient with my mother. They explained "
	"every step before they did it and they always came back when they said they would. "
	"The food was warm and the ward was quiet at night so she could sleep. ";

typedef struct {
	char *cmd;
	char *arg;
} step;

static void run_script(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	step *steps = NULL;
	size_t n = 0, cap = 0;
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		char *space = strchr(p, ' ');
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			steps = realloc(steps, cap * sizeof *steps);
		}
		steps[n].arg = strdup(space ? space + 1 : "");
		if (space)
			*space = '\0';
		steps[n].cmd = strdup(p);
		n++;
	}
	fclose(f);

	size_t loop_start[16];
	long loop_left[16];
	int depth = 0;
	int64_t mark = now_us();
	for (size_t pc = 0; pc < n; pc++) {
		const char *cmd = steps[pc].cmd;
		char *arg = strdup(steps[pc].arg);
		size_t len = unescape(arg);
		if (strcmp(cmd, "expect") == 0) {
			expect_all(&arg, 1);
		} else if (strcmp(cmd, "send") == 0) {
			send_bytes(arg, len);
		} else if (strcmp(cmd, "settle") == 0) {
			settle();
		} else if (strcmp(cmd, "type") == 0) {
			long count = atol(arg);
			for (long i = 0; i < count; i++) {
				send_bytes(&prose[i % (long)(sizeof prose - 1)], 1);
				settle();
			}
		} else if (strcmp(cmd, "mark") == 0) {
			mark = now_us();
		} else if (strcmp(cmd, "lap") == 0) {
			printf("%s %lld\n", arg, (long long)(now_us() - mark));
			fflush(stdout);
		} else if (strcmp(cmd, "memory") == 0) {
			print_memory(arg);
		} else if (strcmp(cmd, "sh") == 0) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				close(master_fd);
				close(slave_fd);
				execl("/bin/sh", "sh", "-c", arg, (char *)NULL);
				_exit(127);
			}
			int status = 0;
			/* Keep reading the terminal while the command runs. */
			while (waitpid(pid, &status, WNOHANG) == 0)
				pump(1);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				die("command failed: %s", arg);
		} else if (strcmp(cmd, "repeat") == 0) {
			if (depth == 16)
				die("repeat nested too deeply");
			loop_start[depth] = pc;
			loop_left[depth] = atol(arg);
			depth++;
		} else if (strcmp(cmd, "end") == 0) {
			if (depth == 0)
				die("end without repeat");
			if (--loop_left[depth - 1] > 0)
				pc = loop_start[depth - 1];
			else
				depth--;
		} else if (strcmp(cmd, "kill") == 0) {
			kill_child();
		} else if (strcmp(cmd, "term") == 0) {
			int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);
			if (child > 0)
				kill(child, SIGTERM);
			while (child > 0 && waitpid(child, NULL, WNOHANG) == 0) {
				if (now_us() > deadline)
					die("the program did not exit after SIGTERM");
				pump(5);
			}
			child = -1;
		} else if (strcmp(cmd, "exit") == 0) {
			int64_t deadline = now_us() + (int64_t)(timeout_s * 1e6);
			while (child > 0 && waitpid(child, NULL, WNOHANG) == 0) {
				if (now_us() > deadline)
					die("the program did not exit");
				pump(5);
			}
			child = -1;
		} else {
			die("unknown script command: %s", cmd);
		}
		free(arg);
	}
	if (settle_timeouts)
		fprintf(stderr, "ptyrun: %lu key(s) drew nothing within 2 s\n", settle_timeouts);
}

int main(int argc, char **argv)
{
	char *markers[32];
	int n_markers = 0, show_hwm = 0, opt;
	const char *script = NULL;
	while ((opt = getopt(argc, argv, "+c:r:t:e:s:m")) != -1) {
		switch (opt) {
		case 'c': cols = clampi(atoi(optarg), 20, MAX_COLS); break;
		case 'r': rows = clampi(atoi(optarg), 5, MAX_ROWS); break;
		case 't': timeout_s = atof(optarg); break;
		case 'e':
			if (n_markers < 32)
				markers[n_markers++] = optarg;
			break;
		case 's': script = optarg; break;
		case 'm': show_hwm = 1; break;
		default:
			fputs("usage: ptyrun [-c COLS] [-r ROWS] [-t SECONDS] [-m] (-e MARKER... | -s SCRIPT)"
			      " -- PROGRAM [ARGS...]\n", stderr);
			return 64;
		}
	}
	if (optind >= argc || (n_markers == 0 && script == NULL)) {
		fputs("ptyrun: give a program, and markers (-e) or a script (-s)\n", stderr);
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	screen_reset();
	if (script == NULL) {
		int64_t t0 = now_us();
		start(argv + optind);
		expect_all(markers, n_markers);
		int64_t t1 = now_us();
		printf("startup_us %lld\n", (long long)(t1 - t0));
		if (show_hwm)
			print_memory("");
		kill_child();
		return 0;
	}
	start(argv + optind);
	run_script(script);
	kill_child();
	return 0;
}
