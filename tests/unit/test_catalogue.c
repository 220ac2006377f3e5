/* test_catalogue.c - unit tests of the services catalogue: the shipped sample
 * loads, bad lines are refused with "NAME:LINE: problem", and the type-ahead
 * search finds what a ward operator would expect. Run from the repo root. */
#include "catalogue.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static char err[512];

static catalogue *parse(const char *text)
{
	return catalogue_parse(text, strlen(text), "s", err, sizeof err);
}

/* Non-zero when text is refused, the message starts with where and mentions
 * words; prints the message when it is not the one expected. */
static int refused(const char *text, const char *where, const char *words)
{
	catalogue *cat = parse(text);

	if (cat != NULL) {
		printf("#   parsed, but should have failed with %s...%s\n", where,
		       words);
		catalogue_free(cat);
		return 0;
	}
	if (strncmp(err, where, strlen(where)) != 0 ||
	    strstr(err, words) == NULL) {
		printf("#   got \"%s\", want \"%s...%s...\"\n", err, where, words);
		return 0;
	}
	return 1;
}

/* A small catalogue for the search tests; its order is the expected order of
 * results. */
static const char sample[] =
	"# test catalogue\n"
	"W7   | Ward 7 – Older People's Medicine | LE5 9QZ\n"   /* 0 */
	"W12  | Ward 12 Maternity               | LE5 9QZ\n"    /* 1 */
	"CHW  | Children's Ward                 | LE5 9QZ\n"    /* 2 */
	"AMU  | Acute Medical Unit              | LE5 9QZ\n"    /* 3 */
	"AE   | Emergency Department (A&E)      |\n"            /* 4 */
	"CAFE | CAFÉ Wellbeing Hub              |\n"            /* 5 */
	"ICU  | Intensive Care Unit\n"                          /* 6 */
	"MIU-2| Minor Injuries Unit             | ng18 4xw\n"   /* 7 */
	"ZOE  | Zoë Ashby Ward\n";                              /* 8 */

/* The indexes found for query, as "0,3"; "" when none. */
static const char *search(const catalogue *cat, const char *query)
{
	static char out[256];
	size_t found[64];
	size_t n = catalogue_search(cat, query, found, 64);
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n && i < 64 && used + 8 < sizeof out; i++)
		used += (size_t)snprintf(out + used, sizeof out - used, "%s%zu",
					 i ? "," : "", found[i]);
	return out;
}

static catalogue *load_sample(void)
{
	catalogue *cat = parse(sample);

	if (cat == NULL)
		printf("#   sample: %s\n", err);
	return cat;
}

TEST(shipped_catalogue_loads)
{
	catalogue *cat = catalogue_load("data/services.txt", err, sizeof err);
	const catalogue_service *w7, *dn;

	CHECK(cat != NULL);
	if (cat == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK(cat->n_services >= 40);
	CHECK_STR(cat->path, "data/services.txt");
	w7 = catalogue_find_code(cat, "LVH-W7");
	CHECK(w7 != NULL);
	if (w7 != NULL) {
		CHECK_STR(w7->name, "Ward 7 – Older People's Medicine");
		CHECK_STR(w7->postcode, "LE5 9QZ");
	}
	dn = catalogue_find_code(cat, "COM-DN");
	CHECK(dn != NULL && strcmp(dn->postcode, "") == 0);
	dn = catalogue_find_code(cat, "COM-PTS");
	CHECK(dn != NULL && strcmp(dn->postcode, "") == 0);
	catalogue_free(cat);
}

TEST(shipped_catalogue_search)
{
	catalogue *cat = catalogue_load("data/services.txt", err, sizeof err);
	size_t found[8];
	size_t n;

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	n = catalogue_search(cat, "ward 7", found, 8);
	CHECK(n == 1);
	CHECK(n >= 1 && strcmp(cat->services[found[0]].code, "LVH-W7") == 0);
	n = catalogue_search(cat, "maternity", found, 8);
	CHECK(n == 1);
	CHECK(n >= 1 && strcmp(cat->services[found[0]].code, "LVH-W12") == 0);
	CHECK(catalogue_search(cat, "a&e", found, 8) == 1);
	CHECK(catalogue_search(cat, "renee", found, 8) == 1);
	CHECK(catalogue_search(cat, "renée", found, 8) == 1);
	CHECK(catalogue_search(cat, "", NULL, 0) == cat->n_services);
	catalogue_free(cat);
}

TEST(fields_and_normalised_postcodes)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	CHECK(cat->n_services == 9);
	CHECK_STR(cat->services[0].code, "W7");
	CHECK_STR(cat->services[0].name, "Ward 7 – Older People's Medicine");
	CHECK_STR(cat->services[0].postcode, "LE5 9QZ");
	CHECK_STR(cat->services[4].postcode, "");   /* "CODE | Name |" */
	CHECK_STR(cat->services[6].postcode, "");   /* "CODE | Name" */
	CHECK_STR(cat->services[7].code, "MIU-2");
	CHECK_STR(cat->services[7].postcode, "NG18 4XW");
	CHECK_STR(cat->services[8].name, "Zoë Ashby Ward");
	catalogue_free(cat);
}

