/* validate.c - judges what the operator types (postcodes, emails, usernames)
 * and makes untrusted text safe to put on a terminal. Pure: no curses, no I/O
 * but reading the username word lists. Messages never repeat a typed postcode
 * or email, so they can be shown or logged without leaking contact details. */
#include "validate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>
#include <wctype.h>

/* utf8_decode's code point for a malformed sequence. */
#define UTF8_BAD VALIDATE_UTF8_BAD

#define POSTCODE_COMPACT_MAX 15 /* longest run of letters and digits we look at */
#define EMAIL_MAX 254           /* RFC 5321 path limit less the angle brackets */
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63
#define USERNAME_MIN 3
#define USERNAME_MAX 30
#define SQUASHED_BLOCK_MIN 4 /* initials like "A.S.S." can spell a short word by accident */
#define EMAIL_PART_MIN 3     /* a shorter local part turns up in most usernames by chance */
#define EMAIL_PIECE_MIN 4

#define POSTCODE_FIX "A postcode looks like LE1 5WW. If they have none, choose 'No postcode'."
#define EMAIL_FIX "An email address looks like name@example.org."
#define USERNAME_CHARS "A username can use letters, digits, spaces and - _ . only, like BlueHeron or Ward7Visitor."
#define INTERNAL_ROOM "StoryKiosk had no room to keep that answer. This is a fault: please report it."

/* The words of one list, lower-case ASCII letters. */
typedef struct {
	char **words;
	size_t n;
	size_t cap;
} word_list;

struct validate_wordlists {
	word_list blocked;
	word_list warn;
};

/* A word inside a username: where it starts and how many characters. */
typedef struct {
	size_t start;
	size_t len;
} word_span;

/* ASCII tests of our own: <ctype.h> answers by locale, and these rules are
 * about the letters A to Z whatever the locale says. */
static int is_upper(uint32_t c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_lower(uint32_t c)
{
	return c >= 'a' && c <= 'z';
}

static int is_letter(uint32_t c)
{
	return is_upper(c) || is_lower(c);
}

static int is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static char to_upper(char c)
{
	return is_lower((unsigned char)c) ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
	return is_upper((unsigned char)c) ? (char)(c - 'A' + 'a') : c;
}

static void set_msg(char *msg, size_t msglen, const char *text)
{
	if (msg && msglen > 0)
		snprintf(msg, msglen, "%s", text);
}

static validate_verdict say(validate_verdict verdict, char *msg, size_t msglen,
			    const char *text)
{
	set_msg(msg, msglen, text);
	return verdict;
}

/* Copies s to out; 0 when it does not fit. A NULL out means the caller only
 * wants the verdict. */
static int put_out(char *out, size_t outlen, const char *s)
{
	size_t len = strlen(s);

	if (!out || outlen == 0)
		return 1;
	if (len >= outlen)
		return 0;
	memcpy(out, s, len + 1);
	return 1;
}

/* Decodes one character from the n > 0 bytes at s, by the Unicode table of
 * well-formed sequences (so no overlongs, surrogates or values past
 * U+10FFFF). On a malformed sequence *cp is UTF8_BAD and the result is the
 * length of its maximal ill-formed prefix, so one bad sequence costs one
 * replacement character, as Unicode recommends. */
size_t validate_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char b = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t c;

	*cp = UTF8_BAD;
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1;
		c = b & 0x1Fu;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2;
		c = b & 0x0Fu;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3;
		c = b & 0x07u;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		c = (c << 6) | (s[i] & 0x3Fu);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = c;
	return need + 1;
}

/* White space for counting words and trimming: ASCII's, plus the Unicode
 * spaces a paste from a word processor or web page brings (U+00A0 above all). */
