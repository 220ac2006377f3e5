/* exitcode.h - the exit statuses of storykiosk, in one place; <sysexits.h>
 * values where one fits, so scripts and systemd can tell failures apart. */
#ifndef STORYKIOSK_EXITCODE_H
#define STORYKIOSK_EXITCODE_H

#define EXIT_OK 0          /* done */
#define EXIT_NOT_FOUND 1   /* show: no such story */
#define EXIT_USAGE 64      /* EX_USAGE: bad command line */
#define EXIT_DATAERR 65    /* EX_DATAERR: a form, catalogue or word list is malformed */
#define EXIT_NOINPUT 66    /* EX_NOINPUT: a named file does not exist or cannot be read */
#define EXIT_UNAVAILABLE 69 /* EX_UNAVAILABLE: storykiosk-sync, the delivery half, cannot be run */
#define EXIT_SOFTWARE 70   /* EX_SOFTWARE: internal error, out of memory */
#define EXIT_CANTCREAT 73  /* EX_CANTCREAT: cannot create the queue or an output file */
#define EXIT_IOERR 74      /* EX_IOERR: the queue or an output could not be read or written */
#define EXIT_TEMPFAIL 75   /* EX_TEMPFAIL: sync left stories undelivered; run it again later */
#define EXIT_CONFIG 78     /* EX_CONFIG: the environment is unusable (no terminal, no UTF-8) */

#endif
