/* catalogue.c - the services catalogue (storykiosk-services(5)): reads and
 * checks the list of wards and clinics a story can be about, and answers the
 * type-ahead search on the services step. Pure: no curses. */
#include "catalogue.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "fold.h"
#include "validate.h"

/* Limits; storykiosk-services(5) lists them. */
#define CATALOGUE_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define CATALOGUE_MAX_LINE 4096
#define CATALOGUE_MAX_CODE 40
#define CATALOGUE_MAX_NAME 200  /* characters */
#define CATALOGUE_MAX_QUERY 1024 /* bytes of folded query; more is ignored */

#if defined(__GNUC__)
#define CATALOGUE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CATALOGUE_PRINTF(f, a)
#endif

/* Folded text being built: grows on the heap, or fills a fixed buffer and
 * then quietly stops (for a query, which has nowhere to report failure). */
typedef struct {
	char *text;
	size_t len;
	size_t cap;
	int fixed;
	int oom;
} folded_text;

typedef struct {
	const char *name;
	char *err;
	size_t errlen;
	int failed;
	int line_no;
	catalogue *cat;
	size_t services_cap;
	int *lines;            /* line of each service, for duplicate messages */
	size_t *code_table;    /* open addressing: service index + 1, 0 is empty */
	size_t code_table_cap;
} catalogue_parser;

static void complain(catalogue_parser *p, int line, const char *fmt, ...)
	CATALOGUE_PRINTF(3, 4);

static void complain(catalogue_parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int used;

	if (p->failed)
		return;
	p->failed = 1;
	if (p->err == NULL || p->errlen == 0)
		return;
	used = snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	if (used < 0 || (size_t)used >= p->errlen)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(p->err + used, p->errlen - (size_t)used, fmt, ap);
	va_end(ap);
}

static void out_of_memory(catalogue_parser *p)
{
	complain(p, p->line_no, "out of memory");
}

static void append_bytes(folded_text *out, const char *bytes, size_t n)
{
	if (out->oom)
		return;
	if (out->len + n + 1 > out->cap) {
		size_t new_cap = out->cap ? out->cap : 64;
		char *grown;

		if (out->fixed) {
			out->oom = 1; /* stop at a whole character */
			return;
		}
		while (out->len + n + 1 > new_cap)
			new_cap *= 2;
		grown = realloc(out->text, new_cap);
		if (grown == NULL) {
			out->oom = 1;
			return;
		}
		out->text = grown;
		out->cap = new_cap;
	}
	memcpy(out->text + out->len, bytes, n);
	out->len += n;
	out->text[out->len] = '\0';
}

static int is_apostrophe(wchar_t wc)
{
	return wc == L'\'' || wc == 0x2019; /* ' and the typographic ’ */
}

/* The ASCII letters an accented Latin letter stands for in a search (fold.h:
 * "e" for 'é', "ss" for 'ß'), or 0 for any other character, which folds only
 * its case. The search must answer the same on every ward, whatever its
 * locale, so this is not left to the locale's transliteration. */
static size_t latin_base(wchar_t wc, char out[2])
{
#ifdef __STDC_ISO_10646__ /* wchar_t holds Unicode code points */
	if (wc >= 0xC0 && wc <= 0x17F)
		return fold_letter((uint32_t)wc, out);
#else
	(void)wc;
	(void)out;
#endif
	return 0;
}

/* A combining accent (U+0300..U+036F) typed or pasted after its letter, as
 * in "e" + U+0301 for "é": it is dropped, like the accent of "é" itself. */
static int is_combining_accent(wchar_t wc)
{
#ifdef __STDC_ISO_10646__
	return wc >= 0x300 && wc <= 0x36F;
#else
	(void)wc;
	return 0;
#endif
}

/* Whether the text after an '&' starts with a letter or digit: "A&E" is one
 * word, so that searching for it does not also find "Ear, Nose and Throat". */
static int joins_words(const char *rest, size_t len, const mbstate_t *state)
{
	mbstate_t peek = *state;
	wchar_t wc;
	size_t n = mbrtowc(&wc, rest, len, &peek);

	if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
		return 0;
	return iswalnum((wint_t)wc) != 0;
}