int validate_is_space(unsigned long c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static int is_space_cp(uint32_t c)
{
	return validate_is_space(c);
}

/* Characters a terminal would act on rather than show: C0 and C1 controls
 * (ESC starts escape sequences; U+009B is a one-character CSI), DEL, and the
 * bidi embeddings, overrides and isolates that can make text display in a
 * different order from the one stored. */
static int is_unsafe_cp(uint32_t c)
{
	return c < 0x20 || (c >= 0x7F && c <= 0x9F) ||
	       (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

/* Finds the part of the len bytes at s left after trimming white space. */
static void trim_span(const char *s, size_t len, size_t *startp, size_t *endp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0, end = len;
	uint32_t c;

	while (start < end) {
		size_t k = validate_utf8_decode(u + start, end - start, &c);
		if (c == UTF8_BAD || !is_space_cp(c))
			break;
		start += k;
	}
	while (end > start) {
		size_t b = end - 1, k;
		while (b > start && end - b < 4 && (u[b] & 0xC0) == 0x80)
			b--;
		k = validate_utf8_decode(u + b, end - b, &c);
		if (c == UTF8_BAD || b + k != end || !is_space_cp(c))
			break;
		end = b;
	}
	*startp = start;
	*endp = end;
}

char *validate_trim(char *s)
{
	size_t start, end;

	if (!s)
		return NULL;
	trim_span(s, strlen(s), &start, &end);
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return s;
}

int validate_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;

	if (!s)
		return len == 0;
	while (len > 0) {
		size_t k = validate_utf8_decode(u, len, &c);
		if (c == UTF8_BAD)
			return 0;
		u += k;
		len -= k;
	}
	return 1;
}

size_t validate_utf8_length(const char *s)
{
	size_t count = 0;

	if (!s)
		return 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			count++;
	return count;
}

size_t validate_word_count(const char *text)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t left, words = 0;
	int in_word = 0;
	uint32_t c;

	if (!text)
		return 0;
	left = strlen(text);
	while (left > 0) {
		size_t k = validate_utf8_decode(u, left, &c);
		/* A malformed byte is still something typed: it belongs to a word. */
		int space = c != UTF8_BAD && is_space_cp(c);
		if (!space && !in_word)
			words++;
		in_word = !space;
		u += k;
		left -= k;
	}
	return words;
}

char *validate_sanitize(const char *s, int keep_newlines)
{
	static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
	const unsigned char *u;
	size_t left, o = 0;
	char *out;
	uint32_t c;

	if (!s)
		s = "";
	left = strlen(s);
	/* Each step reads k >= 1 bytes and writes at most max(k, 3). */
	if (left > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(left * 3 + 1);
	if (!out)
		return NULL;
	u = (const unsigned char *)s;
	while (left > 0) {
		size_t k = validate_utf8_decode(u, left, &c);
		if (c == '\r' && left > 1 && u[1] == '\n') {
			/* Text pasted from Windows: CR LF is one line break. */
		} else if (c == '\n') {
			out[o++] = keep_newlines ? '\n' : ' ';
		} else if (c == '\t') {
			/* A tab's width depends on the column: a space keeps layout predictable. */
			out[o++] = ' ';
		} else if (c == UTF8_BAD || is_unsafe_cp(c)) {
			memcpy(out + o, replacement, 3);
			o += 3;
		} else {
			memcpy(out + o, u, k);
			o += k;
		}
		u += k;
		left -= k;
	}
	out[o] = '\0';
	return out;
}

/* ---- postcodes ---- */

/* What is wrong with an outward code (the part before the space) of len 2-4
 * upper-case letters and digits, or NULL when it is a possible one. */
static const char *outward_problem(const char *o, size_t len)
{
	static const char shape[] = POSTCODE_FIX;
	int shape_ok = 0;

	if (!is_upper((unsigned char)o[0]))
		return shape;
	switch (len) {
	case 2: /* A9 */
		shape_ok = is_digit((unsigned char)o[1]);
		break;
	case 3: /* A99, AA9, A9A */
		shape_ok = is_digit((unsigned char)o[2]) ||
			   (is_digit((unsigned char)o[1]) && is_upper((unsigned char)o[2]));
		break;
	case 4: /* AA99, AA9A */
		shape_ok = is_upper((unsigned char)o[1]) && is_digit((unsigned char)o[2]);
		break;
	default:
		break;
	}
	if (!shape_ok)
		return shape;
	if (strchr("QVX", o[0]))
		return "A postcode never starts with Q, V or X: check the first letter. " POSTCODE_FIX;
	if (is_upper((unsigned char)o[1]) && strchr("IJZ", o[1]))
		return "The second letter of a postcode is never I, J or Z: check it. " POSTCODE_FIX;
	if ((len == 3 && is_upper((unsigned char)o[2]) && !strchr("ABCDEFGHJKPSTUW", o[2])) ||
	    (len == 4 && is_upper((unsigned char)o[3]) && !strchr("ABEHMNPRVWXY", o[3])))
		return "The letter after the digit in the first part (like the A in SW1A) "
		       "is not one postcodes use: check it. " POSTCODE_FIX;
	return NULL;
}

/* Judges the compact form of a "BFPO" postcode: BFPO then 1 to 4 digits. */
static validate_verdict check_bfpo(const char *pc, size_t n, char *out, size_t outlen,
				   char *msg, size_t msglen)
{
	char norm[sizeof "BFPO 9999"];
	size_t digits = n - 4, i;

	for (i = 4; i < n; i++)
		if (!is_digit((unsigned char)pc[i]))
			digits = 0;
	if (digits < 1 || digits > 4 || pc[4] == '0')
		return say(VALIDATE_BLOCK, msg, msglen,
			   "A forces postcode looks like BFPO 801: the letters BFPO, then a "
			   "number of 1 to 4 digits. If they have none, choose 'No postcode'.");
	snprintf(norm, sizeof norm, "BFPO %.*s", (int)digits, pc + 4);
	if (!put_out(out, outlen, norm))
		return say(VALIDATE_BLOCK, msg, msglen, INTERNAL_ROOM);
	return VALIDATE_OK;
}

validate_verdict validate_postcode(const char *typed, char *out, size_t outlen,
				   char *msg, size_t msglen)
{
	char pc[POSTCODE_COMPACT_MAX + 1];
	char norm[sizeof "AA9A 9AA"];
	const unsigned char *u;
	const char *inward;
	size_t left, n = 0, outward_len;
	int pseudo;
	uint32_t c;

	if (out && outlen > 0)
		out[0] = '\0';
	set_msg(msg, msglen, "");
	if (!typed)
		typed = "";
	u = (const unsigned char *)typed;
	left = strlen(typed);
	/* Spaces are dropped wherever they are: the normalised form shown back
	 * to the operator is the check that the split is right. */
	while (left > 0) {
		size_t k = validate_utf8_decode(u, left, &c);
		if (c != UTF8_BAD && is_space_cp(c)) {
			/* skip */
		} else if (c == UTF8_BAD || c >= 0x80 || !(is_letter(c) || is_digit(c))) {
			return say(VALIDATE_BLOCK, msg, msglen,
				   "A postcode has only the letters A to Z and digits, no other "
				   "marks. " POSTCODE_FIX);
		} else if (n == POSTCODE_COMPACT_MAX) {
			return say(VALIDATE_BLOCK, msg, msglen,
				   "That is too long for a postcode. " POSTCODE_FIX);
		} else {
			pc[n++] = to_upper((char)c);
		}
		u += k;
		left -= k;
	}
	pc[n] = '\0';

	if (n == 0)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "Type the postcode, like LE1 5WW. If they have none, choose 'No postcode'.");
	if (n >= 4 && memcmp(pc, "BFPO", 4) == 0)
		return check_bfpo(pc, n, out, outlen, msg, msglen);
	if (strcmp(pc, "GIR0AA") == 0) {
		if (!put_out(out, outlen, "GIR 0AA"))
			return say(VALIDATE_BLOCK, msg, msglen, INTERNAL_ROOM);
		return VALIDATE_OK;
	}
	if (n < 5)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "That is too short for a postcode. " POSTCODE_FIX);
	if (n > 7)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "That is too long for a postcode. " POSTCODE_FIX);

	outward_len = n - 3;
	inward = pc + outward_len;
	/* NHS pseudo-postcodes break the outward letter rules (a second Z) and
	 * the inward ones (3VZ), so they are recognised before either. */
	pseudo = outward_len == 4 && memcmp(pc, "ZZ99", 4) == 0;
	if (!pseudo) {
		const char *problem = outward_problem(pc, outward_len);
		if (problem)
			return say(VALIDATE_BLOCK, msg, msglen, problem);
	}
	if (!is_digit((unsigned char)inward[0]) || !is_upper((unsigned char)inward[1]) ||
	    !is_upper((unsigned char)inward[2]))
		return say(VALIDATE_BLOCK, msg, msglen,
			   "The last part of a postcode is a digit then two letters, like the "
			   "5WW in LE1 5WW. If they have none, choose 'No postcode'.");
	if (!pseudo && (strchr("CIKMOV", inward[1]) || strchr("CIKMOV", inward[2])))
		return say(VALIDATE_BLOCK, msg, msglen,
			   "The last part of a postcode never has the letters C, I, K, M, O "
			   "or V: check it. " POSTCODE_FIX);

	snprintf(norm, sizeof norm, "%.*s %s", (int)outward_len, pc, inward);
	if (!put_out(out, outlen, norm))
		return say(VALIDATE_BLOCK, msg, msglen, INTERNAL_ROOM);
	if (pseudo)
		return say(VALIDATE_WARN, msg, msglen,
			   "ZZ99 is an NHS pseudo-postcode, used when someone has no fixed "
			   "abode or their address is not known. Confirm if that is right.");
	return VALIDATE_OK;
}

