/* harness.h - a tiny unit-test harness: each TEST is a case, a case passes
 * when none of its CHECKs fail. Prints "ok - name" / "not ok - name" lines and
 * a closing "N passed, N failed"; tests/run.sh adds these up. */
#ifndef STORYKIOSK_HARNESS_H
#define STORYKIOSK_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_case_failed;
static int harness_passed;
static int harness_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__,    \
			       __LINE__, #cond);                             \
			harness_case_failed = 1;                             \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *harness_got_ = (got);                            \
		const char *harness_want_ = (want);                          \
		if (harness_got_ == NULL || harness_want_ == NULL ?          \
			    harness_got_ != harness_want_ :                  \
			    strcmp(harness_got_, harness_want_) != 0) {      \
			printf("#   %s:%d: %s is \"%s\", want \"%s\"\n",     \
			       __FILE__, __LINE__, #got,                     \
			       harness_got_ ? harness_got_ : "(null)",       \
			       harness_want_ ? harness_want_ : "(null)");    \
			harness_case_failed = 1;                             \
		}                                                            \
	} while (0)

#define RUN(name)                                                            \
	do {                                                                 \
		harness_case_failed = 0;                                     \
		name();                                                      \
		if (harness_case_failed) {                                   \
			harness_failed++;                                    \
			printf("not ok - %s\n", #name);                      \
		} else {                                                     \
			harness_passed++;                                    \
			printf("ok - %s\n", #name);                          \
		}                                                            \
		fflush(stdout);                                              \
	} while (0)

/* Print the closing count; returns the process exit status. */
static inline int harness_report(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