TEST(postcode_spacing_normalised)
{
	catalogue *cat = parse("A | Alpha | le15ww\nB | Beta |  LE1    5WW \n");

	CHECK(cat != NULL);
	if (cat == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_STR(cat->services[0].postcode, "LE1 5WW");
	CHECK_STR(cat->services[1].postcode, "LE1 5WW");
	catalogue_free(cat);
}

TEST(find_code_is_exact)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK(catalogue_find_code(cat, "W12") == &cat->services[1]);
	CHECK(catalogue_find_code(cat, "w12") == NULL);
	CHECK(catalogue_find_code(cat, "W1") == NULL);
	CHECK(catalogue_find_code(cat, "") == NULL);
	CHECK(catalogue_find_code(NULL, "W12") == NULL);
	catalogue_free(cat);
	catalogue_free(NULL);
}

TEST(search_empty_query_matches_all)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, ""), "0,1,2,3,4,5,6,7,8");
	CHECK_STR(search(cat, "   "), "0,1,2,3,4,5,6,7,8");
	CHECK_STR(search(cat, NULL), "0,1,2,3,4,5,6,7,8");
	CHECK(catalogue_search(NULL, "ward", NULL, 0) == 0);
	catalogue_free(cat);
}

TEST(search_ignores_case)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "ward"), "0,1,2,8");
	CHECK_STR(search(cat, "WARD"), "0,1,2,8");
	CHECK_STR(search(cat, "wArD"), "0,1,2,8");
	CHECK_STR(search(cat, "maternity"), "1");
	catalogue_free(cat);
}

TEST(search_every_word_must_match)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "ward 7"), "0");
	CHECK_STR(search(cat, "7 ward"), "0");
	CHECK_STR(search(cat, "ward   12"), "1");
	CHECK_STR(search(cat, "ward unit"), "");
	CHECK_STR(search(cat, "unit"), "3,6,7");
	CHECK_STR(search(cat, "care unit"), "6");
	catalogue_free(cat);
}

TEST(search_matches_word_starts_only)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "med"), "0,3");      /* Medicine, Medical */
	CHECK_STR(search(cat, "medic"), "0,3");
	CHECK_STR(search(cat, "edic"), "");        /* not inside a word */
	CHECK_STR(search(cat, "old peo"), "0");
	CHECK_STR(search(cat, "1"), "1");          /* "12" */
	CHECK_STR(search(cat, "2"), "7");          /* the code MIU-2 */
	catalogue_free(cat);
}

TEST(search_matches_codes)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "w7"), "0");
	CHECK_STR(search(cat, "W12"), "1");
	CHECK_STR(search(cat, "chw"), "2");
	CHECK_STR(search(cat, "miu-2"), "7");
	CHECK_STR(search(cat, "miu"), "7");
	catalogue_free(cat);
}

TEST(search_punctuation_and_apostrophes)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "people's"), "0");
	CHECK_STR(search(cat, "peoples"), "0");
	CHECK_STR(search(cat, "people’s"), "0");   /* typographic apostrophe */
	CHECK_STR(search(cat, "children"), "2");
	CHECK_STR(search(cat, "a&e"), "4");
	CHECK_STR(search(cat, "(a&e)"), "4");
	CHECK_STR(search(cat, "ward – 7"), "0");
	catalogue_free(cat);
}

