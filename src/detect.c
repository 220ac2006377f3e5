/* detect.c - checks a story's free text before the patient consents: email
 * and web addresses, phone and NHS numbers, dates of birth, postcodes, names
 * after a title, capitals, swearing and length; and the safeguarding and
 * patient safety incident phrases. Pure and free of global mutable state; a
 * result is a span of the caller's text, never a copy, so nothing here can
 * leak what a patient wrote. All scans are linear in the text, with a small
 * bounded look-ahead per word (a 1 MB text takes milliseconds). */
#include "detect.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fold.h"
#include "validate.h"

/* utf8_decode's code point for a malformed sequence. */
#define UTF8_BAD VALIDATE_UTF8_BAD

#define PHRASE_MAX 64 /* letters and digits in one list phrase */
#define WALK_DEPTH_MAX (4 * PHRASE_MAX)
#define EMAIL_LOCAL_MAX 64
#define EMAIL_MAX 254
#define DOMAIN_MAX 253
#define LABEL_MAX 63
#define PHONE_DIGITS_MAX 11 /* a UK number written nationally: 0 and ten digits */
#define CAPITALS_MIN_LETTERS 20
#define CAPITALS_PERCENT 60 /* over this share of upper-case letters is "mostly" */
#define BIRTH_AGE_MIN 16    /* a full date this many years ago or more may be a birth */
#define BIRTH_AGE_MAX 120
#define BIRTH_CUE_WORDS 5  /* a date may start up to this many words after "born" */
#define NAME_EXTRA_WORDS 2 /* "Dr Anil Kumar Patel": up to two more names */
#define FALLBACK_YEAR 2025 /* only when the clock cannot be read */

/* ---- characters ---- */

/* The text being checked: its bytes and length. */
typedef struct {
	const char *s;
	const unsigned char *u;
	size_t len;
} text_view;

/* One character from the n > 0 bytes at s: validate.c's decoder, so offsets
 * fall on the boundaries every other check sees. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	return validate_utf8_decode(s, n, cp);
}

/* The character at pos < len and its length in bytes. */
static uint32_t char_at(const text_view *t, size_t pos, size_t *k)
{
	uint32_t c;

	if (t->u[pos] < 0x80) {
		*k = 1;
		return t->u[pos];
	}
	*k = utf8_decode(t->u + pos, t->len - pos, &c);
	return c;
}

/* The character ending at pos: 0 at the start of the text, UTF8_BAD when the
 * bytes before pos are not a whole character. */
static uint32_t char_before(const text_view *t, size_t pos)
{
	size_t b, k;
	uint32_t c;

	if (pos == 0)
		return 0;
	if (t->u[pos - 1] < 0x80)
		return t->u[pos - 1];
	b = pos - 1;
	while (b > 0 && pos - b < 4 && (t->u[b] & 0xC0) == 0x80)
		b--;
	k = utf8_decode(t->u + b, pos - b, &c);
	return b + k == pos ? c : UTF8_BAD;
}

/* ASCII tests of our own: <ctype.h> answers by locale. */
static int is_ascii_upper(uint32_t c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_ascii_lower(uint32_t c)
{
	return c >= 'a' && c <= 'z';
}

static int is_ascii_letter(uint32_t c)
{
	return is_ascii_upper(c) || is_ascii_lower(c);
}

static int is_ascii_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static int is_ascii_alnum(uint32_t c)
{
	return is_ascii_letter(c) || is_ascii_digit(c);
}

static char ascii_lower(char c)
{
	return is_ascii_upper((unsigned char)c) ? (char)(c - 'A' + 'a') : c;
}

/* White space as validate.c counts words by: ASCII's and the Unicode spaces. */
static int is_space_cp(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
	       c == 0x205F || c == 0x3000;
}

/* Space within a line: between a title and a name, a day and a month. */
static int is_hspace(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0xA0 || c == 0x202F;
}

/* Combining marks: an accent typed after its letter belongs to that letter. */
static int is_combining(uint32_t c)
{
	return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
	       (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0xFE20 && c <= 0xFE2F);
}

/* The marks people type for an apostrophe. */
static int is_apostrophe(uint32_t c)
{
	return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC;
}

/* What may stand between the words of a list phrase in a story: spaces,
 * hyphens, dashes and underscores, any number of them. */
static int is_gap_cp(uint32_t c)
{
	return is_space_cp(c) || c == '-' || c == '_' || (c >= 0x2010 && c <= 0x2015) ||
	       c == 0x2212;
}

/* A character that belongs to a word: ASCII letters and digits, and every
 * character past ASCII that is not space, punctuation, a symbol or an emoji.
 * Decided by code point ranges, not by locale, so results never depend on
 * how the kiosk was started. A malformed byte belongs to no word. */
static int is_word_cp(uint32_t c)
{
	if (c < 0x80)
		return is_ascii_alnum(c);
	if (c == UTF8_BAD || is_space_cp(c))
		return 0;
	if (c <= 0xBF)
		return c == 0xAA || c == 0xB5 || c == 0xBA; /* ª µ º */
	if (c == 0xD7 || c == 0xF7)                         /* × ÷ */
		return 0;
	if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x2E00 && c <= 0x2E7F) ||
	    (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE00 && c <= 0xFE1F) ||
	    (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF0F) ||
	    (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
	    (c >= 0xFF5B && c <= 0xFF65) || (c >= 0xFFF0 && c <= 0xFFFF) ||
	    (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0xE0000 && c <= 0xE007F))
		return 0;
	return 1;
}

/* 1 for an upper-case letter, -1 for a lower-case one, 0 for anything else,
 * by ASCII, Latin-1 and Latin Extended-A (the letters fold_letter knows). */
static int letter_case(uint32_t c)
{
	if (c < 0x80)
		return is_ascii_upper(c) ? 1 : is_ascii_lower(c) ? -1 : 0;
	if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c > 0x17F)
		return 0;
	if (c <= 0xDE)
		return 1;
	if (c <= 0xFF)
		return -1;
	/* Extended-A pairs upper then lower, with the parity shifting at the
	 * three letters that have no capital (ĸ, ŉ) and at Ÿ. */
	if (c <= 0x137)
		return c % 2 == 0 ? 1 : -1;
	if (c == 0x138 || c == 0x149 || c == 0x17F)
		return -1;
	if (c <= 0x148)
		return c % 2 == 1 ? 1 : -1;
	if (c <= 0x177)
		return c % 2 == 0 ? 1 : -1;
	if (c == 0x178)
		return 1;
	return c % 2 == 1 ? 1 : -1;
}

/* ---- words ---- */

/* Non-zero when no word character starts at pos (or pos is the end). */
static int at_word_end(const text_view *t, size_t pos)
{
	size_t k;

	return pos >= t->len || !is_word_cp(char_at(t, pos, &k));
}

/* The first word start at or after pos: a word character not preceded by
 * one. t->len when there is none. */
static size_t next_word_start(const text_view *t, size_t pos)
{
	int prev_word = is_word_cp(char_before(t, pos));
	size_t k;

	while (pos < t->len) {
		int word = is_word_cp(char_at(t, pos, &k));
		if (word && !prev_word)
			return pos;
		prev_word = word;
		pos += k;
	}
	return t->len;
}