/* Appends the words of text to out, folded to lower case and without
 * accents, each word after one space: " older peoples medicine", " creche".
 * Words are runs of letters and digits; apostrophes and combining accents
 * vanish so "People's" is one word, and "A&E" stays one word. Accented Latin
 * letters become their base letter (latin_base); other letters fold their
 * case by the locale (towlower) and stay themselves, so "病房" matches only
 * itself, and emoji, like punctuation, separate words. Bytes the locale cannot
 * decode are kept as word bytes, so the load and the search still agree in
 * the C locale, where accents are then not folded (the kiosk itself always
 * runs with a UTF-8 LC_CTYPE: main.c's ensure_utf8_locale). */
static void fold_words(const char *text, folded_text *out)
{
	mbstate_t state;
	size_t len = strlen(text);
	size_t i = 0;
	int in_word = 0;

	memset(&state, 0, sizeof state);
	while (i < len && !out->oom) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, text + i, len - i, &state);
		char lower[MB_LEN_MAX];
		size_t lower_len;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&state, 0, sizeof state);
			if ((unsigned char)text[i] < 0x80) {
				in_word = 0;
			} else {
				if (!in_word)
					append_bytes(out, " ", 1);
				append_bytes(out, text + i, 1);
				in_word = 1;
			}
			i++;
			continue;
		}
		if (is_apostrophe(wc) || is_combining_accent(wc)) {
			i += n;
			continue;
		}
		if (wc == L'&' && in_word && joins_words(text + i + n,
							 len - i - n, &state)) {
			append_bytes(out, "&", 1);
			i += n;
			continue;
		}
		if (!iswalnum((wint_t)wc)) {
			in_word = 0;
			i += n;
			continue;
		}
		lower_len = latin_base(wc, lower);
		if (lower_len == 0) {
			mbstate_t out_state;

			memset(&out_state, 0, sizeof out_state);
			lower_len = wcrtomb(lower, (wchar_t)towlower((wint_t)wc),
					    &out_state);
		}
		if (!in_word)
			append_bytes(out, " ", 1);
		if (lower_len == (size_t)-1)
			append_bytes(out, text + i, n);
		else
			append_bytes(out, lower, lower_len);
		in_word = 1;
		i += n;
	}
}

static char *copy_text(catalogue_parser *p, const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		out_of_memory(p);
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	*len = n;
	return s;
}