TEST(search_accented_letters_fold_case)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "café"), "5");
	CHECK_STR(search(cat, "CAFÉ"), "5");
	CHECK_STR(search(cat, "Café wellbeing"), "5");
	CHECK_STR(search(cat, "cafe"), "5");       /* the code CAFE */
	CHECK_STR(search(cat, "caf wel"), "5");
	CHECK_STR(search(cat, "ZOË"), "8");
	CHECK_STR(search(cat, "zoe"), "8");        /* the code ZOE */
	CHECK_STR(search(cat, "zoe ashby"), "8");
	CHECK_STR(search(cat, "zoë ashby"), "8");
	catalogue_free(cat);
}

/* Names with accents, and with scripts that have none; the codes are chosen
 * so that no query below matches them. */
static const char accented[] =
	"DR  | Day room café\n"                      /* 0 */
	"CR  | Crèche\n"                             /* 1 */
	"ZA  | Zoë Ashby Ward\n"                     /* 2 */
	"RC  | Renée Clarke Unit\n"                  /* 3 */
	"LO  | Łódź Outreach Clinic\n"               /* 4 */
	"SO  | Søren Øster Ward\n"                   /* 5 */
	"CN  | Cafe Nero Kiosk\n"                    /* 6 */
	"DEC | Noe\xcc\x88l Ward\n"                   /* 7: ë as e + U+0308 */
	"CJK | 病房 東 Ward\n"                        /* 8 */
	"EMJ | Quiet room 🌿\n"                       /* 9 */
	"AE  | Æsir Straße Clinic\n";                /* 10 */

static catalogue *load_accented(void)
{
	catalogue *cat = parse(accented);

	if (cat == NULL)
		printf("#   accented: %s\n", err);
	return cat;
}

TEST(search_accent_free_query_finds_accented_name)
{
	catalogue *cat = load_accented();

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	CHECK_STR(search(cat, "cafe"), "0,6");
	CHECK_STR(search(cat, "creche"), "1");
	CHECK_STR(search(cat, "CRECHE"), "1");
	CHECK_STR(search(cat, "cre"), "1");
	CHECK_STR(search(cat, "zoe"), "2");
	CHECK_STR(search(cat, "renee"), "3");
	CHECK_STR(search(cat, "lodz"), "4");      /* Ł has a stroke, not an accent */
	CHECK_STR(search(cat, "soren oster"), "5");
	CHECK_STR(search(cat, "noel"), "7");      /* a combining diaeresis */
	CHECK_STR(search(cat, "afe"), "");        /* still word starts only */
	CHECK(catalogue_text_matches("Day room café", "cafe"));
	CHECK(catalogue_text_matches("Crèche", "creche"));
	CHECK(!catalogue_text_matches("Crèche", "reche"));
	catalogue_free(cat);
}

TEST(search_accented_query_finds_accented_name)
{
	catalogue *cat = load_accented();

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	CHECK_STR(search(cat, "café"), "0,6");
	CHECK_STR(search(cat, "CAFÉ"), "0,6");
	CHECK_STR(search(cat, "crèche"), "1");
	CHECK_STR(search(cat, "zoë"), "2");
	CHECK_STR(search(cat, "ZOË"), "2");
	CHECK_STR(search(cat, "renée"), "3");
	CHECK_STR(search(cat, "łódź"), "4");
	CHECK_STR(search(cat, "ŁÓDŹ"), "4");
	CHECK_STR(search(cat, "ØSTER"), "5");
	CHECK_STR(search(cat, "noël"), "7");      /* precomposed finds decomposed */
	catalogue_free(cat);
}

TEST(search_accented_query_finds_plain_name)
{
	catalogue *cat = load_accented();

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	CHECK_STR(search(cat, "café nero"), "6");
	CHECK_STR(search(cat, "kiösk"), "6");
	CHECK_STR(search(cat, "crêche"), "1");    /* another accent on the e */
	CHECK_STR(search(cat, "cafe\xcc\x81"), "0,6"); /* é as e + U+0301 */
	CHECK_STR(search(cat, "wárd"), "2,5,7,8");
	CHECK(catalogue_text_matches("Cafe Nero", "café"));
	catalogue_free(cat);
}

TEST(search_accents_in_several_words)
{
	catalogue *cat = load_accented();

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	CHECK_STR(search(cat, "zoe ashby"), "2");
	CHECK_STR(search(cat, "ashby zoë"), "2");
	CHECK_STR(search(cat, "Zoë ASHBY ward"), "2");
	CHECK_STR(search(cat, "day room cafe"), "0");
	CHECK_STR(search(cat, "room café"), "0");
	CHECK_STR(search(cat, "cafe kiosk"), "6");
	CHECK_STR(search(cat, "renee clarke unit"), "3");
	CHECK_STR(search(cat, "lodz out cli"), "4");
	CHECK_STR(search(cat, "ward zoe"), "2");
	CHECK_STR(search(cat, "café ward"), "");
	CHECK_STR(search(cat, "crèche, zoë"), "");
	catalogue_free(cat);
}

