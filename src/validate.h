/* validate.h - checks on what the operator types: postcodes, emails, usernames,
 * word counts, and making untrusted text safe to show. Pure: no curses, no I/O
 * except loading the username word lists. */
#ifndef STORYKIOSK_VALIDATE_H
#define STORYKIOSK_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* What validate_utf8_decode gives for a malformed sequence. */
#define VALIDATE_UTF8_BAD UINT32_MAX

/* How an answer fared: fine, fine once the operator confirms, or must be fixed. */
typedef enum {
	VALIDATE_OK = 0,
	VALIDATE_WARN = 1,
	VALIDATE_BLOCK = 2
} validate_verdict;

/* Word lists used to judge usernames (blocked words, warn-worthy words). */
typedef struct validate_wordlists validate_wordlists;

/* Check a UK postcode typed in any case and spacing; on OK/WARN writes the
 * normalised form ("LE1 5WW", upper case, one space) to out. WARN is for NHS
 * pseudo-postcodes (ZZ99 ...); msg always says what to do in plain words. */
validate_verdict validate_postcode(const char *typed, char *out, size_t outlen,
				   char *msg, size_t msglen);

/* Check an email address's syntax; on OK writes it trimmed, domain lower-cased, to out. */
validate_verdict validate_email(const char *typed, char *out, size_t outlen,
				char *msg, size_t msglen);

/* Load the blocked-word list and the warn-word list (one word per line, '#'
 * comments); NULL and a message naming the file on failure. */
validate_wordlists *validate_wordlists_load(const char *blocked_path,
					    const char *warn_path,
					    char *err, size_t errlen);

/* Free word lists loaded by validate_wordlists_load (NULL is fine). */
void validate_wordlists_free(validate_wordlists *lists);

/* Judge a username: BLOCK when empty, too long, bad characters or offensive;
 * WARN when it looks like a real name, has a year or age, a warn word, or the
 * email's local part (email may be NULL). msg says why and how to fix. */
validate_verdict validate_username(const char *username, const char *email,
				   const validate_wordlists *lists,
				   char *msg, size_t msglen);

/* Non-zero when code point c separates words: ASCII white space and the
 * Unicode spaces (U+00A0 and friends). */
int validate_is_space(unsigned long c);

/* Count words (runs of non-space characters) in UTF-8 text. */
size_t validate_word_count(const char *text);

/* Non-zero when the len bytes at s are well-formed UTF-8 (no overlongs, no surrogates). */
int validate_utf8(const char *s, size_t len);

/* Decode one character from the n > 0 bytes at s by Unicode's table of
 * well-formed sequences; on a malformed one *cp is VALIDATE_UTF8_BAD and the
 * result is the length of its maximal ill-formed prefix. Returns bytes used. */
size_t validate_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Number of characters (code points) in valid UTF-8 text. */
size_t validate_utf8_length(const char *s);

/* A malloc'd copy of s that is safe to print on a terminal: control characters,
 * escape sequences and invalid UTF-8 become U+FFFD; tabs become a space; newlines
 * kept when keep_newlines, else shown as a space. NULL only when out of memory. */
char *validate_sanitize(const char *s, int keep_newlines);

/* Trim leading and trailing white space in place; returns s. */
char *validate_trim(char *s);

#endif