/* Where the word (or non-word run) at pos ends: the first non-word character. */
static size_t word_end(const text_view *t, size_t pos)
{
	size_t k;

	while (pos < t->len && is_word_cp(char_at(t, pos, &k)))
		pos += k;
	return pos;
}

/* pos moved past spaces within a line. */
static size_t skip_hspace(const text_view *t, size_t pos)
{
	size_t k;

	while (pos < t->len && is_hspace(char_at(t, pos, &k)))
		pos += k;
	return pos;
}

/* The all-ASCII-letter word at p, lower-cased into buf (room for cap - 1
 * letters); its length, or 0 when it is longer, has other characters or runs
 * on into more word characters. */
static size_t ascii_word_at(const text_view *t, size_t p, char *buf, size_t cap)
{
	size_t n = 0;

	while (p + n < t->len && is_ascii_letter((unsigned char)t->s[p + n])) {
		if (n + 1 >= cap)
			return 0;
		buf[n] = ascii_lower(t->s[p + n]);
		n++;
	}
	buf[n] = '\0';
	if (n == 0 || !at_word_end(t, p + n))
		return 0;
	return n;
}

/* Non-zero when the n bytes at s equal the lower-case ASCII word, in any case. */
static int ascii_equal_ci(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || ascii_lower(s[i]) != word[i])
			return 0;
	return word[n] == '\0';
}

/* The number of digits at p (stops counting at 10) and, for up to 9 of
 * them, their value. */
static size_t digit_run(const text_view *t, size_t p, int *value)
{
	size_t n = 0;
	int v = 0;

	while (p + n < t->len && is_ascii_digit((unsigned char)t->s[p + n]) && n < 10) {
		if (n < 9)
			v = v * 10 + (t->s[p + n] - '0');
		n++;
	}
	*value = v;
	return n;
}

/* ---- phrase lists ---- */

#define NODE_END 1u    /* a listed phrase ends here */
#define NODE_EXCEPT 2u /* an exception ('!' line) ends here */
#define NODE_GAP 4u    /* a phrase has a space or hyphen after this letter */

/* A trie over folded letters: first child and next sibling, as indices into
 * the list's node array (0 is the root, which is never a child, so 0 also
 * means "none"). */
typedef struct {
	uint32_t child;
	uint32_t sibling;
	char letter;
	unsigned char flags;
} phrase_node;

typedef struct {
	phrase_node *nodes;
	size_t n;
	size_t cap;
	size_t phrases;      /* listed phrases, not counting exceptions */
	uint32_t first[128]; /* the root's children by letter: most words stop here */
} phrase_list;

struct detect_lists {
	phrase_list swearing;
	phrase_list safeguarding;
	phrase_list safety;
};

static void phrase_list_free(phrase_list *list)
{
	free(list->nodes);
	memset(list, 0, sizeof *list);
}

/* Appends a node with no children; its index to *index, 0 when out of memory. */
static int phrase_node_add(phrase_list *list, char letter, uint32_t *index)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 256;
		phrase_node *nodes;
		if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof *nodes)
			return 0;
		nodes = realloc(list->nodes, cap * sizeof *nodes);
		if (!nodes)
			return 0;
		list->nodes = nodes;
		list->cap = cap;
	}
	list->nodes[list->n].child = 0;
	list->nodes[list->n].sibling = 0;
	list->nodes[list->n].letter = letter;
	list->nodes[list->n].flags = 0;
	*index = (uint32_t)list->n++;
	return 1;
}

/* The child of node for letter, or 0. */
static uint32_t phrase_child(const phrase_list *list, uint32_t node, char letter)
{
	uint32_t c;

	if (node == 0)
		return (unsigned char)letter < 128 ? list->first[(unsigned char)letter] : 0;
	for (c = list->nodes[node].child; c != 0; c = list->nodes[c].sibling)
		if (list->nodes[c].letter == letter)
			return c;
	return 0;
}

/* Adds the n folded letters of a phrase; gap_after[i] marks a word break
 * after letter i. 0 when out of memory. */
static int phrase_insert(phrase_list *list, const char *letters, const unsigned char *gap_after,
			 size_t n, unsigned flag)
{
	uint32_t node = 0, child;
	size_t i;

	if (list->n == 0 && !phrase_node_add(list, '\0', &node))
		return 0;
	for (i = 0; i < n; i++) {
		child = phrase_child(list, node, letters[i]);
		if (child == 0) {
			if (!phrase_node_add(list, letters[i], &child))
				return 0;
			list->nodes[child].sibling = list->nodes[node].child;
			list->nodes[node].child = child;
			if (node == 0)
				list->first[(unsigned char)letters[i]] = child;
		}
		node = child;
		if (gap_after[i])
			list->nodes[node].flags |= NODE_GAP;
	}
	list->nodes[node].flags |= (unsigned char)flag;
	return 1;
}

/* Folds one list line into letters and word breaks; NULL, or what is wrong. */
static const char *phrase_parse(const char *line, char *letters, unsigned char *gap_after,
				size_t *n)
{
	const unsigned char *u = (const unsigned char *)line;
	size_t left = strlen(line), count = 0;
	uint32_t c;

	while (left > 0) {
		size_t k = utf8_decode(u, left, &c), m;
		char f[2];

		if (c == UTF8_BAD)
			return "not UTF-8";
		if (is_gap_cp(c)) {
			if (count > 0)
				gap_after[count - 1] = 1;
		} else if (is_apostrophe(c) || is_combining(c)) {
			/* ignored, as in the story */
		} else if ((m = fold_letter(c, f)) > 0) {
			if (count + m > PHRASE_MAX)
				return "a phrase can have at most 64 letters and digits";
			memcpy(letters + count, f, m);
			memset(gap_after + count, 0, m);
			count += m;
		} else {
			return "a phrase can have only letters, digits, spaces, hyphens and "
			       "apostrophes";
		}
		u += k;
		left -= k;
	}
	if (count == 0)
		return "a phrase needs a letter or digit";
	gap_after[count - 1] = 0;
	*n = count;
	return NULL;
}

/* Reads one list file into list; 0 with "PATH[:LINE]: problem" in err. */
static int phrase_list_read(phrase_list *list, const char *path, char *err, size_t errlen)
{
	char letters[PHRASE_MAX];
	unsigned char gap_after[PHRASE_MAX];
	char *line = NULL;
	size_t cap = 0;
	long line_no = 0;
	int ok = 1;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return 0;
	}
	for (;;) {
		const char *problem;
		char *phrase;
		unsigned flag = NODE_END;
		size_t n = 0;

		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			if (!feof(f) || errno != 0) {
				snprintf(err, errlen, "%s: cannot read: %s", path,
					 strerror(errno ? errno : EIO));
				ok = 0;
			}
			break;
		}
		line_no++;
		phrase = validate_trim(line);
		if (phrase[0] == '\0' || phrase[0] == '#')
			continue;
		if (phrase[0] == '!') {
			flag = NODE_EXCEPT;
			phrase = validate_trim(phrase + 1);
		}
		if (!validate_utf8(phrase, strlen(phrase)))
			problem = "not UTF-8";
		else
			problem = phrase_parse(phrase, letters, gap_after, &n);
		if (problem) {
			snprintf(err, errlen, "%s:%ld: %s", path, line_no, problem);
			ok = 0;
			break;
		}
		if (!phrase_insert(list, letters, gap_after, n, flag)) {
			snprintf(err, errlen, "%s: out of memory", path);
			ok = 0;
			break;
		}
		if (flag == NODE_END)
			list->phrases++;
	}
	free(line);
	fclose(f);
	if (ok && list->phrases == 0) {
		/* An empty list silently turns a check off: more likely a wrong file. */
		snprintf(err, errlen, "%s: no phrases in the file", path);
		ok = 0;
	}
	return ok;
}

