/* draft.c - saving and restoring the story in progress. A draft is replaced
 * whole in one transaction each time, so a kill at any moment leaves the
 * previous draft or the new one, never a mixture. Like every write, each waits
 * for the queue's integrity verdict first (store_check). */
#include "draft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static void utc_at(time_t when, char *out, size_t outlen)
{
	struct tm utc;
	if (gmtime_r(&when, &utc) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

/* Run one statement with text parameters (NULL binds NULL); -1 on error. */
static int run(store *st, const char *sql, int n, const char *const *values)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_set_error(st, "saving the draft: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if ((values[i] ? sqlite3_bind_text(stmt, i + 1, values[i], -1, SQLITE_STATIC)
			       : sqlite3_bind_null(stmt, i + 1)) != SQLITE_OK) {
			store_set_error(st, "saving the draft: %s", sqlite3_errmsg(db));
			sqlite3_finalize(stmt);
			return -1;
		}
	}
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, "saving the draft: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int draft_save(store *st, const story *s, size_t step)
{
	sqlite3 *db = store_db(st);
	char now[32], step_text[24];
	utc_at(time(NULL), now, sizeof now);
	snprintf(step_text, sizeof step_text, "%zu", step);
	if (store_check(st) != 0)
		return -1;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		store_set_error(st, "saving the draft: %s", sqlite3_errmsg(db));
		return -1;
	}
	const char *story_row[] = { s->id, s->created_at, now, s->form->name, s->form->version,
				    s->operator_name, s->operator_role, step_text,
				    s->no_postcode ? "1" : "0", s->no_email ? "1" : "0" };
	if (run(st, "DELETE FROM drafts WHERE id = ?1", 1, story_row) != 0 ||
	    run(st, "INSERT INTO drafts (id, created_at, updated_at, form_name, form_version,"
		    " operator_name, operator_role, step, no_postcode, no_email)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", 10, story_row) != 0)
		goto fail;
	for (size_t i = 0; i < s->form->n_steps; i++) {
		if (s->answers[i] == NULL)
			continue;
		step_type type = s->form->steps[i].type;
		int contact = type == STEP_EMAIL || type == STEP_POSTCODE;
		/* Contact details are sealed in drafts too, when a key is set. */
		char *value = contact ? store_contact_value(st, s->answers[i]) : NULL;
		if (contact && value == NULL) {
			store_set_error(st, "sealing contact details: out of memory");
			goto fail;
		}
		/* Sealed values need no read-back after a resume; unsealed ones keep
		 * theirs, which holds nothing the answer itself does not. */
		int sealed = contact && store_seal_key(st) != NULL;
		const char *answer_row[] = { s->id, s->form->steps[i].key, contact ? value : s->answers[i],
					     sealed ? NULL : s->confirmed[i] };
		int rc = run(st, "INSERT INTO draft_answers (draft_id, step_key, value, confirmed)"
			     " VALUES (?1, ?2, ?3, ?4)", 4, answer_row);
		free(value);
		if (rc != 0)
			goto fail;
	}
	for (size_t i = 0; i < s->n_services; i++) {
		char position[24];
		snprintf(position, sizeof position, "%zu", i);
		const story_service *svc = &s->services[i];
		const char *service_row[] = { s->id, position, svc->code, svc->name, svc->postcode };
		if (run(st, "INSERT INTO draft_services (draft_id, position, code, name, postcode)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)", 5, service_row) != 0)
			goto fail;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_set_error(st, "saving the draft: %s", sqlite3_errmsg(db));
		goto fail;
	}
	return 0;
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int draft_discard(store *st, const char *id)
{
	if (store_check(st) != 0)
		return -1;
	const char *values[] = { id };
	return id ? run(st, "DELETE FROM drafts WHERE id = ?1", 1, values)
		  : run(st, "DELETE FROM drafts", 0, NULL);
}

static void copy_column(sqlite3_stmt *stmt, int column, char *out, size_t outlen)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	snprintf(out, outlen, "%s", text ? (const char *)text : "");
}

