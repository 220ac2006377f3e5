/* fuzz_validate.c - libFuzzer target for src/validate.c and the story
 * references in src/story.c. The first byte of the input picks the function
 * (a letter names it, see ops[] below; any other byte picks one by its value);
 * the rest is what the operator typed. Each function is held to invariants,
 * not only "does not crash": normal forms re-validate to themselves, sanitised
 * text is safe to print, trimming agrees with word counting, and so on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "story.h"
#include "validate.h"

#define MSG_SIZE 512
#define OUT_SIZE 300

static validate_wordlists *word_lists;

static void free_word_lists(void)
{
	validate_wordlists_free(word_lists);
	word_lists = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char blocked[4096], warn[4096], err[512];
	char *root;

	(void)argc;
	fuzz_utf8_locale();
	root = fuzz_source_root(*argv ? (*argv)[0] : NULL, "data/username-blocked.txt");
	snprintf(blocked, sizeof blocked, "%s/data/username-blocked.txt", root);
	snprintf(warn, sizeof warn, "%s/data/username-warn.txt", root);
	free(root);
	word_lists = validate_wordlists_load(blocked, warn, err, sizeof err);
	if (word_lists == NULL)
		fuzz_setup_fail("cannot load the username word lists: %s", err);
	atexit(free_word_lists);
	return 0;
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- postcodes ---- */

/* The normalised shapes validate_postcode promises: "A9 9AA" to "AA9A 9AA",
 * "BFPO n" with no leading zero, or "GIR 0AA". */
static int postcode_shape_ok(const char *pc)
{
	size_t len = strlen(pc), i;

	if (strcmp(pc, "GIR 0AA") == 0)
		return 1;
	if (strncmp(pc, "BFPO ", 5) == 0) {
		if (len < 6 || len > 9 || pc[5] == '0')
			return 0;
		for (i = 5; i < len; i++)
			if (!is_digit(pc[i]))
				return 0;
		return 1;
	}
	if (len < 6 || len > 8 || pc[len - 4] != ' ' || !is_upper(pc[0]))
		return 0;
	for (i = 1; i < len - 4; i++)
		if (!is_upper(pc[i]) && !is_digit(pc[i]))
			return 0;
	return is_digit(pc[len - 3]) && is_upper(pc[len - 2]) && is_upper(pc[len - 1]);
}

static void fuzz_postcode(const char *typed)
{
	char *out = fuzz_alloc(OUT_SIZE), *msg = fuzz_alloc(MSG_SIZE);
	char *again = fuzz_alloc(OUT_SIZE), *tiny;
	validate_verdict v, w;
	size_t i, n;

	v = validate_postcode(typed, out, OUT_SIZE, msg, MSG_SIZE);
	CHECKF(v == VALIDATE_OK || v == VALIDATE_WARN || v == VALIDATE_BLOCK, "verdict %d", (int)v);
	CHECKF((msg[0] == '\0') == (v == VALIDATE_OK), "verdict %d, msg '%s'", (int)v, msg);
	CHECK(validate_postcode(typed, NULL, 0, NULL, 0) == v);
	if (v == VALIDATE_BLOCK) {
		CHECKF(out[0] == '\0', "blocked, but wrote '%s'", out);
		goto done;
	}
	CHECKF(postcode_shape_ok(out), "'%s' normalised to '%s'", fuzz_show(typed, strlen(typed)),
	       out);
	CHECKF((v == VALIDATE_WARN) == (strncmp(out, "ZZ99 ", 5) == 0), "'%s' gave %d", out,
	       (int)v);

	/* The normal form is a fixed point, and so is any spelling of it. */
	w = validate_postcode(out, again, OUT_SIZE, NULL, 0);
	CHECKF(w == v && strcmp(again, out) == 0, "'%s' -> '%s' (%d) -> '%s' (%d)",
	       fuzz_show(typed, strlen(typed)), out, (int)v, again, (int)w);
	{
		char *lower = fuzz_strdup(out), *squashed = fuzz_strdup(out);

		for (i = 0, n = 0; out[i] != '\0'; i++) {
			if (is_upper(out[i]))
				lower[i] = (char)(out[i] - 'A' + 'a');
			if (out[i] != ' ')
				squashed[n++] = out[i];
		}
		squashed[n] = '\0';
		CHECKF(validate_postcode(lower, again, OUT_SIZE, NULL, 0) == v &&
			   strcmp(again, out) == 0,
		       "'%s' vs '%s'", lower, out);
		CHECKF(validate_postcode(squashed, again, OUT_SIZE, NULL, 0) == v &&
			   strcmp(again, out) == 0,
		       "'%s' vs '%s'", squashed, out);
		free(lower);
		free(squashed);
	}
	/* Too little room: refused, nothing half-written past the buffer. */
	n = strlen(out);
	tiny = fuzz_alloc(n);
	w = validate_postcode(typed, tiny, n, msg, MSG_SIZE);
	CHECKF(w == VALIDATE_BLOCK && tiny[0] == '\0', "room %zu for '%s' gave %d", n, out, (int)w);
	free(tiny);
	tiny = fuzz_alloc(n + 1);
	CHECK(validate_postcode(typed, tiny, n + 1, NULL, 0) == v && strcmp(tiny, out) == 0);
	free(tiny);
done:
	/* A tiny message buffer is cut, never overrun. */
	{
		char *small = fuzz_alloc(7);

		CHECK(validate_postcode(typed, NULL, 0, small, 7) == v);
		CHECK(strlen(small) < 7);
		free(small);
	}
	free(again);
	free(out);
	free(msg);
}