detect_lists *detect_lists_load(const char *swearing_path, const char *safeguarding_path,
				const char *safety_path, char *err, size_t errlen)
{
	char scratch[1];
	detect_lists *lists;

	if (!err || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	lists = calloc(1, sizeof *lists);
	if (!lists) {
		snprintf(err, errlen, "out of memory loading the phrase lists");
		return NULL;
	}
	if ((swearing_path && !phrase_list_read(&lists->swearing, swearing_path, err, errlen)) ||
	    (safeguarding_path &&
	     !phrase_list_read(&lists->safeguarding, safeguarding_path, err, errlen)) ||
	    (safety_path && !phrase_list_read(&lists->safety, safety_path, err, errlen))) {
		detect_lists_free(lists);
		return NULL;
	}
	return lists;
}

void detect_lists_free(detect_lists *lists)
{
	if (!lists)
		return;
	phrase_list_free(&lists->swearing);
	phrase_list_free(&lists->safeguarding);
	phrase_list_free(&lists->safety);
	free(lists);
}

/* ---- matching phrases ---- */

/* One attempt to match a list at one word start: the longest phrase or
 * exception found so far. */
typedef struct {
	const text_view *t;
	const phrase_list *list;
	int disguises;     /* read "f*ck" and "sh!t" as letters (swearing only) */
	size_t best_end;   /* 0 while nothing matched */
	int best_excepted; /* the longest match is an exception */
} phrase_walk;

/* The letter a disguise stands for in swearing, or 0. */
static char disguised_letter(uint32_t c)
{
	switch (c) {
	case '!':
	case '1':
		return 'i';
	case '@':
		return 'a';
	case '$':
		return 's';
	case '0':
		return 'o';
	default:
		return 0;
	}
}

/* Follows the text from pos down the trie from node. real counts letters
 * read as themselves, fake those read through a disguise; after_letter says
 * whether a letter was just read (only then can a phrase end at pos). */
static void walk(phrase_walk *w, size_t pos, uint32_t node, int real, int fake, int depth,
		 int after_letter)
{
	const text_view *t = w->t;
	const phrase_node *nodes = w->list->nodes;
	size_t k, k2, m;
	uint32_t c, child;
	char f[2];

	if (node != 0) {
		while (pos < t->len && is_combining(char_at(t, pos, &k)))
			pos += k;
	}
	if (after_letter && (nodes[node].flags & (NODE_END | NODE_EXCEPT)) && fake <= real &&
	    at_word_end(t, pos)) {
		if (pos > w->best_end) {
			w->best_end = pos;
			w->best_excepted = 0;
		}
		if (pos == w->best_end && (nodes[node].flags & NODE_EXCEPT))
			w->best_excepted = 1;
	}
	if (pos >= t->len || depth > WALK_DEPTH_MAX)
		return;
	c = char_at(t, pos, &k);
	if (node != 0 && is_apostrophe(c) && pos + k < t->len &&
	    fold_letter(char_at(t, pos + k, &k2), f) > 0) {
		walk(w, pos + k, node, real, fake, depth + 1, 0);
		return;
	}
	m = fold_letter(c, f);
	if (m > 0) {
		child = phrase_child(w->list, node, f[0]);
		if (child != 0 && m == 2)
			child = phrase_child(w->list, child, f[1]);
		if (child != 0)
			walk(w, pos + k, child, real + 1, fake, depth + 1, 1);
	}
	/* A disguise never starts a word, and at most as many letters may be
	 * disguised as are real, so "f**k" counts but "f***" does not. */
	if (w->disguises && node != 0 && fake <= real) {
		char sub;
		if (c == '*') {
			for (child = nodes[node].child; child != 0; child = nodes[child].sibling)
				walk(w, pos + k, child, real, fake + 1, depth + 1, 1);
		} else if ((sub = disguised_letter(c)) != 0 &&
			   (child = phrase_child(w->list, node, sub)) != 0) {
			walk(w, pos + k, child, real, fake + 1, depth + 1, 1);
		}
	}
	if (node != 0 && (nodes[node].flags & NODE_GAP) && is_gap_cp(c)) {
		size_t p = pos;
		while (p < t->len && is_gap_cp(char_at(t, p, &k)))
			p += k;
		if (p < t->len)
			walk(w, p, node, real, fake, depth + 1, 0);
	}
}

/* The end of the longest listed phrase starting at word start p, or 0 when
 * there is none or an exception at p is as long or longer. */
static size_t phrase_at(const text_view *t, const phrase_list *list, int disguises, size_t p)
{
	phrase_walk w;

	if (list->n < 2)
		return 0;
	w.t = t;
	w.list = list;
	w.disguises = disguises;
	w.best_end = 0;
	w.best_excepted = 0;
	walk(&w, p, 0, 0, 0, 0, 0);
	return w.best_end > p && !w.best_excepted ? w.best_end : 0;
}

/* The first listed phrase at a word start, its span to *start and *end. */
static int phrase_find(const text_view *t, const phrase_list *list, size_t *start, size_t *end)
{
	size_t p;

	if (list->n < 2)
		return 0;
	for (p = next_word_start(t, 0); p < t->len; p = next_word_start(t, word_end(t, p))) {
		size_t e = phrase_at(t, list, 0, p);
		if (e) {
			*start = p;
			*end = e;
			return 1;
		}
	}
	return 0;
}

/* ---- the finders: each says where a finding starting at p ends, or 0 ---- */

typedef struct {
	text_view t;
	const detect_lists *lists;
	int year; /* this year, for dates of birth */
} scan;

/* Characters of an email's local part as people write them in running text. */
static int is_local_char(char c)
{
	return is_ascii_alnum((unsigned char)c) || c == '.' || c == '_' || c == '%' || c == '+' ||
	       c == '-' || c == '\'';
}

static int is_domain_char(char c)
{
	return is_ascii_alnum((unsigned char)c) || c == '.' || c == '-';
}

/* Email: a local part of address characters from p (an alphanumeric word
 * start) to an '@', a domain without a final dot or hyphen, the whole
 * passing validate_email. */
static size_t email_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	char addr[EMAIL_MAX + 1];
	size_t a = p, de;

	/* "jo..b@x.org" is no address, and nor is its tail "b@x.org". */
	if (!is_ascii_alnum((unsigned char)t->s[p]) || prev == '.' || prev == '_' || prev == '%' ||
	    prev == '+' || prev == '-')
		return 0;
	if (!memchr(t->s + p, '@',
		    t->len - p < EMAIL_LOCAL_MAX + 1 ? t->len - p : EMAIL_LOCAL_MAX + 1))
		return 0;
	while (a < t->len && a - p <= EMAIL_LOCAL_MAX && is_local_char(t->s[a]))
		a++;
	if (a >= t->len || t->s[a] != '@')
		return 0;
	de = a + 1;
	while (de < t->len && de - a - 1 < DOMAIN_MAX && is_domain_char(t->s[de]))
		de++;
	while (de > a + 1 && (t->s[de - 1] == '.' || t->s[de - 1] == '-'))
		de--;
	if (de == a + 1 || !at_word_end(t, de) || de - p > EMAIL_MAX ||
	    !memchr(t->s + a + 1, '.', de - a - 1))
		return 0;
	memcpy(addr, t->s + p, de - p);
	addr[de - p] = '\0';
	return validate_email(addr, NULL, 0, NULL, 0) == VALIDATE_OK ? de : 0;
}

