/* fuzz_common.c - helpers shared by the libFuzzer targets: failing loudly,
 * guarded copies of the input, a UTF-8 decoder written independently of
 * src/validate.c (by value ranges, not by the Unicode byte table), and finding
 * the source tree for the data files. */
#include "fuzz_common.h"

#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==== invariant failed: %s:%d: %s\n", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}

void fuzz_setup_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzzer setup: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

void *fuzz_alloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fuzz_setup_fail("out of memory (%zu bytes)", size);
	return p;
}

char *fuzz_cstring(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	char *s = fuzz_alloc(len + 1);

	if (len > 0)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

char *fuzz_bytes(const uint8_t *data, size_t size)
{
	char *s = fuzz_alloc(size);

	if (size > 0)
		memcpy(s, data, size);
	return s;
}

char *fuzz_strdup(const char *s)
{
	size_t len = strlen(s);
	char *copy = fuzz_alloc(len + 1);

	memcpy(copy, s, len + 1);
	return copy;
}

const char *fuzz_show(const char *s, size_t len)
{
	static char shown[200 * 4 + 4];
	size_t i, o = 0;

	for (i = 0; i < len && i < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			shown[o++] = (char)c;
		else
			o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", c);
	}
	if (i < len)
		o += (size_t)snprintf(shown + o, sizeof shown - o, "...");
	shown[o] = '\0';
	return shown;
}

size_t fuzz_utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
	static const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t need, i;
	uint32_t c;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		need = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		need = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		need = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < smallest[need] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return need;
}

int fuzz_utf8_valid(const char *s, size_t len, size_t *chars)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t at = 0, count = 0;

	while (at < len) {
		uint32_t cp;
		size_t k = fuzz_utf8_char(u + at, len - at, &cp);

		if (k == 0)
			return 0;
		at += k;
		count++;
	}
	if (chars)
		*chars = count;
	return 1;
}

int fuzz_no_controls(const char *s, size_t len, const char *allowed)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t at = 0;

	while (at < len) {
		uint32_t cp;
		size_t k = fuzz_utf8_char(u + at, len - at, &cp);

		if (k == 0)
			return 0;
		if (cp < 0x20 && (cp == 0 || strchr(allowed, (int)cp) == NULL))
			return 0;
		if (cp >= 0x7F && cp <= 0x9F)
			return 0;
		at += k;
	}
	return 1;
}

void fuzz_utf8_locale(void)
{
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		fuzz_setup_fail("the C.UTF-8 locale is missing (install the locales package, "
				"or glibc >= 2.35 has it built in)");
}

static int has_probe(const char *dir, const char *probe)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", dir, probe) >= (int)sizeof path)
		return 0;
	return access(path, R_OK) == 0;
}

char *fuzz_source_root(const char *argv0, const char *probe)
{
	const char *env = getenv("STORYKIOSK_ROOT");
	char dir[PATH_MAX];
	int level;

	if (env != NULL && env[0] != '\0') {
		if (!has_probe(env, probe))
			fuzz_setup_fail("STORYKIOSK_ROOT=%s has no %s", env, probe);
		return fuzz_strdup(env);
	}
	/* The executable is build-fuzz/fuzz_x: walk up from where it lives. */
	if (realpath("/proc/self/exe", dir) == NULL &&
	    (argv0 == NULL || realpath(argv0, dir) == NULL))
		fuzz_setup_fail("cannot find the fuzzer's own path; set STORYKIOSK_ROOT");
	for (level = 0; level < 6; level++) {
		char *slash = strrchr(dir, '/');

		if (slash == NULL)
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (has_probe(dir, probe))
			return fuzz_strdup(dir);
		if (slash == dir)
			break;
	}
	fuzz_setup_fail("no %s above the fuzzer's executable; set STORYKIOSK_ROOT to the "
			"source tree",
			probe);
}
