/* config.h - storykiosk.conf: where and how stories are delivered. Read from
 * /etc/storykiosk/storykiosk.conf, then $XDG_CONFIG_HOME/storykiosk/storykiosk.conf
 * (or ~/.config/...), then --config FILE; later files override earlier ones.
 * Format: storykiosk.conf(5). No curses. */
#ifndef STORYKIOSK_CONFIG_H
#define STORYKIOSK_CONFIG_H

#include <stddef.h>

/* Settings for delivery; every field has a usable default. */
typedef struct {
	char *target;             /* postgresql://... / key=value conninfo / https://... ; NULL: none */
	char *credentials_file;   /* password (PostgreSQL) or bearer token (HTTPS), mode 0600 */
	char *ca_bundle;          /* HTTPS: file of CA certificates to trust; NULL: system's */
	char *terminal;           /* this terminal's name, sent with each story; default hostname */
	long timeout_seconds;     /* connect and per-request limit (default 30) */
	long batch_size;          /* stories per transaction or progress step (default 200) */
	long retention_seconds;   /* keep contact details this long after delivery (default 0) */
	long retry_base_seconds;  /* first retry delay (default 60) */
	long retry_max_seconds;   /* longest retry delay (default 21600 = 6 hours) */
	char *secret;             /* the credential read from credentials_file, or NULL */
	/* The kiosk on a shared ward terminal */
	long idle_seconds;        /* no key for this long: "Are you still there?" (default 180) */
	long still_there_seconds; /* how long that question waits for a key (default 30) */
	int idle_keeps_draft;     /* after an idle reset keep the story as a draft (1) or discard it (0) */
	long draft_expiry_seconds;/* drafts older than this are deleted at start (default 24 hours) */
	int kiosk;                /* locked down: no Ctrl-C/Z/\, the PIN is needed to leave */
	char *pin_hash;           /* crypto_pwhash string of the exit PIN, or NULL */
	char *public_key;         /* organisation's public key file: seal contact details */
} config;

/* Fill cfg with defaults. */
void config_defaults(config *cfg);

/* Read the standard files (missing ones are skipped) then extra_path (which
 * must exist) if not NULL. -1 with "PATH:LINE: problem" in err. */
int config_load(config *cfg, const char *extra_path, char *err, size_t errlen);

/* Parse one config file's text; name stands for the file in messages. */
int config_parse(config *cfg, const char *text, size_t len, const char *name,
		 char *err, size_t errlen);

/* Read cfg->credentials_file into cfg->secret (trailing newline dropped).
 * Refuses a file readable by group or others. 0 (also when none is set) or -1. */
int config_read_secret(config *cfg, char *err, size_t errlen);

/* Parse a duration: "0", "90", "90s", "15m", "6h", "30d". -1 when malformed. */
long config_parse_duration(const char *text);

/* Overwrite the secret and free everything. */
void config_free(config *cfg);

#endif
