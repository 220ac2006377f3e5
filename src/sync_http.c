/* sync_http.c - the HTTPS intake target: POSTs each story's export record to
 * the organisation's intake over one reused libcurl connection, and turns the
 * intake's answer into an outcome. The protocol is described in storykiosk(1). */
#include "sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fatal.h"

/* How much of an answer's body we keep: enough for the message, never more. */
#define REPLY_KEEP 512
/* How much of it goes into an attempt's message. */
#define EXCERPT_MAX 200

struct sync_target {
	CURL *curl;
	char *url;
	char *authorization;       /* "Authorization: Bearer TOKEN", wiped on close */
	char *terminal_header;     /* "StoryKiosk-Terminal: NAME", or NULL */
	long timeout_seconds;
	char reply[REPLY_KEEP];    /* the start of the current answer's body */
	size_t reply_len;
	char retry_after[32];      /* the current answer's Retry-After, made printable */
	char curl_error[CURL_ERROR_SIZE];
};

/* Apply a libcurl option unless an earlier one failed, so a chain of them can
 * be checked once: the first error is the one reported. */
#define SET_OPTION(curl, rc, option, value) \
	do { \
		if ((rc) == CURLE_OK) \
			(rc) = curl_easy_setopt((curl), (option), (value)); \
	} while (0)

static char *copy_text(const char *text)
{
	char *copy = strdup(text);
	if (copy == NULL)
		fatal("out of memory");
	return copy;
}

/* Overwrite then free a string that held a credential, so it does not linger
 * in freed memory (a core dump, a swapped page). */
static void free_wiped(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* Free a header list, wiping every line first: one of them holds the token. */
static void free_headers(struct curl_slist *headers)
{
	for (struct curl_slist *line = headers; line != NULL; line = line->next)
		explicit_bzero(line->data, strlen(line->data));
	curl_slist_free_all(headers);
}

/* libcurl's body callback: keep the start of the answer for the message and
 * swallow the rest, so the connection stays usable for the next story. */
static size_t keep_reply(char *data, size_t size, size_t count, void *context)
{
	sync_target *target = context;
	size_t len = size * count;
	size_t room = sizeof target->reply - target->reply_len;
	size_t take = len < room ? len : room;
	memcpy(target->reply + target->reply_len, data, take);
	target->reply_len += take;
	return len;
}

/* libcurl's header callback: note Retry-After, for the operator's message. */
static size_t note_header(char *data, size_t size, size_t count, void *context)
{
	sync_target *target = context;
	size_t len = size * count;
	static const char name[] = "Retry-After:";
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new answer (after a 100 Continue, say) starts afresh. */
		target->retry_after[0] = '\0';
	} else if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
		/* Seconds, or an HTTP date (which holds spaces). */
		size_t at = sizeof name - 1, out = 0;
		while (at < len && (data[at] == ' ' || data[at] == '\t'))
			at++;
		while (at < len && out + 1 < sizeof target->retry_after &&
		       data[at] >= 0x20 && data[at] <= 0x7e)
			target->retry_after[out++] = data[at++];
		while (out > 0 && target->retry_after[out - 1] == ' ')
			out--;
		target->retry_after[out] = '\0';
	}
	return len;
}

/* Copy at most max bytes of text into out (size outlen) made safe to show and
 * store: whitespace runs become one space, other control bytes and anything
 * outside ASCII become '?' (so a multibyte character is never cut in half). */
static void printable(char *out, size_t outlen, const char *text, size_t len, size_t max)
{
	size_t o = 0;
	int space = 0;
	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && o < max && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < outlen && o + 1 < max)
			out[o++] = ' ';
		space = 0;
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

/* Set the item's message: an optional explanation, then what the intake said. */
static void set_message(sync_item *item, const char *explanation, const sync_target *target)
{
	char excerpt[EXCERPT_MAX + 1];
	printable(excerpt, sizeof excerpt, target->reply, target->reply_len, EXCERPT_MAX);
	if (explanation != NULL && excerpt[0] != '\0')
		snprintf(item->message, sizeof item->message, "%s; it said: %s", explanation, excerpt);
	else if (explanation != NULL)
		snprintf(item->message, sizeof item->message, "%s", explanation);
	else
		snprintf(item->message, sizeof item->message, "%s", excerpt);
	sync_redact_contact(item->message, sizeof item->message, item->record);
}