static int is_code(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return len > 0;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int same_code(const char *a, const char *b)
{
	while (*a != '\0' && ascii_lower(*a) == ascii_lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* FNV-1a over the code ignoring case: codes differing only in case would be
 * told apart by catalogue_find_code but not by a person reading them out. */
static size_t hash_code(const char *code)
{
	size_t h = 2166136261u;

	for (; *code != '\0'; code++) {
		h ^= (unsigned char)ascii_lower(*code);
		h *= 16777619u;
	}
	return h;
}

static int grow_code_table(catalogue_parser *p)
{
	size_t new_cap = p->code_table_cap ? p->code_table_cap * 2 : 64;
	size_t *table = calloc(new_cap, sizeof *table);
	size_t i;

	if (table == NULL) {
		out_of_memory(p);
		return -1;
	}
	for (i = 0; i < p->code_table_cap; i++) {
		size_t entry = p->code_table[i];
		size_t slot;

		if (entry == 0)
			continue;
		slot = hash_code(p->cat->services[entry - 1].code) & (new_cap - 1);
		while (table[slot] != 0)
			slot = (slot + 1) & (new_cap - 1);
		table[slot] = entry;
	}
	free(p->code_table);
	p->code_table = table;
	p->code_table_cap = new_cap;
	return 0;
}

/* Records the code of the service just added; -1 if it is already taken. */
static int claim_code(catalogue_parser *p, size_t index)
{
	const char *code = p->cat->services[index].code;
	size_t slot;

	if ((index + 1) * 2 > p->code_table_cap && grow_code_table(p) < 0)
		return -1;
	slot = hash_code(code) & (p->code_table_cap - 1);
	while (p->code_table[slot] != 0) {
		size_t other = p->code_table[slot] - 1;

		if (same_code(p->cat->services[other].code, code)) {
			complain(p, p->line_no,
				 "service code '%s' is used twice (first at line %d, "
				 "as '%s')",
				 code, p->lines[other], p->cat->services[other].code);
			return -1;
		}
		slot = (slot + 1) & (p->code_table_cap - 1);
	}
	p->code_table[slot] = index + 1;
	return 0;
}

static int make_room(catalogue_parser *p)
{
	size_t new_cap;
	catalogue_service *services;
	int *lines;

	if (p->cat->n_services < p->services_cap)
		return 0;
	new_cap = p->services_cap ? p->services_cap * 2 : 32;
	services = realloc(p->cat->services, new_cap * sizeof *services);
	if (services == NULL) {
		out_of_memory(p);
		return -1;
	}
	p->cat->services = services;
	lines = realloc(p->lines, new_cap * sizeof *lines);
	if (lines == NULL) {
		out_of_memory(p);
		return -1;
	}
	p->lines = lines;
	p->services_cap = new_cap;
	return 0;
}

/* The search key holds every word of the name and the code: " ward 7 older
 * peoples medicine lvh w7 ". A query word matches a word's start exactly where
 * " word" occurs in it. */
static char *make_search_key(const catalogue_service *service)
{
	folded_text key;

	memset(&key, 0, sizeof key);
	fold_words(service->name, &key);
	fold_words(service->code, &key);
	append_bytes(&key, " ", 1);
	if (key.oom) {
		free(key.text);
		return NULL;
	}
	return key.text;
}

static int add_service(catalogue_parser *p, const char *code, size_t code_len,
		       const char *name, size_t name_len, const char *postcode,
		       size_t postcode_len)
{
	catalogue_service *service;
	size_t index = p->cat->n_services;

	if (make_room(p) < 0)
		return -1;
	service = &p->cat->services[index];
	memset(service, 0, sizeof *service);
	p->lines[index] = p->line_no;
	p->cat->n_services++;
	service->code = copy_text(p, code, code_len);
	service->name = copy_text(p, name, name_len);
	if (service->code == NULL || service->name == NULL)
		return -1;
	if (postcode_len == 0) {
		service->postcode = copy_text(p, "", 0);
	} else {
		char typed[CATALOGUE_MAX_LINE + 1];
		char normal[32];
		char msg[256];
		validate_verdict verdict;

		memcpy(typed, postcode, postcode_len);
		typed[postcode_len] = '\0';
		verdict = validate_postcode(typed, normal, sizeof normal, msg,
					    sizeof msg);
		if (verdict == VALIDATE_BLOCK) {
			complain(p, p->line_no,
				 "service %s has a postcode that is not valid: '%s'. "
				 "%s",
				 service->code, typed, msg);
			return -1;
		}
		if (verdict == VALIDATE_WARN) {
			complain(p, p->line_no,
				 "service %s has the NHS pseudo-postcode '%s', which "
				 "is for people, not sites; leave the postcode empty",
				 service->code, typed);
			return -1;
		}
		service->postcode = copy_text(p, normal, strlen(normal));
	}
	if (service->postcode == NULL)
		return -1;
	service->search_key = make_search_key(service);
	if (service->search_key == NULL) {
		out_of_memory(p);
		return -1;
	}
	return claim_code(p, index);
}

static int read_service(catalogue_parser *p, const char *line, size_t len)
{
	const char *first_bar = memchr(line, '|', len);
	const char *second_bar = NULL;
	const char *code, *name, *postcode = "";
	size_t code_len, name_len, postcode_len = 0;
	const char *name_end = line + len;
	char name_copy[CATALOGUE_MAX_LINE + 1];

	if (first_bar == NULL) {
		complain(p, p->line_no,
			 "a service line looks like 'CODE | Name of the service | "
			 "POSTCODE'; this one has no '|'");
		return -1;
	}
	second_bar = memchr(first_bar + 1, '|', len - (size_t)(first_bar + 1 - line));
	if (second_bar != NULL) {
		if (memchr(second_bar + 1, '|',
			   len - (size_t)(second_bar + 1 - line)) != NULL) {
			complain(p, p->line_no,
				 "too many '|': a service line has at most three "
				 "fields, 'CODE | Name | POSTCODE'");
			return -1;
		}
		name_end = second_bar;
		postcode_len = len - (size_t)(second_bar + 1 - line);
		postcode = trim(second_bar + 1, &postcode_len);
	}
	code_len = (size_t)(first_bar - line);
	code = trim(line, &code_len);
	name_len = (size_t)(name_end - (first_bar + 1));
	name = trim(first_bar + 1, &name_len);
	if (code_len == 0) {
		complain(p, p->line_no, "the service has no code before the '|'");
		return -1;
	}
	if (!is_code(code, code_len) || code_len > CATALOGUE_MAX_CODE) {
		complain(p, p->line_no,
			 "service code '%.*s' may only use letters, digits, '.', '_' "
			 "and '-' (at most %d)",
			 (int)code_len, code, CATALOGUE_MAX_CODE);
		return -1;
	}
	if (name_len == 0) {
		complain(p, p->line_no, "service %.*s has no name", (int)code_len,
			 code);
		return -1;
	}
	memcpy(name_copy, name, name_len);
	name_copy[name_len] = '\0';
	if (validate_utf8_length(name_copy) > CATALOGUE_MAX_NAME) {
		complain(p, p->line_no,
			 "the name of service %.*s is longer than %d characters",
			 (int)code_len, code, CATALOGUE_MAX_NAME);
		return -1;
	}
	return add_service(p, code, code_len, name, name_len, postcode,
			   postcode_len);
}

/* Service names reach the screen: control characters would be escape
 * sequences there, and a NUL means this is not a text file at all. */
static int check_line_bytes(catalogue_parser *p, const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			complain(p, p->line_no,
				 "the line holds a control character (byte 0x%02X); "
				 "only plain text and tabs are allowed",
				 c);
			return -1;
		}
	}
	if (!validate_utf8(line, len)) {
		complain(p, p->line_no,
			 "the line is not valid UTF-8 text; save the file as UTF-8");
		return -1;
	}
	for (i = 0; i + 1 < len; i++) {
		if ((unsigned char)line[i] == 0xc2 &&
		    (unsigned char)line[i + 1] >= 0x80 &&
		    (unsigned char)line[i + 1] <= 0x9f) {
			complain(p, p->line_no,
				 "the line holds a control character (U+%04X); only "
				 "plain text and tabs are allowed",
				 (unsigned)(unsigned char)line[i + 1]);
			return -1;
		}
	}
	return 0;
}

static int read_line(catalogue_parser *p, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CATALOGUE_MAX_LINE) {
		complain(p, p->line_no, "the line is longer than %d bytes",
			 CATALOGUE_MAX_LINE);
		return -1;
	}
	if (check_line_bytes(p, line, len) < 0)
		return -1;
	line = trim(line, &len);
	if (len == 0 || line[0] == '#')
		return 0;
	return read_service(p, line, len);
}