/* Top-level domains that make a bare "name.tld" a web address. Short ones
 * that are also English words (it, me, in, to, be, us, no, so, at, is) are
 * left out: "home.It was" is a missing space, not a website. */
static const char *const web_tlds[] = {
	"com", "org", "net", "uk", "gov", "edu", "info", "io", "ie", "eu", "biz",
	"scot", "wales", "cymru", "nhs",
};

/* Non-zero when the n bytes at s are a known top-level domain, written all in
 * lower case or all in capitals ("nhs.uk", "NHS.UK", not "ward.Info"). */
static int is_web_tld(const char *s, size_t n)
{
	size_t i, upper = 0;

	for (i = 0; i < n; i++) {
		if (!is_ascii_letter((unsigned char)s[i]))
			return 0;
		upper += is_ascii_upper((unsigned char)s[i]);
	}
	if (upper != 0 && upper != n)
		return 0;
	for (i = 0; i < sizeof web_tlds / sizeof web_tlds[0]; i++)
		if (ascii_equal_ci(s, n, web_tlds[i]))
			return 1;
	return 0;
}

/* The end of a domain starting at p whose last label is a known TLD, or 0:
 * labels of letters, digits and inner hyphens, joined by single dots. */
static size_t domain_end(const text_view *t, size_t p)
{
	size_t q = p, labels = 0, tld_end = 0;

	while (q < t->len && q - p < DOMAIN_MAX) {
		size_t ls = q;
		while (q < t->len && q - ls < LABEL_MAX &&
		       (is_ascii_alnum((unsigned char)t->s[q]) || t->s[q] == '-'))
			q++;
		if (q == ls || t->s[ls] == '-' || t->s[q - 1] == '-')
			break;
		labels++;
		if (labels >= 2 && is_web_tld(t->s + ls, q - ls))
			tld_end = q;
		if (q + 1 < t->len && t->s[q] == '.' && is_ascii_alnum((unsigned char)t->s[q + 1]))
			q++;
		else
			break;
	}
	if (tld_end == 0 || !at_word_end(t, tld_end) ||
	    (tld_end < t->len && (t->s[tld_end] == '-' || t->s[tld_end] == '@')))
		return 0;
	return tld_end;
}

/* Punctuation that ends a sentence rather than a web address. */
static int is_trailing_punct(uint32_t c)
{
	return (c != 0 && c < 0x80 && strchr(".,;:!?'*]}", (int)c) != NULL) || c == 0x2019 ||
	       c == 0x201D;
}

/* The end of a URL's path from p: up to white space or <>", less the
 * punctuation that ends the sentence (and a ')' it did not open). */
static size_t url_end(const text_view *t, size_t p)
{
	size_t q = p, k, opened = 0, closed = 0;

	while (q < t->len) {
		uint32_t c = char_at(t, q, &k);
		if (c == UTF8_BAD || is_space_cp(c) || c < 0x20 || c == 0x7F || c == '<' ||
		    c == '>' || c == '"')
			break;
		opened += c == '(';
		closed += c == ')';
		q += k;
	}
	while (q > p) {
		uint32_t c = char_before(t, q);
		size_t b = q - 1;
		while (b > p && (t->u[b] & 0xC0) == 0x80)
			b--;
		if (c == ')' && closed > opened)
			closed--;
		else if (!is_trailing_punct(c))
			break;
		q = b;
	}
	return q;
}

/* Web address: "http://" or "https://" and what follows, "www." and a
 * domain, or a bare domain with a known TLD ("nhs.uk", "bbc.co.uk"), each
 * with any path after it. */
static size_t web_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	size_t left = t->len - p, e, rest = 0;

	if (!is_ascii_alnum((unsigned char)t->s[p]) || prev == '.' || prev == '@' || prev == '-' ||
	    prev == '_')
		return 0;
	if (left > 7 && ascii_equal_ci(t->s + p, 7, "http://"))
		rest = p + 7;
	else if (left > 8 && ascii_equal_ci(t->s + p, 8, "https://"))
		rest = p + 8;
	else if (left > 4 && ascii_equal_ci(t->s + p, 4, "www."))
		rest = p + 4;
	if (rest != 0 && rest < t->len && is_ascii_alnum((unsigned char)t->s[rest]))
		return url_end(t, rest);
	e = domain_end(t, p);
	if (e != 0 && e < t->len && t->s[e] == '/')
		e = url_end(t, e);
	return e;
}

/* A UK number written nationally (digits[0] is '0'): 11 digits starting
 * 01, 02, 03, 05, 07, 08 or 09, or 10 digits for the older 01 area codes
 * and 0800/0500 freephone. */
static int uk_phone_digits(const char *d, size_t n)
{
	if (n < 10 || d[0] != '0' || !strchr("1235789", d[1]))
		return 0;
	if (n == 11)
		return 1;
	return n == 10 && (d[1] == '1' || memcmp(d, "0800", 4) == 0 || memcmp(d, "0500", 4) == 0);
}

/* The end of a UK phone number starting at p, or 0. Digits come in groups
 * separated by one space, hyphen or dot; "+44" or "0044" may replace the
 * first 0, with an optional "(0)"; the area code may be in parentheses. */
static size_t phone_digits_end(const text_view *t, size_t p)
{
	const char *s = t->s;
	char digits[PHONE_DIGITS_MAX + 1];
	size_t q = p, n = 0, best = 0, len = t->len;
	int paren = 0, groups = 0;

	if (s[q] == '+' || (len - q > 4 && memcmp(s + q, "0044", 4) == 0)) {
		q += s[q] == '+' ? 1 : 4;
		if (s[p] == '+' && !(len - q >= 2 && s[q] == '4' && s[q + 1] == '4'))
			return 0;
		if (s[p] == '+')
			q += 2;
		if (q < len && (s[q] == ' ' || s[q] == '-'))
			q++;
		if (len - q >= 3 && memcmp(s + q, "(0)", 3) == 0) {
			q += 3;
			if (q < len && s[q] == ' ')
				q++;
		}
		digits[n++] = '0';
	} else if (s[q] == '(') {
		paren = 1;
		q++;
	}
	while (q < len && is_ascii_digit((unsigned char)s[q])) {
		size_t g = 0;
		while (q + g < len && is_ascii_digit((unsigned char)s[q + g]))
			g++;
		if (n + g > PHONE_DIGITS_MAX)
			break;
		memcpy(digits + n, s + q, g);
		n += g;
		q += g;
		groups++;
		if (paren) {
			/* Only the first group, the area code, may be in parentheses. */
			if (q >= len || s[q] != ')' || groups != 1)
				return 0;
			paren = 0;
			q++;
		}
		if (uk_phone_digits(digits, n))
			best = q;
		if (n >= PHONE_DIGITS_MAX)
			break;
		if (q + 1 < len && (s[q] == ' ' || s[q] == '-' || s[q] == '.') &&
		    is_ascii_digit((unsigned char)s[q + 1]))
			q++;
		else if (!(q < len && is_ascii_digit((unsigned char)s[q])))
			break;
	}
	if (best == 0 || !at_word_end(t, best))
		return 0;
	return best;
}