/* ---- email addresses ---- */

/* What is wrong with a domain of letters, digits, dots and hyphens, or NULL. */
static const char *domain_problem(const char *d, size_t len)
{
	const char *label = d, *end = d + len, *dot;
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_letter((unsigned char)d[i]) && !is_digit((unsigned char)d[i]) &&
		    d[i] != '-' && d[i] != '.')
			return "The part after the @ can only have letters, digits, dots and "
			       "hyphens. " EMAIL_FIX;
	if (!memchr(d, '.', len))
		return "The part after the @ needs a dot, like example.org. " EMAIL_FIX;
	for (;;) {
		size_t label_len;
		dot = memchr(label, '.', (size_t)(end - label));
		label_len = (size_t)((dot ? dot : end) - label);
		if (label_len == 0)
			return "An email address cannot start or end with a dot, or have two "
			       "dots together. " EMAIL_FIX;
		if (label_len > EMAIL_LABEL_MAX)
			return "Each part between the dots after the @ can be at most 63 "
			       "characters. " EMAIL_FIX;
		if (label[0] == '-' || label[label_len - 1] == '-')
			return "A part between the dots after the @ cannot start or end with a "
			       "hyphen (-). " EMAIL_FIX;
		if (!dot)
			break;
		label = dot + 1;
	}
	/* label is now the top-level domain. */
	if (end - label < 2)
		return "The ending after the last dot must be two or more letters, like "
		       ".org or .uk. " EMAIL_FIX;
	for (; label < end; label++)
		if (!is_letter((unsigned char)*label))
			return "The ending after the last dot must be two or more letters, "
			       "like .org or .uk. " EMAIL_FIX;
	return NULL;
}

