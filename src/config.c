/* config.c - storykiosk.conf: a few "key = value" lines that say where stories
 * go and how patiently. Secrets live in their own 0600 file, never in here and
 * never on the command line, so they do not leak through ps or shell history. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (64 * 1024)
#define SECRET_MAX_BYTES 4096

void config_defaults(config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->timeout_seconds = 30;
	cfg->batch_size = 200;
	cfg->retention_seconds = 0;
	cfg->retry_base_seconds = 60;
	cfg->retry_max_seconds = 6 * 3600;
	cfg->idle_seconds = 180;
	cfg->still_there_seconds = 30;
	cfg->idle_keeps_draft = 1;
	cfg->draft_expiry_seconds = 24 * 3600;
}

long config_parse_duration(const char *text)
{
	if (text == NULL || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	char *end;
	long value = strtol(text, &end, 10);
	if (errno != 0 || value < 0)
		return -1;
	long unit = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		unit = 60, end++;
	else if (*end == 'h')
		unit = 3600, end++;
	else if (*end == 'd')
		unit = 86400, end++;
	if (*end != '\0' || value > LONG_MAX / unit)
		return -1;
	return value * unit;
}

static char *trim(char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
		text[--len] = '\0';
	return text;
}

static int set_string(char **field, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Numbers and durations: which key, where it goes, and its smallest value. */
typedef struct {
	const char *key;
	size_t offset;
	long minimum;
	int is_duration;
} number_setting;

static const number_setting number_settings[] = {
	{ "timeout", offsetof(config, timeout_seconds), 1, 1 },
	{ "batch_size", offsetof(config, batch_size), 1, 0 },
	{ "retention", offsetof(config, retention_seconds), 0, 1 },
	{ "retry_base", offsetof(config, retry_base_seconds), 1, 1 },
	{ "retry_max", offsetof(config, retry_max_seconds), 1, 1 },
	{ "idle_timeout", offsetof(config, idle_seconds), 5, 1 },
	{ "still_there", offsetof(config, still_there_seconds), 1, 1 },
	{ "draft_expiry", offsetof(config, draft_expiry_seconds), 60, 1 },
};

/* Strings: which key and where it goes. */
typedef struct {
	const char *key;
	size_t offset;
} string_setting;

static const string_setting string_settings[] = {
	{ "target", offsetof(config, target) },
	{ "credentials_file", offsetof(config, credentials_file) },
	{ "ca_bundle", offsetof(config, ca_bundle) },
	{ "terminal", offsetof(config, terminal) },
	{ "pin_hash", offsetof(config, pin_hash) },
	{ "public_key", offsetof(config, public_key) },
};

static int apply_setting(config *cfg, const char *key, const char *value, const char *name,
			 int line, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof string_settings / sizeof string_settings[0]; i++) {
		if (strcmp(key, string_settings[i].key) != 0)
			continue;
		char **field = (char **)((char *)cfg + string_settings[i].offset);
		if (set_string(field, value) != 0) {
			snprintf(err, errlen, "%s:%d: out of memory", name, line);
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof number_settings / sizeof number_settings[0]; i++) {
		const number_setting *setting = &number_settings[i];
		if (strcmp(key, setting->key) != 0)
			continue;
		long number = config_parse_duration(value);
		if (!setting->is_duration && number >= 0 && strspn(value, "0123456789") != strlen(value))
			number = -1;
		if (number < setting->minimum) {
			snprintf(err, errlen, "%s:%d: %s must be %s of at least %ld%s", name, line, key,
				 setting->is_duration ? "a time" : "a whole number", setting->minimum,
				 setting->is_duration ? " second(s), like 30s, 15m, 6h or 7d" : "");
			return -1;
		}
		*(long *)((char *)cfg + setting->offset) = number;
		return 0;
	}
	if (strcmp(key, "kiosk") == 0 || strcmp(key, "idle_action") == 0) {
		int kiosk = strcmp(key, "kiosk") == 0;
		const char *yes = kiosk ? "yes" : "draft", *no = kiosk ? "no" : "discard";
		if (strcmp(value, yes) != 0 && strcmp(value, no) != 0) {
			snprintf(err, errlen, "%s:%d: %s must be %s or %s", name, line, key, yes, no);
			return -1;
		}
		*(kiosk ? &cfg->kiosk : &cfg->idle_keeps_draft) = strcmp(value, yes) == 0;
		return 0;
	}
	if (strcmp(key, "password") == 0 || strcmp(key, "token") == 0) {
		snprintf(err, errlen, "%s:%d: secrets do not go in the config file: put it in a file "
			 "of mode 0600 and name that file with credentials_file", name, line);
		return -1;
	}
	/* Quote the key only when it is plain text: it goes to a terminal. */
	int printable = strlen(key) <= 40;
	for (const char *p = key; *p && printable; p++)
		printable = *p > ' ' && *p < 0x7f;
	if (printable)
		snprintf(err, errlen, "%s:%d: unknown setting '%s' (see storykiosk.conf(5))", name, line, key);
	else
		snprintf(err, errlen, "%s:%d: unknown setting (see storykiosk.conf(5))", name, line);
	return -1;
}

