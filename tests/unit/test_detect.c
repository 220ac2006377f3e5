/* test_detect.c - unit tests for src/detect.c: every finding kind with true
 * and false positives, spans and order, the safeguarding and safety incident
 * phrases against the real lists in data/ (case, accents, spacing, near
 * misses, exceptions), list loading errors, and speed on 1 MB of text. Run
 * from the repository root so data/ is found. */
#include "detect.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SWEARING_LIST "data/swear-words.txt"
#define SAFEGUARDING_LIST "data/safeguarding-phrases.txt"
#define SAFETY_LIST "data/safety-incident-phrases.txt"
#define WARN_WORDS 1000
#define MAX_FINDINGS 64

/* CPU seconds allowed for every check on 1 MB of text (a quadratic scan
 * would take minutes). Sanitizers check every memory access, which makes the
 * same work four or five times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define SECONDS_PER_MB 5.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECONDS_PER_MB 5.0
#endif
#endif
#ifndef SECONDS_PER_MB
#define SECONDS_PER_MB 1.0
#endif

static detect_lists *lists;
static int this_year;

/* The findings of text with the real lists and a 1,000-word limit. */
static size_t findings_of(const char *text, finding *out)
{
	return detect_identifiers(text, lists, WARN_WORDS, out, MAX_FINDINGS);
}

/* Prints what was found in text, to explain a failed check. */
static void describe(const char *text)
{
	finding f[MAX_FINDINGS];
	size_t n = findings_of(text, f), i;

	printf("#     in \"%s\": %zu finding(s)\n", text, n);
	for (i = 0; i < n && i < MAX_FINDINGS; i++)
		printf("#       %s [%zu,%zu) \"%.*s\"\n", detect_kind_key(f[i].kind), f[i].start,
		       f[i].end, (int)(f[i].end - f[i].start), text + f[i].start);
}

/* Non-zero when text has a finding of kind spanning exactly the first
 * occurrence of span in text. */
static int has_finding(const char *text, finding_kind kind, const char *span)
{
	finding f[MAX_FINDINGS];
	size_t n = findings_of(text, f), i;
	const char *at = strstr(text, span);

	if (!at)
		return 0;
	for (i = 0; i < n && i < MAX_FINDINGS; i++)
		if (f[i].kind == kind && f[i].start == (size_t)(at - text) &&
		    f[i].end == f[i].start + strlen(span))
			return 1;
	describe(text);
	return 0;
}

/* How many findings of kind text has. */
static size_t count_kind(const char *text, finding_kind kind)
{
	finding f[MAX_FINDINGS];
	size_t n = findings_of(text, f), i, count = 0;

	for (i = 0; i < n && i < MAX_FINDINGS; i++)
		count += f[i].kind == kind;
	if (count)
		describe(text);
	return count;
}

/* text has a finding of kind covering exactly span. */
#define FINDS(text, kind, span) CHECK(has_finding((text), (kind), (span)))
/* text has no finding of kind. */
#define NOT_FOUND(text, kind) CHECK(count_kind((text), (kind)) == 0)
/* text has no findings at all. */
#define CLEAN(text) CHECK(findings_of((text), NULL) == 0 || (describe(text), 0))

/* Non-zero when check finds a phrase in text spanning exactly span. */
static int phrase_span(int (*check)(const char *, const detect_lists *, size_t *, size_t *),
		       const char *text, const char *span)
{
	size_t start = 99, end = 99;
	const char *at = strstr(text, span);

	if (!at || !check(text, lists, &start, &end)) {
		printf("#     nothing found in \"%s\"\n", text);
		return 0;
	}
	if (start != (size_t)(at - text) || end != start + strlen(span)) {
		printf("#     in \"%s\" found \"%.*s\"\n", text, (int)(end - start), text + start);
		return 0;
	}
	return 1;
}

/* Non-zero when check finds nothing in text. */
static int phrase_none(int (*check)(const char *, const detect_lists *, size_t *, size_t *),
		       const char *text)
{
	size_t start = 0, end = 0;

	if (!check(text, lists, &start, &end))
		return 1;
	printf("#     in \"%s\" found \"%.*s\"\n", text, (int)(end - start), text + start);
	return 0;
}

#define SAFEGUARDING(text, span) CHECK(phrase_span(detect_safeguarding, (text), (span)))
#define NO_SAFEGUARDING(text) CHECK(phrase_none(detect_safeguarding, (text)))
#define SAFETY(text, span) CHECK(phrase_span(detect_safety_incident, (text), (span)))
#define NO_SAFETY(text) CHECK(phrase_none(detect_safety_incident, (text)))

/* format (a literal with one %d) with year, into the array buf. */
#define WITH_YEAR(buf, format, year) (snprintf((buf), sizeof(buf), format, (year)), (buf))

/* Writes text to a temporary file; its path goes to path (room for 64). */
static int temp_list(char *path, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/test_detect_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return 0;
	}
	fputs(text, f);
	return fclose(f) == 0;
}

/* CPU seconds since start: the cost of the work, however busy the machine. */
static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- lists and kinds ---- */

TEST(lists_load_from_data)
{
	char err[256] = "untouched";
	detect_lists *l = detect_lists_load(SWEARING_LIST, SAFEGUARDING_LIST, SAFETY_LIST, err,
					    sizeof err);

	CHECK(l != NULL);
	CHECK_STR(err, "");
	detect_lists_free(l);
	detect_lists_free(NULL);
}

TEST(lists_missing_file_named)
{
	char err[256] = "";

	CHECK(detect_lists_load(SWEARING_LIST, "data/no-such-list.txt", SAFETY_LIST, err,
				sizeof err) == NULL);
	CHECK(strstr(err, "data/no-such-list.txt: cannot open") == err);
}