/* Is host (as curl_url gives it: brackets around IPv6) this machine? */
static int host_is_loopback(const char *host)
{
	struct in_addr v4;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return 0;
}

/* Check the URL before anything goes on the wire: https://, or http:// to
 * this machine only (a local intake, the tests); no credentials in it, since
 * a URL is seen in ps and logs. Sets *plain for http://. 0 or -1 with err. */
static int check_url(const char *url, int *plain, char *err, size_t errlen)
{
	CURLU *parts = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	int ok = -1;
	if (parts == NULL)
		fatal("out of memory");
	CURLUcode rc = curl_url_set(parts, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "the intake URL is not usable: %s", curl_url_strerror(rc));
		goto done;
	}
	if (curl_url_get(parts, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(parts, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(err, errlen, "the intake URL names no host");
		goto done;
	}
	if (curl_url_get(parts, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(parts, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		snprintf(err, errlen, "the intake URL must not hold a user name or password: "
			 "put the token in the file named by credentials_file");
		goto done;
	}
	*plain = strcasecmp(scheme, "http") == 0;
	if (strcasecmp(scheme, "https") != 0 && !(*plain && host_is_loopback(host))) {
		snprintf(err, errlen, "the intake URL must start with https:// "
			 "(plain http:// is allowed only to this machine: 127.0.0.1, localhost or [::1])");
		goto done;
	}
	ok = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(parts);
	return ok;
}

/* A header value from the queue or the config must not break the header
 * block: printable ASCII only. */
static int header_safe(const char *value)
{
	for (const unsigned char *c = (const unsigned char *)value; *c != '\0'; c++)
		if (*c < 0x20 || *c >= 0x7f)
			return 0;
	return 1;
}

static void http_close(sync_target *target)
{
	if (target == NULL)
		return;
	if (target->curl != NULL)
		curl_easy_cleanup(target->curl);
	free_wiped(target->authorization);
	free(target->terminal_header);
	free(target->url);
	free(target);
}

static sync_target *http_open(const config *cfg, sync_run_status *status, char *err, size_t errlen)
{
	static int curl_ready;
	int plain = 0;

	*status = SYNC_RUN_CONFIG_ERROR;
	if (cfg->target == NULL || cfg->target[0] == '\0') {
		snprintf(err, errlen, "no intake URL is set");
		return NULL;
	}
	if (!curl_ready) {
		CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (rc != CURLE_OK) {
			snprintf(err, errlen, "libcurl could not start: %s", curl_easy_strerror(rc));
			return NULL;
		}
		curl_ready = 1;
	}
	if (check_url(cfg->target, &plain, err, errlen) != 0)
		return NULL;
	if (!plain && !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_SSL)) {
		snprintf(err, errlen, "this libcurl was built without TLS, so it cannot reach an https:// intake");
		return NULL;
	}
	if (cfg->ca_bundle != NULL && access(cfg->ca_bundle, R_OK) != 0) {
		snprintf(err, errlen, "cannot read the CA bundle %s: %s", cfg->ca_bundle, strerror(errno));
		return NULL;
	}

	sync_target *target = calloc(1, sizeof *target);
	if (target == NULL)
		fatal("out of memory");
	target->url = copy_text(cfg->target);
	target->timeout_seconds = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 30;
	if (cfg->secret != NULL) {
		/* The file's contents go into a header line: a token holding a line
		 * break would add headers of its own. Never quote the token. */
		if (cfg->secret[0] == '\0' || !header_safe(cfg->secret)) {
			snprintf(err, errlen, "the token in %s is empty or holds a line break or "
				 "other control character", cfg->credentials_file != NULL ?
				 cfg->credentials_file : "the credentials file");
			http_close(target);
			return NULL;
		}
		static const char prefix[] = "Authorization: Bearer ";
		size_t len = sizeof prefix + strlen(cfg->secret);
		target->authorization = malloc(len);
		if (target->authorization == NULL)
			fatal("out of memory");
		snprintf(target->authorization, len, "%s%s", prefix, cfg->secret);
	}
	if (cfg->terminal != NULL && cfg->terminal[0] != '\0') {
		char name[128];
		printable(name, sizeof name, cfg->terminal, strlen(cfg->terminal), sizeof name - 1);
		size_t len = sizeof "StoryKiosk-Terminal: " + strlen(name);
		target->terminal_header = malloc(len);
		if (target->terminal_header == NULL)
			fatal("out of memory");
		snprintf(target->terminal_header, len, "StoryKiosk-Terminal: %s", name);
	}

	target->curl = curl_easy_init();
	if (target->curl == NULL) {
		snprintf(err, errlen, "libcurl could not make a connection handle");
		http_close(target);
		return NULL;
	}
	CURL *curl = target->curl;
	CURLcode rc = CURLE_OK;
	SET_OPTION(curl, rc, CURLOPT_URL, target->url);
	/* Only the scheme checked above, and never a redirect: a captive portal
	 * redirects, and its page is not the intake. */
	SET_OPTION(curl, rc, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
	SET_OPTION(curl, rc, CURLOPT_FOLLOWLOCATION, 0L);
	SET_OPTION(curl, rc, CURLOPT_SSL_VERIFYPEER, 1L);
	SET_OPTION(curl, rc, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_bundle != NULL) {
		/* The configured bundle is the whole trust: not the system's too. */
		SET_OPTION(curl, rc, CURLOPT_CAINFO, cfg->ca_bundle);
		SET_OPTION(curl, rc, CURLOPT_CAPATH, (char *)NULL);
	}
	/* A loopback intake is reached directly, even when a proxy is configured
	 * in the environment; an https:// one honours https_proxy/no_proxy. */
	if (plain)
		SET_OPTION(curl, rc, CURLOPT_NOPROXY, "*");
	SET_OPTION(curl, rc, CURLOPT_CONNECTTIMEOUT, target->timeout_seconds);
	SET_OPTION(curl, rc, CURLOPT_TIMEOUT, target->timeout_seconds);
	/* Timeouts by polling, not SIGALRM: we own no signal handlers here. */
	SET_OPTION(curl, rc, CURLOPT_NOSIGNAL, 1L);
	SET_OPTION(curl, rc, CURLOPT_TCP_KEEPALIVE, 1L);
	SET_OPTION(curl, rc, CURLOPT_USERAGENT, "storykiosk/" STORYKIOSK_VERSION);
	SET_OPTION(curl, rc, CURLOPT_POST, 1L);
	SET_OPTION(curl, rc, CURLOPT_ERRORBUFFER, target->curl_error);
	SET_OPTION(curl, rc, CURLOPT_WRITEFUNCTION, keep_reply);
	SET_OPTION(curl, rc, CURLOPT_WRITEDATA, target);
	SET_OPTION(curl, rc, CURLOPT_HEADERFUNCTION, note_header);
	SET_OPTION(curl, rc, CURLOPT_HEADERDATA, target);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused a setting (%s): it may be older than 7.85",
			 curl_easy_strerror(rc));
		http_close(target);
		return NULL;
	}
	*status = SYNC_RUN_GO_ON;
	return target;
}

/* The header lines of one POST. */
static struct curl_slist *request_headers(const sync_target *target, const sync_item *item)
{
	char key[128];
	struct curl_slist *headers = NULL, *grown;
	const char *lines[5];
	size_t n = 0;

	snprintf(key, sizeof key, "Idempotency-Key: %s%s", item->withdrawal ? "withdraw-" : "", item->id);
	lines[n++] = "Content-Type: application/json";
	/* No "Expect: 100-continue" round trip: the bodies are small. */
	lines[n++] = "Expect:";
	lines[n++] = key;
	if (target->authorization != NULL)
		lines[n++] = target->authorization;
	if (target->terminal_header != NULL)
		lines[n++] = target->terminal_header;
	for (size_t i = 0; i < n; i++) {
		grown = curl_slist_append(headers, lines[i]);
		if (grown == NULL)
			fatal("out of memory");
		headers = grown;
	}
	return headers;
}

/* Did the request never leave this machine (no connection made)? libcurl counts
 * the request bytes it wrote; none means it never got that far. */
static int never_sent(CURL *curl)
{
	long sent = 0;
	return curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent) != CURLE_OK || sent == 0;
}