int draft_find(store *st, const char *exclude_id, draft_info *info)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT id, created_at, updated_at, operator_name, operator_role"
			       " FROM drafts WHERE ?1 IS NULL OR id <> ?1"
			       " ORDER BY updated_at DESC, id LIMIT 1", -1, &stmt, NULL) != SQLITE_OK ||
	    (exclude_id ? sqlite3_bind_text(stmt, 1, exclude_id, -1, SQLITE_STATIC)
			: sqlite3_bind_null(stmt, 1)) != SQLITE_OK) {
		store_set_error(st, "reading drafts: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		copy_column(stmt, 0, info->id, sizeof info->id);
		copy_column(stmt, 1, info->created_at, sizeof info->created_at);
		copy_column(stmt, 2, info->updated_at, sizeof info->updated_at);
		copy_column(stmt, 3, info->operator_name, sizeof info->operator_name);
		copy_column(stmt, 4, info->operator_role, sizeof info->operator_role);
	} else if (rc != SQLITE_DONE) {
		store_set_error(st, "reading drafts: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Fill s's answers and services from the draft's rows. */
static int load_rows(store *st, story *s, const char *id)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT step_key, value, confirmed FROM draft_answers WHERE draft_id = ?1",
			       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		/* Keys the current form no longer has are dropped, not guessed at. */
		int step = form_find_step(s->form, (const char *)sqlite3_column_text(stmt, 0));
		if (step < 0)
			continue;
		if (story_set_answer(s, (size_t)step, (const char *)sqlite3_column_text(stmt, 1)) != 0 ||
		    (sqlite3_column_type(stmt, 2) != SQLITE_NULL &&
		     story_confirm(s, (size_t)step, (const char *)sqlite3_column_text(stmt, 2)) != 0))
			goto fail;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(db, "SELECT code, name, postcode FROM draft_services WHERE draft_id = ?1"
			       " ORDER BY position", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (story_add_service(s, (const char *)sqlite3_column_text(stmt, 0),
				      (const char *)sqlite3_column_text(stmt, 1),
				      (const char *)sqlite3_column_text(stmt, 2)) < 0)
			goto fail;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);
	return 0;
fail:
	store_set_error(st, "reading the draft: %s", sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	return -1;
}

story *draft_load(store *st, const form *f, const char *id, size_t *step)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT created_at, operator_name, operator_role, step, no_postcode,"
			       " no_email FROM drafts WHERE id = ?1", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) != SQLITE_OK) {
		store_set_error(st, "reading the draft: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return NULL;
	}
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(st, "the draft has gone");
		sqlite3_finalize(stmt);
		return NULL;
	}
	story *s = story_new(f, (const char *)sqlite3_column_text(stmt, 1),
			     (const char *)sqlite3_column_text(stmt, 2));
	if (s == NULL) {
		store_set_error(st, "out of memory");
		sqlite3_finalize(stmt);
		return NULL;
	}
	/* The story keeps the identity it was given when it was started. */
	snprintf(s->id, sizeof s->id, "%s", id);
	copy_column(stmt, 0, s->created_at, sizeof s->created_at);
	if (story_reference(s->id, s->reference, sizeof s->reference) != 0) {
		store_set_error(st, "the draft's id is damaged");
		goto fail;
	}
	long saved_step = (long)sqlite3_column_int64(stmt, 3);
	s->no_postcode = sqlite3_column_int(stmt, 4);
	s->no_email = sqlite3_column_int(stmt, 5);
	*step = saved_step >= 0 && (size_t)saved_step < f->n_steps ? (size_t)saved_step : 0;
	/* Consent is always asked again: it is never assumed from before a crash. */
	if (f->steps[*step].type == STEP_THANKS)
		*step = 0;
	if (load_rows(st, s, id) != 0)
		goto fail;
	sqlite3_finalize(stmt);
	return s;
fail:
	sqlite3_finalize(stmt);
	story_free(s);
	return NULL;
}

long draft_expire(store *st, long max_age_seconds)
{
	sqlite3 *db = store_db(st);
	char cutoff[32];
	utc_at(time(NULL) - max_age_seconds, cutoff, sizeof cutoff);
	/* Look before deleting: at start-up there is normally nothing to expire,
	 * and then nothing need wait for the integrity check. */
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM drafts WHERE updated_at < ?1)", -1,
			       &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, cutoff, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		store_set_error(st, "reading drafts: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	int any = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (!any)
		return 0;
	const char *values[] = { cutoff };
	if (store_check(st) != 0 ||
	    run(st, "DELETE FROM drafts WHERE updated_at < ?1", 1, values) != 0)
		return -1;
	long expired = sqlite3_changes(db);
	/* Expired words should not linger in the WAL either. */
	if (expired > 0)
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return expired;
}
