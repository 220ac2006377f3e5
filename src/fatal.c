/* fatal.c - see fatal.h: the terminal is restored before anything is printed. */
#include "fatal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "exitcode.h"

static void (*cleanup)(void);

void fatal_set_cleanup(void (*fn)(void))
{
	cleanup = fn;
}

void fatal(const char *fmt, ...)
{
	if (cleanup != NULL)
		cleanup();
	va_list ap;
	va_start(ap, fmt);
	fputs("storykiosk: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_SOFTWARE);
}