/* Phone: a UK number starting with 0, +44 or '(' after no word character
 * (999, 111 and extensions never match). */
static size_t phone_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	char c = t->s[p];

	if (c != '0' && c != '+' && c != '(')
		return 0;
	if (is_word_cp(prev) || prev == '+' || prev == '.' || prev == '/' || prev == '-' ||
	    prev == ',' || prev == 0xA3 /* £ */ || prev == '$')
		return 0;
	return phone_digits_end(t, p);
}

/* The NHS modulus 11 check: weights 10 down to 2 on the first nine digits,
 * the check digit is 11 less the remainder (11 means 0, 10 means no valid
 * number). Ten identical digits are never issued, so never match. */
static int nhs_number_valid(const char *d)
{
	int sum = 0, check, i, same = 1;

	for (i = 0; i < 9; i++)
		sum += (d[i] - '0') * (10 - i);
	for (i = 1; i < 10; i++)
		same &= d[i] == d[0];
	check = 11 - sum % 11;
	if (check == 11)
		check = 0;
	return !same && check != 10 && check == d[9] - '0';
}

/* NHS number: ten digits together, or as 3-3-4 with single spaces or
 * hyphens, not part of a longer number, passing the modulus 11 check. */
static size_t nhs_number_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	const char *s = t->s;
	char d[10];
	size_t e;
	int v;

	if (!is_ascii_digit((unsigned char)s[p]))
		return 0;
	if (prev == '.' || prev == ',' || prev == '/' || prev == '-' || prev == '+')
		return 0;
	if (digit_run(t, p, &v) == 10) {
		memcpy(d, s + p, 10);
		e = p + 10;
	} else if (digit_run(t, p, &v) == 3 && p + 12 <= t->len &&
		   (s[p + 3] == ' ' || s[p + 3] == '-') && s[p + 7] == s[p + 3] &&
		   digit_run(t, p + 4, &v) == 3 && digit_run(t, p + 8, &v) == 4) {
		memcpy(d, s + p, 3);
		memcpy(d + 3, s + p + 4, 3);
		memcpy(d + 6, s + p + 8, 4);
		e = p + 12;
	} else {
		return 0;
	}
	if (!at_word_end(t, e) ||
	    (e + 1 < t->len && strchr(".,/-", s[e]) && is_ascii_digit((unsigned char)s[e + 1])))
		return 0;
	return nhs_number_valid(d) ? e : 0;
}

/* ---- dates ---- */

static const char *const month_names[12] = {
	"january", "february", "march", "april", "may", "june",
	"july", "august", "september", "october", "november", "december",
};

static const char *const month_abbreviations[12] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};

/* A date's parts as written; 0 for a part not written. */
typedef struct {
	size_t end;
	int day, month, year;
} date_parts;

/* The month named at p (1-12, full or three letters, "Sept", any case, an
 * abbreviation may end in a dot) and where it ends; 0 when none. */
static int month_at(const text_view *t, size_t p, size_t *end)
{
	char word[12];
	size_t n = ascii_word_at(t, p, word, sizeof word);
	int i;

	if (n == 0)
		return 0;
	if (n < 3 || !strchr("adfjmnos", word[0]))
		return 0;
	for (i = 0; i < 12; i++) {
		if (word[0] != month_names[i][0])
			continue;
		if (strcmp(word, month_names[i]) == 0) {
			*end = p + n;
			return i + 1;
		}
		if (strcmp(word, month_abbreviations[i]) == 0 ||
		    (i == 8 && strcmp(word, "sept") == 0)) {
			*end = p + n + (p + n < t->len && t->s[p + n] == '.');
			return i + 1;
		}
	}
	return 0;
}

static int day_in_month(int day, int month)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1];
}

/* Non-zero when a number may end at q: no word character follows, and no
 * separator and digit that would make it part of a longer number. */
static int number_ends(const text_view *t, size_t q)
{
	return at_word_end(t, q) &&
	       !(q + 1 < t->len && strchr("./-:,", t->s[q]) && t->s[q] != '\0' &&
		 is_ascii_digit((unsigned char)t->s[q + 1]));
}

/* q moved past "st", "nd", "rd" or "th" ending a word, when there is one. */
static size_t skip_ordinal(const text_view *t, size_t q)
{
	static const char *const suffixes[] = { "st", "nd", "rd", "th" };
	size_t i;

	if (t->len - q < 2)
		return q;
	for (i = 0; i < 4; i++)
		if (ascii_equal_ci(t->s + q, 2, suffixes[i]) && at_word_end(t, q + 2))
			return q + 2;
	return q;
}

/* A four-digit year after a day and month (", 1954" or " 1954"), if any. */
static void year_after(const text_view *t, date_parts *d)
{
	size_t q = d->end, r;
	int year;

	if (q < t->len && t->s[q] == ',')
		q++;
	r = skip_hspace(t, q);
	if (r == q || digit_run(t, r, &year) != 4 || !number_ends(t, r + 4))
		return;
	d->year = year;
	d->end = r + 4;
}

/* Two-digit years mean the latest year not after this one ("54" is 1954). */
static int full_year(int yy, int now)
{
	int century = now - now % 100;

	return yy <= now % 100 ? century + yy : century - 100 + yy;
}

/* A date written at word start p: numeric (12/03/1954, 1.2.54, 12-03-1954,
 * 1954-03-12, or 12/03 without a year), in words (12 March 1954, 3rd of May,
 * May 3rd, 1954, March 1954), or a year alone (1800 to this year). */