validate_verdict validate_email(const char *typed, char *out, size_t outlen,
				char *msg, size_t msglen)
{
	char addr[EMAIL_MAX + 1];
	const unsigned char *u;
	const char *at, *problem;
	size_t start, end, len, local_len, i;
	uint32_t c;

	if (out && outlen > 0)
		out[0] = '\0';
	set_msg(msg, msglen, "");
	if (!typed)
		typed = "";
	trim_span(typed, strlen(typed), &start, &end);
	len = end - start;
	if (len == 0)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "Type their email address, like name@example.org.");

	u = (const unsigned char *)typed + start;
	for (i = 0; i < len;) {
		size_t k = validate_utf8_decode(u + i, len - i, &c);
		if (c != UTF8_BAD && is_space_cp(c))
			return say(VALIDATE_BLOCK, msg, msglen,
				   "An email address has no spaces in it. " EMAIL_FIX);
		if (c == UTF8_BAD || c >= 0x80)
			return say(VALIDATE_BLOCK, msg, msglen,
				   "Email addresses here must use plain letters A to Z and digits, "
				   "without accents. " EMAIL_FIX);
		if (c < 0x20 || c == 0x7F)
			return say(VALIDATE_BLOCK, msg, msglen,
				   "The email address has a character that cannot be typed in one. "
				   EMAIL_FIX);
		i += k;
	}
	if (len > EMAIL_MAX)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "An email address can be at most 254 characters: check it was typed "
			   "correctly.");
	memcpy(addr, typed + start, len);
	addr[len] = '\0';

	at = strchr(addr, '@');
	if (!at)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "An email address needs an @ in it. " EMAIL_FIX);
	if (strchr(at + 1, '@'))
		return say(VALIDATE_BLOCK, msg, msglen,
			   "An email address has only one @. " EMAIL_FIX);
	local_len = (size_t)(at - addr);
	if (local_len == 0)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "Something must come before the @, like the name in name@example.org.");
	if (at[1] == '\0')
		return say(VALIDATE_BLOCK, msg, msglen,
			   "Something must come after the @, like the example.org in "
			   "name@example.org.");
	if (local_len > EMAIL_LOCAL_MAX)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "The part before the @ can be at most 64 characters: check it was "
			   "typed correctly.");
	for (i = 0; i < local_len; i++)
		if (!is_letter((unsigned char)addr[i]) && !is_digit((unsigned char)addr[i]) &&
		    !strchr("!#$%&'*+-/=?^_`{|}~.", addr[i]))
			return say(VALIDATE_BLOCK, msg, msglen,
				   "The part before the @ has a mark email addresses cannot use. "
				   "Use letters, digits and . _ - +. " EMAIL_FIX);
	for (i = 0; i + 1 < local_len; i++)
		if (addr[i] == '.' && addr[i + 1] == '.')
			break;
	if (addr[0] == '.' || addr[local_len - 1] == '.' || i + 1 < local_len)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "An email address cannot start or end with a dot, or have two dots "
			   "together. " EMAIL_FIX);
	problem = domain_problem(at + 1, len - local_len - 1);
	if (problem)
		return say(VALIDATE_BLOCK, msg, msglen, problem);

	/* Domains are case-blind; the local part belongs to the receiving
	 * server, which may care, so it is kept as typed. */
	for (i = local_len + 1; i < len; i++)
		addr[i] = to_lower(addr[i]);
	if (!put_out(out, outlen, addr))
		return say(VALIDATE_BLOCK, msg, msglen, INTERNAL_ROOM);
	return VALIDATE_OK;
}