/* ---- emails ---- */

static void fuzz_email(const char *typed)
{
	char *out = fuzz_alloc(OUT_SIZE), *msg = fuzz_alloc(MSG_SIZE);
	char *again = fuzz_alloc(OUT_SIZE), *trimmed, *tiny;
	const char *at;
	validate_verdict v, w;
	size_t len, i;

	v = validate_email(typed, out, OUT_SIZE, msg, MSG_SIZE);
	CHECKF(v == VALIDATE_OK || v == VALIDATE_BLOCK, "verdict %d", (int)v);
	CHECKF((msg[0] == '\0') == (v == VALIDATE_OK), "verdict %d, msg '%s'", (int)v, msg);
	CHECK(validate_email(typed, NULL, 0, NULL, 0) == v);
	if (v == VALIDATE_BLOCK) {
		CHECK(out[0] == '\0');
		goto done;
	}
	len = strlen(out);
	at = strchr(out, '@');
	CHECKF(len >= 3 && len <= 254, "'%s'", out);
	CHECKF(at != NULL && at > out && strchr(at + 1, '@') == NULL, "'%s'", out);
	CHECKF(at - out <= 64, "'%s'", out);
	for (i = 0; i < len; i++)
		CHECKF(out[i] > 0x20 && out[i] < 0x7f, "'%s'", fuzz_show(out, len));
	for (i = (size_t)(at - out) + 1; i < len; i++)
		CHECKF(!is_upper(out[i]), "domain not lower-cased: '%s'", out);

	/* out is the trimmed input with only the domain lower-cased. */
	trimmed = fuzz_strdup(typed);
	validate_trim(trimmed);
	CHECKF(strlen(trimmed) == len && strncmp(trimmed, out, (size_t)(at - out) + 1) == 0 &&
		   strcasecmp(trimmed + (at - out), at) == 0,
	       "'%s' -> '%s'", fuzz_show(typed, strlen(typed)), out);
	free(trimmed);

	w = validate_email(out, again, OUT_SIZE, NULL, 0);
	CHECKF(w == VALIDATE_OK && strcmp(again, out) == 0, "'%s' -> '%s'", out, again);

	tiny = fuzz_alloc(len);
	CHECK(validate_email(typed, tiny, len, NULL, 0) == VALIDATE_BLOCK && tiny[0] == '\0');
	free(tiny);
	tiny = fuzz_alloc(len + 1);
	CHECK(validate_email(typed, tiny, len + 1, NULL, 0) == VALIDATE_OK &&
	      strcmp(tiny, out) == 0);
	free(tiny);
done : {
	char *small = fuzz_alloc(5);

	CHECK(validate_email(typed, NULL, 0, small, 5) == v);
	CHECK(strlen(small) < 5);
	free(small);
}
	free(again);
	free(out);
	free(msg);
}