static int parse_date(const text_view *t, size_t p, int now, date_parts *d)
{
	const char *s = t->s;
	uint32_t prev = char_before(t, p);
	size_t na, q, r;
	int a, b, c;

	memset(d, 0, sizeof *d);
	if (is_ascii_digit((unsigned char)s[p])) {
		if (prev == '.' || prev == '/' || prev == '-' || prev == ',')
			return 0;
		na = digit_run(t, p, &a);
		q = p + na;
		if (na == 4 && q + 6 <= t->len && s[q] == '-') {
			/* ISO 8601: 1954-03-12 */
			if (digit_run(t, q + 1, &b) != 2 || s[q + 3] != '-' ||
			    digit_run(t, q + 4, &c) != 2 || !day_in_month(c, b) ||
			    !number_ends(t, q + 6))
				return 0;
			d->end = q + 6;
			d->day = c;
			d->month = b;
			d->year = a;
			return 1;
		}
		if (na == 4) {
			if (a < 1800 || a > now || !number_ends(t, q))
				return 0;
			d->end = q;
			d->year = a;
			return 1;
		}
		if (na > 2)
			return 0;
		if (q + 1 < t->len && strchr("/.-", s[q]) && s[q] != '\0') {
			char sep = s[q];
			size_t nb = digit_run(t, q + 1, &b);
			if (nb < 1 || nb > 2 || !day_in_month(a, b))
				return 0;
			r = q + 1 + nb;
			if (r + 1 < t->len && s[r] == sep &&
			    is_ascii_digit((unsigned char)s[r + 1])) {
				size_t nc = digit_run(t, r + 1, &c);
				if ((nc != 2 && nc != 4) || !number_ends(t, r + 1 + nc))
					return 0;
				d->end = r + 1 + nc;
				d->year = nc == 2 ? full_year(c, now) : c;
			} else {
				if (!number_ends(t, r))
					return 0;
				d->end = r;
			}
			d->day = a;
			d->month = b;
			return 1;
		}
		/* 12 March 1954, 3rd of May */
		q = skip_ordinal(t, q);
		if (!at_word_end(t, q))
			return 0;
		r = skip_hspace(t, q);
		if (r == q)
			return 0;
		if (r + 2 < t->len && ascii_equal_ci(s + r, 2, "of") && at_word_end(t, r + 2)) {
			q = skip_hspace(t, r + 2);
			if (q == r + 2)
				return 0;
			r = q;
		}
		b = month_at(t, r, &d->end);
		if (b == 0 || !day_in_month(a, b))
			return 0;
		d->day = a;
		d->month = b;
		year_after(t, d);
		return 1;
	}
	if (!is_ascii_letter((unsigned char)s[p]) || (b = month_at(t, p, &q)) == 0)
		return 0;
	/* May 3rd, 1954; March 1954 */
	if (q < t->len && s[q] == ',')
		q++;
	r = skip_hspace(t, q);
	if (r == q)
		return 0;
	na = digit_run(t, r, &a);
	if (na == 4) {
		if (a < 1800 || a > now || !number_ends(t, r + 4))
			return 0;
		d->end = r + 4;
		d->month = b;
		d->year = a;
		return 1;
	}
	if (na < 1 || na > 2 || !day_in_month(a, b))
		return 0;
	q = skip_ordinal(t, r + na);
	if (!number_ends(t, q))
		return 0;
	d->end = q;
	d->day = a;
	d->month = b;
	year_after(t, d);
	return 1;
}

/* The end of words at p that say a birth date follows (born, birth,
 * birthday, birthdate, DOB, D.O.B., date of birth), or 0. */
static size_t birth_cue_at(const text_view *t, size_t p)
{
	static const char *const cues[] = { "born", "birth", "birthday", "birthdate", "dob" };
	const char *s = t->s;
	char word[12];
	size_t n, i;

	if (t->len - p >= 5 && ascii_lower(s[p]) == 'd' && s[p + 1] == '.' &&
	    ascii_lower(s[p + 2]) == 'o' && s[p + 3] == '.' && ascii_lower(s[p + 4]) == 'b' &&
	    at_word_end(t, p + 5))
		return p + 5 + (p + 5 < t->len && s[p + 5] == '.');
	n = ascii_word_at(t, p, word, sizeof word);
	if (n == 4 && strcmp(word, "date") == 0) {
		/* "date of birth" */
		size_t q = skip_hspace(t, p + n);
		if (q == p + n || ascii_word_at(t, q, word, sizeof word) != 2 ||
		    strcmp(word, "of") != 0)
			return 0;
		p = skip_hspace(t, q + 2);
		if (p == q + 2 || ascii_word_at(t, p, word, sizeof word) != 5 ||
		    strcmp(word, "birth") != 0)
			return 0;
		return p + 5;
	}
	for (i = 0; n > 0 && i < sizeof cues / sizeof cues[0]; i++)
		if (strcmp(word, cues[i]) == 0)
			return p + n;
	return 0;
}

/* Date of birth: a full date (day, month, year) from BIRTH_AGE_MAX to
 * BIRTH_AGE_MIN years ago; or birth words followed within BIRTH_CUE_WORDS
 * words by any day and month, or by a year up to this one, the finding then
 * running from the birth words to the date ("born in 1950", "DOB: 12/03"). */
static size_t date_of_birth_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	date_parts d;
	size_t q;

	(void)prev;
	/* Digits, birth words and month names start with one of these. */
	if (!is_ascii_digit((unsigned char)t->s[p]) && !strchr("abdfjmnosABDFJMNOS", t->s[p]))
		return 0;
	q = birth_cue_at(t, p);
	if (q) {
		int i;
		for (i = 0; i < BIRTH_CUE_WORDS; i++) {
			q = next_word_start(t, q);
			if (q >= t->len)
				break;
			if (parse_date(t, q, sc->year, &d) &&
			    ((d.day && d.month) ||
			     (d.year >= sc->year - BIRTH_AGE_MAX && d.year <= sc->year)))
				return d.end;
			q = word_end(t, q);
		}
		return 0;
	}
	if (parse_date(t, p, sc->year, &d) && d.day && d.month && d.year &&
	    d.year >= sc->year - BIRTH_AGE_MAX && d.year <= sc->year - BIRTH_AGE_MIN)
		return d.end;
	return 0;
}

/* ---- postcodes ---- */

/* Non-zero when the three bytes at s are a digit and a lower-case ordinal
 * ending ("2nd", "5th"): "B3 2nd floor" is a floor, not a postcode. */
static int is_ordinal(const char *s)
{
	return is_ascii_digit((unsigned char)s[0]) &&
	       (ascii_equal_ci(s + 1, 2, "st") || ascii_equal_ci(s + 1, 2, "nd") ||
		ascii_equal_ci(s + 1, 2, "rd") || ascii_equal_ci(s + 1, 2, "th")) &&
	       is_ascii_lower((unsigned char)s[1]) && is_ascii_lower((unsigned char)s[2]);
}

static int postcode_ok(const char *candidate)
{
	validate_verdict v = validate_postcode(candidate, NULL, 0, NULL, 0);

	return v == VALIDATE_OK || v == VALIDATE_WARN;
}

/* The end of a postcode at p: "LE1 5WW" with one space or "le15ww" without,
 * "BFPO 801", any case, passing validate_postcode; 0 when none. */
static size_t postcode_end(const text_view *t, size_t p)
{
	const char *s = t->s;
	char candidate[16];
	size_t n1 = 0, q;

	while (p + n1 < t->len && is_ascii_alnum((unsigned char)s[p + n1]) && n1 < 8)
		n1++;
	q = p + n1;
	if (n1 >= 8 || !at_word_end(t, q))
		return 0;
	if (n1 >= 2 && n1 <= 4 && q < t->len && s[q] == ' ') {
		size_t n2 = 0;
		while (q + 1 + n2 < t->len && is_ascii_alnum((unsigned char)s[q + 1 + n2]) &&
		       n2 < 5)
			n2++;
		if ((n2 == 3 || (n2 >= 1 && n2 <= 4 && ascii_equal_ci(s + p, 4, "bfpo"))) &&
		    at_word_end(t, q + 1 + n2) && !(n2 == 3 && is_ordinal(s + q + 1))) {
			memcpy(candidate, s + p, n1);
			candidate[n1] = ' ';
			memcpy(candidate + n1 + 1, s + q + 1, n2);
			candidate[n1 + 1 + n2] = '\0';
			if (postcode_ok(candidate))
				return q + 1 + n2;
		}
	}
	if (n1 >= 5 && !is_ordinal(s + p + n1 - 3)) {
		memcpy(candidate, s + p, n1);
		candidate[n1] = '\0';
		if (postcode_ok(candidate))
			return p + n1;
	}
	return 0;
}

