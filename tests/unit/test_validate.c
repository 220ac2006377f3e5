/* test_validate.c - unit tests for src/validate.c: postcodes, emails,
 * usernames against the real word lists in data/, word counts, UTF-8 checks
 * and sanitising. Run from the repository root so data/ is found. */
#include "validate.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BLOCKED_LIST "data/username-blocked.txt"
#define WARN_LIST "data/username-warn.txt"

static validate_wordlists *lists;

/* The verdict of validate_postcode on typed and the normalised form it writes. */
#define POSTCODE_IS(typed, verdict, want)                                        \
	do {                                                                     \
		char out_[32] = "untouched", msg_[256];                          \
		CHECK(validate_postcode((typed), out_, sizeof out_, msg_,        \
					sizeof msg_) == (verdict));              \
		CHECK_STR(out_, (want));                                         \
	} while (0)

#define EMAIL_IS(typed, verdict, want)                                           \
	do {                                                                     \
		char out_[300] = "untouched", msg_[256];                         \
		CHECK(validate_email((typed), out_, sizeof out_, msg_,           \
				     sizeof msg_) == (verdict));                 \
		CHECK_STR(out_, (want));                                         \
	} while (0)

/* A blocked email whose message must contain hint. */
#define EMAIL_BLOCKED(typed, hint)                                               \
	do {                                                                     \
		char out_[300] = "untouched", msg_[256] = "";                    \
		CHECK(validate_email((typed), out_, sizeof out_, msg_,           \
				     sizeof msg_) == VALIDATE_BLOCK);            \
		CHECK_STR(out_, "");                                             \
		CHECK(strstr(msg_, (hint)) != NULL);                             \
	} while (0)

#define USERNAME_IS(name, email, verdict)                                        \
	CHECK(validate_username((name), (email), lists, NULL, 0) == (verdict))

/* A username verdict whose message must contain hint. */
#define USERNAME_SAYS(name, email, verdict, hint)                                \
	do {                                                                     \
		char msg_[512] = "";                                             \
		CHECK(validate_username((name), (email), lists, msg_,            \
					sizeof msg_) == (verdict));              \
		CHECK(strstr(msg_, (hint)) != NULL);                             \
	} while (0)

#define SANITIZED(in, keep, want)                                                \
	do {                                                                     \
		char *got_ = validate_sanitize((in), (keep));                    \
		CHECK(got_ != NULL);                                             \
		CHECK_STR(got_, (want));                                         \
		free(got_);                                                      \
	} while (0)

#define TRIMMED(in, want)                                                        \
	do {                                                                     \
		char buf_[64];                                                   \
		snprintf(buf_, sizeof buf_, "%s", (in));                         \
		CHECK(validate_trim(buf_) == buf_);                              \
		CHECK_STR(buf_, (want));                                         \
	} while (0)

#define FFFD "\xEF\xBF\xBD"

/* Case-insensitive strstr for checking messages never say "invalid". */
static int mentions(const char *text, const char *word)
{
	size_t n = strlen(word), i, j;

	for (i = 0; text[i]; i++) {
		for (j = 0; j < n && text[i + j]; j++) {
			char a = text[i + j], b = word[j];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != b)
				break;
		}
		if (j == n)
			return 1;
	}
	return 0;
}

/* ---- postcodes ---- */

TEST(postcode_all_six_formats)
{
	POSTCODE_IS("M1 1AE", VALIDATE_OK, "M1 1AE");       /* A9 9AA */
	POSTCODE_IS("B33 8TH", VALIDATE_OK, "B33 8TH");     /* A99 9AA */
	POSTCODE_IS("CR2 6XH", VALIDATE_OK, "CR2 6XH");     /* AA9 9AA */
	POSTCODE_IS("DN55 1PT", VALIDATE_OK, "DN55 1PT");   /* AA99 9AA */
	POSTCODE_IS("W1A 0AX", VALIDATE_OK, "W1A 0AX");     /* A9A 9AA */
	POSTCODE_IS("EC1A 1BB", VALIDATE_OK, "EC1A 1BB");   /* AA9A 9AA */
	POSTCODE_IS("LE1 5WW", VALIDATE_OK, "LE1 5WW");
}

TEST(postcode_normalises_case_and_spacing)
{
	POSTCODE_IS("le15ww", VALIDATE_OK, "LE1 5WW");
	POSTCODE_IS("  sw1a   1aa ", VALIDATE_OK, "SW1A 1AA");
	POSTCODE_IS("Ec1a1bb", VALIDATE_OK, "EC1A 1BB");
	POSTCODE_IS("\tm11ae\n", VALIDATE_OK, "M1 1AE");
	/* A non-breaking space pasted from a web page is still a space. */
	POSTCODE_IS("LE1\xC2\xA0" "5WW", VALIDATE_OK, "LE1 5WW");
}