/* Letters beyond Latin fold only their case: CJK and emoji are never turned
 * into something else (iconv's transliteration makes every one of them "?").
 * Æ and ß are spelled as they are usually typed, "ae" and "ss", as the checks
 * on typed text spell them (fold.h). */
TEST(search_other_scripts_and_emoji_unchanged)
{
	catalogue *cat = load_accented();

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	CHECK_STR(cat->services[8].search_key, " 病房 東 ward cjk ");
	CHECK_STR(cat->services[9].search_key, " quiet room emj ");
	CHECK_STR(cat->services[10].search_key, " aesir strasse clinic ae ");
	CHECK_STR(cat->services[0].search_key, " day room cafe dr ");
	CHECK_STR(cat->services[4].search_key, " lodz outreach clinic lo ");
	CHECK_STR(search(cat, "病房"), "8");
	CHECK_STR(search(cat, "病"), "8");
	CHECK_STR(search(cat, "東 ward"), "8");
	CHECK_STR(search(cat, "房"), "");         /* not a word start */
	CHECK_STR(search(cat, "你好"), "");
	CHECK_STR(search(cat, "? ward"), "2,5,7,8");
	/* An emoji is not a letter: like punctuation it separates words. */
	CHECK_STR(search(cat, "quiet 🌿"), "9");
	CHECK_STR(search(cat, "🌿quiet"), "9");
	CHECK_STR(search(cat, "ÆSIR"), "10");
	CHECK_STR(search(cat, "straße"), "10");
	CHECK_STR(search(cat, "aesir"), "10");
	CHECK_STR(search(cat, "strasse"), "10");
	catalogue_free(cat);
}

/* Past CATALOGUE_MAX_QUERY (1024) bytes of folded query the rest is ignored;
 * accents fold away before that count, whole characters at a time. */
TEST(search_accented_query_longer_than_limit)
{
	catalogue *cat = load_accented();
	char query[4096];
	size_t used = 0;

	CHECK(cat != NULL);
	if (cat == NULL)
		return;
	while (used + sizeof "crèche " < 3000) {
		memcpy(query + used, "crèche ", sizeof "crèche " - 1);
		used += sizeof "crèche " - 1;
	}
	memcpy(query + used, "nowhere", sizeof "nowhere");
	CHECK(strlen(query) > 2 * 1024);
	CHECK_STR(search(cat, query), "1");
	query[0] = 'C';                                /* "Crèche crèche ..." */
	CHECK_STR(search(cat, query), "1");
	used = 0;
	while (used + sizeof "Zoë " < 3000) {
		memcpy(query + used, "Zoe ", sizeof "Zoe " - 1);
		used += sizeof "Zoe " - 1;
	}
	query[used] = '\0';
	CHECK_STR(search(cat, query), "2");
	memset(query, 0, sizeof query);
	for (used = 0; used + 2 < 3000; used += 2)
		memcpy(query + used, "é", 2);          /* one word of 1500 é */
	CHECK_STR(search(cat, query), "");
	catalogue_free(cat);
}

TEST(search_no_match)
{
	catalogue *cat = load_sample();

	CHECK(cat != NULL);
	CHECK_STR(search(cat, "dentistry"), "");
	CHECK_STR(search(cat, "ward 99"), "");
	CHECK_STR(search(cat, "你好"), "");
	catalogue_free(cat);
}

TEST(search_counts_beyond_cap)
{
	catalogue *cat = load_sample();
	size_t found[2] = { 99, 99 };

	CHECK(cat != NULL);
	CHECK(catalogue_search(cat, "ward", found, 1) == 4);
	CHECK(found[0] == 0);
	CHECK(found[1] == 99);  /* nothing written past cap */
	CHECK(catalogue_search(cat, "ward", NULL, 0) == 4);
	catalogue_free(cat);
}