/* Postcode: a word (or two) starting with a letter that validate_postcode
 * accepts, not part of an address or a file name. */
static size_t postcode_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	size_t i;

	if (!is_ascii_letter((unsigned char)t->s[p]) || prev == '.' || prev == '@' || prev == '-' ||
	    prev == '_' || prev == '/')
		return 0;
	/* A digit or the space comes within the first five characters. */
	for (i = 1; i < 5 && p + i < t->len; i++)
		if (is_ascii_digit((unsigned char)t->s[p + i]) || t->s[p + i] == ' ')
			return postcode_end(t, p);
	return 0;
}

/* ---- names after a title ---- */

/* A title, any case ("Dr", "dr", "DR"); an abbreviation may end in a dot;
 * capital_only titles must start with a capital ("Miss Smith", not "I will
 * miss Christmas"). */
static const struct {
	const char *word, *second;
	unsigned char abbreviation, capital_only;
} titles[] = {
	{ "staff", "nurse", 0, 0 }, { "charge", "nurse", 0, 0 }, { "doctor", NULL, 0, 0 },
	{ "dr", NULL, 1, 0 },       { "nurse", NULL, 0, 0 },     { "sister", NULL, 0, 0 },
	{ "matron", NULL, 0, 0 },   { "mrs", NULL, 1, 0 },       { "mr", NULL, 1, 0 },
	{ "ms", NULL, 1, 0 },       { "mx", NULL, 1, 0 },        { "miss", NULL, 0, 1 },
	{ "professor", NULL, 0, 0 }, { "prof", NULL, 1, 0 },
};

/* Capitalised words that are not names after a title: "the nurse I saw",
 * "Nurse Practitioner", "Doctor The". Sorted, for bsearch. */
static const char *const not_names[] = {
	"about", "advanced", "after", "all", "also", "am", "an", "and", "any", "are", "as", "asked",
	"assistant", "associate", "at", "be", "because", "been", "before", "but", "by",
	"came", "can", "consultant", "could", "did", "do", "does", "for", "from", "gave",
	"gp", "had", "has", "have", "he", "her", "here", "him", "his", "how", "however",
	"i", "if", "in", "is", "it", "its", "just", "lead", "manager", "me", "my", "nhs",
	"no", "not", "now", "of", "ok", "okay", "on", "once", "one", "or", "our", "out",
	"please", "practitioner", "registrar", "said", "says", "she", "should", "so",
	"sorry", "specialist", "station", "team", "than", "thank", "thanks", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "those", "to", "today",
	"told", "too", "was", "we", "were", "what", "when", "where", "which", "who", "why",
	"will", "with", "would", "yes", "yesterday", "you", "your",
};

static int compare_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Non-zero when the lower-case word is in not_names. */
static int is_not_name(const char *word)
{
	return bsearch(&word, not_names, sizeof not_names / sizeof not_names[0],
		       sizeof not_names[0], compare_words) != NULL;
}

/* The end of a title at p (with its dot, for an abbreviation), or 0. */
static size_t title_at(const text_view *t, size_t p)
{
	const char *s = t->s;
	char word[12];
	size_t n = ascii_word_at(t, p, word, sizeof word), i;

	if (n == 0)
		return 0;
	for (i = 0; i < sizeof titles / sizeof titles[0]; i++) {
		size_t e = p + n;
		if (word[0] != titles[i].word[0] || strcmp(word, titles[i].word) != 0)
			continue;
		if (titles[i].capital_only && !is_ascii_upper((unsigned char)s[p]))
			continue;
		/* "MS" in capitals is multiple sclerosis, not a title. */
		if (strcmp(word, "ms") == 0 && s[p] == 'M' && s[p + 1] == 'S')
			continue;
		if (titles[i].second) {
			char second[12];
			size_t q = skip_hspace(t, e), m;
			if (q == e || q >= t->len)
				continue;
			m = ascii_word_at(t, q, second, sizeof second);
			if (m == 0 || strcmp(second, titles[i].second) != 0)
				continue;
			e = q + m;
		}
		if (titles[i].abbreviation && e < t->len && s[e] == '.')
			e++;
		return e;
	}
	return 0;
}

/* A letter as names use them: any word character but a digit. */
static int is_name_letter(uint32_t c)
{
	return is_word_cp(c) && !is_ascii_digit(c);
}

/* The end of a name at q: a capital letter, then letters, with inner
 * apostrophes and hyphens ("O'Brien", "Smith-Jones"), two letters or more,
 * and not a word from not_names; 0 when none. */
static size_t name_at(const text_view *t, size_t q)
{
	char word[16];
	size_t p = q, k, k2, letters = 0, ascii_len = 0;
	int ascii = 1, stop_ascii = 0;

	if (q >= t->len || letter_case(char_at(t, q, &k)) != 1)
		return 0;
	while (p < t->len) {
		uint32_t c = char_at(t, p, &k);
		if (is_name_letter(c)) {
			if (!stop_ascii) {
				if (c >= 0x80 || ascii_len + 1 >= sizeof word)
					ascii = 0;
				else
					word[ascii_len++] = ascii_lower((char)c);
			}
			letters++;
			p += k;
		} else if ((is_apostrophe(c) || c == '-') && p + k < t->len &&
			   is_name_letter(char_at(t, p + k, &k2))) {
			stop_ascii = 1; /* "I'm" is judged by its "I" */
			p += k;
		} else {
			break;
		}
	}
	if (letters < 2 || !at_word_end(t, p))
		return 0;
	if (ascii) {
		word[ascii_len] = '\0';
		if (is_not_name(word))
			return 0;
	}
	return p;
}

/* The end of a job title word at p that may stand between a title and a
 * name ("Nurse Practitioner Jane Doe"), or 0. */
static size_t role_at(const text_view *t, size_t p)
{
	static const char *const roles[] = {
		"advanced", "assistant", "associate", "consultant", "lead", "manager",
		"practitioner", "registrar", "specialist",
	};
	char word[16];
	size_t n = ascii_word_at(t, p, word, sizeof word), i;

	for (i = 0; n > 0 && i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(word, roles[i]) == 0)
			return p + n;
	return 0;
}

/* Name after a title: a title, spaces on the same line, and a capitalised
 * name, perhaps after a role word; up to NAME_EXTRA_WORDS more names joined by one space are
 * included. */
static size_t name_after_title_at(const scan *sc, size_t p, uint32_t prev)
{
	const text_view *t = &sc->t;
	size_t e, q, name_end;
	int i;

	(void)prev;
	/* Every title starts with one of these letters: most words stop here. */
	if (!strchr("cdmnpsCDMNPS", t->s[p]) || t->s[p] == '\0' || (e = title_at(t, p)) == 0)
		return 0;
	q = skip_hspace(t, e);
	if (q == e)
		return 0;
	name_end = name_at(t, q);
	if (name_end == 0) {
		/* "Nurse Practitioner Jane Doe": a role may come between. */
		size_t role_end = role_at(t, q), r = skip_hspace(t, role_end);
		if (role_end == 0 || r == role_end || (name_end = name_at(t, r)) == 0)
			return 0;
	}
	for (i = 0; i < NAME_EXTRA_WORDS; i++) {
		size_t more;
		if (name_end >= t->len || t->s[name_end] != ' ' ||
		    (more = name_at(t, name_end + 1)) == 0)
			break;
		name_end = more;
	}
	return name_end;
}

