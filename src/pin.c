/* pin.c - hashing, checking and storing the exit PIN. Only the Argon2id hash
 * is ever written; a stolen config file does not give the PIN away cheaply. */
#include "pin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "paths.h"

#define PIN_MIN 4
#define PIN_MAX 32

int pin_acceptable(const char *pin, char *msg, size_t msglen)
{
	size_t len = strlen(pin);
	if (len < PIN_MIN || len > PIN_MAX) {
		snprintf(msg, msglen, "a PIN has %d to %d characters", PIN_MIN, PIN_MAX);
		return 0;
	}
	for (const char *p = pin; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(msg, msglen, "a PIN has no spaces or control characters");
			return 0;
		}
	}
	return 1;
}

int pin_hash(const char *pin, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES || sodium_init() < 0)
		return -1;
	return crypto_pwhash_str(out, pin, strlen(pin), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

int pin_verify(const char *hash, const char *pin)
{
	if (hash == NULL || pin == NULL || sodium_init() < 0)
		return 0;
	return crypto_pwhash_str_verify(hash, pin, strlen(pin)) == 0;
}

/* The config's text without its pin_hash lines (caller frees); "" when the
 * file does not exist yet. */
static char *read_without_pin(const char *path, char *err, size_t errlen)
{
	FILE *in = fopen(path, "r");
	char *kept = NULL;
	size_t kept_len = 0;
	FILE *out = open_memstream(&kept, &kept_len);
	if (out == NULL) {
		snprintf(err, errlen, "out of memory");
		if (in)
			fclose(in);
		return NULL;
	}
	if (in == NULL && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(out);
		free(kept);
		return NULL;
	}
	char *line = NULL;
	size_t cap = 0;
	while (in != NULL && getline(&line, &cap, in) != -1) {
		const char *p = line + strspn(line, " \t");
		if (strncmp(p, "pin_hash", 8) == 0 && strchr(" \t=", p[8]) != NULL)
			continue;
		fputs(line, out);
		if (line[strlen(line) - 1] != '\n')
			fputc('\n', out);
	}
	free(line);
	if (in)
		fclose(in);
	if (fclose(out) != 0) {
		snprintf(err, errlen, "out of memory");
		free(kept);
		return NULL;
	}
	return kept;
}

int pin_store(const char *path, const char *hash, char *err, size_t errlen)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (access(dir, F_OK) != 0 && paths_make_private_dir(dir, err, errlen) != 0)
			return -1;
	}
	char *kept = read_without_pin(path, err, errlen);
	if (kept == NULL)
		return -1;
	char temp[4200];
	snprintf(temp, sizeof temp, "%s.new-XXXXXX", path);
	int fd = mkstemp(temp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		free(kept);
		return -1;
	}
	FILE *out = fdopen(fd, "w");
	int ok = out != NULL && fchmod(fd, 0600) == 0 &&
		 fprintf(out, "%spin_hash = %s\n", kept, hash) > 0 &&
		 fflush(out) == 0 && fsync(fd) == 0;
	if (out != NULL ? fclose(out) != 0 : close(fd) != 0)
		ok = 0;
	free(kept);
	if (!ok || rename(temp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(temp);
		return -1;
	}
	return 0;
}
