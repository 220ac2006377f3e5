/* fuzz_catalogue.c - libFuzzer target for catalogue_parse and catalogue_search
 * (src/catalogue.c). The input's first line is a search query, typed on the
 * services step; the rest is a services catalogue file. A catalogue that
 * parses must hold only what storykiosk-services(5) allows, and the search
 * must answer in catalogue order, find each service by its own code and name,
 * and never find more when the operator types more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "catalogue.h"
#include "fuzz_common.h"
#include "validate.h"

#define CATALOGUE_NAME "fuzz.services"
#define SELF_SEARCHES 12 /* services looked up by their own code and name, per input */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_utf8_locale();
	return 0;
}

static int is_code(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 40 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int compare_codes(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_service(const catalogue *cat, size_t i)
{
	const catalogue_service *s = &cat->services[i];
	size_t len, chars;

	CHECKF(s->code != NULL && is_code(s->code), "service %zu code", i);
	CHECK(s->name != NULL);
	len = strlen(s->name);
	CHECKF(len > 0 && fuzz_utf8_valid(s->name, len, &chars) && chars <= 200, "name '%s'",
	       fuzz_show(s->name, len));
	CHECKF(fuzz_no_controls(s->name, len, "\t"), "name '%s'", fuzz_show(s->name, len));
	CHECKF(s->name[0] != ' ' && s->name[0] != '\t' && s->name[len - 1] != ' ' &&
		   s->name[len - 1] != '\t',
	       "name '%s' not trimmed", fuzz_show(s->name, len));
	CHECK(s->postcode != NULL);
	if (s->postcode[0] != '\0') {
		char normal[32];

		CHECKF(validate_postcode(s->postcode, normal, sizeof normal, NULL, 0) ==
			       VALIDATE_OK &&
			   strcmp(normal, s->postcode) == 0,
		       "service %s postcode '%s' is not a normal postcode", s->code, s->postcode);
	}
	CHECK(s->search_key != NULL);
	len = strlen(s->search_key);
	CHECKF(len >= 1 && s->search_key[0] == ' ' && s->search_key[len - 1] == ' ',
	       "search key '%s'", fuzz_show(s->search_key, len));
	CHECK(catalogue_find_code(cat, s->code) == s);
}

/* Runs the search and checks the answer's shape; the matches go to found
 * (room for n_services) and the count is returned. */
static size_t search(const catalogue *cat, const char *query, size_t *found)
{
	size_t n = cat->n_services;
	size_t m = catalogue_search(cat, query, found, n), i, first;

	CHECKF(m <= n, "%zu matches of %zu", m, n);
	for (i = 0; i < m; i++) {
		CHECK(found[i] < n);
		CHECKF(i == 0 || found[i] > found[i - 1], "matches out of order");
	}
	/* The count does not depend on the room given for indexes. */
	CHECK(catalogue_search(cat, query, NULL, 0) == m);
	first = n;
	CHECK(catalogue_search(cat, query, &first, 1) == m);
	CHECK(m == 0 ? first == n : first == found[0]);
	return m;
}

static int contains(const size_t *found, size_t m, size_t i)
{
	size_t j;

	for (j = 0; j < m; j++)
		if (found[j] == i)
			return 1;
	return 0;
}

/* Where the last character of query starts, as the search's own reading of
 * it: a byte the locale cannot decode counts as one character. */
static size_t last_char_start(const char *query)
{
	size_t len = strlen(query), at = 0, last = 0;
	mbstate_t state;

	memset(&state, 0, sizeof state);
	while (at < len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, query + at, len - at, &state);

		last = at;
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&state, 0, sizeof state);
			k = 1;
		}
		at += k;
	}
	return last;
}