/* ---- word lists ---- */

static void word_list_free(word_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->words[i]);
	free(list->words);
	list->words = NULL;
	list->n = list->cap = 0;
}

/* Appends a copy of the len bytes at word; 0 when out of memory. */
static int word_list_add(word_list *list, const char *word, size_t len)
{
	char *copy;

	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		char **words;
		if (cap > SIZE_MAX / sizeof *words)
			return 0;
		words = realloc(list->words, cap * sizeof *words);
		if (!words)
			return 0;
		list->words = words;
		list->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return 0;
	memcpy(copy, word, len);
	copy[len] = '\0';
	list->words[list->n++] = copy;
	return 1;
}

/* Reads one list file into list; 0 with "PATH[:LINE]: problem" in err. */
static int word_list_read(word_list *list, const char *path, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	long line_no = 0;
	int ok = 1;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		if (err && errlen > 0)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return 0;
	}
	for (;;) {
		size_t i, len;
		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			if (!feof(f) || errno != 0) {
				if (err && errlen > 0)
					snprintf(err, errlen, "%s: cannot read: %s", path,
						 strerror(errno ? errno : EIO));
				ok = 0;
			}
			break;
		}
		line_no++;
		validate_trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		len = strlen(line);
		/* One ASCII word per line: matching is whole-word, so a phrase or a
		 * stray mark could never match and would hide a mistake. */
		for (i = 0; i < len; i++) {
			if (!is_letter((unsigned char)line[i]))
				break;
			line[i] = to_lower(line[i]);
		}
		if (i < len) {
			if (err && errlen > 0)
				snprintf(err, errlen, "%s:%ld: one word of letters a to z per line",
					 path, line_no);
			ok = 0;
			break;
		}
		if (!word_list_add(list, line, len)) {
			if (err && errlen > 0)
				snprintf(err, errlen, "%s: out of memory", path);
			ok = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	if (ok && list->n == 0) {
		/* An empty list silently turns the check off: more likely a wrong file. */
		if (err && errlen > 0)
			snprintf(err, errlen, "%s: no words in the file", path);
		ok = 0;
	}
	return ok;
}

