/* fuzz_common.h - what every libFuzzer target in tests/fuzz/ shares: checks
 * that abort with a message (libFuzzer saves the input as a crash), copies of
 * the input that ASan can guard byte for byte, an independent UTF-8 decoder
 * to judge src/validate.c by, and finding the source tree for data files. */
#ifndef STORYKIOSK_FUZZ_COMMON_H
#define STORYKIOSK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FUZZ_NORETURN __attribute__((noreturn))
#define FUZZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FUZZ_NORETURN
#define FUZZ_PRINTF(f, a)
#endif

/* The libFuzzer entry points (no header declares them). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant: unlike assert() it survives -DNDEBUG. */
#define CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond, "%s", ""))
/* The same with a printf-style explanation of what was being checked. */
#define CHECKF(cond, ...) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__))

/* Print "invariant failed" with the place and the explanation, then abort. */
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    FUZZ_PRINTF(4, 5) FUZZ_NORETURN;

/* Exit with a message when the fuzzer cannot be set up at all. */
void fuzz_setup_fail(const char *fmt, ...) FUZZ_PRINTF(1, 2) FUZZ_NORETURN;

/* malloc that never returns NULL (the fuzzer is no place to test OOM). */
void *fuzz_alloc(size_t size);

/* The bytes up to the first NUL (or all of them), NUL-terminated, in a block
 * of exactly that size so ASan catches a read one past the terminator. */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* An exact copy of size bytes with no terminator (a 1-byte block when empty):
 * for functions that take a length, so ASan catches a read past it. */
char *fuzz_bytes(const uint8_t *data, size_t size);

/* A copy of s in a block of exactly strlen(s) + 1 bytes. */
char *fuzz_strdup(const char *s);

/* Printable form of up to 200 bytes of s for failure messages (static buffer). */
const char *fuzz_show(const char *s, size_t len);

/* Independent UTF-8 decoder: length of the well-formed character at s (1-4),
 * or 0 when malformed (overlong, surrogate, past U+10FFFF, truncated). */
size_t fuzz_utf8_char(const unsigned char *s, size_t len, uint32_t *cp);

/* Non-zero when len bytes are well-formed UTF-8, by fuzz_utf8_char; the
 * number of characters goes to *chars when not NULL. */
int fuzz_utf8_valid(const char *s, size_t len, size_t *chars);

/* Non-zero when s (len bytes, well-formed UTF-8) holds no C0 control other
 * than those in allowed (e.g. "\t" or "\n"), no DEL and no C1 control. */
int fuzz_no_controls(const char *s, size_t len, const char *allowed);

/* setlocale(LC_ALL, "C.UTF-8"), or exit saying it is missing. */
void fuzz_utf8_locale(void);

/* The source tree: $STORYKIOSK_ROOT, else the nearest directory above the
 * fuzzer's executable that holds probe (e.g. "data/username-blocked.txt").
 * malloc'd; exits when neither works. */
char *fuzz_source_root(const char *argv0, const char *probe);

#endif