TEST(lists_bad_line_named_with_number)
{
	char path[64], err[256] = "", want[128];

	CHECK(temp_list(path, "# comment\n\nself harm\nself@harm\n"));
	CHECK(detect_lists_load(NULL, path, NULL, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s:4: ", path);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	unlink(path);

	CHECK(temp_list(path, "ok\nbad \xff byte\n"));
	CHECK(detect_lists_load(NULL, NULL, path, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s:2: not UTF-8", path);
	CHECK_STR(err, want);
	unlink(path);

	CHECK(temp_list(path, "!\n"));
	CHECK(detect_lists_load(path, NULL, NULL, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s:1: ", path);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	unlink(path);
}

TEST(lists_too_long_phrase_refused)
{
	char path[64], err[256] = "", text[200], want[128];

	memset(text, 'a', 70);
	strcpy(text + 70, "\n");
	CHECK(temp_list(path, text));
	CHECK(detect_lists_load(path, NULL, NULL, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s:1: a phrase can have at most 64", path);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	unlink(path);
}

TEST(lists_empty_or_exceptions_only_refused)
{
	char path[64], err[256] = "", want[128];

	CHECK(temp_list(path, "# nothing here\n\n   \n!fell asleep\n"));
	CHECK(detect_lists_load(NULL, NULL, path, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s: no phrases in the file", path);
	CHECK_STR(err, want);
	unlink(path);
}

TEST(lists_own_phrases_accents_and_windows_lines)
{
	char path[64], err[256] = "";
	detect_lists *l;
	size_t s = 0, e = 0;

	CHECK(temp_list(path, "Café Noir\r\n  Über-Größe  \r\n"));
	l = detect_lists_load(NULL, path, NULL, err, sizeof err);
	CHECK(l != NULL);
	CHECK(detect_safeguarding("at the CAFE-NOIR today", l, &s, &e) && s == 7 && e == 16);
	CHECK(detect_safeguarding("ueber grosse", l, NULL, NULL) == 0);
	CHECK(detect_safeguarding("uber grosse", l, NULL, NULL) == 1);
	CHECK(detect_safeguarding("übergröße", l, NULL, NULL) == 1);
	CHECK(detect_safety_incident("cafe noir", l, NULL, NULL) == 0);
	detect_lists_free(l);
	unlink(path);
}

TEST(lists_null_paths_turn_checks_off)
{
	char err[64];
	detect_lists *l = detect_lists_load(NULL, NULL, NULL, err, sizeof err);
	finding f[4];

	CHECK(l != NULL);
	CHECK(detect_safeguarding("I wanted to kill myself", l, NULL, NULL) == 0);
	CHECK(detect_safety_incident("I fell", l, NULL, NULL) == 0);
	CHECK(detect_identifiers("the food was shit", l, WARN_WORDS, f, 4) == 0);
	CHECK(detect_identifiers("the food was shit", NULL, WARN_WORDS, f, 4) == 0);
	CHECK(detect_safeguarding("I wanted to kill myself", NULL, NULL, NULL) == 0);
	detect_lists_free(l);
	l = detect_lists_load(NULL, NULL, NULL, NULL, 0);
	CHECK(l != NULL);
	detect_lists_free(l);
}

TEST(kind_keys_and_labels)
{
	static const char *const keys[] = { "email", "web_address", "phone", "nhs_number",
					     "date_of_birth", "postcode", "name_after_title",
					     "capitals", "swearing", "too_long" };
	int i;

	for (i = 0; i < FINDING_KIND_COUNT; i++) {
		CHECK_STR(detect_kind_key((finding_kind)i), keys[i]);
		CHECK(detect_kind_label((finding_kind)i) != NULL &&
		      strlen(detect_kind_label((finding_kind)i)) > 5);
	}
	CHECK_STR(detect_kind_label(FINDING_EMAIL), "an email address");
	CHECK_STR(detect_kind_label(FINDING_PHONE), "a phone number");
	CHECK_STR(detect_kind_key(FINDING_KIND_COUNT), "unknown");
	CHECK(detect_kind_label((finding_kind)-1) != NULL);
}

/* ---- email addresses ---- */

TEST(email_in_running_text)
{
	FINDS("Write to jo.bloggs@example.org.", FINDING_EMAIL, "jo.bloggs@example.org");
	FINDS("my email is Jo_B+ward7@NHS.net, thanks", FINDING_EMAIL, "Jo_B+ward7@NHS.net");
	FINDS("jo@nhs.uk", FINDING_EMAIL, "jo@nhs.uk");
}

TEST(email_in_brackets_and_quotes)
{
	FINDS("(jo@nhs.net)", FINDING_EMAIL, "jo@nhs.net");
	FINDS("\"jo@nhs.net\"", FINDING_EMAIL, "jo@nhs.net");
	FINDS("‘jo@nhs.net’ or <ann@x.co.uk>", FINDING_EMAIL, "ann@x.co.uk");
	FINDS("mailto:jo@nhs.net", FINDING_EMAIL, "jo@nhs.net");
}

TEST(email_false_positives)
{
	NOT_FOUND("follow @nhsengland on social media", FINDING_EMAIL);
	NOT_FOUND("meet me @ 3pm", FINDING_EMAIL);
	NOT_FOUND("jo@localhost", FINDING_EMAIL);
	NOT_FOUND("jo@ home", FINDING_EMAIL);
	NOT_FOUND("5@3.5", FINDING_EMAIL);
	NOT_FOUND("jo@example.c", FINDING_EMAIL);
	NOT_FOUND("jo..b@example.org", FINDING_EMAIL);
	NOT_FOUND("@@@@", FINDING_EMAIL);
}

TEST(email_is_one_finding_not_also_a_web_address)
{
	finding f[4];

	CHECK(findings_of("jo@nhs.net", f) == 1);
	CHECK(f[0].kind == FINDING_EMAIL && f[0].start == 0 && f[0].end == 10);
	CHECK(findings_of("shit@example.com", f) == 1 && f[0].kind == FINDING_EMAIL);
}

/* ---- web addresses ---- */

TEST(web_http_and_https)
{
	FINDS("see https://www.nhs.uk/conditions/flu.", FINDING_WEB_ADDRESS,
	      "https://www.nhs.uk/conditions/flu");
	FINDS("HTTP://example.org/a?b=c&d=e, then", FINDING_WEB_ADDRESS,
	      "HTTP://example.org/a?b=c&d=e");
	FINDS("at http://10.0.0.1:8080/x!", FINDING_WEB_ADDRESS, "http://10.0.0.1:8080/x");
}

TEST(web_www)
{
	FINDS("Look at www.example.co.uk, it helps", FINDING_WEB_ADDRESS, "www.example.co.uk");
	FINDS("WWW.Leicester-Hospitals.org.", FINDING_WEB_ADDRESS, "WWW.Leicester-Hospitals.org");
}

TEST(web_bare_domains)
{
	FINDS("I read nhs.uk first", FINDING_WEB_ADDRESS, "nhs.uk");
	FINDS("on bbc.co.uk today", FINDING_WEB_ADDRESS, "bbc.co.uk");
	FINDS("Google.com said", FINDING_WEB_ADDRESS, "Google.com");
	FINDS("NHS.UK.", FINDING_WEB_ADDRESS, "NHS.UK");
	FINDS("the trust's site (uhl-tr.nhs.uk) was", FINDING_WEB_ADDRESS, "uhl-tr.nhs.uk");
	FINDS("try nhs.uk/111 online", FINDING_WEB_ADDRESS, "nhs.uk/111");
}

TEST(web_abbreviations_are_not_addresses)
{
	CLEAN("Bring things, e.g. slippers, i.e. comfy ones, at 9 a.m. or 5 p.m. etc.");
	NOT_FOUND("the U.K. and No.1 son", FINDING_WEB_ADDRESS);
	NOT_FOUND("notes.txt and report.pdf", FINDING_WEB_ADDRESS);
	NOT_FOUND("I went home.It was late", FINDING_WEB_ADDRESS);
	NOT_FOUND("I was on the ward.Info was scarce", FINDING_WEB_ADDRESS);
	NOT_FOUND("take 2.5mg twice", FINDING_WEB_ADDRESS);
	NOT_FOUND("http:// nothing", FINDING_WEB_ADDRESS);
}

TEST(web_parentheses_and_trailing_punctuation)
{
	FINDS("(see http://x.org/a)", FINDING_WEB_ADDRESS, "http://x.org/a");
	FINDS("http://en.wikipedia.org/wiki/Ward_(hospital) is", FINDING_WEB_ADDRESS,
	      "http://en.wikipedia.org/wiki/Ward_(hospital)");
	FINDS("“www.nhs.uk”", FINDING_WEB_ADDRESS, "www.nhs.uk");
}

/* ---- phone numbers ---- */

TEST(phone_mobiles)
{
	FINDS("ring 07700 900123 please", FINDING_PHONE, "07700 900123");
	FINDS("ring 07700900123.", FINDING_PHONE, "07700900123");
	FINDS("07700-900-123", FINDING_PHONE, "07700-900-123");
	FINDS("077 0090 0123", FINDING_PHONE, "077 0090 0123");
}

TEST(phone_landlines)
{
	FINDS("call 0116 496 0000 now", FINDING_PHONE, "0116 496 0000");
	FINDS("020 7946 0000", FINDING_PHONE, "020 7946 0000");
	FINDS("on (020) 7946 0000.", FINDING_PHONE, "(020) 7946 0000");
	FINDS("(0116) 4960000", FINDING_PHONE, "(0116) 4960000");
	FINDS("01632 960001", FINDING_PHONE, "01632 960001");
	FINDS("016977 4567 is a short one", FINDING_PHONE, "016977 4567");
	FINDS("0300 123 4567", FINDING_PHONE, "0300 123 4567");
	FINDS("0161.496.0000", FINDING_PHONE, "0161.496.0000");
}

TEST(phone_international_forms)
{
	FINDS("+44 7700 900123", FINDING_PHONE, "+44 7700 900123");
	FINDS("call +44 (0)20 7946 0000 today", FINDING_PHONE, "+44 (0)20 7946 0000");
	FINDS("+447700900123", FINDING_PHONE, "+447700900123");
	FINDS("0044 20 7946 0000", FINDING_PHONE, "0044 20 7946 0000");
	NOT_FOUND("+33 1 23 45 67 89", FINDING_PHONE);
}

TEST(phone_freephone_and_non_geographic)
{
	FINDS("0800 123 4567", FINDING_PHONE, "0800 123 4567");
	FINDS("0800 123 456", FINDING_PHONE, "0800 123 456");
	FINDS("0845 464 7000", FINDING_PHONE, "0845 464 7000");
}

TEST(phone_emergency_and_short_numbers_are_not)
{
	CLEAN("I rang 999 and then 111, then ext 4567 on the ward");
	NOT_FOUND("0845 4647", FINDING_PHONE);
	NOT_FOUND("bay 0", FINDING_PHONE);
}

TEST(phone_false_positives)
{
	NOT_FOUND("it cost £0.50 and 0.5mg", FINDING_PHONE);
	NOT_FOUND("on 01/02/2003", FINDING_PHONE);
	NOT_FOUND("077009001234 is twelve digits", FINDING_PHONE);
	NOT_FOUND("07700900123456", FINDING_PHONE);
	NOT_FOUND("0612345678 is not UK", FINDING_PHONE);
	NOT_FOUND("ref A07700900123", FINDING_PHONE);
	NOT_FOUND("07700 900123abc", FINDING_PHONE);
}

TEST(phone_two_numbers_and_an_aside)
{
	finding f[4];
	const char *text = "07700 900123 or 07700 900456";

	CHECK(findings_of(text, f) == 2);
	CHECK(f[0].kind == FINDING_PHONE && f[0].start == 0 && f[0].end == 12);
	CHECK(f[1].kind == FINDING_PHONE && f[1].start == 16 && f[1].end == 28);
	FINDS("my son (07700 900123) came", FINDING_PHONE, "07700 900123");
}

/* ---- NHS numbers ---- */

TEST(nhs_number_spaced)
{
	FINDS("my NHS number is 943 476 5919.", FINDING_NHS_NUMBER, "943 476 5919");
	FINDS("401 023 2137", FINDING_NHS_NUMBER, "401 023 2137");
}

TEST(nhs_number_unspaced_and_hyphens)
{
	FINDS("ref 9434765919, ok", FINDING_NHS_NUMBER, "9434765919");
	FINDS("943-476-5919", FINDING_NHS_NUMBER, "943-476-5919");
}

TEST(nhs_number_failing_check_is_not)
{
	NOT_FOUND("943 476 5918", FINDING_NHS_NUMBER);
	NOT_FOUND("9434765910", FINDING_NHS_NUMBER);
	NOT_FOUND("401 023 2138", FINDING_NHS_NUMBER);
}

TEST(nhs_number_check_digit_ten_means_invalid)
{
	int d;
	char text[32];

	/* 123456789: the remainder gives 10, so no tenth digit makes it valid. */
	for (d = 0; d <= 9; d++) {
		snprintf(text, sizeof text, "123 456 789%d", d);
		NOT_FOUND(text, FINDING_NHS_NUMBER);
	}
}

TEST(nhs_number_check_digit_eleven_means_zero)
{
	/* 400000002: 4*10 + 2*2 = 44, 44 mod 11 = 0, 11 - 0 = 11, so 0. */
	FINDS("400 000 0020", FINDING_NHS_NUMBER, "400 000 0020");
	NOT_FOUND("400 000 0021", FINDING_NHS_NUMBER);
}

TEST(nhs_number_within_longer_numbers_is_not)
{
	NOT_FOUND("94347659191", FINDING_NHS_NUMBER);
	NOT_FOUND("19434765919", FINDING_NHS_NUMBER);
	NOT_FOUND("943 476 59190", FINDING_NHS_NUMBER);
	NOT_FOUND("943 4765 919", FINDING_NHS_NUMBER);
	NOT_FOUND("943 476-5919", FINDING_NHS_NUMBER);
	NOT_FOUND("9434765919.5", FINDING_NHS_NUMBER);
	NOT_FOUND("1111111111 and 0000000000", FINDING_NHS_NUMBER);
}

/* ---- dates of birth ---- */

TEST(dob_full_numeric_dates_long_ago)
{
	char text[64], span[32];

	WITH_YEAR(text, "I came in on 12/03/%d by bus", this_year - 70);
	FINDS(text, FINDING_DATE_OF_BIRTH, WITH_YEAR(span, "12/03/%d", this_year - 70));
	WITH_YEAR(text, "1-2-%d", this_year - 40);
	FINDS(text, FINDING_DATE_OF_BIRTH, text);
	WITH_YEAR(text, "%d-03-12", this_year - 50);
	FINDS(text, FINDING_DATE_OF_BIRTH, text);
}

TEST(dob_two_digit_years)
{
	char text[64];

	WITH_YEAR(text, "1.2.%02d", (this_year - 70) % 100);
	FINDS(text, FINDING_DATE_OF_BIRTH, text);
	/* Last year's date with a two-digit year is a visit, not a birth. */
	WITH_YEAR(text, "1.2.%02d", (this_year - 1) % 100);
	NOT_FOUND(text, FINDING_DATE_OF_BIRTH);
}

TEST(dob_dates_in_words)
{
	char text[96], span[64];

	WITH_YEAR(text, "It was 12 March %d, a Friday", this_year - 70);
	FINDS(text, FINDING_DATE_OF_BIRTH, WITH_YEAR(span, "12 March %d", this_year - 70));
	WITH_YEAR(text, "the 3rd of May %d", this_year - 60);
	FINDS(text, FINDING_DATE_OF_BIRTH, WITH_YEAR(span, "3rd of May %d", this_year - 60));
	WITH_YEAR(text, "May 3rd, %d.", this_year - 30);
	FINDS(text, FINDING_DATE_OF_BIRTH, WITH_YEAR(span, "May 3rd, %d", this_year - 30));
	WITH_YEAR(text, "SEPT. 9 %d", this_year - 30);
	FINDS(text, FINDING_DATE_OF_BIRTH, text);
}

TEST(dob_ordinary_visit_dates_are_not)
{
	char text[96];

	NOT_FOUND("I came in on 3 May and left on the 5th", FINDING_DATE_OF_BIRTH);
	WITH_YEAR(text, "on 3/5/%d I was admitted", this_year - 1);
	NOT_FOUND(text, FINDING_DATE_OF_BIRTH);
	WITH_YEAR(text, "12 March %d was my operation", this_year - 2);
	NOT_FOUND(text, FINDING_DATE_OF_BIRTH);
	NOT_FOUND("in 1990 I had my first operation", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("back in March 1954 things were different", FINDING_DATE_OF_BIRTH);
	WITH_YEAR(text, "12 March %d", this_year - 130);
	NOT_FOUND(text, FINDING_DATE_OF_BIRTH);
	NOT_FOUND("I may 1 day go back", FINDING_DATE_OF_BIRTH);
}

TEST(dob_impossible_dates_are_not)
{
	NOT_FOUND("31/02/1950", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("32/01/1950", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("12/13/1950", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("0/1/1950", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("server 10.10.50.1", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("1.2.3.1950", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("12/03/19545", FINDING_DATE_OF_BIRTH);
}

TEST(dob_after_birth_words)
{
	char text[96], span[64];

	FINDS("I was born in 1950 in Leicester", FINDING_DATE_OF_BIRTH, "born in 1950");
	FINDS("She was born on 3 May at the LRI", FINDING_DATE_OF_BIRTH, "born on 3 May");
	WITH_YEAR(text, "my baby was born 3/5/%d here", this_year - 1);
	FINDS(text, FINDING_DATE_OF_BIRTH, WITH_YEAR(span, "born 3/5/%d", this_year - 1));
	FINDS("my birthday is on the 12th of March!", FINDING_DATE_OF_BIRTH,
	      "birthday is on the 12th of March");
	FINDS("DOB: 12/03/54", FINDING_DATE_OF_BIRTH, "DOB: 12/03/54");
	FINDS("d.o.b. 1.2.54.", FINDING_DATE_OF_BIRTH, "d.o.b. 1.2.54");
	FINDS("Date of birth 12 March", FINDING_DATE_OF_BIRTH, "Date of birth 12 March");
	FINDS("BORN MARCH 1954", FINDING_DATE_OF_BIRTH, "BORN MARCH 1954");
}

TEST(dob_birth_words_without_a_near_date_are_not)
{
	NOT_FOUND("I was born and raised in Leicester and in 1990 moved", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("the birth was hard", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("1990 was when I was born", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("born in the 1950s", FINDING_DATE_OF_BIRTH);
	NOT_FOUND("reborn in 1990", FINDING_DATE_OF_BIRTH);
}

/* ---- postcodes ---- */

TEST(postcode_spaced)
{
	FINDS("I live at LE1 5WW with my wife", FINDING_POSTCODE, "LE1 5WW");
	FINDS("SW1A 1AA", FINDING_POSTCODE, "SW1A 1AA");
	FINDS("M1 1AE.", FINDING_POSTCODE, "M1 1AE");
}

TEST(postcode_any_case_and_no_space)
{
	FINDS("postcode le15ww ok", FINDING_POSTCODE, "le15ww");
	FINDS("sw1a1aa", FINDING_POSTCODE, "sw1a1aa");
	FINDS("Le1 5wW", FINDING_POSTCODE, "Le1 5wW");
}

TEST(postcode_in_punctuation)
{
	FINDS("(LE1 5WW),", FINDING_POSTCODE, "LE1 5WW");
	FINDS("address: 1 High St, Leicester LE1 5WW.", FINDING_POSTCODE, "LE1 5WW");
}

TEST(postcode_special_forms)
{
	FINDS("no fixed abode, ZZ99 3VZ", FINDING_POSTCODE, "ZZ99 3VZ");
	FINDS("GIR 0AA", FINDING_POSTCODE, "GIR 0AA");
	FINDS("I was at BFPO 801 then", FINDING_POSTCODE, "BFPO 801");
}

TEST(postcode_false_positives)
{
	NOT_FOUND("ward B3 2nd floor", FINDING_POSTCODE);
	NOT_FOUND("an A4 sheet of paper", FINDING_POSTCODE);
	NOT_FOUND("covid19 was bad", FINDING_POSTCODE);
	NOT_FOUND("LE1 5WWX", FINDING_POSTCODE);
	NOT_FOUND("QE1 5WW", FINDING_POSTCODE);
	NOT_FOUND("LE1 5CC", FINDING_POSTCODE);
	NOT_FOUND("the M1 motorway", FINDING_POSTCODE);
	NOT_FOUND("hello world", FINDING_POSTCODE);
	NOT_FOUND("vitamin B12 and mp3", FINDING_POSTCODE);
}

/* ---- names after a title ---- */

TEST(name_after_title)
{
	FINDS("Dr Patel was kind", FINDING_NAME_AFTER_TITLE, "Dr Patel");
	FINDS("and Nurse Jackie too", FINDING_NAME_AFTER_TITLE, "Nurse Jackie");
	FINDS("my sister Ward came", FINDING_NAME_AFTER_TITLE, "sister Ward");
	FINDS("MATRON Jones", FINDING_NAME_AFTER_TITLE, "MATRON Jones");
	FINDS("Prof Lee and Professor Khan", FINDING_NAME_AFTER_TITLE, "Prof Lee");
	FINDS("Mrs Brown", FINDING_NAME_AFTER_TITLE, "Mrs Brown");
	FINDS("Ms Jones", FINDING_NAME_AFTER_TITLE, "Ms Jones");
	FINDS("Miss Smith", FINDING_NAME_AFTER_TITLE, "Miss Smith");
	FINDS("doctor Singh", FINDING_NAME_AFTER_TITLE, "doctor Singh");
}

TEST(name_after_two_word_title_and_several_names)
{
	FINDS("Staff Nurse Jo Smith helped", FINDING_NAME_AFTER_TITLE, "Staff Nurse Jo Smith");
	FINDS("charge nurse Amir was", FINDING_NAME_AFTER_TITLE, "charge nurse Amir");
	FINDS("Dr Anil Kumar Patel said", FINDING_NAME_AFTER_TITLE, "Dr Anil Kumar Patel");
	FINDS("Dr Patel The nurse", FINDING_NAME_AFTER_TITLE, "Dr Patel");
	FINDS("Nurse Practitioner Jane Doe said", FINDING_NAME_AFTER_TITLE,
	      "Nurse Practitioner Jane Doe");
	NOT_FOUND("the Nurse Practitioner said", FINDING_NAME_AFTER_TITLE);
}

TEST(name_after_abbreviation_with_dot)
{
	FINDS("Mr. Smith operated", FINDING_NAME_AFTER_TITLE, "Mr. Smith");
	FINDS("Mrs. O'Brien and", FINDING_NAME_AFTER_TITLE, "Mrs. O'Brien");
	FINDS("Dr.  Okafor-Jones", FINDING_NAME_AFTER_TITLE, "Dr.  Okafor-Jones");
}

TEST(name_with_accents_and_apostrophes)
{
	FINDS("Nurse Ángela helped", FINDING_NAME_AFTER_TITLE, "Nurse Ángela");
	FINDS("Sister Ó’Súilleabháin", FINDING_NAME_AFTER_TITLE, "Sister Ó’Súilleabháin");
	FINDS("Dr Łukasz was", FINDING_NAME_AFTER_TITLE, "Dr Łukasz");
}

TEST(name_lower_case_word_after_title_is_not)
{
	CLEAN("the nurse was kind and the doctor said so");
	NOT_FOUND("dr patel", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("a nurse ángela", FINDING_NAME_AFTER_TITLE);
}

TEST(name_common_words_after_title_are_not)
{
	NOT_FOUND("the nurse I saw", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("the Nurse Practitioner and the Nurse Specialist", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("Thank you Doctor The end", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("the doctor I'm seeing", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("Nurse NHS", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("Dr X", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("Dr R2D2", FINDING_NAME_AFTER_TITLE);
}

TEST(name_across_sentence_or_line_is_not)
{
	NOT_FOUND("I thanked the nurse. She was kind", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("I thanked the doctor, Jane said", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("the nurse\nJackie", FINDING_NAME_AFTER_TITLE);
}

TEST(name_title_cases_with_other_meanings)
{
	NOT_FOUND("I will miss Christmas", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("living with MS Every day", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("Drew Smith and Mister Softee", FINDING_NAME_AFTER_TITLE);
	NOT_FOUND("Nurses Said", FINDING_NAME_AFTER_TITLE);
}

/* ---- capitals ---- */

TEST(capitals_shouting)
{
	const char *text = "THE NURSES WERE WONDERFUL TO ME";
	finding f[4];

	CHECK(findings_of(text, f) == 1);
	CHECK(f[0].kind == FINDING_CAPITALS && f[0].start == 0 && f[0].end == strlen(text));
}

TEST(capitals_acronyms_in_normal_text_are_not)
{
	NOT_FOUND("I went to A&E and the NHS staff in ICU were kind to me", FINDING_CAPITALS);
	NOT_FOUND("HELP ME NOW", FINDING_CAPITALS); /* fewer than 20 letters */
}

TEST(capitals_threshold)
{
	/* 12 capitals and 8 small letters: exactly 60 %, not over it. */
	NOT_FOUND("ABCDEFGHIJKL abcdefgh", FINDING_CAPITALS);
	/* 13 and 7: 65 %. */
	FINDS("ABCDEFGHIJKLM abcdefg", FINDING_CAPITALS, "ABCDEFGHIJKLM abcdefg");
}

TEST(capitals_count_accented_letters)
{
	FINDS("ÉÉÉÉÉÉÉÉÉÉ ÀÀÀÀÀÀÀÀÀÀ ÅÅ", FINDING_CAPITALS, "ÉÉÉÉÉÉÉÉÉÉ ÀÀÀÀÀÀÀÀÀÀ ÅÅ");
	NOT_FOUND("ÉÉÉÉÉÉÉÉÉÉ éééééééééé éé", FINDING_CAPITALS);
}

/* ---- swearing ---- */

TEST(swearing_whole_words_any_case)
{
	FINDS("the food was shit.", FINDING_SWEARING, "shit");
	FINDS("Fucking brilliant", FINDING_SWEARING, "Fucking");
	FINDS("what a load of BOLLOCKS", FINDING_SWEARING, "BOLLOCKS");
	FINDS("they were pissed off", FINDING_SWEARING, "pissed");
}

TEST(swearing_inside_other_words_is_not)
{
	CLEAN("Scunthorpe is where I assess the class in the cockpit with a therapist");
	NOT_FOUND("Mr Dickens from Penistone had a grape and a shiitake", FINDING_SWEARING);
	CLEAN("my arsenal of compass points and a bass guitar");
}

TEST(swearing_disguised)
{
	FINDS("what the f*ck", FINDING_SWEARING, "f*ck");
	FINDS("sh!t happens", FINDING_SWEARING, "sh!t");
	FINDS("f**k that", FINDING_SWEARING, "f**k");
	FINDS("you b@stard", FINDING_SWEARING, "b@stard");
	FINDS("sh1t food", FINDING_SWEARING, "sh1t");
	FINDS("bull$hit", FINDING_SWEARING, "bull$hit");
}

TEST(swearing_disguise_limits)
{
	NOT_FOUND("f*** it", FINDING_SWEARING);
	NOT_FOUND("**** it", FINDING_SWEARING);
	NOT_FOUND("*ss", FINDING_SWEARING);
	NOT_FOUND("a footnote* and 5*", FINDING_SWEARING);
	NOT_FOUND("A55 road", FINDING_SWEARING);
}

TEST(swearing_accents_and_spacing)
{
	FINDS("shït", FINDING_SWEARING, "shït");
	FINDS("piss off!", FINDING_SWEARING, "piss off");
	FINDS("what a bastard’s trick", FINDING_SWEARING, "bastard’s");
}

TEST(swearing_needs_the_list)
{
	finding f[4];

	CHECK(detect_identifiers("the food was shit", NULL, WARN_WORDS, f, 4) == 0);
}

/* ---- length ---- */

TEST(too_long_marks_the_words_over_the_limit)
{
	size_t words = 1001, i, n;
	char *text = malloc(words * 5 + 8), *p = text;
	finding f[4];

	CHECK(text != NULL);
	if (!text)
		return;
	for (i = 0; i < words; i++)
		p += sprintf(p, "word ");
	strcpy(p, "\n");
	n = detect_identifiers(text, lists, 1000, f, 4);
	CHECK(n == 1);
	CHECK(f[0].kind == FINDING_TOO_LONG && f[0].start == 5000 && f[0].end == 5004);
	n = detect_identifiers(text, lists, 1001, f, 4);
	CHECK(n == 0);
	n = detect_identifiers(text, lists, 0, f, 4);
	CHECK(n == 0);
	free(text);
}

TEST(too_long_counts_words_like_validate)
{
	finding f[4];

	CHECK(detect_identifiers("one two\xc2\xa0three", lists, 2, f, 4) == 1);
	CHECK(f[0].kind == FINDING_TOO_LONG && f[0].start == 9 && f[0].end == 14);
	CHECK(detect_identifiers("one two three", lists, 3, f, 4) == 0);
	CHECK(detect_identifiers("   ", lists, 1, f, 4) == 0);
}

/* ---- order, capacity, offsets ---- */

TEST(findings_in_text_order)
{
	const char *text = "Dr Patel rang 07700 900123 from LE1 5WW about jo@nhs.net, shit";
	finding f[8];
	const finding_kind want[] = { FINDING_NAME_AFTER_TITLE, FINDING_PHONE, FINDING_POSTCODE,
				FINDING_EMAIL, FINDING_SWEARING };
	size_t n = findings_of(text, f), i;

	CHECK(n == 5);
	for (i = 0; i < n && i < 5; i++) {
		CHECK(f[i].kind == want[i]);
		if (i > 0)
			CHECK(f[i].start >= f[i - 1].end);
	}
}

TEST(findings_count_beyond_capacity)
{
	const char *text = "jo@nhs.net ann@nhs.net bo@nhs.net";
	finding f[2] = { { FINDING_KIND_COUNT, 7, 7 }, { FINDING_KIND_COUNT, 7, 7 } };

	CHECK(detect_identifiers(text, lists, WARN_WORDS, f, 1) == 3);
	CHECK(f[0].kind == FINDING_EMAIL && f[0].start == 0);
	CHECK(f[1].kind == FINDING_KIND_COUNT && f[1].start == 7); /* untouched */
	CHECK(detect_identifiers(text, lists, WARN_WORDS, NULL, 0) == 3);
	CHECK(detect_identifiers(text, lists, WARN_WORDS, NULL, 5) == 3);
}

TEST(findings_whole_text_kinds_come_in_order)
{
	const char *text = "DR PATEL SAID FUCK OFF TO ME THREE TIMES";
	finding f[8];
	size_t n = detect_identifiers(text, lists, 5, f, 8), i;

	CHECK(n == 4);
	CHECK(f[0].kind == FINDING_NAME_AFTER_TITLE && f[0].start == 0);
	CHECK(f[1].kind == FINDING_CAPITALS && f[1].start == 0);
	CHECK(f[2].kind == FINDING_SWEARING);
	CHECK(f[3].kind == FINDING_TOO_LONG &&
	      f[3].start == (size_t)(strstr(text, " TO ") + 1 - text));
	for (i = 1; i < n && i < 8; i++)
		CHECK(f[i].start >= f[i - 1].start);
}

/* Non-zero when offset falls on a character boundary of text. */
static int on_boundary(const char *text, size_t offset)
{
	return offset == strlen(text) || ((unsigned char)text[offset] & 0xC0) != 0x80;
}

TEST(offsets_on_character_boundaries)
{
	const char *text = "Café ☕ «Dr Ñúñez» 😀jo@nhs.net😀 — “07700 900123” ÉLAN Łódź LE1 5WW…";
	finding f[8];
	size_t n = findings_of(text, f), i;

	CHECK(n == 4);
	for (i = 0; i < n && i < 8; i++)
		CHECK(on_boundary(text, f[i].start) && on_boundary(text, f[i].end));
	FINDS(text, FINDING_NAME_AFTER_TITLE, "Dr Ñúñez");
	FINDS(text, FINDING_EMAIL, "jo@nhs.net");
	FINDS(text, FINDING_PHONE, "07700 900123");
	FINDS(text, FINDING_POSTCODE, "LE1 5WW");
}

TEST(invalid_utf8_is_harmless)
{
	FINDS("\xff\xfe jo@nhs.net \xc3", FINDING_EMAIL, "jo@nhs.net");
	FINDS("\xe2\x82 shit \xed\xa0\x80", FINDING_SWEARING, "shit");
	CHECK(findings_of("\xff\xff\xff\xc3\xa9\xe2\x82\xac\xf0\x9f", NULL) == 0);
}

TEST(null_and_empty_text)
{
	size_t s = 1, e = 2;

	CHECK(detect_identifiers(NULL, lists, WARN_WORDS, NULL, 0) == 0);
	CHECK(detect_identifiers("", lists, WARN_WORDS, NULL, 0) == 0);
	CHECK(detect_safeguarding(NULL, lists, &s, &e) == 0 && s == 1 && e == 2);
	CHECK(detect_safety_incident("", lists, &s, &e) == 0 && s == 1 && e == 2);
}

/* ---- safeguarding ---- */

TEST(safeguarding_self_harm_spellings)
{
	SAFEGUARDING("I used to self-harm", "self-harm");
	SAFEGUARDING("I used to self harm", "self harm");
	SAFEGUARDING("I used to selfharm", "selfharm");
	SAFEGUARDING("SELF HARM", "SELF HARM");
	SAFEGUARDING("self – harm", "self – harm");
	SAFEGUARDING("self\nharm", "self\nharm");
	SAFEGUARDING("my self-harming got worse", "self-harming");
}

TEST(safeguarding_suicide_and_abuse)
{
	SAFEGUARDING("I wanted to kill myself.", "kill myself");
	SAFEGUARDING("thoughts of suicide", "suicide");
	SAFEGUARDING("I felt suicidal", "suicidal");
	SAFEGUARDING("he abused me", "abused");
	SAFEGUARDING("there was domestic violence at home", "domestic violence");
	SAFEGUARDING("I was neglected", "neglected");
	SAFEGUARDING("I wanted to end my life", "end my life");
}

TEST(safeguarding_near_misses)
{
	NO_SAFEGUARDING("the medicine was harmless");
	NO_SAFEGUARDING("a selfish nurse and a self-help group");
	NO_SAFEGUARDING("he was disabused of the idea");
	NO_SAFEGUARDING("I learnt a new skill myself");
	NO_SAFEGUARDING("kill my self-doubt");
	NO_SAFEGUARDING("the harmony of the ward");
	NO_SAFEGUARDING("sel fharm");
	NO_SAFEGUARDING("the grapes were lovely");
}

TEST(safeguarding_case_and_accents)
{
	SAFEGUARDING("ABUSE", "ABUSE");
	SAFEGUARDING("Suïcide", "Suïcide");
	SAFEGUARDING("ábüsé", "ábüsé");
	SAFEGUARDING("abuse\xcc\x81 too", "abuse\xcc\x81");
	SAFEGUARDING("NÉGLECT", "NÉGLECT");
}

TEST(safeguarding_abuser_and_neglectful_count)
{
	SAFEGUARDING("my abuser came to visit", "abuser");
	SAFEGUARDING("a neglectful carer", "neglectful");
	SAFEGUARDING("we watched Suicide Squad", "Suicide");
}

TEST(safeguarding_exceptions)
{
	NO_SAFEGUARDING("I neglected to mention the parking");
	NO_SAFEGUARDING("it hit me that she was right");
	NO_SAFEGUARDING("he beat me to it");
	SAFEGUARDING("I neglected to eat, and was Neglected", "Neglected");
	SAFEGUARDING("he hit me", "hit me");
}

TEST(safeguarding_apostrophes)
{
	SAFEGUARDING("I felt I can't go on", "can't go on");
	SAFEGUARDING("I felt I can’t go on", "can’t go on");
	SAFEGUARDING("I felt I cant go on", "cant go on");
}

TEST(safeguarding_first_of_several)
{
	SAFEGUARDING("It was self-harm and later abuse", "self-harm");
}

/* ---- patient safety incidents ---- */

TEST(safety_falls)
{
	SAFETY("I fell in the bathroom", "fell");
	SAFETY("Mum had a fall on the ward", "had a fall");
	SAFETY("she had fallen twice", "fallen");
	SAFETY("I fell out of bed", "fell out of bed");
}

TEST(safety_medication_and_diagnosis)
{
	SAFETY("they gave me the wrong dose", "wrong dose");
	SAFETY("there was a medication error", "medication error");
	SAFETY("a missed dose of insulin", "missed dose");
	SAFETY("I was not given my medication", "not given my medication");
	SAFETY("I didn’t get my medication", "didn’t get my medication");
	SAFETY("I was misdiagnosed", "misdiagnosed");
	SAFETY("a delayed diagnosis", "delayed diagnosis");
}

TEST(safety_sores_infections_and_wrong_patient)
{
	SAFETY("he got a pressure sore", "pressure sore");
	SAFETY("bed sores", "bed sores");
	SAFETY("a bed-sore", "bed-sore");
	SAFETY("a bedsore", "bedsore");
	SAFETY("an infection after the operation", "infection after");
	SAFETY("they called the wrong patient", "wrong patient");
	SAFETY("I was left unattended", "left unattended");
}

TEST(safety_near_misses)
{
	NO_SAFETY("I fell asleep quickly");
	NO_SAFETY("I had fallen asleep");
	NO_SAFETY("we fell in love with the ward");
	NO_SAFETY("my world fell apart");
	NO_SAFETY("a falling-out with my brother");
	NO_SAFETY("the waterfall and my fellow patients");
	NO_SAFETY("I went the wrong way to the medication room");
	NO_SAFETY("I choked up when I thanked them");
	NO_SAFETY("the fall-back plan");
}

TEST(safety_exception_then_real_fall)
{
	SAFETY("I fell asleep and fell out of bed", "fell out of bed");
}

TEST(safety_case_accents_and_spacing)
{
	SAFETY("I FELL", "FELL");
	SAFETY("MisDiagnosed", "MisDiagnosed");
	SAFETY("wrong   dose", "wrong   dose");
	SAFETY("wrong\r\ndose", "wrong\r\ndose");
	SAFETY("wrong-dose", "wrong-dose");
	SAFETY("wrong_dose", "wrong_dose");
	SAFETY("wröng dose", "wröng dose");
}

TEST(safety_needs_whole_words)
{
	NO_SAFETY("wrongdosed");
	NO_SAFETY("the fellows");
	NO_SAFETY("unmisdiagnosed");
}

/* ---- speed ---- */

/* 1 MB and a bit of repeats of piece. */
static char *repeat(const char *piece, size_t size)
{
	size_t n = strlen(piece), at = 0;
	char *text = malloc(size + n + 1);

	if (!text)
		return NULL;
	while (at < size) {
		memcpy(text + at, piece, n);
		at += n;
	}
	text[at] = '\0';
	return text;
}

/* Seconds to run every check on text. */
static double time_all_checks(const char *text, size_t *count)
{
	struct timespec start;
	finding f[16];

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
	*count = detect_identifiers(text, lists, WARN_WORDS, f, 16);
	detect_safeguarding(text, lists, NULL, NULL);
	detect_safety_incident(text, lists, NULL, NULL);
	return seconds_since(&start);
}

TEST(performance_one_megabyte_story)
{
	const char *piece =
	    "Dr Patel and Nurse Jackie were kind. I rang 07700 900123 and emailed "
	    "jo@nhs.net from LE1 5WW; see www.nhs.uk or nhs.uk/111. My NHS number "
	    "943 476 5919, born 12/03/1954. The food was sh!t, the class assessed "
	    "in Scunthorpe. É à ß Łódź “quotes” — e.g. a.m. 3 May ward 7 harmless. ";
	char *text = repeat(piece, 1 << 20);
	size_t count = 0;
	double seconds;

	CHECK(text != NULL);
	if (!text)
		return;
	seconds = time_all_checks(text, &count);
	printf("#   1 MB story: %zu findings in %.3f s\n", count, seconds);
	CHECK(count > 10000);
	CHECK(seconds < SECONDS_PER_MB / 2); /* "well under a second" */
	free(text);
}

TEST(performance_pathological_texts)
{
	static const char *const pieces[] = {
		"a", "a.", "@a", "a@", "0 ", "0", "+44 ", "self ", "*", "f*", "a fall ",
		"born ", "12/", "\xcc\x81", "Dr ", "www.", "http://x", "1.", "(0", "-", " ",
		"\xff", "e\xcc\x81", "x@x.", "nhs.uk.", "shit", "ab1 2cd ",
	};
	size_t i, count;
	double worst = 0;

	for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		char *text = repeat(pieces[i], 1 << 20);
		double seconds;

		CHECK(text != NULL);
		if (!text)
			continue;
		seconds = time_all_checks(text, &count);
		if (seconds > worst)
			worst = seconds;
		/* Made to be awkward: twice the budget of a real story. */
		if (seconds >= SECONDS_PER_MB)
			printf("#   \"%s\" repeated: %.3f s\n", pieces[i], seconds);
		CHECK(seconds < SECONDS_PER_MB);
		free(text);
	}
	printf("#   slowest pathological 1 MB text: %.3f s\n", worst);
}

int main(void)
{
	char err[256] = "";

	if (!setlocale(LC_ALL, "C.UTF-8")) {
		printf("# cannot set the C.UTF-8 locale\n");
		return 1;
	}
	lists = detect_lists_load(SWEARING_LIST, SAFEGUARDING_LIST, SAFETY_LIST, err, sizeof err);
	if (!lists) {
		printf("# cannot load the phrase lists (run from the repository root): %s\n", err);
		return 1;
	}
	{
		time_t now = time(NULL);
		struct tm tm;
		this_year = gmtime_r(&now, &tm) ? tm.tm_year + 1900 : 2025;
	}

	RUN(lists_load_from_data);
	RUN(lists_missing_file_named);
	RUN(lists_bad_line_named_with_number);
	RUN(lists_too_long_phrase_refused);
	RUN(lists_empty_or_exceptions_only_refused);
	RUN(lists_own_phrases_accents_and_windows_lines);
	RUN(lists_null_paths_turn_checks_off);
	RUN(kind_keys_and_labels);

	RUN(email_in_running_text);
	RUN(email_in_brackets_and_quotes);
	RUN(email_false_positives);
	RUN(email_is_one_finding_not_also_a_web_address);

	RUN(web_http_and_https);
	RUN(web_www);
	RUN(web_bare_domains);
	RUN(web_abbreviations_are_not_addresses);
	RUN(web_parentheses_and_trailing_punctuation);

	RUN(phone_mobiles);
	RUN(phone_landlines);
	RUN(phone_international_forms);
	RUN(phone_freephone_and_non_geographic);
	RUN(phone_emergency_and_short_numbers_are_not);
	RUN(phone_false_positives);
	RUN(phone_two_numbers_and_an_aside);

	RUN(nhs_number_spaced);
	RUN(nhs_number_unspaced_and_hyphens);
	RUN(nhs_number_failing_check_is_not);
	RUN(nhs_number_check_digit_ten_means_invalid);
	RUN(nhs_number_check_digit_eleven_means_zero);
	RUN(nhs_number_within_longer_numbers_is_not);

	RUN(dob_full_numeric_dates_long_ago);
	RUN(dob_two_digit_years);
	RUN(dob_dates_in_words);
	RUN(dob_ordinary_visit_dates_are_not);
	RUN(dob_impossible_dates_are_not);
	RUN(dob_after_birth_words);
	RUN(dob_birth_words_without_a_near_date_are_not);

	RUN(postcode_spaced);
	RUN(postcode_any_case_and_no_space);
	RUN(postcode_in_punctuation);
	RUN(postcode_special_forms);
	RUN(postcode_false_positives);

	RUN(name_after_title);
	RUN(name_after_two_word_title_and_several_names);
	RUN(name_after_abbreviation_with_dot);
	RUN(name_with_accents_and_apostrophes);
	RUN(name_lower_case_word_after_title_is_not);
	RUN(name_common_words_after_title_are_not);
	RUN(name_across_sentence_or_line_is_not);
	RUN(name_title_cases_with_other_meanings);

	RUN(capitals_shouting);
	RUN(capitals_acronyms_in_normal_text_are_not);
	RUN(capitals_threshold);
	RUN(capitals_count_accented_letters);

	RUN(swearing_whole_words_any_case);
	RUN(swearing_inside_other_words_is_not);
	RUN(swearing_disguised);
	RUN(swearing_disguise_limits);
	RUN(swearing_accents_and_spacing);
	RUN(swearing_needs_the_list);

	RUN(too_long_marks_the_words_over_the_limit);
	RUN(too_long_counts_words_like_validate);

	RUN(findings_in_text_order);
	RUN(findings_count_beyond_capacity);
	RUN(findings_whole_text_kinds_come_in_order);
	RUN(offsets_on_character_boundaries);
	RUN(invalid_utf8_is_harmless);
	RUN(null_and_empty_text);

	RUN(safeguarding_self_harm_spellings);
	RUN(safeguarding_suicide_and_abuse);
	RUN(safeguarding_near_misses);
	RUN(safeguarding_case_and_accents);
	RUN(safeguarding_abuser_and_neglectful_count);
	RUN(safeguarding_exceptions);
	RUN(safeguarding_apostrophes);
	RUN(safeguarding_first_of_several);

	RUN(safety_falls);
	RUN(safety_medication_and_diagnosis);
	RUN(safety_sores_infections_and_wrong_patient);
	RUN(safety_near_misses);
	RUN(safety_exception_then_real_fall);
	RUN(safety_case_accents_and_spacing);
	RUN(safety_needs_whole_words);

	RUN(performance_one_megabyte_story);
	RUN(performance_pathological_texts);

	detect_lists_free(lists);
	return harness_report();
}
