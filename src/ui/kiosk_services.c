/* kiosk_services.c - the services step: a search box over the catalogue, the
 * matches to tick, and services that are not in the list; drawn and answered
 * here, and kept in the story as they are chosen. */
#include "kiosk_priv.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalogue.h"
#include "editor.h"
#include "fatal.h"
#include "screen.h"
#include "story.h"
#include "validate.h"

void kiosk_services_refresh(kiosk *k)
{
	const catalogue *cat = k->ctx->services;
	char *query = editor_text(&k->field);
	k->n_matches = catalogue_search(cat, query, k->matches, cat->n_services);
	if (k->n_matches > cat->n_services)
		k->n_matches = cat->n_services;
	free(query);
}

/* What a row of the services list holds. */
typedef enum { ROW_OWN, ROW_MATCH, ROW_NOT_LISTED } service_row_kind;

/* Chosen "not in the list" services to show: all of them while the search is
 * empty (so they can be taken off), else only those the search words find. */
static size_t own_rows(const kiosk *k, size_t *own, size_t cap)
{
	char *query = editor_text(&k->field);
	int searching = validate_word_count(query) > 0;
	size_t n = 0;
	for (size_t i = 0; i < k->story->n_services && n < cap; i++) {
		const story_service *svc = &k->story->services[i];
		if (svc->code != NULL)
			continue;
		if (searching && !catalogue_text_matches(svc->name, query))
			continue;
		own[n++] = i;
	}
	free(query);
	return n;
}

/* Rows: with an empty search, chosen free-text entries come first, then the
 * catalogue; while searching, the catalogue's matches come first so Enter
 * picks the best match. "Not in the list" is always last. Writes what row
 * holds and its index (into story services or the catalogue). */
static size_t services_rows(const kiosk *k, size_t row, service_row_kind *kind, size_t *index)
{
	size_t own[64];
	size_t n_own = own_rows(k, own, 64);
	char *query = editor_text(&k->field);
	int own_first = validate_word_count(query) == 0;
	free(query);
	size_t first_block = own_first ? n_own : k->n_matches;
	size_t total = n_own + k->n_matches + 1;
	if (kind != NULL) {
		if (row >= total - 1) {
			*kind = ROW_NOT_LISTED;
		} else if (row < first_block) {
			*kind = own_first ? ROW_OWN : ROW_MATCH;
			*index = own_first ? own[row] : k->matches[row];
		} else {
			*kind = own_first ? ROW_MATCH : ROW_OWN;
			*index = own_first ? k->matches[row - first_block] : own[row - first_block];
		}
	}
	return total;
}

void kiosk_services_draw(kiosk *k, const form_step *fs, int y, int limit)
{
	int width = COLS - 4;
	y = kiosk_draw_paragraphs_fit(k, y, width, limit - y - 11, fs->text, fs->n_text);
	screen_put(y, 2, width, "Search (type part of a name):", LOOK_NORMAL);
	int field_width = width < 64 ? width : 64;
	int after = kiosk_draw_line_field(k, y + 1, field_width);
	/* Keep the search box looking focused: typing always goes there. */
	size_t n_rows = services_rows(k, 0, NULL, NULL);
	int list_rows = limit - 2 - after;
	if (list_rows < 1)
		list_rows = 1;
	if (k->item >= (int)n_rows)
		k->item = (int)n_rows - 1;
	if (k->item < k->list_top)
		k->list_top = k->item;
	if (k->item >= k->list_top + list_rows)
		k->list_top = k->item - list_rows + 1;
	char *query = editor_text(&k->field);
	for (int r = 0; r < list_rows && (size_t)(k->list_top + r) < n_rows; r++) {
		size_t row = (size_t)(k->list_top + r), index = 0;
		service_row_kind kind;
		services_rows(k, row, &kind, &index);
		char line[1024];
		if (kind == ROW_OWN) {
			snprintf(line, sizeof line, "[x] %s (not in the list)", k->story->services[index].name);
		} else if (kind == ROW_MATCH) {
			const catalogue_service *svc = &k->ctx->services->services[index];
			snprintf(line, sizeof line, "[%c] %s", story_find_service(k->story, svc->code, NULL) >= 0 ? 'x' : ' ',
				 svc->name);
		} else if (validate_word_count(query) > 0) {
			snprintf(line, sizeof line, "+ Not in the list: add \"%s\" as written", query);
		} else {
			snprintf(line, sizeof line, "+ Not in the list? Type its name in the search box, then choose this");
		}
		screen_put(after + r, 2, width, line, (int)row == k->item ? LOOK_SELECTED : LOOK_NORMAL);
	}
	free(query);
	char chosen[2048];
	int used = snprintf(chosen, sizeof chosen, "Chosen (%zu):", k->story->n_services);
	for (size_t i = 0; i < k->story->n_services && used > 0 && (size_t)used < sizeof chosen; i++)
		used += snprintf(chosen + used, sizeof chosen - (size_t)used, "%s %s", i ? ";" : "",
				 k->story->services[i].name);
	if (k->story->n_services == 0)
		snprintf(chosen, sizeof chosen, "Chosen: none yet. Up and Down to move, Enter to choose.");
	screen_put(limit - 1, 2, width, chosen, LOOK_TITLE);
}