/* Classify a transfer that ended without an HTTP answer. */
static sync_run_status transport_failure(sync_target *target, sync_item *item, CURLcode rc,
					 char *err, size_t errlen)
{
	const char *why = target->curl_error[0] != '\0' ? target->curl_error : curl_easy_strerror(rc);
	item->outcome = SYNC_TEMPORARY;
	item->code[0] = '\0';
	snprintf(item->message, sizeof item->message, "%s", why);
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		snprintf(err, errlen, "the intake's certificate is not trusted: %s", why);
		return SYNC_RUN_CONFIG_ERROR;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		snprintf(err, errlen, "cannot talk to the intake: %s", why);
		return SYNC_RUN_CONFIG_ERROR;
	case CURLE_OUT_OF_MEMORY:
		fatal("out of memory");
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(err, errlen, "cannot reach the intake: %s", why);
		return SYNC_RUN_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
		/* Either no connection within the time, or an intake that took the
		 * story and hangs: waiting the same time again for every story left
		 * would only make the ward wait. Stop; the rest go next run. */
		if (never_sent(target->curl))
			snprintf(err, errlen, "cannot reach the intake: %s", why);
		else
			snprintf(err, errlen, "the intake did not answer within %ld s: %s",
				 target->timeout_seconds, why);
		return SYNC_RUN_UNREACHABLE;
	default:
		/* Dropped or reset connections, a garbled reply: this story waits
		 * for the next run; the next one may well go through. */
		return SYNC_RUN_GO_ON;
	}
}

