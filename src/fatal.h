/* fatal.h - the last resort for programming errors and out-of-memory: restore
 * the terminal, say what happened, exit. Everything a user can cause is a
 * return code instead. */
#ifndef STORYKIOSK_FATAL_H
#define STORYKIOSK_FATAL_H

/* Run fn (e.g. ui_end) before fatal() prints, so the message lands on a sane terminal. */
void fatal_set_cleanup(void (*fn)(void));

/* Restore the terminal, print "storykiosk: MESSAGE" to stderr and exit with EXIT_SOFTWARE. */
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