int config_parse(config *cfg, const char *text, size_t len, const char *name,
		 char *err, size_t errlen)
{
	char *copy = malloc(len + 1);
	if (copy == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strlen(copy) != len) {
		snprintf(err, errlen, "%s: the file has a NUL byte; is it really a config file?", name);
		free(copy);
		return -1;
	}
	int line_no = 0, rc = 0;
	char *save = NULL;
	/* strtok_r would skip blank lines and miscount; walk the lines by hand. */
	for (char *line = copy; line != NULL && rc == 0; line = save) {
		char *newline = strchr(line, '\n');
		save = newline ? newline + 1 : NULL;
		if (newline)
			*newline = '\0';
		line_no++;
		char *content = trim(line);
		if (content[0] == '\0' || content[0] == '#')
			continue;
		char *equals = strchr(content, '=');
		if (equals == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", name, line_no);
			rc = -1;
			break;
		}
		*equals = '\0';
		char *key = trim(content);
		char *value = trim(equals + 1);
		if (value[0] == '\0') {
			snprintf(err, errlen, "%s:%d: %s has no value", name, line_no, key);
			rc = -1;
			break;
		}
		rc = apply_setting(cfg, key, value, name, line_no, err, errlen);
	}
	free(copy);
	return rc;
}

/* Read a whole small file; 1 when it does not exist, 0 read, -1 error. */
static int read_small_file(const char *path, char **text, size_t *len, size_t limit,
			   struct stat *info, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, info) != 0 || !S_ISREG(info->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((size_t)info->st_size > limit) {
		snprintf(err, errlen, "%s: too large (over %zu bytes)", path, limit);
		close(fd);
		return -1;
	}
	char *buffer = malloc((size_t)info->st_size + 1);
	if (buffer == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t got = 0;
	while (got < (size_t)info->st_size) {
		ssize_t n = read(fd, buffer + got, (size_t)info->st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buffer[got] = '\0';
	*text = buffer;
	*len = got;
	return 0;
}

static int load_file(config *cfg, const char *path, int must_exist, char *err, size_t errlen)
{
	char *text;
	size_t len;
	struct stat info;
	int rc = read_small_file(path, &text, &len, CONFIG_MAX_BYTES, &info, err, errlen);
	if (rc == 1) {
		if (!must_exist)
			return 0;
		snprintf(err, errlen, "%s: no such config file", path);
		return -1;
	}
	if (rc != 0)
		return -1;
	rc = config_parse(cfg, text, len, path, err, errlen);
	free(text);
	return rc;
}

int config_load(config *cfg, const char *extra_path, char *err, size_t errlen)
{
	if (load_file(cfg, "/etc/storykiosk/storykiosk.conf", 0, err, errlen) != 0)
		return -1;
	char user_path[4096];
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int have_user = 0;
	if (xdg && xdg[0] == '/')
		have_user = snprintf(user_path, sizeof user_path, "%s/storykiosk/storykiosk.conf", xdg) > 0;
	else if (home && home[0])
		have_user = snprintf(user_path, sizeof user_path, "%s/.config/storykiosk/storykiosk.conf",
				     home) > 0;
	if (have_user && load_file(cfg, user_path, 0, err, errlen) != 0)
		return -1;
	if (extra_path && load_file(cfg, extra_path, 1, err, errlen) != 0)
		return -1;
	return 0;
}

int config_read_secret(config *cfg, char *err, size_t errlen)
{
	if (cfg->credentials_file == NULL)
		return 0;
	char *text;
	size_t len;
	struct stat info;
	int rc = read_small_file(cfg->credentials_file, &text, &len, SECRET_MAX_BYTES, &info, err, errlen);
	if (rc == 1) {
		snprintf(err, errlen, "%s: the credentials file does not exist", cfg->credentials_file);
		return -1;
	}
	if (rc != 0)
		return -1;
	if (info.st_mode & 0077) {
		snprintf(err, errlen, "%s: the credentials file can be read by others (mode %04o); "
			 "make it private with: chmod 600 %s", cfg->credentials_file,
			 (unsigned)(info.st_mode & 07777), cfg->credentials_file);
		free(text);
		return -1;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (len == 0 || strlen(text) != len) {
		snprintf(err, errlen, "%s: the credentials file is empty or not text", cfg->credentials_file);
		free(text);
		return -1;
	}
	free(cfg->secret);
	cfg->secret = text;
	return 0;
}

static void wipe_free(char *text)
{
	if (text == NULL)
		return;
	volatile char *p = text;
	while (*p)
		*p++ = '\0';
	free(text);
}

void config_free(config *cfg)
{
	free(cfg->target);
	free(cfg->credentials_file);
	free(cfg->ca_bundle);
	free(cfg->terminal);
	free(cfg->pin_hash);
	free(cfg->public_key);
	wipe_free(cfg->secret);
	memset(cfg, 0, sizeof *cfg);
}