TEST(postcode_first_letter_never_q_v_x)
{
	POSTCODE_IS("QE1 5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("V1 1AA", VALIDATE_BLOCK, "");
	POSTCODE_IS("XW1A 1AA", VALIDATE_BLOCK, "");
	POSTCODE_IS("PE1 5WW", VALIDATE_OK, "PE1 5WW");
}

TEST(postcode_second_letter_never_i_j_z)
{
	POSTCODE_IS("LI1 5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("LJ15 5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("LZ1A 5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("LH1 5WW", VALIDATE_OK, "LH1 5WW");
}

TEST(postcode_third_letter_rule_a9a)
{
	const char *ok = "ABCDEFGHJKPSTUW";
	char typed[16];
	char c;

	for (c = 'A'; c <= 'Z'; c++) {
		char want[16];
		validate_verdict v;
		snprintf(typed, sizeof typed, "W1%c 0AX", c);
		v = validate_postcode(typed, want, sizeof want, NULL, 0);
		CHECK(v == (strchr(ok, c) ? VALIDATE_OK : VALIDATE_BLOCK));
	}
	POSTCODE_IS("W1L 0AX", VALIDATE_BLOCK, "");
}

TEST(postcode_fourth_letter_rule_aa9a)
{
	const char *ok = "ABEHMNPRVWXY";
	char typed[16];
	char c;

	for (c = 'A'; c <= 'Z'; c++) {
		char want[16];
		validate_verdict v;
		snprintf(typed, sizeof typed, "EC1%c 1BB", c);
		v = validate_postcode(typed, want, sizeof want, NULL, 0);
		CHECK(v == (strchr(ok, c) ? VALIDATE_OK : VALIDATE_BLOCK));
	}
	POSTCODE_IS("SW1C 1AA", VALIDATE_BLOCK, "");
}

TEST(postcode_inward_letters_never_cikmov)
{
	const char *bad = "CIKMOV";
	size_t i;

	for (i = 0; bad[i]; i++) {
		char first[16], second[16];
		snprintf(first, sizeof first, "LE1 5%cW", bad[i]);
		snprintf(second, sizeof second, "LE1 5W%c", bad[i]);
		POSTCODE_IS(first, VALIDATE_BLOCK, "");
		POSTCODE_IS(second, VALIDATE_BLOCK, "");
	}
	POSTCODE_IS("LE1 5AB", VALIDATE_OK, "LE1 5AB");
}

TEST(postcode_shape_errors)
{
	POSTCODE_IS("LE1 WW5", VALIDATE_BLOCK, "");  /* inward must be 9AA */
	POSTCODE_IS("LE1 55W", VALIDATE_BLOCK, "");
	POSTCODE_IS("1E1 5WW", VALIDATE_BLOCK, "");  /* starts with a digit */
	POSTCODE_IS("LEE 5WW", VALIDATE_BLOCK, "");  /* outward has no digit */
	POSTCODE_IS("L1EE 5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("LE", VALIDATE_BLOCK, "");
	POSTCODE_IS("5WW", VALIDATE_BLOCK, "");
}

TEST(postcode_gir_0aa)
{
	POSTCODE_IS("GIR 0AA", VALIDATE_OK, "GIR 0AA");
	POSTCODE_IS("gir0aa", VALIDATE_OK, "GIR 0AA");
	POSTCODE_IS("GIR 1AA", VALIDATE_BLOCK, ""); /* only GIR 0AA is special */
}

TEST(postcode_bfpo)
{
	POSTCODE_IS("BFPO 1", VALIDATE_OK, "BFPO 1");
	POSTCODE_IS("bfpo 801", VALIDATE_OK, "BFPO 801");
	POSTCODE_IS("BFPO801", VALIDATE_OK, "BFPO 801");
	POSTCODE_IS("BFPO 9999", VALIDATE_OK, "BFPO 9999");
	POSTCODE_IS("BFPO 12345", VALIDATE_BLOCK, "");
	POSTCODE_IS("BFPO", VALIDATE_BLOCK, "");
	POSTCODE_IS("BFPO 0", VALIDATE_BLOCK, "");
	POSTCODE_IS("BFPO 80A", VALIDATE_BLOCK, "");
}

TEST(postcode_bfpo_message_explains)
{
	char msg[256] = "";

	CHECK(validate_postcode("BFPO 12345", NULL, 0, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "BFPO 801") != NULL);
	CHECK(strstr(msg, "12345") == NULL);
}

TEST(postcode_nhs_pseudo_postcode_warns)
{
	char out[16], msg[256] = "";

	CHECK(validate_postcode("zz99 3vz", out, sizeof out, msg, sizeof msg) == VALIDATE_WARN);
	CHECK_STR(out, "ZZ99 3VZ");
	CHECK(strstr(msg, "NHS pseudo-postcode") != NULL);
	CHECK(strstr(msg, "no fixed abode") != NULL);
	CHECK(strstr(msg, "Confirm") != NULL);
	POSTCODE_IS("ZZ99 3WZ", VALIDATE_WARN, "ZZ99 3WZ");
	POSTCODE_IS("ZZ99 ZZZ", VALIDATE_BLOCK, ""); /* still digit then two letters */
	POSTCODE_IS("ZZ9 3VZ", VALIDATE_BLOCK, "");  /* only ZZ99 is special */
}

TEST(postcode_empty_and_blank)
{
	char msg[256] = "";

	POSTCODE_IS("", VALIDATE_BLOCK, "");
	POSTCODE_IS("   ", VALIDATE_BLOCK, "");
	POSTCODE_IS(NULL, VALIDATE_BLOCK, "");
	CHECK(validate_postcode("", NULL, 0, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "No postcode") != NULL);
}

TEST(postcode_too_long_and_extra_words)
{
	char msg[256] = "";

	POSTCODE_IS("LE1 5WW extra", VALIDATE_BLOCK, "");
	POSTCODE_IS("LE1 5WWW", VALIDATE_BLOCK, "");
	POSTCODE_IS("LE1 5WW LE1 5WW LE1 5WW LE1 5WW", VALIDATE_BLOCK, "");
	CHECK(validate_postcode("LE1 5WW extra", NULL, 0, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "too long") != NULL);
}

TEST(postcode_punctuation_and_non_ascii)
{
	POSTCODE_IS("LE1-5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("LE1 5WW.", VALIDATE_BLOCK, "");
	POSTCODE_IS("LE1,5WW", VALIDATE_BLOCK, "");
	POSTCODE_IS("L\xC3\x89" "1 5WW", VALIDATE_BLOCK, ""); /* É */
	POSTCODE_IS("LE1 5WW\xEF\xBC\xA1", VALIDATE_BLOCK, ""); /* fullwidth A */
	POSTCODE_IS("LE1 5W\xFF", VALIDATE_BLOCK, "");
}

TEST(postcode_messages_say_how_to_fix_and_keep_input_private)
{
	const char *typed[] = { "", "QE1 5WW", "LI1 5WW", "W1L 0AX", "SW1C 1AA",
				"LE1 5WC", "LE1 WW5", "LE1 5WW extra", "LE1-5WW",
				"LEE 5WW", "BFPO 0", "L\xC3\x89" "1 5WW" };
	size_t i;

	for (i = 0; i < sizeof typed / sizeof typed[0]; i++) {
		char msg[256] = "";
		CHECK(validate_postcode(typed[i], NULL, 0, msg, sizeof msg) == VALIDATE_BLOCK);
		CHECK(strstr(msg, "No postcode") != NULL);
		CHECK(!mentions(msg, "invalid"));
		if (typed[i][0])
			CHECK(strstr(msg, typed[i]) == NULL);
	}
}

TEST(postcode_ok_clears_message_and_small_buffer_blocks)
{
	char msg[256] = "left over", out[4];

	CHECK(validate_postcode("LE1 5WW", NULL, 0, msg, sizeof msg) == VALIDATE_OK);
	CHECK_STR(msg, "");
	CHECK(validate_postcode("LE1 5WW", out, sizeof out, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK_STR(out, "");
	CHECK(strstr(msg, "fault") != NULL);
	/* A message buffer too short is cut, never overrun. */
	CHECK(validate_postcode("QE1 5WW", NULL, 0, out, sizeof out) == VALIDATE_BLOCK);
	CHECK(strlen(out) == 3);
}

/* ---- email addresses ---- */

TEST(email_ok)
{
	EMAIL_IS("a@b.co", VALIDATE_OK, "a@b.co");
	EMAIL_IS("first.last+tag@nhs.net", VALIDATE_OK, "first.last+tag@nhs.net");
	EMAIL_IS("o'brien_jo-1@mail.example.co.uk", VALIDATE_OK,
		 "o'brien_jo-1@mail.example.co.uk");
	EMAIL_IS("jo@my-trust.nhs.uk", VALIDATE_OK, "jo@my-trust.nhs.uk");
	EMAIL_IS("jo@123.example.org", VALIDATE_OK, "jo@123.example.org");
}

TEST(email_trims_and_lowercases_domain_only)
{
	EMAIL_IS("Jo@Example.ORG", VALIDATE_OK, "Jo@example.org");
	EMAIL_IS("  Jo.Bloggs@NHS.Net \n", VALIDATE_OK, "Jo.Bloggs@nhs.net");
	EMAIL_IS("\xC2\xA0jo@example.org\xC2\xA0", VALIDATE_OK, "jo@example.org");
}

TEST(email_at_sign)
{
	EMAIL_BLOCKED("jo.example.org", "needs an @");
	EMAIL_BLOCKED("jo@@example.org", "only one @");
	EMAIL_BLOCKED("jo@bloggs@example.org", "only one @");
	EMAIL_BLOCKED("@example.org", "before the @");
	EMAIL_BLOCKED("jo@", "after the @");
	EMAIL_BLOCKED("", "Type their email");
	EMAIL_BLOCKED("   ", "Type their email");
	EMAIL_BLOCKED(NULL, "Type their email");
}

TEST(email_dots)
{
	EMAIL_BLOCKED("jo@example", "needs a dot");
	EMAIL_BLOCKED(".jo@example.org", "two dots");
	EMAIL_BLOCKED("jo.@example.org", "two dots");
	EMAIL_BLOCKED("jo..bloggs@example.org", "two dots");
	EMAIL_BLOCKED("jo@.example.org", "two dots");
	EMAIL_BLOCKED("jo@example.org.", "two dots");
	EMAIL_BLOCKED("jo@example..org", "two dots");
	EMAIL_IS("jo.bloggs@example.org", VALIDATE_OK, "jo.bloggs@example.org");
}

TEST(email_spaces_inside)
{
	EMAIL_BLOCKED("jo bloggs@example.org", "no spaces");
	EMAIL_BLOCKED("jo@exam ple.org", "no spaces");
	EMAIL_BLOCKED("jo@example.org extra", "no spaces");
	EMAIL_BLOCKED("jo\tb@example.org", "no spaces");
	EMAIL_BLOCKED("jo\xC2\xA0" "b@example.org", "no spaces");
}

TEST(email_lengths)
{
	char addr[400];
	char local[80];

	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(addr, sizeof addr, "%s@example.org", local);
	EMAIL_IS(addr, VALIDATE_OK, addr);
	snprintf(addr, sizeof addr, "a%s@example.org", local);
	EMAIL_BLOCKED(addr, "at most 64");

	/* 254 characters in all is the most; labels of up to 63. */
	memset(addr, 0, sizeof addr);
	strcpy(addr, "jo@");
	while (strlen(addr) + 50 <= 250)
		strcat(addr, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw.");
	while (strlen(addr) < 251)
		strcat(addr, "x");
	strcat(addr, ".uk");
	CHECK(strlen(addr) == 254);
	EMAIL_IS(addr, VALIDATE_OK, addr);
	strcat(addr, "x");
	EMAIL_BLOCKED(addr, "at most 254");

	memset(local, 'b', 64);
	local[64] = '\0';
	snprintf(addr, sizeof addr, "jo@%s.org", local);
	EMAIL_BLOCKED(addr, "at most 63");
}

TEST(email_domain_labels)
{
	EMAIL_BLOCKED("jo@-example.org", "hyphen");
	EMAIL_BLOCKED("jo@example-.org", "hyphen");
	EMAIL_BLOCKED("jo@mail.-x.org", "hyphen");
	EMAIL_BLOCKED("jo@exa_mple.org", "letters, digits, dots and hyphens");
	EMAIL_BLOCKED("jo@[127.0.0.1]", "letters, digits, dots and hyphens");
	EMAIL_BLOCKED("jo(x)@example.org", "cannot use");
}

TEST(email_top_level_domain)
{
	EMAIL_BLOCKED("jo@example.o", "two or more letters");
	EMAIL_BLOCKED("jo@example.c0m", "two or more letters");
	EMAIL_BLOCKED("jo@example.123", "two or more letters");
	EMAIL_IS("jo@example.museum", VALIDATE_OK, "jo@example.museum");
}

TEST(email_non_ascii)
{
	EMAIL_BLOCKED("zo\xC3\xAB@example.org", "plain letters");
	EMAIL_BLOCKED("jo@ex\xC3\xA4mple.org", "plain letters");
	EMAIL_BLOCKED("jo@example.org\xFF", "plain letters");
	EMAIL_BLOCKED("jo\x1b@example.org", "cannot be typed");
}

TEST(email_messages_keep_input_private)
{
	const char *typed[] = { "secret.person@example", "secret.person@@example.org",
				"secret.person@example.o", "secret person@example.org",
				"secret.person@-example.org" };
	size_t i;

	for (i = 0; i < sizeof typed / sizeof typed[0]; i++) {
		char msg[256] = "";
		CHECK(validate_email(typed[i], NULL, 0, msg, sizeof msg) == VALIDATE_BLOCK);
		CHECK(strstr(msg, "secret") == NULL);
		CHECK(strstr(msg, "name@example.org") != NULL || strstr(msg, ".org") != NULL);
		CHECK(!mentions(msg, "invalid"));
	}
}

/* ---- word lists ---- */

TEST(wordlists_load_the_shipped_files)
{
	char err[256] = "";
	validate_wordlists *again = validate_wordlists_load(BLOCKED_LIST, WARN_LIST, err,
							     sizeof err);

	CHECK(again != NULL);
	CHECK_STR(err, "");
	validate_wordlists_free(again);
	validate_wordlists_free(NULL);
}

TEST(wordlists_missing_file_is_named)
{
	char err[256] = "";

	CHECK(validate_wordlists_load("data/no-such-list.txt", WARN_LIST, err, sizeof err) == NULL);
	CHECK(strstr(err, "data/no-such-list.txt") != NULL);
	CHECK(validate_wordlists_load(BLOCKED_LIST, "data/nor-this.txt", err, sizeof err) == NULL);
	CHECK(strstr(err, "data/nor-this.txt") != NULL);
}

TEST(wordlists_bad_line_is_reported_with_its_number)
{
	char path[] = "/tmp/storykiosk-words-XXXXXX";
	char err[256] = "";
	int fd = mkstemp(path);
	FILE *f;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	CHECK(f != NULL);
	if (!f) {
		close(fd);
		unlink(path);
		return;
	}
	fputs("# a comment\n\nGood\nsecond one\n", f);
	fclose(f);
	CHECK(validate_wordlists_load(path, WARN_LIST, err, sizeof err) == NULL);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, ":4:") != NULL);

	/* Comments only: an empty list would turn the check off unnoticed. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("# nothing here\n", f);
		fclose(f);
		CHECK(validate_wordlists_load(BLOCKED_LIST, path, err, sizeof err) == NULL);
		CHECK(strstr(err, "no words") != NULL);
	}
	unlink(path);
}

/* ---- usernames ---- */

TEST(username_ok)
{
	char msg[256] = "left over";

	CHECK(validate_username("BlueHeron", NULL, lists, msg, sizeof msg) == VALIDATE_OK);
	CHECK_STR(msg, "");
	USERNAME_IS("ward7visitor", NULL, VALIDATE_OK);
	USERNAME_IS("Quiet.reader_3", NULL, VALIDATE_OK);
	USERNAME_IS("tea and toast", NULL, VALIDATE_OK);
	USERNAME_IS("Blue heron", NULL, VALIDATE_OK);
	USERNAME_IS("abc", NULL, VALIDATE_OK);
	USERNAME_IS("Bay123", NULL, VALIDATE_OK);  /* three digits: not an age */
	USERNAME_IS("Tree2100", NULL, VALIDATE_OK); /* not a year we look for */
	USERNAME_IS("Mason", NULL, VALIDATE_OK);    /* "son" only as a whole word */
}

TEST(username_accented_and_other_scripts)
{
	USERNAME_IS("zo\xC3\xAB garden", NULL, VALIDATE_OK);          /* zoë garden */
	USERNAME_SAYS("Zo\xC3\xAB Garden", NULL, VALIDATE_WARN, "real name");
	USERNAME_IS("\xE6\xA1\x9C\xE3\x81\xAE\xE6\x9C\xA8", NULL, VALIDATE_OK); /* 桜の木 */
	USERNAME_IS("\xD0\xA1\xD0\xBE\xD0\xB2\xD0\xB0", NULL, VALIDATE_OK);     /* Сова */
	USERNAME_IS("Gar\xC3\xA7on-Bleu", NULL, VALIDATE_WARN); /* two capitalised words */
}

TEST(username_combining_marks_belong_to_their_letter)
{
	/* "café garden" typed decomposed: e then U+0301. */
	USERNAME_IS("cafe\xCC\x81 garden", NULL, VALIDATE_OK);
	/* नमस्ते: the virama U+094D is not a letter to iswalpha. */
	USERNAME_IS("\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4"
		    "\xE0\xA5\x87", NULL, VALIDATE_OK);
	USERNAME_IS("\xCC\x81" "abc", NULL, VALIDATE_BLOCK);      /* mark on nothing */
	USERNAME_IS("abc-\xCC\x81", NULL, VALIDATE_BLOCK);        /* mark on a dash */
	USERNAME_IS("Blue\xE2\x80\x8BHeron", NULL, VALIDATE_BLOCK); /* zero-width space */
	USERNAME_IS("Blue\xE2\x80\x8FHeron", NULL, VALIDATE_BLOCK); /* right-to-left mark */
	/* Marks cannot hide a word: they are ignored when matching. */
	USERNAME_IS("fu\xCC\x81" "ck", NULL, VALIDATE_BLOCK);
}

TEST(username_length_counts_characters)
{
	char name[128];
	size_t i;

	USERNAME_SAYS("", NULL, VALIDATE_BLOCK, "Type a username");
	USERNAME_SAYS(NULL, NULL, VALIDATE_BLOCK, "Type a username");
	USERNAME_SAYS("ab", NULL, VALIDATE_BLOCK, "at least 3");
	USERNAME_SAYS("\xC3\xA9\xC3\xA9", NULL, VALIDATE_BLOCK, "at least 3"); /* 4 bytes, 2 letters */

	memset(name, 'a', 30);
	name[30] = '\0';
	USERNAME_IS(name, NULL, VALIDATE_OK);
	strcat(name, "a");
	USERNAME_SAYS(name, NULL, VALIDATE_BLOCK, "at most 30");

	/* 30 é's are 60 bytes but 30 characters. */
	name[0] = '\0';
	for (i = 0; i < 30; i++)
		strcat(name, "\xC3\xA9");
	USERNAME_IS(name, NULL, VALIDATE_OK);
	strcat(name, "\xC3\xA9");
	USERNAME_SAYS(name, NULL, VALIDATE_BLOCK, "at most 30");
}

TEST(username_bad_characters)
{
	USERNAME_SAYS("jo@home", NULL, VALIDATE_BLOCK, "letters, digits, spaces and - _ .");
	USERNAME_IS("BlueHeron!", NULL, VALIDATE_BLOCK);
	USERNAME_IS("Blue/Heron", NULL, VALIDATE_BLOCK);
	USERNAME_IS("Blue\tHeron", NULL, VALIDATE_BLOCK);
	USERNAME_IS("Blue\x1b[31mHeron", NULL, VALIDATE_BLOCK);
	USERNAME_IS("Blue\xE2\x80\xAEHeron", NULL, VALIDATE_BLOCK); /* RLO */
	USERNAME_IS("Heron\xF0\x9F\x90\xA6", NULL, VALIDATE_BLOCK); /* bird emoji */
	USERNAME_IS("Heron\xC3", NULL, VALIDATE_BLOCK);             /* cut UTF-8 */
	USERNAME_IS("Heron\xC0\xAF", NULL, VALIDATE_BLOCK);         /* overlong */
}

TEST(username_needs_a_letter_and_no_edge_spaces)
{
	USERNAME_SAYS("123", NULL, VALIDATE_BLOCK, "at least one letter");
	USERNAME_SAYS("-_.", NULL, VALIDATE_BLOCK, "at least one letter");
	USERNAME_SAYS(" BlueHeron", NULL, VALIDATE_BLOCK, "start or end with a space");
	USERNAME_SAYS("BlueHeron ", NULL, VALIDATE_BLOCK, "start or end with a space");
}

TEST(username_offensive_whole_words)
{
	USERNAME_IS("fuck", NULL, VALIDATE_BLOCK);
	USERNAME_IS("FUCK", NULL, VALIDATE_BLOCK);
	USERNAME_IS("big shit", NULL, VALIDATE_BLOCK);
	USERNAME_IS("shit99", NULL, VALIDATE_BLOCK);
	USERNAME_IS("Big_Twat", NULL, VALIDATE_BLOCK);
	USERNAME_IS("BigWanker", NULL, VALIDATE_BLOCK); /* split at the case change */
	USERNAME_IS("the-dickhead", NULL, VALIDATE_BLOCK);
	USERNAME_IS("sex", NULL, VALIDATE_BLOCK); /* short words as whole words */
}

TEST(username_offensive_spelt_out)
{
	USERNAME_IS("f.u.c.k", NULL, VALIDATE_BLOCK);
	USERNAME_IS("C-U-N-T", NULL, VALIDATE_BLOCK);
	USERNAME_IS("big s.h.i.t", NULL, VALIDATE_BLOCK);
	USERNAME_IS("s_l_u_t 1", NULL, VALIDATE_BLOCK);
	/* Words under 4 letters are not looked for spelt out. */
	USERNAME_IS("s.e.x", NULL, VALIDATE_OK);
}

TEST(username_no_scunthorpe_problem)
{
	USERNAME_IS("Scunthorpe", NULL, VALIDATE_OK);
	USERNAME_IS("therapist", NULL, VALIDATE_OK);
	USERNAME_IS("grapevine", NULL, VALIDATE_OK);
	USERNAME_IS("Essex", NULL, VALIDATE_OK);
	USERNAME_IS("cocktail", NULL, VALIDATE_OK);
	USERNAME_IS("Peacock", NULL, VALIDATE_OK);
	USERNAME_IS("Dickens", NULL, VALIDATE_OK);
	USERNAME_IS("Arsenal", NULL, VALIDATE_OK);
	USERNAME_IS("classic", NULL, VALIDATE_OK);
	USERNAME_IS("announcer", NULL, VALIDATE_OK);
}

TEST(username_offensive_message_does_not_repeat_the_word)
{
	char msg[256] = "";

	CHECK(validate_username("BigWanker", NULL, lists, msg, sizeof msg) == VALIDATE_BLOCK);
	CHECK(strstr(msg, "not allowed") != NULL);
	CHECK(!mentions(msg, "wank"));
	CHECK(!mentions(msg, "invalid"));
}

TEST(username_looks_like_a_real_name)
{
	USERNAME_SAYS("Jane Smith", NULL, VALIDATE_WARN, "real name");
	USERNAME_SAYS("Bluebell Wood", NULL, VALIDATE_WARN, "real name");
	USERNAME_SAYS("Morning Tea", NULL, VALIDATE_WARN, "real name"); /* accepted cost of the rule */
	USERNAME_SAYS("Ann-Marie Cole", NULL, VALIDATE_WARN, "real name");
	USERNAME_IS("Bluebell wood", NULL, VALIDATE_OK);
	USERNAME_IS("BLUE WOOD", NULL, VALIDATE_OK);
}

TEST(username_year_or_age)
{
	USERNAME_SAYS("Jane82", NULL, VALIDATE_WARN, "year or age");
	USERNAME_SAYS("bob1970", NULL, VALIDATE_WARN, "year or age");
	USERNAME_SAYS("heron 2001", NULL, VALIDATE_WARN, "year or age");
	USERNAME_SAYS("Heron1900", NULL, VALIDATE_WARN, "year or age");
	USERNAME_SAYS("Heron2099", NULL, VALIDATE_WARN, "year or age");
	USERNAME_SAYS("Bay 12", NULL, VALIDATE_WARN, "year or age");
	USERNAME_IS("Heron1899", NULL, VALIDATE_OK);
	USERNAME_IS("Heron12345", NULL, VALIDATE_OK);
	USERNAME_IS("Ward7", NULL, VALIDATE_OK);
}

TEST(username_warn_words)
{
	char msg[512] = "";

	CHECK(validate_username("mad-mum", NULL, lists, msg, sizeof msg) == VALIDATE_WARN);
	CHECK(strstr(msg, "\"mad\"") != NULL);
	CHECK(strstr(msg, "confirm") != NULL);
	USERNAME_SAYS("HappyCamper", NULL, VALIDATE_WARN, "\"happy\"");
	USERNAME_SAYS("JaneSmith", NULL, VALIDATE_WARN, "\"jane\"");
	USERNAME_SAYS("MUM", NULL, VALIDATE_WARN, "\"mum\"");
	USERNAME_SAYS("proud_grandad", NULL, VALIDATE_WARN, "\"grandad\"");
	USERNAME_SAYS("mohammed.b", NULL, VALIDATE_WARN, "\"mohammed\"");
	USERNAME_SAYS("angryLady", NULL, VALIDATE_WARN, "\"angry\"");
	USERNAME_SAYS("olivia7", NULL, VALIDATE_WARN, "\"olivia\"");
	USERNAME_IS("sonnet", NULL, VALIDATE_OK);
	USERNAME_IS("Madrigal", NULL, VALIDATE_OK);
}

TEST(username_email_local_part)
{
	USERNAME_SAYS("jsmith", "jsmith@example.org", VALIDATE_WARN, "email address");
	USERNAME_SAYS("The JSmith", "jsmith@example.org", VALIDATE_WARN, "email address");
	USERNAME_SAYS("bluebird 7", "Blue.Bird7@example.org", VALIDATE_WARN, "email address");
	USERNAME_SAYS("WalkerFan", "p.walker@example.org", VALIDATE_WARN, "email address");
	USERNAME_SAYS("otter", " otter@example.org ", VALIDATE_WARN, "email address");
	USERNAME_IS("RiverOtter", "jo@example.org", VALIDATE_OK);  /* too short to count */
	USERNAME_IS("RiverOtter", "p.ott@example.org", VALIDATE_OK); /* pieces under 4 letters */
	USERNAME_IS("RiverOtter", "not an email", VALIDATE_OK);
	USERNAME_IS("RiverOtter", NULL, VALIDATE_OK);
}

TEST(username_warning_order_and_private_message)
{
	char msg[512] = "";

	/* The email reason comes first, and the message does not repeat it. */
	CHECK(validate_username("Jane Smith", "jane.smith@example.org", lists, msg,
				sizeof msg) == VALIDATE_WARN);
	CHECK(strstr(msg, "email") != NULL);
	CHECK(strstr(msg, "jane") == NULL && strstr(msg, "example") == NULL);
	CHECK(strstr(msg, "confirm if it is fine") != NULL);
	/* A year is named before the warn word it is attached to. */
	CHECK(validate_username("Jane82", NULL, lists, msg, sizeof msg) == VALIDATE_WARN);
	CHECK(strstr(msg, "year or age") != NULL);
	/* Offensive beats every warning. */
	USERNAME_IS("Angry Shit 82", "shit@example.org", VALIDATE_BLOCK);
}

TEST(username_without_word_lists)
{
	CHECK(validate_username("mad-mum", NULL, NULL, NULL, 0) == VALIDATE_OK);
	CHECK(validate_username("fuck", NULL, NULL, NULL, 0) == VALIDATE_OK);
	CHECK(validate_username("Jane82", NULL, NULL, NULL, 0) == VALIDATE_WARN);
	CHECK(validate_username("ab", NULL, NULL, NULL, 0) == VALIDATE_BLOCK);
}

/* ---- word count ---- */

TEST(word_count_ascii)
{
	CHECK(validate_word_count("") == 0);
	CHECK(validate_word_count(NULL) == 0);
	CHECK(validate_word_count("   \t\n ") == 0);
	CHECK(validate_word_count("one") == 1);
	CHECK(validate_word_count("The night nurse sat with Mum") == 6);
	CHECK(validate_word_count("  lots   of\tspace\n\nand\r\nlines  ") == 5);
	CHECK(validate_word_count("don't stop-start, ok?") == 3);
}

TEST(word_count_utf8)
{
	CHECK(validate_word_count("caf\xC3\xA9 na\xC3\xAFve") == 2);
	CHECK(validate_word_count("a\xC2\xA0" "b") == 2);        /* NBSP */
	CHECK(validate_word_count("a\xE2\x80\x83" "b") == 2);    /* em space */
	CHECK(validate_word_count("\xE3\x80\x80\xE6\xA1\x9C") == 1); /* ideographic space */
	CHECK(validate_word_count("\xF0\x9F\x98\x80 smile") == 2);
	CHECK(validate_word_count("bad\xFF byte") == 2);
}

/* ---- UTF-8 ---- */

TEST(utf8_valid)
{
	CHECK(validate_utf8("", 0));
	CHECK(validate_utf8(NULL, 0));
	CHECK(validate_utf8("plain", 5));
	CHECK(validate_utf8("\xC3\xA9", 2));                 /* é */
	CHECK(validate_utf8("\xE2\x82\xAC", 3));             /* € */
	CHECK(validate_utf8("\xF0\x9F\x98\x80", 4));         /* 😀 */
	CHECK(validate_utf8("\xF4\x8F\xBF\xBF", 4));         /* U+10FFFF */
	CHECK(validate_utf8("\xED\x9F\xBF", 3));             /* U+D7FF */
	CHECK(validate_utf8("\xEE\x80\x80", 3));             /* U+E000 */
	/* len is honoured: a cut is only judged when it is inside len. */
	CHECK(validate_utf8("ab\xC3\xA9", 2));
}

TEST(utf8_invalid)
{
	CHECK(!validate_utf8("\x80", 1));                    /* lone continuation */
	CHECK(!validate_utf8("a\xBF" "b", 3));
	CHECK(!validate_utf8("\xC3", 1));                    /* truncated */
	CHECK(!validate_utf8("\xE2\x82", 2));
	CHECK(!validate_utf8("\xF0\x9F\x98", 3));
	CHECK(!validate_utf8("\xC3\xA9", 1));                /* cut by len */
	CHECK(!validate_utf8("\xC0\x80", 2));                /* overlong NUL */
	CHECK(!validate_utf8("\xC1\xBF", 2));
	CHECK(!validate_utf8("\xE0\x80\x80", 3));
	CHECK(!validate_utf8("\xF0\x80\x80\x80", 4));
	CHECK(!validate_utf8("\xED\xA0\x80", 3));            /* surrogate */
	CHECK(!validate_utf8("\xED\xBF\xBF", 3));
	CHECK(!validate_utf8("\xF4\x90\x80\x80", 4));        /* past U+10FFFF */
	CHECK(!validate_utf8("\xF5\x80\x80\x80", 4));
	CHECK(!validate_utf8("\xFE", 1));
	CHECK(!validate_utf8("\xFF", 1));
	CHECK(!validate_utf8("\xC3\x28", 2));                /* lead then ASCII */
	CHECK(!validate_utf8(NULL, 1));
}

TEST(utf8_length)
{
	CHECK(validate_utf8_length("") == 0);
	CHECK(validate_utf8_length(NULL) == 0);
	CHECK(validate_utf8_length("abc") == 3);
	CHECK(validate_utf8_length("Zo\xC3\xAB") == 3);
	CHECK(validate_utf8_length("\xE6\xA1\x9C\xE3\x81\xAE\xE6\x9C\xA8") == 3);
	CHECK(validate_utf8_length("\xF0\x9F\x98\x80!") == 2);
}

/* ---- sanitising ---- */

TEST(sanitize_escape_sequences)
{
	SANITIZED("\x1b[31mred\x1b[0m", 1, FFFD "[31mred" FFFD "[0m");
	SANITIZED("\x1b]0;title\x07", 1, FFFD "]0;title" FFFD);
	SANITIZED("a\x08" "b\x7f" "c", 1, "a" FFFD "b" FFFD "c"); /* backspace, DEL */
	SANITIZED("bell\x07", 0, "bell" FFFD);
	SANITIZED("lone\rreturn", 1, "lone" FFFD "return");
}

TEST(sanitize_c1_controls)
{
	SANITIZED("\xC2\x80" "a\xC2\x9B" "31m\xC2\x9F", 1, FFFD "a" FFFD "31m" FFFD);
	SANITIZED("\xC2\xA0" "kept", 1, "\xC2\xA0" "kept"); /* NBSP is printable */
}

TEST(sanitize_invalid_bytes)
{
	SANITIZED("a\xFF" "b", 1, "a" FFFD "b");
	SANITIZED("a\x9B" "31m", 1, "a" FFFD "31m");          /* raw 8-bit CSI */
	SANITIZED("\xE2\x82" "x", 1, FFFD "x");               /* one per cut sequence */
	SANITIZED("\xC0\x80", 1, FFFD FFFD);
	SANITIZED("\xED\xA0\x80", 1, FFFD FFFD FFFD);
	SANITIZED("end\xF0\x9F\x98", 1, "end" FFFD);
}

TEST(sanitize_newlines_and_tabs)
{
	SANITIZED("one\ntwo", 1, "one\ntwo");
	SANITIZED("one\ntwo", 0, "one two");
	SANITIZED("one\r\ntwo", 1, "one\ntwo");
	SANITIZED("one\r\ntwo", 0, "one two");
	SANITIZED("a\tb", 1, "a b");
	SANITIZED("a\tb", 0, "a b");
}

TEST(sanitize_bidi_controls)
{
	SANITIZED("a\xE2\x80\xAA" "b\xE2\x80\xAE" "c", 1, "a" FFFD "b" FFFD "c");
	SANITIZED("\xE2\x81\xA6" "x\xE2\x81\xA9", 1, FFFD "x" FFFD);
	SANITIZED("\xE2\x80\xA9", 1, "\xE2\x80\xA9"); /* U+2029 is not an override */
}

TEST(sanitize_leaves_ordinary_text_alone)
{
	const char *text = "The night nurse sat with Mum \xE2\x80\x94 caf\xC3\xA9, "
			   "\xE6\xA1\x9C, \xD0\xA1\xD0\xBE\xD0\xB2\xD0\xB0, \xF0\x9F\x98\x80.";

	SANITIZED(text, 1, text);
	SANITIZED("", 1, "");
	SANITIZED(NULL, 0, "");
}

/* ---- trimming ---- */

TEST(trim)
{
	TRIMMED("  hello  ", "hello");
	TRIMMED("\t\nhello world\r\n", "hello world");
	TRIMMED("hello", "hello");
	TRIMMED("   ", "");
	TRIMMED("", "");
	TRIMMED("\xC2\xA0" "caf\xC3\xA9\xC2\xA0", "caf\xC3\xA9");
	TRIMMED(" \xC3\xA9 ", "\xC3\xA9");
	TRIMMED("a \xE2\x80\x83", "a");
	CHECK(validate_trim(NULL) == NULL);
}

int main(void)
{
	char err[256] = "";

	if (!setlocale(LC_ALL, "C.UTF-8")) {
		printf("# cannot set the C.UTF-8 locale\n");
		return 1;
	}
	lists = validate_wordlists_load(BLOCKED_LIST, WARN_LIST, err, sizeof err);
	if (!lists) {
		printf("# cannot load word lists (run from the repository root): %s\n", err);
		return 1;
	}

	RUN(postcode_all_six_formats);
	RUN(postcode_normalises_case_and_spacing);
	RUN(postcode_first_letter_never_q_v_x);
	RUN(postcode_second_letter_never_i_j_z);
	RUN(postcode_third_letter_rule_a9a);
	RUN(postcode_fourth_letter_rule_aa9a);
	RUN(postcode_inward_letters_never_cikmov);
	RUN(postcode_shape_errors);
	RUN(postcode_gir_0aa);
	RUN(postcode_bfpo);
	RUN(postcode_bfpo_message_explains);
	RUN(postcode_nhs_pseudo_postcode_warns);
	RUN(postcode_empty_and_blank);
	RUN(postcode_too_long_and_extra_words);
	RUN(postcode_punctuation_and_non_ascii);
	RUN(postcode_messages_say_how_to_fix_and_keep_input_private);
	RUN(postcode_ok_clears_message_and_small_buffer_blocks);

	RUN(email_ok);
	RUN(email_trims_and_lowercases_domain_only);
	RUN(email_at_sign);
	RUN(email_dots);
	RUN(email_spaces_inside);
	RUN(email_lengths);
	RUN(email_domain_labels);
	RUN(email_top_level_domain);
	RUN(email_non_ascii);
	RUN(email_messages_keep_input_private);

	RUN(wordlists_load_the_shipped_files);
	RUN(wordlists_missing_file_is_named);
	RUN(wordlists_bad_line_is_reported_with_its_number);

	RUN(username_ok);
	RUN(username_accented_and_other_scripts);
	RUN(username_combining_marks_belong_to_their_letter);
	RUN(username_length_counts_characters);
	RUN(username_bad_characters);
	RUN(username_needs_a_letter_and_no_edge_spaces);
	RUN(username_offensive_whole_words);
	RUN(username_offensive_spelt_out);
	RUN(username_no_scunthorpe_problem);
	RUN(username_offensive_message_does_not_repeat_the_word);
	RUN(username_looks_like_a_real_name);
	RUN(username_year_or_age);
	RUN(username_warn_words);
	RUN(username_email_local_part);
	RUN(username_warning_order_and_private_message);
	RUN(username_without_word_lists);

	RUN(word_count_ascii);
	RUN(word_count_utf8);

	RUN(utf8_valid);
	RUN(utf8_invalid);
	RUN(utf8_length);

	RUN(sanitize_escape_sequences);
	RUN(sanitize_c1_controls);
	RUN(sanitize_invalid_bytes);
	RUN(sanitize_newlines_and_tabs);
	RUN(sanitize_bidi_controls);
	RUN(sanitize_leaves_ordinary_text_alone);

	RUN(trim);

	validate_wordlists_free(lists);
	return harness_report();
}
