/* fuzz_config.c - libFuzzer target for config_parse and config_parse_duration
 * (src/config.c). The input's first line is a duration as written in the
 * config ("90", "15m", "6h"); the rest is a storykiosk.conf file. Durations
 * are checked against an independent reading of storykiosk.conf(5); a file
 * that parses must leave every setting usable, and must read the same when
 * written back out. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

#define CONFIG_NAME "fuzz.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_utf8_locale();
	return 0;
}

/* storykiosk.conf(5): digits, then nothing or one of s, m, h, d; -1 when
 * malformed or when the seconds do not fit a long. */
static long expected_duration(const char *text)
{
	unsigned long long value = 0, unit = 1;
	const char *c = text;

	if (*c < '0' || *c > '9')
		return -1;
	for (; *c >= '0' && *c <= '9'; c++) {
		unsigned long long digit = (unsigned long long)(*c - '0');

		if (value > ((unsigned long long)LONG_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	switch (*c) {
	case 's': c++; break;
	case 'm': unit = 60, c++; break;
	case 'h': unit = 3600, c++; break;
	case 'd': unit = 86400, c++; break;
	default: break;
	}
	if (*c != '\0' || value > (unsigned long long)LONG_MAX / unit)
		return -1;
	return (long)(value * unit);
}

static void check_duration(const char *text)
{
	long got = config_parse_duration(text), want = expected_duration(text), again;
	char written[32];

	CHECKF(got == want, "config_parse_duration('%s') = %ld, expected %ld",
	       fuzz_show(text, strlen(text)), got, want);
	if (got < 0)
		return;
	snprintf(written, sizeof written, "%ld", got);
	again = config_parse_duration(written);
	CHECKF(again == got, "'%s' -> %ld -> %ld", written, got, again);
	snprintf(written, sizeof written, "%lds", got);
	again = config_parse_duration(written);
	CHECKF(again == got, "'%s' -> %ld -> %ld", written, got, again);
}

/* A string setting: absent, or trimmed text on one line. */
static void check_string(const char *what, const char *value)
{
	size_t len;

	if (value == NULL)
		return;
	len = strlen(value);
	CHECKF(len > 0, "%s is empty", what);
	CHECKF(strchr(value, '\n') == NULL, "%s '%s'", what, fuzz_show(value, len));
	CHECKF(value[0] != ' ' && value[0] != '\t', "%s '%s'", what, fuzz_show(value, len));
	CHECKF(value[len - 1] != ' ' && value[len - 1] != '\t' && value[len - 1] != '\r', "%s '%s'",
	       what, fuzz_show(value, len));
}

/* Whatever a file says, the settings stay usable by sync. */
static void check_config(const config *cfg)
{
	check_string("target", cfg->target);
	check_string("credentials_file", cfg->credentials_file);
	check_string("ca_bundle", cfg->ca_bundle);
	check_string("terminal", cfg->terminal);
	check_string("pin_hash", cfg->pin_hash);
	CHECKF(cfg->timeout_seconds >= 1, "timeout %ld", cfg->timeout_seconds);
	CHECKF(cfg->batch_size >= 1, "batch_size %ld", cfg->batch_size);
	CHECKF(cfg->retention_seconds >= 0, "retention %ld", cfg->retention_seconds);
	CHECKF(cfg->retry_base_seconds >= 1, "retry_base %ld", cfg->retry_base_seconds);
	CHECKF(cfg->retry_max_seconds >= 1, "retry_max %ld", cfg->retry_max_seconds);
	CHECKF(cfg->idle_seconds >= 5, "idle_timeout %ld", cfg->idle_seconds);
	CHECKF(cfg->still_there_seconds >= 1, "still_there %ld", cfg->still_there_seconds);
	CHECKF(cfg->draft_expiry_seconds >= 60, "draft_expiry %ld", cfg->draft_expiry_seconds);
	CHECK(cfg->kiosk == 0 || cfg->kiosk == 1);
	CHECK(cfg->idle_keeps_draft == 0 || cfg->idle_keeps_draft == 1);
	CHECK(cfg->secret == NULL);
}

static int same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same(const config *a, const config *b)
{
	CHECK(same_string(a->target, b->target));
	CHECK(same_string(a->credentials_file, b->credentials_file));
	CHECK(same_string(a->ca_bundle, b->ca_bundle));
	CHECK(same_string(a->terminal, b->terminal));
	CHECK(same_string(a->pin_hash, b->pin_hash));
	CHECK(a->timeout_seconds == b->timeout_seconds && a->batch_size == b->batch_size);
	CHECK(a->retention_seconds == b->retention_seconds);
	CHECK(a->retry_base_seconds == b->retry_base_seconds &&
	      a->retry_max_seconds == b->retry_max_seconds);
	CHECK(a->idle_seconds == b->idle_seconds &&
	      a->still_there_seconds == b->still_there_seconds);
	CHECK(a->draft_expiry_seconds == b->draft_expiry_seconds);
	CHECK(a->kiosk == b->kiosk && a->idle_keeps_draft == b->idle_keeps_draft);
}

static void put_string(char **out, size_t *len, const char *key, const char *value)
{
	size_t need;

	if (value == NULL)
		return;
	need = strlen(key) + strlen(value) + 5;
	*out = realloc(*out, *len + need);
	if (*out == NULL)
		fuzz_setup_fail("out of memory");
	*len += (size_t)snprintf(*out + *len, need, "%s = %s\n", key, value);
}

static void put_number(char **out, size_t *len, const char *key, long value)
{
	char number[32];

	snprintf(number, sizeof number, "%ld", value);
	put_string(out, len, key, number);
}

/* The settings as a config file, every one spelt out. */
static char *write_config(const config *cfg, size_t *len)
{
	char *out = NULL;

	*len = 0;
	put_string(&out, len, "target", cfg->target);
	put_string(&out, len, "credentials_file", cfg->credentials_file);
	put_string(&out, len, "ca_bundle", cfg->ca_bundle);
	put_string(&out, len, "terminal", cfg->terminal);
	put_number(&out, len, "timeout", cfg->timeout_seconds);
	put_number(&out, len, "batch_size", cfg->batch_size);
	put_number(&out, len, "retention", cfg->retention_seconds);
	put_number(&out, len, "retry_base", cfg->retry_base_seconds);
	put_number(&out, len, "retry_max", cfg->retry_max_seconds);
	put_number(&out, len, "idle_timeout", cfg->idle_seconds);
	put_number(&out, len, "still_there", cfg->still_there_seconds);
	put_number(&out, len, "draft_expiry", cfg->draft_expiry_seconds);
	put_string(&out, len, "kiosk", cfg->kiosk ? "yes" : "no");
	put_string(&out, len, "idle_action", cfg->idle_keeps_draft ? "draft" : "discard");
	put_string(&out, len, "pin_hash", cfg->pin_hash);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first_len = nl ? (size_t)(nl - data) : size;
	size_t rest = nl ? size - first_len - 1 : 0;
	char *duration = fuzz_cstring(data, first_len);
	char *text = fuzz_bytes(nl ? nl + 1 : data + size, rest);
	char *err = fuzz_alloc(512), *small = fuzz_alloc(8);
	config cfg, twice, quiet;
	int rc;

	check_duration(duration);

	config_defaults(&cfg);
	err[0] = '\0';
	rc = config_parse(&cfg, text, rest, CONFIG_NAME, err, 512);
	CHECK(rc == 0 || rc == -1);
	CHECKF((rc == 0) == (err[0] == '\0'), "rc %d, message '%s'", rc, err);
	if (rc != 0) {
		size_t lines = 1, i;

		CHECKF(strncmp(err, CONFIG_NAME ":", sizeof CONFIG_NAME) == 0, "message '%s'", err);
		for (i = 0; i < rest; i++)
			lines += text[i] == '\n';
		CHECKF(strtoul(err + sizeof CONFIG_NAME, NULL, 10) <= lines,
		       "message '%s' for a file of %zu lines", err, lines);
	}
	check_config(&cfg);

	/* The same file read again over its own settings changes nothing, and
	 * the room for a message does not change the verdict. */
	config_defaults(&twice);
	config_parse(&twice, text, rest, CONFIG_NAME, NULL, 0);
	small[0] = '\0'; /* config_parse writes nothing there on success */
	CHECK(config_parse(&twice, text, rest, CONFIG_NAME, small, 8) == rc);
	CHECK(strlen(small) < 8);
	if (rc == 0)
		check_same(&cfg, &twice);
	config_free(&twice);

	if (rc == 0) {
		size_t len;
		char *written = write_config(&cfg, &len);

		config_defaults(&quiet);
		CHECKF(config_parse(&quiet, written ? written : "", len, CONFIG_NAME, err, 512) ==
			   0,
		       "written back: %s", err);
		check_same(&cfg, &quiet);
		config_free(&quiet);
		free(written);
	}
	config_free(&cfg);
	CHECK(cfg.target == NULL && cfg.timeout_seconds == 0);
	free(small);
	free(err);
	free(text);
	free(duration);
	return 0;
}