/* ---- usernames ---- */

/* Input: the username, then optionally a NUL and the email beside it. */
static void fuzz_username(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstring(data, size);
	size_t name_len = strlen(name);
	char *email =
	    name_len < size ? fuzz_cstring(data + name_len + 1, size - name_len - 1) : NULL;
	char *msg = fuzz_alloc(MSG_SIZE), *msg2 = fuzz_alloc(MSG_SIZE), *small;
	validate_verdict v, w;
	size_t chars;

	v = validate_username(name, email, word_lists, msg, MSG_SIZE);
	CHECKF(v == VALIDATE_OK || v == VALIDATE_WARN || v == VALIDATE_BLOCK, "verdict %d", (int)v);
	CHECKF((msg[0] == '\0') == (v == VALIDATE_OK), "verdict %d, msg '%s'", (int)v, msg);
	CHECKF(fuzz_no_controls(msg, strlen(msg), ""), "msg '%s'", fuzz_show(msg, strlen(msg)));

	/* Same question, same answer. */
	w = validate_username(name, email, word_lists, msg2, MSG_SIZE);
	CHECK(w == v && strcmp(msg, msg2) == 0);

	/* The word lists and the email only ever add warnings or blocks. */
	w = validate_username(name, email, NULL, NULL, 0);
	CHECKF(w <= v, "'%s': %d without lists, %d with", fuzz_show(name, name_len), (int)w,
	       (int)v);
	w = validate_username(name, NULL, word_lists, NULL, 0);
	CHECKF(w <= v, "'%s': %d without email, %d with", fuzz_show(name, name_len), (int)w,
	       (int)v);

	if (v != VALIDATE_BLOCK) {
		CHECKF(fuzz_utf8_valid(name, name_len, &chars), "'%s'", fuzz_show(name, name_len));
		CHECKF(chars >= 3 && chars <= 30, "'%s' has %zu characters",
		       fuzz_show(name, name_len), chars);
		CHECKF(fuzz_no_controls(name, name_len, ""), "'%s'", fuzz_show(name, name_len));
		CHECK(name[0] != ' ' && name[name_len - 1] != ' ');
	}

	small = fuzz_alloc(3);
	CHECK(validate_username(name, email, word_lists, small, 3) == v);
	CHECK(strlen(small) < 3);
	free(small);
	free(msg2);
	free(msg);
	free(email);
	free(name);
}

