/* pin.h - the exit PIN of a locked-down kiosk: hashed with libsodium's
 * crypto_pwhash and kept only as that hash in storykiosk.conf. No curses. */
#ifndef STORYKIOSK_PIN_H
#define STORYKIOSK_PIN_H

#include <stddef.h>

/* Non-zero when pin is acceptable as a new PIN (4 to 32 characters, no
 * spaces or control characters); otherwise msg says why. */
int pin_acceptable(const char *pin, char *msg, size_t msglen);

/* Hash pin into out (at least 128 bytes). 0, or -1 when libsodium fails. */
int pin_hash(const char *pin, char *out, size_t outlen);

/* Non-zero when pin matches hash; a slow check, by design. */
int pin_verify(const char *hash, const char *pin);

/* Set "pin_hash = HASH" in the config file at path, replacing any earlier
 * pin_hash line and keeping the rest; the file is rewritten atomically with
 * mode 0600 (created if missing). 0 or -1 with a message in err. */
int pin_store(const char *path, const char *hash, char *err, size_t errlen);

#endif
