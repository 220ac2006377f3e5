/* fuzz_detect.c - libFuzzer target for the checks on a story's free text
 * (src/detect.c), with the phrase lists from data/. The first byte sets the
 * options: its low two bits pick warn_words (0, 3, 50, 1000); the rest is the
 * story. Findings must be spans of the text on character boundaries, in text
 * order, not overlapping, each really what it says (an email validate_email
 * accepts, an NHS number whose check digit is right, a UK phone number, ...),
 * and the same whatever room is given for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "fuzz_common.h"
#include "validate.h"

#define ROOM 256 /* findings asked for at once */

static detect_lists *phrase_lists;

static void free_phrase_lists(void)
{
	detect_lists_free(phrase_lists);
	phrase_lists = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char swearing[4096], safeguarding[4096], safety[4096], err[512];
	char *root;

	(void)argc;
	fuzz_utf8_locale();
	root = fuzz_source_root(*argv ? (*argv)[0] : NULL, "data/swear-words.txt");
	snprintf(swearing, sizeof swearing, "%s/data/swear-words.txt", root);
	snprintf(safeguarding, sizeof safeguarding, "%s/data/safeguarding-phrases.txt", root);
	snprintf(safety, sizeof safety, "%s/data/safety-incident-phrases.txt", root);
	free(root);
	phrase_lists = detect_lists_load(swearing, safeguarding, safety, err, sizeof err);
	if (phrase_lists == NULL)
		fuzz_setup_fail("cannot load the phrase lists: %s", err);
	atexit(free_phrase_lists);
	return 0;
}

/* Non-zero when pos is a character boundary of the len bytes at s. */
static int on_boundary(const char *s, size_t len, size_t pos)
{
	return pos == len || ((unsigned char)s[pos] & 0xC0) != 0x80;
}

/* The span's bytes as a string (malloc'd). */
static char *span_text(const char *text, const finding *f)
{
	char *s = fuzz_alloc(f->end - f->start + 1);

	memcpy(s, text + f->start, f->end - f->start);
	s[f->end - f->start] = '\0';
	return s;
}

/* The ten digits of an NHS number pass the modulus 11 check (NHS Data
 * Dictionary), written here independently of detect.c. */
static int nhs_check_ok(const char *span)
{
	int digits[10], n = 0, sum = 0, i, check;

	for (; *span != '\0'; span++) {
		if (*span >= '0' && *span <= '9') {
			if (n == 10)
				return 0;
			digits[n++] = *span - '0';
		} else if (*span != ' ' && *span != '-') {
			return 0;
		}
	}
	if (n != 10)
		return 0;
	for (i = 0; i < 9; i++)
		sum += digits[i] * (10 - i);
	check = (11 - sum % 11) % 11;
	return check != 10 && check == digits[9];
}

/* A UK phone number as dialled nationally: "+44" or "0044" (and a "(0)"
 * after it) stand for the leading 0; then 11 digits starting 01, 02, 03, 05,
 * 07, 08 or 09, or 10 for old 01 area codes and 0800/0500 freephone. */
static int uk_phone_ok(const char *span)
{
	char digits[64], national[66];
	size_t n = 0, skip;
	const char *c;

	for (c = span; *c != '\0'; c++) {
		if (*c >= '0' && *c <= '9') {
			if (n + 1 >= sizeof digits)
				return 0;
			digits[n++] = *c;
		}
	}
	digits[n] = '\0';
	if (span[0] == '+' || strncmp(span, "0044", 4) == 0) {
		skip = span[0] == '+' ? 2 : 4;
		if (n < skip || strncmp(digits + skip - 2, "44", 2) != 0)
			return 0;
		skip += strstr(span, "(0)") != NULL; /* its 0 comes right after the 44 */
		snprintf(national, sizeof national, "0%s", digits + skip);
	} else {
		snprintf(national, sizeof national, "%s", digits);
	}
	n = strlen(national);
	if (n < 10 || national[0] != '0' || strchr("1235789", national[1]) == NULL)
		return 0;
	return n == 11 || (n == 10 && (national[1] == '1' || strncmp(national, "0800", 4) == 0 ||
				       strncmp(national, "0500", 4) == 0));
}