validate_wordlists *validate_wordlists_load(const char *blocked_path,
					    const char *warn_path,
					    char *err, size_t errlen)
{
	validate_wordlists *lists;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!blocked_path || !warn_path) {
		if (err && errlen > 0)
			snprintf(err, errlen, "no word list file given");
		return NULL;
	}
	lists = calloc(1, sizeof *lists);
	if (!lists) {
		if (err && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", blocked_path);
		return NULL;
	}
	if (!word_list_read(&lists->blocked, blocked_path, err, errlen) ||
	    !word_list_read(&lists->warn, warn_path, err, errlen)) {
		validate_wordlists_free(lists);
		return NULL;
	}
	return lists;
}

void validate_wordlists_free(validate_wordlists *lists)
{
	if (!lists)
		return;
	word_list_free(&lists->blocked);
	word_list_free(&lists->warn);
	free(lists);
}

/* ---- usernames ---- */

/* The list word equal to the len lower-cased characters at w, if it is at
 * least min_len long; NULL when there is none. */
static const char *list_find(const word_list *list, const wchar_t *w, size_t len,
			     size_t min_len)
{
	size_t i, j;

	if (len < min_len)
		return NULL;
	for (i = 0; i < list->n; i++) {
		const char *word = list->words[i];
		for (j = 0; j < len; j++)
			if (word[j] == '\0' || (wchar_t)(unsigned char)word[j] != w[j])
				break;
		if (j == len && word[len] == '\0')
			return word;
	}
	return NULL;
}

/* Splits the n characters of name into runs of letters; with at_case a
 * small letter followed by a capital also starts a word ("JaneSmith").
 * Returns the number of words written to words (room for n). */
static size_t split_words(const wchar_t *name, size_t n, int at_case, word_span *words)
{
	size_t count = 0, i = 0;

	while (i < n) {
		size_t start;
		if (!iswalpha((wint_t)name[i])) {
			i++;
			continue;
		}
		start = i++;
		while (i < n && iswalpha((wint_t)name[i]) &&
		       !(at_case && iswlower((wint_t)name[i - 1]) && iswupper((wint_t)name[i])))
			i++;
		words[count].start = start;
		words[count].len = i - start;
		count++;
	}
	return count;
}

static int wide_contains(const wchar_t *hay, size_t hay_len, const wchar_t *needle,
			 size_t needle_len)
{
	size_t i;

	if (needle_len == 0 || needle_len > hay_len)
		return 0;
	for (i = 0; i + needle_len <= hay_len; i++)
		if (wmemcmp(hay + i, needle, needle_len) == 0)
			return 1;
	return 0;
}

/* Whole words only, so "Scunthorpe" or "therapist" pass. Words are split at
 * non-letters and at case changes ("BigShit"); the letters of the whole name,
 * and of each space-separated part, are also read as one word to catch a word
 * spelt out with dots or dashes. */
static int is_offensive(const wchar_t *name, const wchar_t *lower, size_t n,
			const word_list *blocked)
{
	word_span words[USERNAME_MAX];
	wchar_t part[USERNAME_MAX], whole[USERNAME_MAX];
	size_t count, i, part_len = 0, whole_len = 0;

	count = split_words(name, n, 1, words);
	for (i = 0; i < count; i++)
		if (list_find(blocked, lower + words[i].start, words[i].len, 1))
			return 1;
	for (i = 0; i <= n; i++) {
		if (i == n || name[i] == L' ') {
			if (list_find(blocked, part, part_len, SQUASHED_BLOCK_MIN))
				return 1;
			part_len = 0;
		} else if (iswalpha((wint_t)name[i])) {
			part[part_len++] = lower[i];
			whole[whole_len++] = lower[i];
		}
	}
	return list_find(blocked, whole, whole_len, SQUASHED_BLOCK_MIN) != NULL;
}