TEST(search_very_long_query)
{
	catalogue *cat = load_sample();
	char query[5000];
	size_t i;

	CHECK(cat != NULL);
	for (i = 0; i + 2 < sizeof query; i += 2) {
		query[i] = 'w';
		query[i + 1] = ' ';
	}
	query[i] = '\0';
	CHECK_STR(search(cat, query), "0,1,2,5,8"); /* Ward..., Wellbeing */
	catalogue_free(cat);
}

TEST(search_is_fast_for_five_thousand)
{
	size_t n = 5000, i, len = 0;
	char *text = malloc(n * 80);
	catalogue *cat;
	size_t found[10];
	clock_t start;
	double seconds;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(text + len,
				       "S%zu | Service s%zu – Ward w%zu Clinic | LE%zu 5WW\n",
				       i, i, i % 50, i % 9 + 1);
	start = clock();
	cat = catalogue_parse(text, len, "big", err, sizeof err);
	CHECK(cat != NULL);
	if (cat == NULL) {
		printf("#   %s\n", err);
		free(text);
		return;
	}
	CHECK(cat->n_services == n);
	/* w4 and w40 to w49: 11 in every 50. */
	CHECK(catalogue_search(cat, "ward w4 clin", found, 10) == 1100);
	for (i = 0; i < 200; i++)
		(void)catalogue_search(cat, "ward w4 clin", found, 10);
	seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
	CHECK(seconds < 2.0);
	CHECK(catalogue_search(cat, "s4999", found, 10) == 1);
	CHECK(catalogue_find_code(cat, "S4999") == &cat->services[4999]);
	catalogue_free(cat);
	free(text);
}

/* Outside a UTF-8 locale ASCII still folds, and other bytes match as typed. */
TEST(search_in_c_locale)
{
	catalogue *cat;

	CHECK(setlocale(LC_ALL, "C") != NULL);
	cat = load_sample();
	CHECK(cat != NULL);
	CHECK_STR(search(cat, "WARD 7"), "0");
	CHECK_STR(search(cat, "CAFÉ"), "5");
	CHECK_STR(search(cat, "zoë"), "8");
	CHECK_STR(search(cat, "people's"), "0");
	catalogue_free(cat);
	CHECK(setlocale(LC_ALL, "C.UTF-8") != NULL);
}

TEST(error_duplicate_code)
{
	CHECK(refused("A | One\nB | Two\nA | Three\n", "s:3: ",
		      "service code 'A' is used twice (first at line 1"));
	/* Codes differing only in case would be confused when read out. */
	CHECK(refused("LVH-W7 | One\nlvh-w7 | Two\n", "s:2: ",
		      "used twice (first at line 1, as 'LVH-W7')"));
}

TEST(error_bad_postcode)
{
	CHECK(refused("\nA | Alpha | not a postcode\n", "s:2: ",
		      "service A has a postcode that is not valid: 'not a postcode'"));
	CHECK(refused("A | Alpha | 12345\n", "s:1: ", "not valid"));
	CHECK(refused("A | Alpha | ZZ99 3VZ\n", "s:1: ", "pseudo-postcode"));
}

TEST(error_missing_name_or_code)
{
	CHECK(refused("A | Alpha\nB |   | LE1 5WW\n", "s:2: ",
		      "service B has no name"));
	CHECK(refused("B |\n", "s:1: ", "has no name"));
	CHECK(refused(" | Alpha | LE1 5WW\n", "s:1: ", "no code"));
	CHECK(refused("A Alpha LE1 5WW\n", "s:1: ", "has no '|'"));
	CHECK(refused("A | Alpha | LE1 5WW | extra\n", "s:1: ", "too many '|'"));
}

TEST(error_bad_code_characters)
{
	CHECK(refused("W 7 | Ward 7\n", "s:1: ", "service code 'W 7' may only use"));
	CHECK(refused("W/7 | Ward 7\n", "s:1: ", "may only use letters"));
	CHECK(refused("Wé | Ward\n", "s:1: ", "may only use letters"));
	CHECK(refused("A234567890123456789012345678901234567890X | Long code\n",
		      "s:1: ", "at most 40"));
}

TEST(error_name_too_long)
{
	char text[512];
	size_t i;
	catalogue *cat;

	memcpy(text, "A | ", 4);
	memset(text + 4, 'n', 201);
	memcpy(text + 205, "\n", 2);
	CHECK(refused(text, "s:1: ", "longer than 200 characters"));
	/* 200 characters of two bytes each are fine: the limit is in characters. */
	for (i = 0; i < 200; i++)
		memcpy(text + 4 + 2 * i, "é", 2);
	memcpy(text + 404, "\n", 2);
	cat = parse(text);
	CHECK(cat != NULL);
	catalogue_free(cat);
}