static void check_search(const catalogue *cat, const char *query)
{
	size_t n = cat->n_services, m, m_short, i, step;
	size_t *found = fuzz_alloc(n * sizeof *found), *found_short = fuzz_alloc(n * sizeof *found);
	char *shorter;

	/* An empty query lists everything. */
	CHECK(search(cat, "", found) == n && search(cat, NULL, found) == n);

	m = search(cat, query, found);
	/* Typing one more character never widens the search. */
	shorter = fuzz_strdup(query);
	shorter[last_char_start(query)] = '\0';
	m_short = search(cat, shorter, found_short);
	CHECKF(m_short >= m, "'%s' finds %zu, shorter '%s' finds %zu",
	       fuzz_show(query, strlen(query)), m, fuzz_show(shorter, strlen(shorter)), m_short);
	for (i = 0; i < m; i++)
		CHECKF(contains(found_short, m_short, found[i]),
		       "'%s' finds %s, shorter '%s' does not", fuzz_show(query, strlen(query)),
		       cat->services[found[i]].code, fuzz_show(shorter, strlen(shorter)));
	free(shorter);

	/* Typed-in services are matched by the same rules as listed ones. */
	for (i = 0; i < n && i < SELF_SEARCHES; i++)
		if (catalogue_text_matches(cat->services[i].name, query))
			CHECKF(contains(found, m, i),
			       "'%s' matches the name of %s, not the service",
			       fuzz_show(query, strlen(query)), cat->services[i].code);

	/* Each service is found by its own code and by its own name. */
	step = n > SELF_SEARCHES ? n / SELF_SEARCHES : 1;
	for (i = 0; i < n; i += step) {
		const catalogue_service *s = &cat->services[i];

		m = search(cat, s->code, found);
		CHECKF(contains(found, m, i), "code %s does not find itself", s->code);
		m = search(cat, s->name, found);
		CHECKF(contains(found, m, i), "name '%s' does not find %s",
		       fuzz_show(s->name, strlen(s->name)), s->code);
		CHECK(catalogue_text_matches(s->name, s->name));
	}
	free(found_short);
	free(found);
}

static void check_catalogue(const catalogue *cat, const char *query)
{
	const char **codes;
	size_t i;

	CHECK(cat->path != NULL && strcmp(cat->path, CATALOGUE_NAME) == 0);
	CHECK(cat->n_services >= 1 && cat->services != NULL);
	for (i = 0; i < cat->n_services; i++)
		check_service(cat, i);
	/* Codes are unique, ignoring case: they are read out to people. */
	codes = fuzz_alloc(cat->n_services * sizeof *codes);
	for (i = 0; i < cat->n_services; i++)
		codes[i] = cat->services[i].code;
	qsort(codes, cat->n_services, sizeof *codes, compare_codes);
	for (i = 1; i < cat->n_services; i++)
		CHECKF(strcasecmp(codes[i - 1], codes[i]) != 0, "code %s twice", codes[i]);
	free(codes);
	CHECK(catalogue_find_code(cat, "") == NULL && catalogue_find_code(NULL, "x") == NULL);
	check_search(cat, query);
}

/* A failure names the file and a line of it (0: the whole file), and quotes
 * nothing unprintable. */
static void check_error(const char *err, size_t errlen, const char *text, size_t size)
{
	size_t len = strnlen(err, errlen), lines = 1, i;
	unsigned long line;

	CHECK(len < errlen);
	CHECKF(len > 0, "catalogue_parse failed without a message");
	CHECKF(strncmp(err, CATALOGUE_NAME ":", sizeof CATALOGUE_NAME) == 0, "message '%s'", err);
	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	line = strtoul(err + sizeof CATALOGUE_NAME, NULL, 10);
	CHECKF(line <= lines, "message '%s' for a file of %zu lines", err, lines);
	for (; *err != '\0'; err++)
		CHECKF(((unsigned char)*err >= 0x20 || *err == '\t') && *err != 0x7f &&
			   !((unsigned char)err[0] == 0xc2 && (unsigned char)err[1] >= 0x80 &&
			     (unsigned char)err[1] <= 0x9f),
		       "message holds a control character: '%s'", fuzz_show(err, strlen(err)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t query_len = nl ? (size_t)(nl - data) : size;
	size_t rest = nl ? size - query_len - 1 : 0;
	char *query = fuzz_cstring(data, query_len);
	char *text = fuzz_bytes(nl ? nl + 1 : data + size, rest);
	char *err = fuzz_alloc(512), *small = fuzz_alloc(16);
	catalogue *cat, *other;

	/* A query and no catalogue: search a NULL catalogue, match free text. */
	CHECK(catalogue_search(NULL, query, NULL, 0) == 0);
	CHECK(catalogue_text_matches(query, "") == 1);

	err[0] = 'x';
	cat = catalogue_parse(text, rest, CATALOGUE_NAME, err, 512);
	other = catalogue_parse(text, rest, NULL, small, 16);
	CHECK((cat == NULL) == (other == NULL));
	CHECK(strlen(small) < 16);
	catalogue_free(other);
	if (cat == NULL) {
		check_error(err, 512, text, rest);
	} else {
		CHECKF(err[0] == '\0', "success, with message '%s'", err);
		check_catalogue(cat, query);
		catalogue_free(cat);
	}
	free(small);
	free(err);
	free(text);
	free(query);
	return 0;
}