/* Whether the username holds the email's local part (letters and digits
 * only, so "jo.bloggs" is found in "Jo Bloggs"), or a 4+ letter piece of it. */
static int uses_email(const wchar_t *name, const wchar_t *lower, size_t n,
		      const char *email)
{
	wchar_t name_alnum[USERNAME_MAX], name_letters[USERNAME_MAX];
	wchar_t local[EMAIL_LOCAL_MAX];
	size_t alnum_len = 0, letters_len = 0, local_len = 0, i, start, end;
	const char *at;

	if (!email)
		return 0;
	trim_span(email, strlen(email), &start, &end);
	at = memchr(email + start, '@', end - start);
	if (!at || (size_t)(at - email) - start > EMAIL_LOCAL_MAX)
		return 0;
	for (i = start; email + i < at; i++) {
		char ch = email[i];
		if (is_letter((unsigned char)ch) || is_digit((unsigned char)ch))
			local[local_len++] = (wchar_t)to_lower(ch);
	}
	for (i = 0; i < n; i++) {
		if (iswalpha((wint_t)name[i])) {
			name_alnum[alnum_len++] = lower[i];
			name_letters[letters_len++] = lower[i];
		} else if (is_digit((uint32_t)name[i])) {
			name_alnum[alnum_len++] = name[i];
		}
	}
	if (local_len >= EMAIL_PART_MIN &&
	    wide_contains(name_alnum, alnum_len, local, local_len))
		return 1;
	/* Pieces are the letter runs of the local part, split at . _ - + digits. */
	for (i = start; email + i < at;) {
		wchar_t piece[EMAIL_LOCAL_MAX];
		size_t piece_len = 0;
		while (email + i < at && is_letter((unsigned char)email[i]))
			piece[piece_len++] = (wchar_t)to_lower(email[i++]);
		if (piece_len >= EMAIL_PIECE_MIN &&
		    wide_contains(name_letters, letters_len, piece, piece_len))
			return 1;
		if (piece_len == 0)
			i++;
	}
	return 0;
}

/* Two or more words that each start with a capital then a small letter, as
 * in "Jane Smith". Only separators split here, so "BlueHeron" is one word. */
static int looks_like_name(const wchar_t *name, size_t n)
{
	word_span words[USERNAME_MAX];
	size_t count, i, capitalised = 0;

	count = split_words(name, n, 0, words);
	for (i = 0; i < count; i++) {
		const wchar_t *w = name + words[i].start;
		if (words[i].len >= 2 && iswupper((wint_t)w[0]) && iswlower((wint_t)w[1]))
			capitalised++;
	}
	return capitalised >= 2;
}

/* A run of exactly two digits (an age, or a year as in "Jane82"), or of four
 * digits from 1900 to 2099. Single digits ("Ward7") are fine. */
static int has_year_or_age(const wchar_t *name, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;
		unsigned long value = 0;
		if (!is_digit((uint32_t)name[i])) {
			i++;
			continue;
		}
		for (; i < n && is_digit((uint32_t)name[i]); i++)
			if (i - start < 5)
				value = value * 10 + (unsigned long)(name[i] - L'0');
		if (i - start == 2 || (i - start == 4 && value >= 1900 && value <= 2099))
			return 1;
	}
	return 0;
}

/* A combining mark or joiner that belongs to the letter before it: accents
 * typed decomposed ("e" + U+0308), Indic viramas, ZWJ/ZWNJ. C has no test
 * for marks, so this takes zero width as the sign, less the invisible
 * characters that only space, join words or reorder text (a way to hide a
 * word or disguise one name as another). */