catalogue *catalogue_parse(const char *text, size_t len, const char *name,
			   char *err, size_t errlen)
{
	catalogue_parser p;
	size_t at = 0;

	memset(&p, 0, sizeof p);
	p.name = name ? name : "(catalogue)";
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		len = 0;
	if (len > CATALOGUE_MAX_BYTES) {
		complain(&p, 0, "the file is larger than 8 MiB; a catalogue is "
			 "much smaller than that");
		return NULL;
	}
	p.cat = calloc(1, sizeof *p.cat);
	if (p.cat == NULL) {
		out_of_memory(&p);
		return NULL;
	}
	p.cat->path = copy_text(&p, p.name, strlen(p.name));
	if (p.cat->path == NULL)
		goto fail;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		at = 3; /* a byte order mark from a Windows editor */
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;

		p.line_no++;
		if (read_line(&p, text + at, line_len) < 0)
			goto fail;
		at += line_len + (nl ? 1 : 0);
	}
	if (p.cat->n_services == 0) {
		complain(&p, 0, "the catalogue lists no services");
		goto fail;
	}
	free(p.lines);
	free(p.code_table);
	return p.cat;
fail:
	free(p.lines);
	free(p.code_table);
	catalogue_free(p.cat);
	return NULL;
}

static void load_error(char *err, size_t errlen, const char *fmt, ...)
	CATALOGUE_PRINTF(3, 4);

static void load_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