/* ---- word counts, UTF-8, trimming, sanitising ---- */

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = fuzz_alloc(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static void fuzz_word_count(const char *text)
{
	size_t len = strlen(text);
	size_t words = validate_word_count(text);
	char *trimmed = fuzz_strdup(text), *twice;

	/* A word is at least one byte and words are apart. */
	CHECKF(words <= (len + 1) / 2, "%zu words in %zu bytes", words, len);
	validate_trim(trimmed);
	CHECKF(validate_word_count(trimmed) == words, "'%s': %zu words, trimmed '%s' %zu",
	       fuzz_show(text, len), words, trimmed, validate_word_count(trimmed));
	CHECKF((words == 0) == (trimmed[0] == '\0'), "'%s': %zu words, trimmed to %zu bytes",
	       fuzz_show(text, len), words, strlen(trimmed));
	twice = concat3(text, " ", text);
	CHECKF(validate_word_count(twice) == 2 * words, "'%s'", fuzz_show(text, len));
	free(twice);
	twice = concat3(text, "\xc2\xa0", text); /* a no-break space splits words too */
	CHECKF(validate_word_count(twice) == 2 * words, "'%s'", fuzz_show(text, len));
	free(twice);
	free(trimmed);
}

/* validate_utf8_decode agrees with the independent decoder character by
 * character, and a malformed sequence costs its maximal ill-formed prefix
 * (a lead byte and the continuation bytes it could take, at most 3). Each
 * well-formed character separates words exactly when validate_is_space says. */
static void check_decoder(const char *bytes, size_t size)
{
	const unsigned char *u = (const unsigned char *)bytes;
	size_t at = 0, i, checked_spaces = 0;

	while (at < size) {
		uint32_t cp = 0, want_cp = 0;
		size_t k = validate_utf8_decode(u + at, size - at, &cp);
		size_t want = fuzz_utf8_char(u + at, size - at, &want_cp);

		CHECKF(k >= 1 && k <= size - at && k <= 4, "decode at %zu of '%s' used %zu bytes",
		       at, fuzz_show(bytes, size), k);
		if (want > 0) {
			CHECKF(k == want && cp == want_cp,
			       "at %zu of '%s': U+%04X in %zu, expected U+%04X in %zu", at,
			       fuzz_show(bytes, size), (unsigned)cp, k, (unsigned)want_cp, want);
		} else {
			CHECKF(cp == VALIDATE_UTF8_BAD && k <= 3,
			       "at %zu of '%s': U+%04X in %zu, expected malformed", at,
			       fuzz_show(bytes, size), (unsigned)cp, k);
			for (i = 1; i < k; i++)
				CHECK(u[at + i] >= 0x80 && u[at + i] <= 0xBF);
		}
		if (want > 0 && want_cp != 0 && checked_spaces++ < 8) {
			char word[8] = "a";

			memcpy(word + 1, bytes + at, want);
			memcpy(word + 1 + want, "b", 2);
			CHECKF((validate_word_count(word) == 2) ==
				   (validate_is_space(want_cp) != 0),
			       "U+%04X: %zu words in '%s', validate_is_space %d", (unsigned)want_cp,
			       validate_word_count(word), fuzz_show(word, strlen(word)),
			       validate_is_space(want_cp));
		}
		at += k;
	}
}

static void fuzz_utf8(const uint8_t *data, size_t size)
{
	char *bytes = fuzz_bytes(data, size);
	size_t chars = 0;
	int want = fuzz_utf8_valid(bytes, size, &chars);
	int got = validate_utf8(bytes, size);

	CHECKF(!got == !want, "validate_utf8('%s') = %d, expected %d", fuzz_show(bytes, size), got,
	       want);
	check_decoder(bytes, size);
	/* Well-formed text is well-formed in every split at a character boundary. */
	if (want && size > 0) {
		size_t at = 0;
		uint32_t cp;

		while (at < size / 2)
			at += fuzz_utf8_char((const unsigned char *)bytes + at, size - at, &cp);
		CHECK(validate_utf8(bytes, at) && validate_utf8(bytes + at, size - at));
	}
	free(bytes);
}

static void fuzz_utf8_length(const char *text)
{
	size_t len = strlen(text), chars;
	size_t got = validate_utf8_length(text);

	CHECK(got <= len);
	if (fuzz_utf8_valid(text, len, &chars))
		CHECKF(got == chars, "'%s': %zu characters, expected %zu", fuzz_show(text, len),
		       got, chars);
}

/* Bidi embeddings, overrides and isolates: U+202A-U+202E, U+2066-U+2069. */
static int has_bidi_control(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t at = 0;

	while (at < len) {
		uint32_t cp = 0;
		size_t k = fuzz_utf8_char(u + at, len - at, &cp);

		if (k == 0)
			return 1; /* not UTF-8: the caller's other check fails too */
		if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
			return 1;
		at += k;
	}
	return 0;
}

static size_t count_byte(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

static void fuzz_sanitize_one(const char *text, int keep_newlines)
{
	size_t len = strlen(text), out_len;
	char *out = validate_sanitize(text, keep_newlines), *again;

	CHECK(out != NULL);
	out_len = strlen(out);
	CHECKF(validate_utf8(out, out_len) && fuzz_utf8_valid(out, out_len, NULL),
	       "sanitize('%s') = '%s'", fuzz_show(text, len), fuzz_show(out, out_len));
	CHECKF(fuzz_no_controls(out, out_len, keep_newlines ? "\n" : ""),
	       "sanitize('%s', %d) left a control: '%s'", fuzz_show(text, len), keep_newlines,
	       fuzz_show(out, out_len));
	CHECKF(!has_bidi_control(out, out_len), "sanitize('%s') left a bidi control",
	       fuzz_show(text, len));
	CHECK(out_len <= 3 * len);
	CHECKF(count_byte(out, '\n') == (keep_newlines ? count_byte(text, '\n') : 0),
	       "'%s' -> '%s'", fuzz_show(text, len), fuzz_show(out, out_len));
	/* Safe text is left alone; sanitising twice changes nothing more. */
	if (fuzz_utf8_valid(text, len, NULL) &&
	    fuzz_no_controls(text, len, keep_newlines ? "\n" : "") && !has_bidi_control(text, len))
		CHECKF(strcmp(out, text) == 0, "safe '%s' changed to '%s'", fuzz_show(text, len),
		       fuzz_show(out, out_len));
	again = validate_sanitize(out, keep_newlines);
	CHECK(again != NULL);
	CHECKF(strcmp(again, out) == 0, "not idempotent: '%s' -> '%s'", fuzz_show(out, out_len),
	       fuzz_show(again, strlen(again)));
	free(again);
	free(out);
}

static void fuzz_sanitize(const char *text)
{
	fuzz_sanitize_one(text, 0);
	fuzz_sanitize_one(text, 1);
}

static void fuzz_trim(const char *text)
{
	size_t len = strlen(text), t_len;
	char *t = fuzz_strdup(text), *again, *padded;

	CHECK(validate_trim(t) == t);
	t_len = strlen(t);
	CHECK(t_len <= len);
	CHECKF(strstr(text, t) != NULL, "'%s' trimmed to '%s'", fuzz_show(text, len), t);
	CHECK(validate_word_count(t) == validate_word_count(text));
	again = fuzz_strdup(t);
	validate_trim(again);
	CHECKF(strcmp(again, t) == 0, "not idempotent: '%s' -> '%s'", fuzz_show(t, t_len),
	       fuzz_show(again, strlen(again)));
	free(again);
	/* White space of any kind added at either end goes again. */
	padded = concat3(" \t\xc2\xa0", text, "\xe3\x80\x80\r\n ");
	validate_trim(padded);
	CHECKF(strcmp(padded, t) == 0, "'%s': padded trims to '%s', plain to '%s'",
	       fuzz_show(text, len), fuzz_show(padded, strlen(padded)), fuzz_show(t, t_len));
	free(padded);
	free(t);
}

/* ---- story references ---- */

static const char reference_symbols[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/* A reference as story_reference writes it: "ABCD-EFGH" from the 32 symbols. */
static int reference_shape_ok(const char *ref)
{
	int i;

	if (strlen(ref) != 9 || ref[4] != '-')
		return 0;
	for (i = 0; i < 9; i++)
		if (i != 4 && strchr(reference_symbols, ref[i]) == NULL)
			return 0;
	return 1;
}

/* The 40 bits a reference stands for. */
static unsigned long long reference_bits(const char *ref)
{
	unsigned long long bits = 0;
	int i;

	for (i = 0; i < 9; i++)
		if (i != 4)
			bits = bits << 5 | (unsigned long long)(strchr(reference_symbols, ref[i]) -
								reference_symbols);
	return bits;
}

static void fuzz_normalise_reference(const char *typed)
{
	char *out = fuzz_alloc(STORY_REFERENCE_SIZE), *again = fuzz_alloc(STORY_REFERENCE_SIZE);
	char *tiny = fuzz_alloc(STORY_REFERENCE_SIZE - 1);
	char id[40];
	int i;

	if (story_normalise_reference(typed, out, STORY_REFERENCE_SIZE) != 0)
		goto done;
	CHECKF(reference_shape_ok(out), "'%s' -> '%s'", fuzz_show(typed, strlen(typed)), out);
	CHECK(story_normalise_reference(out, again, STORY_REFERENCE_SIZE) == 0 &&
	      strcmp(out, again) == 0);
	CHECK(story_normalise_reference(typed, tiny, STORY_REFERENCE_SIZE - 1) == -1);
	/* The reference of a UUID whose first 40 bits these are is the same text. */
	snprintf(id, sizeof id, "%08llx-%02llx00-4000-8000-000000000000", reference_bits(out) >> 8,
		 reference_bits(out) & 0xff);
	CHECKF(story_reference(id, again, STORY_REFERENCE_SIZE) == 0 && strcmp(again, out) == 0,
	       "'%s' -> id %s -> '%s'", out, id, again);
	for (i = 0; out[i] != '\0'; i++)
		if (is_upper(out[i]))
			out[i] = (char)(out[i] - 'A' + 'a');
	CHECK(story_normalise_reference(out, again, STORY_REFERENCE_SIZE) == 0 &&
	      reference_shape_ok(again));
done:
	free(tiny);
	free(again);
	free(out);
}

/* Whether s is a UUID as uuid_unparse writes it: 8-4-4-4-12 hex digits. */
static int is_uuid_text(const char *s)
{
	int i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL) {
			return 0;
		}
	}
	return 1;
}

static void fuzz_reference(const uint8_t *data, size_t size, const char *typed)
{
	char *out = fuzz_alloc(STORY_REFERENCE_SIZE), *again = fuzz_alloc(STORY_REFERENCE_SIZE);
	char id[40];
	size_t i;

	if (story_reference(typed, out, STORY_REFERENCE_SIZE) == 0) {
		CHECKF(reference_shape_ok(out), "'%s' -> '%s'", fuzz_show(typed, strlen(typed)),
		       out);
		CHECK(story_normalise_reference(out, again, STORY_REFERENCE_SIZE) == 0 &&
		      strcmp(again, out) == 0);
		/* story.h: "-1 when id is not a UUID" (corpus: id-not-uuid). */
		CHECKF(is_uuid_text(typed), "story_reference accepted '%s', which is not a UUID",
		       fuzz_show(typed, strlen(typed)));
	}
	/* Any 16 bytes written as a UUID have a reference, from their first 40 bits. */
	{
		unsigned char b[16] = {0};
		unsigned long long bits = 0;

		for (i = 0; i < size && i < 16; i++)
			b[i] = data[i];
		snprintf(id, sizeof id,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
		CHECKF(story_reference(id, out, STORY_REFERENCE_SIZE) == 0, "id %s", id);
		CHECK(reference_shape_ok(out));
		for (i = 0; i < 5; i++)
			bits = bits << 8 | b[i];
		CHECKF(reference_bits(out) == bits, "id %s -> '%s'", id, out);
		for (i = 0; id[i] != '\0'; i++)
			if (id[i] >= 'a' && id[i] <= 'f')
				id[i] = (char)(id[i] - 'a' + 'A');
		CHECK(story_reference(id, again, STORY_REFERENCE_SIZE) == 0 &&
		      strcmp(again, out) == 0);
		CHECK(story_reference(id, again, STORY_REFERENCE_SIZE - 1) == -1);
	}
	free(again);
	free(out);
}

/* ---- dispatch ---- */

enum op {
	OP_POSTCODE,
	OP_EMAIL,
	OP_USERNAME,
	OP_WORD_COUNT,
	OP_UTF8,
	OP_UTF8_LENGTH,
	OP_SANITIZE,
	OP_TRIM,
	OP_NORMALISE_REFERENCE,
	OP_REFERENCE,
	N_OPS
};

/* The letter that names each function in the seed corpus. */
static const char op_letters[N_OPS] = {'p', 'e', 'u', 'w', '8', 'l', 's', 't', 'r', 'i'};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *letter;
	enum op op;
	char *text;

	if (size == 0)
		return 0;
	letter = memchr(op_letters, data[0], N_OPS);
	op = letter ? (enum op)(letter - op_letters) : (enum op)(data[0] % N_OPS);
	data++;
	size--;
	text = fuzz_cstring(data, size);
	switch (op) {
	case OP_POSTCODE: fuzz_postcode(text); break;
	case OP_EMAIL: fuzz_email(text); break;
	case OP_USERNAME: fuzz_username(data, size); break;
	case OP_WORD_COUNT: fuzz_word_count(text); break;
	case OP_UTF8: fuzz_utf8(data, size); break;
	case OP_UTF8_LENGTH: fuzz_utf8_length(text); break;
	case OP_SANITIZE: fuzz_sanitize(text); break;
	case OP_TRIM: fuzz_trim(text); break;
	case OP_NORMALISE_REFERENCE: fuzz_normalise_reference(text); break;
	case OP_REFERENCE: fuzz_reference(data, size, text); break;
	case N_OPS: break;
	}
	free(text);
	return 0;
}