static int is_letter_mark(wchar_t wc)
{
	uint32_t c = (uint32_t)wc;

	if (iswcntrl((wint_t)wc) || wcwidth(wc) != 0 || is_unsafe_cp(c))
		return 0;
	return !(c == 0x061C || c == 0x180E || c == 0x200B || c == 0x200E ||
		 c == 0x200F || (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF);
}

validate_verdict validate_username(const char *username, const char *email,
				   const validate_wordlists *lists,
				   char *msg, size_t msglen)
{
	wchar_t name[USERNAME_MAX], lower[USERNAME_MAX];
	size_t bytes, chars, n = 0, used = 0;
	int has_letter = 0, after_letter = 0;
	mbstate_t state;

	set_msg(msg, msglen, "");
	if (!username || username[0] == '\0')
		return say(VALIDATE_BLOCK, msg, msglen,
			   "Type a username, like BlueHeron. It is shown with their story "
			   "instead of their name.");
	bytes = strlen(username);
	if (!validate_utf8(username, bytes))
		return say(VALIDATE_BLOCK, msg, msglen, USERNAME_CHARS);
	chars = validate_utf8_length(username);
	if (chars < USERNAME_MIN)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "A username needs at least 3 characters, like BlueHeron.");
	if (chars > USERNAME_MAX)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "A username can be at most 30 characters: try a shorter one.");

	/* The locale decides which characters are letters, in any script; in a
	 * locale that is not UTF-8, mbrtowc fails on accented text and the
	 * username is refused rather than misread. Marks are counted in the
	 * length but left out of name[], so words are matched on their letters. */
	memset(&state, 0, sizeof state);
	while (used < bytes) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, username + used, bytes - used, &state);
		if (k == 0 || k == (size_t)-1 || k == (size_t)-2 || n == USERNAME_MAX)
			return say(VALIDATE_BLOCK, msg, msglen, USERNAME_CHARS);
		used += k;
		if (after_letter && is_letter_mark(wc))
			continue;
		after_letter = iswalpha((wint_t)wc) != 0;
		if (after_letter)
			has_letter = 1;
		else if (!is_digit((uint32_t)wc) && wc != L' ' && wc != L'-' && wc != L'_' &&
			 wc != L'.')
			return say(VALIDATE_BLOCK, msg, msglen, USERNAME_CHARS);
		name[n] = wc;
		lower[n] = (wchar_t)towlower((wint_t)wc);
		n++;
	}
	if (!has_letter)
		return say(VALIDATE_BLOCK, msg, msglen,
			   "A username needs at least one letter, like BlueHeron.");
	if (name[0] == L' ' || name[n - 1] == L' ')
		return say(VALIDATE_BLOCK, msg, msglen,
			   "A username cannot start or end with a space.");
	/* The word is not repeated: the message may be read out beside the patient. */
	if (lists && is_offensive(name, lower, n, &lists->blocked))
		return say(VALIDATE_BLOCK, msg, msglen,
			   "That username has a word that is not allowed here. Please choose "
			   "another, like BlueHeron.");

	if (uses_email(name, lower, n, email))
		return say(VALIDATE_WARN, msg, msglen,
			   "It has part of their email address in it. A username should not "
			   "lead back to them: choose another, or confirm if it is fine.");
	if (looks_like_name(name, n))
		return say(VALIDATE_WARN, msg, msglen,
			   "It looks like a real name (two words with capitals). A username "
			   "should not be anyone's name: choose another, or confirm if it is fine.");
	if (has_year_or_age(name, n))
		return say(VALIDATE_WARN, msg, msglen,
			   "It has a number that looks like a year or age (like 82 or 1970). "
			   "Leave it out, or confirm if it is fine.");
	if (lists) {
		word_span words[USERNAME_MAX];
		size_t count = split_words(name, n, 1, words), i;
		for (i = 0; i < count; i++) {
			const char *word = list_find(&lists->warn, lower + words[i].start,
						     words[i].len, 1);
			if (word) {
				/* Safe to repeat: list words are checked to be a to z. */
				if (msg && msglen > 0)
					snprintf(msg, msglen,
						 "It has the word \"%s\". A username should not have "
						 "a name, a family or gender word, or a feeling in "
						 "it: choose another, or confirm if it is fine.",
						 word);
				return VALIDATE_WARN;
			}
		}
	}
	return VALIDATE_OK;
}