TEST(error_invalid_utf8)
{
	CHECK(refused("A | Alpha\nB | Caf\xe9\n", "s:2: ", "not valid UTF-8"));
	CHECK(refused("# \xc3\x28 bad comment\nA | Alpha\n", "s:1: ",
		      "not valid UTF-8"));
	CHECK(refused("A | \xf4\x90\x80\x80\n", "s:1: ", "not valid UTF-8"));
}

TEST(error_control_characters)
{
	CHECK(refused("A | Ward \x1b[2J 7\n", "s:1: ", "control character"));
	CHECK(refused("A | Ward \xc2\x9b" "2J\n", "s:1: ", "U+009B"));
	{
		static const char text[] = "A | Alpha\0\n";
		catalogue *cat = catalogue_parse(text, sizeof text - 1, "s", err,
						 sizeof err);

		CHECK(cat == NULL);
		CHECK(strstr(err, "s:1: ") == err);
	}
}

TEST(error_line_too_long)
{
	char *text = malloc(5000);

	CHECK(text != NULL);
	if (text == NULL)
		return;
	memset(text, ' ', 4999);
	memcpy(text, "A | Alpha", 9);
	text[4097] = '\n';
	text[4098] = '\0';
	CHECK(refused(text, "s:1: ", "longer than 4096 bytes"));
	free(text);
}

TEST(error_empty_catalogue)
{
	CHECK(refused("", "s:0: ", "lists no services"));
	CHECK(refused("# nothing here\n\n", "s:0: ", "lists no services"));
}

TEST(error_missing_file)
{
	catalogue *cat = catalogue_load("data/no-such-services.txt", err,
					sizeof err);

	CHECK(cat == NULL);
	CHECK(strstr(err, "data/no-such-services.txt: ") == err);
	CHECK(strstr(err, "No such file or directory") != NULL);
}

TEST(comments_blank_lines_crlf_and_bom)
{
	catalogue *cat = parse("\xef\xbb\xbf# header\r\n\r\n   # indented comment\r\n"
			       "\tA\t|\tAlpha #1\t|\tLE1 5WW\r\n"
			       "B|Beta");

	CHECK(cat != NULL);
	if (cat == NULL) {
		printf("#   %s\n", err);
		return;
	}
	CHECK(cat->n_services == 2);
	CHECK_STR(cat->services[0].code, "A");
	CHECK_STR(cat->services[0].name, "Alpha #1");
	CHECK_STR(cat->services[0].postcode, "LE1 5WW");
	CHECK_STR(cat->services[1].name, "Beta");
	catalogue_free(cat);
}

int main(void)
{
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		printf("# note: no C.UTF-8 locale\n");
	RUN(shipped_catalogue_loads);
	RUN(shipped_catalogue_search);
	RUN(fields_and_normalised_postcodes);
	RUN(postcode_spacing_normalised);
	RUN(find_code_is_exact);
	RUN(search_empty_query_matches_all);
	RUN(search_ignores_case);
	RUN(search_every_word_must_match);
	RUN(search_matches_word_starts_only);
	RUN(search_matches_codes);
	RUN(search_punctuation_and_apostrophes);
	RUN(search_accented_letters_fold_case);
	RUN(search_accent_free_query_finds_accented_name);
	RUN(search_accented_query_finds_accented_name);
	RUN(search_accented_query_finds_plain_name);
	RUN(search_accents_in_several_words);
	RUN(search_other_scripts_and_emoji_unchanged);
	RUN(search_accented_query_longer_than_limit);
	RUN(search_no_match);
	RUN(search_counts_beyond_cap);
	RUN(search_very_long_query);
	RUN(search_is_fast_for_five_thousand);
	RUN(search_in_c_locale);
	RUN(error_duplicate_code);
	RUN(error_bad_postcode);
	RUN(error_missing_name_or_code);
	RUN(error_bad_code_characters);
	RUN(error_name_too_long);
	RUN(error_invalid_utf8);
	RUN(error_control_characters);
	RUN(error_line_too_long);
	RUN(error_empty_catalogue);
	RUN(error_missing_file);
	RUN(comments_blank_lines_crlf_and_bom);
	return harness_report();
}
