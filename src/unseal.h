/* unseal.h - on the patient experience team's machine: open the sealed email
 * addresses and postcodes of exported or centrally stored stories with the
 * organisation's secret key. No curses. */
#ifndef STORYKIOSK_UNSEAL_H
#define STORYKIOSK_UNSEAL_H

#include <stdio.h>

#include "seal.h"

/* Copy each JSON Lines record from in to out with sealed email and postcode
 * opened (other values untouched, key order kept). name stands for the input
 * in messages. Returns records written, or -1 with "NAME:LINE: problem". */
long unseal_jsonl(const seal_key *key, FILE *in, const char *name, FILE *out,
		  char *err, size_t errlen);

/* The same for every record in the central PostgreSQL table (password may be
 * NULL). Returns records written, or -1 with a message in err. */
long unseal_postgresql(const seal_key *key, const char *conninfo, const char *password,
		       FILE *out, char *err, size_t errlen);

#endif
