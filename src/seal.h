/* seal.h - contact details sealed from the first keystroke: email and postcode
 * are encrypted to the organisation's public key (libsodium crypto_box_seal)
 * before they touch disk, so the terminal itself cannot read them back. Only
 * the patient experience team's secret key opens them. No curses. */
#ifndef STORYKIOSK_SEAL_H
#define STORYKIOSK_SEAL_H

#include <stddef.h>

/* Every sealed value starts with this, then base64 of the sealed box. */
#define SEAL_PREFIX "sealed:v1:"

/* A loaded public or secret key. */
typedef struct seal_key seal_key;

/* Make a key pair: the public key file (mode 0644) for the terminals, the
 * secret key file (mode 0600) for the team. Refuses to overwrite either.
 * 0 or -1 with a message in err. */
int seal_keygen(const char *public_path, const char *secret_path, char *err, size_t errlen);

/* Load a public key file. NULL with a message in err. */
seal_key *seal_load_public(const char *path, char *err, size_t errlen);

/* Load a secret key file (must not be readable by group or others). */
seal_key *seal_load_secret(const char *path, char *err, size_t errlen);

/* Wipe and free a key (NULL is fine). */
void seal_key_free(seal_key *key);

/* plain sealed to key, as a new SEAL_PREFIX string; NULL when out of memory. */
char *seal_value(const seal_key *key, const char *plain);

/* Non-zero when value is a sealed value. */
int seal_is_sealed(const char *value);

/* Open a sealed value with a secret key: a new string, or NULL with a message
 * in err when it is malformed, tampered with, or sealed to another key. */
char *seal_open(const seal_key *key, const char *sealed, char *err, size_t errlen);

#endif