catalogue *catalogue_load(const char *path, char *err, size_t errlen)
{
	FILE *file;
	char *text = NULL;
	size_t len = 0, cap = 0;
	catalogue *cat;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	file = fopen(path, "rb");
	if (file == NULL) {
		load_error(err, errlen, "%s: cannot open the services catalogue: %s",
			   path, strerror(errno));
		return NULL;
	}
	/* Read one byte past the limit so catalogue_parse can say it is too big. */
	for (;;) {
		size_t got;

		if (len == cap) {
			size_t new_cap = cap ? cap * 2 : 64 * 1024;
			char *grown;

			if (new_cap > CATALOGUE_MAX_BYTES + 1)
				new_cap = CATALOGUE_MAX_BYTES + 1;
			if (new_cap == cap)
				break;
			grown = realloc(text, new_cap);
			if (grown == NULL) {
				load_error(err, errlen, "%s: out of memory", path);
				free(text);
				(void)fclose(file);
				return NULL;
			}
			text = grown;
			cap = new_cap;
		}
		got = fread(text + len, 1, cap - len, file);
		if (got == 0)
			break;
		len += got;
	}
	if (ferror(file)) {
		load_error(err, errlen,
			   "%s: cannot read the services catalogue: %s", path,
			   strerror(errno));
		free(text);
		(void)fclose(file);
		return NULL;
	}
	if (fclose(file) != 0) {
		load_error(err, errlen,
			   "%s: cannot read the services catalogue: %s", path,
			   strerror(errno));
		free(text);
		return NULL;
	}
	cat = catalogue_parse(text, len, path, err, errlen);
	free(text);
	return cat;
}

void catalogue_free(catalogue *cat)
{
	size_t i;

	if (cat == NULL)
		return;
	for (i = 0; i < cat->n_services; i++) {
		free(cat->services[i].code);
		free(cat->services[i].name);
		free(cat->services[i].postcode);
		free(cat->services[i].search_key);
	}
	free(cat->services);
	free(cat->path);
	free(cat);
}

size_t catalogue_search(const catalogue *cat, const char *query,
			size_t *found, size_t cap)
{
	char folded_buf[CATALOGUE_MAX_QUERY];
	char needles[2 * CATALOGUE_MAX_QUERY + 1]; /* a NUL after every word */
	folded_text folded;
	size_t needles_len = 0;
	size_t matched = 0;
	size_t i;

	if (cat == NULL)
		return 0;
	memset(&folded, 0, sizeof folded);
	folded.text = folded_buf;
	folded.cap = sizeof folded_buf;
	folded.fixed = 1;
	folded_buf[0] = '\0';
	if (query != NULL)
		fold_words(query, &folded);
	/* " ward 7" becomes " ward\0 7\0": each needle is a word with the space
	 * that must precede it in a search key. */
	for (i = 0; i < folded.len; i++) {
		if (folded_buf[i] == ' ' && needles_len > 0)
			needles[needles_len++] = '\0';
		needles[needles_len++] = folded_buf[i];
	}
	if (needles_len > 0)
		needles[needles_len++] = '\0';

	for (i = 0; i < cat->n_services; i++) {
		const char *key = cat->services[i].search_key;
		size_t at = 0;
		int all = 1;

		while (at < needles_len) {
			if (strstr(key, needles + at) == NULL) {
				all = 0;
				break;
			}
			at += strlen(needles + at) + 1;
		}
		if (!all)
			continue;
		if (found != NULL && matched < cap)
			found[matched] = i;
		matched++;
	}
	return matched;
}

int catalogue_text_matches(const char *text, const char *query)
{
	char no_code[] = "";
	catalogue_service one = { .code = no_code, .name = strdup(text), .postcode = NULL,
				  .search_key = NULL };
	if (one.name == NULL || (one.search_key = make_search_key(&one)) == NULL) {
		free(one.name);
		return 0;
	}
	catalogue single = { .path = NULL, .services = &one, .n_services = 1 };
	size_t found;
	int matches = catalogue_search(&single, query, &found, 1) == 1;
	free(one.search_key);
	free(one.name);
	return matches;
}

const catalogue_service *catalogue_find_code(const catalogue *cat,
					     const char *code)
{
	size_t i;

	if (cat == NULL || code == NULL)
		return NULL;
	for (i = 0; i < cat->n_services; i++)
		if (strcmp(cat->services[i].code, code) == 0)
			return &cat->services[i];
	return NULL;
}