static void toggle_service_row(kiosk *k)
{
	size_t n_rows = services_rows(k, 0, NULL, NULL);
	if (k->item < 0 || (size_t)k->item >= n_rows)
		return;
	service_row_kind kind;
	size_t index = 0;
	services_rows(k, (size_t)k->item, &kind, &index);
	story *s = k->story;
	if (kind == ROW_OWN) {
		kiosk_set_message(k, LOOK_HINT, "Taken off. Type a name to search, or Ctrl-N to go on.");
		story_remove_service(s, index);
		return;
	}
	if (kind == ROW_MATCH) {
		const catalogue_service *svc = &k->ctx->services->services[index];
		int at = story_find_service(s, svc->code, NULL);
		if (at >= 0) {
			story_remove_service(s, (size_t)at);
			kiosk_set_message(k, LOOK_HINT, "Taken off: %s.", svc->name);
			return;
		}
		if (story_add_service(s, svc->code, svc->name, svc->postcode) < 0)
			fatal("out of memory");
		/* A fresh search for the next one: stories often cover several services. */
		editor_load(&k->field, NULL, 0, 200);
		kiosk_services_refresh(k);
		k->item = 0;
		kiosk_set_message(k, LOOK_HINT, "Added: %s. Search for another, or press Ctrl-N to go on.",
				  svc->name);
		return;
	}
	char *query = editor_text(&k->field);
	validate_trim(query);
	if (query[0] == '\0') {
		kiosk_set_message(k, LOOK_ERROR, "Type the service's name in the search box first, then "
				  "choose 'Not in the list'.");
	} else if (story_add_service(s, NULL, query, "") < 0) {
		fatal("out of memory");
	} else {
		editor_load(&k->field, NULL, 0, 200);
		kiosk_services_refresh(k);
		k->item = 0;
		kiosk_set_message(k, LOOK_HINT, "Added as not in the list. The team will match it to a service.");
	}
	free(query);
}

void kiosk_services_key(kiosk *k, int is_key, unsigned int ch)
{
	size_t n_rows = services_rows(k, 0, NULL, NULL);
	if (is_key && (ch == KEY_UP || ch == KEY_DOWN || ch == KEY_PPAGE || ch == KEY_NPAGE)) {
		int step = ch == KEY_PPAGE || ch == KEY_NPAGE ? 10 : 1;
		int delta = ch == KEY_UP || ch == KEY_PPAGE ? -step : step;
		k->item += delta;
		if (k->item < 0)
			k->item = 0;
		if (k->item >= (int)n_rows)
			k->item = (int)n_rows - 1;
		return;
	}
	if (kiosk_is_enter(is_key, ch) || (!is_key && ch == ' ' && editor_length(&k->field) == 0)) {
		toggle_service_row(k);
		return;
	}
	editor_result result = editor_key(&k->field, is_key, ch);
	if (result == EDITOR_CHANGED) {
		kiosk_services_refresh(k);
		k->item = 0;
		k->list_top = 0;
		k->message[0] = '\0';
	}
}