/* Swearing: a word from the swearing list, disguises allowed. */
static size_t swearing_at(const scan *sc, size_t p, uint32_t prev)
{
	(void)prev;
	if (!sc->lists)
		return 0;
	return phrase_at(&sc->t, &sc->lists->swearing, 1, p);
}

/* ---- whole-text checks ---- */

/* Non-zero when at least CAPITALS_MIN_LETTERS letters (that letter_case
 * knows) and over CAPITALS_PERCENT per cent of them capitals. */
static int mostly_capitals(const text_view *t)
{
	size_t pos = 0, k, letters = 0, upper = 0;

	while (pos < t->len) {
		int c = letter_case(char_at(t, pos, &k));
		letters += c != 0;
		upper += c > 0;
		pos += k;
	}
	return letters >= CAPITALS_MIN_LETTERS && upper * 100 > letters * CAPITALS_PERCENT;
}

/* Where word number limit + 1 starts (words as validate_word_count counts
 * them) and where the last word ends; 0 when there are not that many. */
static int words_over(const text_view *t, size_t limit, size_t *start, size_t *end)
{
	size_t pos = 0, k, words = 0;
	int in_word = 0;

	*start = 0;
	*end = 0;
	while (pos < t->len) {
		uint32_t c = char_at(t, pos, &k);
		int space = c != UTF8_BAD && is_space_cp(c);
		if (!space && !in_word && ++words == limit + 1)
			*start = pos;
		if (!space)
			*end = pos + k;
		in_word = !space;
		pos += k;
	}
	return words > limit;
}

/* ---- putting it together ---- */

/* Says where a finding starting at p (after the character prev) ends, or 0. */
typedef size_t (*matcher)(const scan *sc, size_t p, uint32_t prev);

/* In finding_kind order: the first to match at a place wins. */
static const struct {
	finding_kind kind;
	matcher at;
} matchers[] = {
	{ FINDING_EMAIL, email_at },
	{ FINDING_WEB_ADDRESS, web_at },
	{ FINDING_PHONE, phone_at },
	{ FINDING_NHS_NUMBER, nhs_number_at },
	{ FINDING_DATE_OF_BIRTH, date_of_birth_at },
	{ FINDING_POSTCODE, postcode_at },
	{ FINDING_NAME_AFTER_TITLE, name_after_title_at },
	{ FINDING_SWEARING, swearing_at },
};

static int this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now == (time_t)-1 || !gmtime_r(&now, &tm))
		return FALLBACK_YEAR;
	return tm.tm_year + 1900;
}

/* Counts f, and stores it while there is room. */
static void emit(finding *out, size_t cap, size_t *count, finding f)
{
	if (*count < cap)
		out[*count] = f;
	(*count)++;
}

/* Non-zero when a comes before b in text order (ties by kind). */
static int finding_before(const finding *a, const finding *b)
{
	return a->start < b->start || (a->start == b->start && a->kind < b->kind);
}

size_t detect_identifiers(const char *text, const detect_lists *lists, size_t warn_words,
			  finding *out, size_t cap)
{
	finding whole[2], found;
	size_t count = 0, n_whole = 0, w = 0, i, pos;
	uint32_t prev;
	scan sc;

	if (!text)
		return 0;
	if (!out)
		cap = 0;
	sc.t.s = text;
	sc.t.u = (const unsigned char *)text;
	sc.t.len = strlen(text);
	sc.lists = lists;
	sc.year = this_year();

	if (mostly_capitals(&sc.t)) {
		whole[n_whole].kind = FINDING_CAPITALS;
		whole[n_whole].start = 0;
		whole[n_whole].end = sc.t.len;
		n_whole++;
	}
	if (warn_words > 0 && words_over(&sc.t, warn_words, &whole[n_whole].start,
					 &whole[n_whole].end)) {
		whole[n_whole].kind = FINDING_TOO_LONG;
		n_whole++;
	}

	/* One pass: at each word start (and each '+' or '(' a phone number may
	 * start with) ask every matcher in turn; a finding is passed over whole,
	 * so findings never overlap and the scan stays linear. */
	pos = 0;
	prev = 0;
	while (pos < sc.t.len) {
		size_t k, e = 0;
		uint32_t c = char_at(&sc.t, pos, &k);

		if ((is_word_cp(c) && !is_word_cp(prev)) || c == '+' || c == '(') {
			for (i = 0; i < sizeof matchers / sizeof matchers[0] && e <= pos; i++) {
				e = matchers[i].at(&sc, pos, prev);
				found.kind = matchers[i].kind;
			}
		}
		if (e > pos) {
			found.start = pos;
			found.end = e;
			while (w < n_whole && finding_before(&whole[w], &found))
				emit(out, cap, &count, whole[w++]);
			emit(out, cap, &count, found);
			pos = e;
			prev = char_before(&sc.t, pos);
		} else {
			prev = c;
			pos += k;
		}
	}
	while (w < n_whole)
		emit(out, cap, &count, whole[w++]);
	return count;
}

static const struct {
	const char *key;
	const char *label;
} kinds[FINDING_KIND_COUNT] = {
    [FINDING_EMAIL] = {"email", "an email address"},
    [FINDING_WEB_ADDRESS] = {"web_address", "a web address"},
    [FINDING_PHONE] = {"phone", "a phone number"},
    [FINDING_NHS_NUMBER] = {"nhs_number", "an NHS number"},
    [FINDING_DATE_OF_BIRTH] = {"date_of_birth", "a date that may be a date of birth"},
    [FINDING_POSTCODE] = {"postcode", "a postcode"},
    [FINDING_NAME_AFTER_TITLE] = {"name_after_title", "a name after a title like Dr or Nurse"},
    [FINDING_CAPITALS] = {"capitals", "text mostly in capital letters"},
    [FINDING_SWEARING] = {"swearing", "swearing or an offensive word"},
    [FINDING_TOO_LONG] = {"too_long", "more words than a story should have"},
};

const char *detect_kind_label(finding_kind kind)
{
	if ((unsigned)kind >= FINDING_KIND_COUNT)
		return "something to check";
	return kinds[kind].label;
}

const char *detect_kind_key(finding_kind kind)
{
	if ((unsigned)kind >= FINDING_KIND_COUNT)
		return "unknown";
	return kinds[kind].key;
}

/* The first phrase of list in text, its span to *start and *end. */
static int first_phrase(const char *text, const phrase_list *list, size_t *start, size_t *end)
{
	text_view t;
	size_t s, e;

	if (!text)
		return 0;
	t.s = text;
	t.u = (const unsigned char *)text;
	t.len = strlen(text);
	if (!phrase_find(&t, list, &s, &e))
		return 0;
	if (start)
		*start = s;
	if (end)
		*end = e;
	return 1;
}

int detect_safeguarding(const char *text, const detect_lists *lists, size_t *start, size_t *end)
{
	return lists ? first_phrase(text, &lists->safeguarding, start, end) : 0;
}

int detect_safety_incident(const char *text, const detect_lists *lists, size_t *start,
			   size_t *end)
{
	return lists ? first_phrase(text, &lists->safety, start, end) : 0;
}
