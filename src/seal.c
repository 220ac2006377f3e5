/* seal.c - crypto_box_seal for contact details, with keys kept as two short
 * text files. All the cryptography and the base64 are libsodium's. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define PUBLIC_HEADER "storykiosk-public-key v1"
#define SECRET_HEADER "storykiosk-secret-key v1"
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

struct seal_key {
	int has_secret;
	unsigned char public_key[crypto_box_PUBLICKEYBYTES];
	unsigned char secret_key[crypto_box_SECRETKEYBYTES];
};

static int ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not start");
		return -1;
	}
	return 0;
}

/* Write header and base64(bytes) to a new file of the given mode. */
static int write_key_file(const char *path, mode_t mode, const char *header,
			  const unsigned char *bytes, size_t len, char *err, size_t errlen)
{
	char b64[sodium_base64_ENCODED_LEN(crypto_box_SECRETKEYBYTES, B64_VARIANT)];
	sodium_bin2base64(b64, sizeof b64, bytes, len, B64_VARIANT);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, errno == EEXIST ? "%s already exists; keys are never overwritten"
						      : "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	FILE *out = fdopen(fd, "w");
	int ok = out != NULL && fchmod(fd, mode) == 0 && fprintf(out, "%s\n%s\n", header, b64) > 0 &&
		 fflush(out) == 0 && fsync(fd) == 0;
	if (out != NULL ? fclose(out) != 0 : close(fd) != 0)
		ok = 0;
	sodium_memzero(b64, sizeof b64);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int seal_keygen(const char *public_path, const char *secret_path, char *err, size_t errlen)
{
	if (ready(err, errlen) != 0)
		return -1;
	seal_key key;
	crypto_box_keypair(key.public_key, key.secret_key);
	int rc = write_key_file(secret_path, 0600, SECRET_HEADER, key.secret_key,
				sizeof key.secret_key, err, errlen);
	if (rc == 0 && write_key_file(public_path, 0644, PUBLIC_HEADER, key.public_key,
				      sizeof key.public_key, err, errlen) != 0) {
		unlink(secret_path);
		rc = -1;
	}
	sodium_memzero(&key, sizeof key);
	return rc;
}

/* Read a key file: its header must match, its body decode to len bytes. */
static int read_key_file(const char *path, const char *header, int secret, unsigned char *bytes,
			 size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat info;
	if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size > 4096) {
		snprintf(err, errlen, "%s is not a key file", path);
		close(fd);
		return -1;
	}
	if (secret && (info.st_mode & 0077)) {
		snprintf(err, errlen, "%s can be read by others (mode %04o); make it private with: "
			 "chmod 600 %s", path, (unsigned)(info.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	char text[4097];
	ssize_t got = read(fd, text, sizeof text - 1);
	close(fd);
	if (got < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	text[got] = '\0';
	char *body = strchr(text, '\n');
	size_t decoded = 0;
	int ok = body != NULL && (size_t)(body - text) == strlen(header) &&
		 strncmp(text, header, strlen(header)) == 0;
	if (ok) {
		body++;
		body[strcspn(body, "\r\n")] = '\0';
		ok = sodium_base642bin(bytes, len, body, strlen(body), NULL, &decoded, NULL,
				       B64_VARIANT) == 0 && decoded == len;
	}
	sodium_memzero(text, sizeof text);
	if (!ok) {
		snprintf(err, errlen, "%s is not a StoryKiosk %s key file", path, secret ? "secret" : "public");
		return -1;
	}
	return 0;
}

seal_key *seal_load_public(const char *path, char *err, size_t errlen)
{
	if (ready(err, errlen) != 0)
		return NULL;
	seal_key *key = calloc(1, sizeof *key);
	if (key == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (read_key_file(path, PUBLIC_HEADER, 0, key->public_key, sizeof key->public_key, err,
			  errlen) != 0) {
		free(key);
		return NULL;
	}
	return key;
}

seal_key *seal_load_secret(const char *path, char *err, size_t errlen)
{
	if (ready(err, errlen) != 0)
		return NULL;
	seal_key *key = calloc(1, sizeof *key);
	if (key == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (read_key_file(path, SECRET_HEADER, 1, key->secret_key, sizeof key->secret_key, err,
			  errlen) != 0) {
		seal_key_free(key);
		return NULL;
	}
	crypto_scalarmult_base(key->public_key, key->secret_key);
	key->has_secret = 1;
	return key;
}

void seal_key_free(seal_key *key)
{
	if (key == NULL)
		return;
	sodium_memzero(key, sizeof *key);
	free(key);
}

char *seal_value(const seal_key *key, const char *plain)
{
	size_t plain_len = strlen(plain);
	size_t box_len = plain_len + crypto_box_SEALBYTES;
	unsigned char *box = malloc(box_len);
	size_t b64_len = sodium_base64_ENCODED_LEN(box_len, B64_VARIANT);
	char *out = malloc(strlen(SEAL_PREFIX) + b64_len);
	if (box == NULL || out == NULL ||
	    crypto_box_seal(box, (const unsigned char *)plain, plain_len, key->public_key) != 0) {
		free(box);
		free(out);
		return NULL;
	}
	memcpy(out, SEAL_PREFIX, strlen(SEAL_PREFIX));
	sodium_bin2base64(out + strlen(SEAL_PREFIX), b64_len, box, box_len, B64_VARIANT);
	free(box);
	return out;
}

int seal_is_sealed(const char *value)
{
	return value != NULL && strncmp(value, SEAL_PREFIX, strlen(SEAL_PREFIX)) == 0;
}

char *seal_open(const seal_key *key, const char *sealed, char *err, size_t errlen)
{
	if (!key->has_secret) {
		snprintf(err, errlen, "opening needs the secret key");
		return NULL;
	}
	if (!seal_is_sealed(sealed)) {
		snprintf(err, errlen, "not a sealed value");
		return NULL;
	}
	const char *b64 = sealed + strlen(SEAL_PREFIX);
	size_t max = strlen(b64);
	unsigned char *box = malloc(max + 1);
	size_t box_len = 0;
	if (box == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sodium_base642bin(box, max, b64, strlen(b64), NULL, &box_len, NULL, B64_VARIANT) != 0 ||
	    box_len < crypto_box_SEALBYTES) {
		snprintf(err, errlen, "a sealed value is damaged (not valid base64)");
		free(box);
		return NULL;
	}
	size_t plain_len = box_len - crypto_box_SEALBYTES;
	char *plain = malloc(plain_len + 1);
	if (plain == NULL ||
	    crypto_box_seal_open((unsigned char *)plain, box, box_len, key->public_key,
				 key->secret_key) != 0) {
		snprintf(err, errlen, "a sealed value does not open with this secret key: the wrong key, "
			 "or the value was changed");
		free(box);
		free(plain);
		return NULL;
	}
	free(box);
	plain[plain_len] = '\0';
	if (strlen(plain) != plain_len) {
		snprintf(err, errlen, "a sealed value holds a NUL byte");
		free(plain);
		return NULL;
	}
	return plain;
}
