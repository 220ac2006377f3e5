/* fold.h - what a Latin letter stands for when it is typed without its accent
 * or its case: "a" for 'Á' and 'á', "ss" for 'ß', "ae" for 'æ'. One table for
 * the service search (catalogue.c) and the checks on what is typed
 * (detect.c), so both read "Zoë", "Crèche" and "Straße" the same way. Pure:
 * no locale, no curses. */
#ifndef STORYKIOSK_FOLD_H
#define STORYKIOSK_FOLD_H

#include <stddef.h>
#include <stdint.h>

/* Write the one or two lower-case ASCII letters the code point c stands for
 * (ASCII, Latin-1 Supplement and Latin Extended-A letters), or the digit
 * itself, to out; return how many, or 0 for anything else. */
size_t fold_letter(uint32_t c, char out[2]);

#endif