/* What a finding of each kind must be. */
static void check_span(const char *text, const finding *f)
{
	char *s = span_text(text, f);

	switch (f->kind) {
	case FINDING_EMAIL:
		CHECKF(validate_email(s, NULL, 0, NULL, 0) == VALIDATE_OK, "email '%s'",
		       fuzz_show(s, strlen(s)));
		break;
	case FINDING_POSTCODE:
		CHECKF(validate_postcode(s, NULL, 0, NULL, 0) != VALIDATE_BLOCK, "postcode '%s'",
		       fuzz_show(s, strlen(s)));
		break;
	case FINDING_NHS_NUMBER:
		CHECKF(nhs_check_ok(s), "NHS number '%s'", fuzz_show(s, strlen(s)));
		break;
	case FINDING_PHONE: CHECKF(uk_phone_ok(s), "phone '%s'", fuzz_show(s, strlen(s))); break;
	case FINDING_CAPITALS:
		CHECKF(f->start == 0 && f->end == strlen(text), "capitals [%zu, %zu)", f->start,
		       f->end);
		break;
	default: break;
	}
	free(s);
}

/* Whole-text kinds may contain other findings; the rest never overlap. */
static int is_whole_text_kind(finding_kind kind)
{
	return kind == FINDING_CAPITALS || kind == FINDING_TOO_LONG;
}

static void check_findings(const char *text, size_t warn_words, const detect_lists *lists)
{
	size_t len = strlen(text), n, i, last_end = 0, shown;
	finding *all = fuzz_alloc(ROOM * sizeof *all), *again = fuzz_alloc(ROOM * sizeof *again);
	int valid = fuzz_utf8_valid(text, len, NULL), too_long = 0;

	n = detect_identifiers(text, lists, warn_words, all, ROOM);
	shown = n < ROOM ? n : ROOM;
	for (i = 0; i < shown; i++) {
		const finding *f = &all[i];

		CHECKF((int)f->kind >= 0 && f->kind < FINDING_KIND_COUNT, "kind %d", (int)f->kind);
		CHECKF(f->start < f->end && f->end <= len, "%s [%zu, %zu) in %zu bytes",
		       detect_kind_key(f->kind), f->start, f->end, len);
		if (valid)
			CHECKF(on_boundary(text, len, f->start) && on_boundary(text, len, f->end),
			       "%s [%zu, %zu) cuts a character", detect_kind_key(f->kind), f->start,
			       f->end);
		if (i > 0)
			CHECKF(all[i - 1].start < f->start ||
				   (all[i - 1].start == f->start && all[i - 1].kind < f->kind),
			       "%s at %zu after %s at %zu", detect_kind_key(f->kind), f->start,
			       detect_kind_key(all[i - 1].kind), all[i - 1].start);
		if (!is_whole_text_kind(f->kind)) {
			CHECKF(f->start >= last_end, "%s at %zu overlaps a finding ending at %zu",
			       detect_kind_key(f->kind), f->start, last_end);
			last_end = f->end;
		}
		CHECK(lists != NULL || f->kind != FINDING_SWEARING);
		too_long += f->kind == FINDING_TOO_LONG;
		check_span(text, f);
	}
	/* The length check counts words as validate_word_count does. */
	if (n <= ROOM)
		CHECKF(too_long == (warn_words > 0 && validate_word_count(text) > warn_words),
		       "too_long %d with %zu words, warn_words %zu", too_long,
		       validate_word_count(text), warn_words);

	/* The count does not depend on the room, and less room keeps the first. */
	CHECK(detect_identifiers(text, lists, warn_words, NULL, 0) == n);
	CHECK(detect_identifiers(text, lists, warn_words, again, 1) == n);
	CHECK(n == 0 || (again[0].kind == all[0].kind && again[0].start == all[0].start &&
			 again[0].end == all[0].end));
	free(again);
	free(all);
}

static void check_phrase(const char *text,
			 int (*find)(const char *, const detect_lists *, size_t *, size_t *))
{
	size_t len = strlen(text), start = 1, end = 0;
	int found = find(text, phrase_lists, &start, &end);

	CHECK(find(text, phrase_lists, NULL, NULL) == found);
	CHECK(find(text, NULL, NULL, NULL) == 0);
	if (!found)
		return;
	CHECKF(start < end && end <= len, "[%zu, %zu) in %zu bytes", start, end, len);
	if (fuzz_utf8_valid(text, len, NULL))
		CHECK(on_boundary(text, len, start) && on_boundary(text, len, end));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t warn_words[4] = {0, 3, 50, 1000};
	size_t ww;
	char *text;

	if (size == 0)
		return 0;
	ww = warn_words[data[0] & 3];
	text = fuzz_cstring(data + 1, size - 1);
	check_findings(text, ww, phrase_lists);
	check_findings(text, ww, NULL);
	check_phrase(text, detect_safeguarding);
	check_phrase(text, detect_safety_incident);
	free(text);
	return 0;
}
