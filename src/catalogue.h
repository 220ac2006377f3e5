/* catalogue.h - the services a story can be about (wards, clinics), read from a
 * catalogue file in data/, with type-ahead search. Pure: no curses.
 * Format: storykiosk-services(5). */
#ifndef STORYKIOSK_CATALOGUE_H
#define STORYKIOSK_CATALOGUE_H

#include <stddef.h>

/* One service in the catalogue. */
typedef struct {
	char *code;       /* stable identifier, e.g. "RXX-W7" */
	char *name;       /* shown to the operator */
	char *postcode;   /* the site's postcode, normalised, or "" when unknown */
	char *search_key; /* private: folded text the search matches against */
} catalogue_service;

/* A loaded catalogue, in file order. */
typedef struct {
	char *path;
	catalogue_service *services;
	size_t n_services;
} catalogue;

/* Load and check the catalogue at path; NULL on failure with
 * "PATH:LINE: problem" in err. */
catalogue *catalogue_load(const char *path, char *err, size_t errlen);

/* Parse catalogue text held in memory; name stands for the file in messages. */
catalogue *catalogue_parse(const char *text, size_t len, const char *name,
			   char *err, size_t errlen);

/* Free a catalogue (NULL is fine). */
void catalogue_free(catalogue *cat);

/* Find services matching the query: case- and accent-insensitive ("cafe",
 * "CAFÉ" and "café" all find "Day room café"; Latin letters count as the
 * ASCII letters of fold.h, other scripts and emoji only as themselves), every
 * word of the query must start some word of the service's name or code.
 * Writes up to cap indexes in catalogue order to found; returns how many
 * matched in all. An empty query matches everything. */
size_t catalogue_search(const catalogue *cat, const char *query,
			size_t *found, size_t cap);

/* Non-zero when text would be found by query under catalogue_search's rules
 * (used for services typed in as not in the list). */
int catalogue_text_matches(const char *text, const char *query);

/* The service with this code (exact match), or NULL. */
const catalogue_service *catalogue_find_code(const catalogue *cat,
					     const char *code);

#endif