/* Classify an HTTP answer. */
static sync_run_status http_answer(sync_target *target, sync_item *item, long status,
				   char *err, size_t errlen)
{
	char explanation[160];
	snprintf(item->code, sizeof item->code, "%ld", status);
	if (status == 201 || status == 202) {
		item->outcome = SYNC_DELIVERED;
		set_message(item, NULL, target);
		return SYNC_RUN_GO_ON;
	}
	if (status == 409) {
		item->outcome = SYNC_ALREADY_THERE;
		set_message(item, NULL, target);
		return SYNC_RUN_GO_ON;
	}
	/* The withdrawal of a story a cut-off sync may not have delivered: an
	 * intake that says it never had it (410 Gone) has nothing to withdraw.
	 * Not 404, which a moved intake or a proxy answers for every path. */
	if (item->withdrawal && item->never_delivered && status == 410) {
		item->outcome = SYNC_DELIVERED;
		set_message(item, "the intake never received this story: nothing to withdraw", target);
		return SYNC_RUN_GO_ON;
	}
	if (status == 401 || status == 403) {
		item->outcome = SYNC_TEMPORARY;
		set_message(item, NULL, target);
		snprintf(err, errlen, "the intake refused our credentials (HTTP %ld)%s", status,
			 target->authorization == NULL ? ": no credentials_file is set" : "");
		return SYNC_RUN_CONFIG_ERROR;
	}
	if (status == 408 || status == 429 || status >= 500) {
		item->outcome = SYNC_TEMPORARY;
		if (target->retry_after[0] != '\0')
			snprintf(explanation, sizeof explanation, "HTTP %ld, Retry-After: %s",
				 status, target->retry_after);
		else
			snprintf(explanation, sizeof explanation, "HTTP %ld", status);
		set_message(item, explanation, target);
		/* These three say the intake as a whole is unavailable or wants
		 * fewer requests: sending the rest now would only add to its load. */
		if (status == 429 || status == 502 || status == 503 || status == 504) {
			snprintf(err, errlen, "the intake is not taking stories for now (%s)", explanation);
			return SYNC_RUN_UNREACHABLE;
		}
		return SYNC_RUN_GO_ON;
	}
	item->outcome = SYNC_REJECTED;
	if (status == 200) {
		set_message(item, "HTTP 200 is not a delivery: the intake must answer 201, 202 or 409 - "
			    "is this a Wi-Fi login page?", target);
	} else if (status >= 300 && status < 400) {
		char *location = NULL;
		char shown[96] = "";
		if (curl_easy_getinfo(target->curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
		    location != NULL)
			printable(shown, sizeof shown, location, strlen(location), sizeof shown - 1);
		snprintf(explanation, sizeof explanation, "HTTP %ld redirect%s%s not followed: "
			 "is this a Wi-Fi login page?", status, shown[0] ? " to " : "", shown);
		set_message(item, explanation, target);
	} else {
		snprintf(explanation, sizeof explanation, "HTTP %ld: the intake refused this story", status);
		set_message(item, explanation, target);
	}
	return SYNC_RUN_GO_ON;
}

/* POST one item and classify what came back. */
static sync_run_status send_one(sync_target *target, sync_item *item, char *err, size_t errlen)
{
	item->outcome = SYNC_TEMPORARY;
	item->maybe_stored = 0;
	item->code[0] = '\0';
	item->message[0] = '\0';
	if (item->id == NULL || item->record == NULL || !header_safe(item->id) || item->id[0] == '\0' ||
	    strlen(item->id) > 64) {
		item->outcome = SYNC_REJECTED;
		snprintf(item->message, sizeof item->message,
			 "this story's id cannot be sent as an Idempotency-Key");
		return SYNC_RUN_GO_ON;
	}

	target->reply_len = 0;
	target->retry_after[0] = '\0';
	target->curl_error[0] = '\0';
	struct curl_slist *headers = request_headers(target, item);
	CURLcode rc = CURLE_OK;
	SET_OPTION(target->curl, rc, CURLOPT_HTTPHEADER, headers);
	SET_OPTION(target->curl, rc, CURLOPT_POSTFIELDS, item->record);
	SET_OPTION(target->curl, rc, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(item->record));
	if (rc == CURLE_OK)
		rc = curl_easy_perform(target->curl);
	else
		snprintf(target->curl_error, sizeof target->curl_error, "%s", curl_easy_strerror(rc));

	sync_run_status run;
	long status = 0;
	int answered = 0;
	if (rc != CURLE_OK) {
		run = transport_failure(target, item, rc, err, errlen);
	} else if (curl_easy_getinfo(target->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
		 status < 100) {
		run = transport_failure(target, item, CURLE_WEIRD_SERVER_REPLY, err, errlen);
	} else {
		answered = 1;
		run = http_answer(target, item, status, err, errlen);
	}
	if (item->outcome != SYNC_DELIVERED && item->outcome != SYNC_ALREADY_THERE) {
		/* The intake may have stored it without saying so: the body left and
		 * no answer came, or the answer does not say (another 2xx, a server
		 * or gateway error, 520 and 524 from a CDN among them). Refusals,
		 * "come back later" (503) and "cannot do that" (501, 505) say it
		 * did not. */
		curl_off_t sent = 0;
		if (!answered)
			item->maybe_stored = curl_easy_getinfo(target->curl, CURLINFO_SIZE_UPLOAD_T,
							       &sent) != CURLE_OK || sent > 0;
		else
			item->maybe_stored = (status >= 200 && status < 300) ||
					     (status >= 500 && status != 501 && status != 503 &&
					      status != 505);
	}

	/* The handle keeps a pointer to the list: drop it before freeing. */
	if (curl_easy_setopt(target->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL) != CURLE_OK)
		fatal("libcurl would not let go of a header list");
	free_headers(headers);
	return run;
}

static sync_run_status http_send(sync_target *target, sync_item *items, size_t n,
				 char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		sync_run_status run = send_one(target, &items[i], err, errlen);
		if (run == SYNC_RUN_GO_ON)
			continue;
		/* The rest stay SYNC_TEMPORARY; say why in their attempt. */
		for (size_t rest = i + 1; rest < n; rest++) {
			items[rest].not_sent = 1;
			items[rest].code[0] = '\0';
			snprintf(items[rest].message, sizeof items[rest].message,
				 "not sent: the run stopped (%s)", err);
		}
		return run;
	}
	return SYNC_RUN_GO_ON;
}

const sync_target_ops sync_http_ops = {
	.name = "https",
	.open = http_open,
	.send = http_send,
	.close = http_close,
};
