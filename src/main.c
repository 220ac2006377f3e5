/* main.c - the storykiosk command: options, sub-commands and exit codes. It
 * loads and checks everything (form, services, word lists, queue) before the
 * screen is taken over, so a mistake is reported plainly on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "catalogue.h"
#include "config.h"
#include "exchange.h"
#include "exitcode.h"
#include "form.h"
#include "detect.h"
#include "draft.h"
#include "paths.h"
#include "pin.h"
#include "seal.h"
#include "store.h"
#include "sync.h"
#include "ui/ui.h"
#include "unseal.h"
#include "validate.h"

#ifndef STORYKIOSK_VERSION
#define STORYKIOSK_VERSION "0"
#endif

/* What the command line asked for. */
typedef struct {
	const char *command;
	const char *db_path;
	const char *form_name;
	const char *services_path;
	const char *output_path;
	const char *format;
	const char *status;
	const char *story_id;     /* show, withdraw */
	const char *config_path;
	const char *target;       /* sync */
	const char *import_path;  /* import */
	int mark_exported;
	int force;
	int kiosk;
	long limit;               /* list: a first page */
	const char *public_path;  /* keygen */
	const char *secret_path;  /* keygen, unseal */
	const char *input;        /* unseal: a JSONL file or a PostgreSQL target */
} options;

static void usage(FILE *out)
{
	fputs("Usage: storykiosk [OPTIONS] [COMMAND]\n"
	      "\n"
	      "Capture patients' stories of care on a ward terminal and keep them in a\n"
	      "local queue until they are delivered.\n"
	      "\n"
	      "Commands:\n"
	      "  capture             start the kiosk (the default)\n"
	      "  list [--status S] [--limit N]\n"
	      "                      one line per story, oldest first (no contact details)\n"
	      "  show ID|REF         one story, by its reference, id or first 4+ characters of id\n"
	      "  export [--format jsonl|csv|text] [--output FILE] [--mark-exported]\n"
	      "                      hand stories over without a network\n"
	      "  import FILE.jsonl   take in another terminal's export\n"
	      "  sync [TARGET] [--force]\n"
	      "                      deliver queued stories to PostgreSQL or an HTTPS intake\n"
	      "  withdraw ID|REF     withdraw a story, before or after delivery\n"
	      "  status              the queue's health: waiting, failed, last sync\n"
	      "  set-pin             set the exit PIN of a locked-down kiosk (asks twice)\n"
	      "  keygen --public FILE --secret FILE\n"
	      "                      make the organisation's key pair for sealing contact details\n"
	      "  unseal --secret FILE [--output FILE] [EXPORT.jsonl|postgresql://...]\n"
	      "                      open sealed contact details (reads stdin when no input)\n"
	      "  stats               counts by status and service, and the staff-posted share\n"
	      "\n"
	      "Options:\n"
	      "  --db PATH           the queue file (default: $STORYKIOSK_DB, else\n"
	      "                      $XDG_DATA_HOME/storykiosk/queue.db)\n"
	      "  --form NAME|FILE    the conversation guide (default: default)\n"
	      "  --services FILE     the services catalogue (default: the shipped sample)\n"
	      "  --config FILE       read this storykiosk.conf after the standard ones\n"
	      "  --kiosk             lock down: Ctrl-C/Z/\\ do nothing, leaving needs the PIN\n"
	      "  -h, --help          show this help\n"
	      "  -V, --version       show the version\n"
	      "\n"
	      "See storykiosk(1), storykiosk-form(5) and storykiosk-services(5).\n",
	      out);
}

static int parse_options(int argc, char **argv, options *opt)
{
	static const struct option long_options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "form", required_argument, NULL, 'f' },
		{ "services", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "status", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "mark-exported", no_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'r' },
		{ "kiosk", no_argument, NULL, 'k' },
		{ "public", required_argument, NULL, 'P' },
		{ "limit", required_argument, NULL, 'L' },
		{ "secret", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "hVo:", long_options, NULL)) != -1) {
		switch (c) {
		case 'd': opt->db_path = optarg; break;
		case 'f': opt->form_name = optarg; break;
		case 's': opt->services_path = optarg; break;
		case 'o': opt->output_path = optarg; break;
		case 'F': opt->format = optarg; break;
		case 'S': opt->status = optarg; break;
		case 'c': opt->config_path = optarg; break;
		case 'm': opt->mark_exported = 1; break;
		case 'r': opt->force = 1; break;
		case 'k': opt->kiosk = 1; break;
		case 'P': opt->public_path = optarg; break;
		case 'L': {
			char *end;
			opt->limit = strtol(optarg, &end, 10);
			if (*end != '\0' || opt->limit < 1) {
				fprintf(stderr, "storykiosk: --limit takes a whole number from 1.\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'K': opt->secret_path = optarg; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("storykiosk %s\n", STORYKIOSK_VERSION); exit(EXIT_OK);
		default:
			fputs("Try 'storykiosk --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	opt->command = optind < argc ? argv[optind++] : "capture";
	static const char *const commands[] = { "capture", "list", "show", "export", "stats", "help",
						"import", "sync", "withdraw", "status", "set-pin",
						"keygen", "unseal" };
	int known = 0;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		known |= strcmp(opt->command, commands[i]) == 0;
	if (!known) {
		fprintf(stderr, "storykiosk: unknown command '%s'. Try 'storykiosk --help'.\n", opt->command);
		return EXIT_USAGE;
	}
	if (strcmp(opt->command, "show") == 0 || strcmp(opt->command, "withdraw") == 0) {
		if (optind >= argc) {
			fprintf(stderr, "storykiosk: %s needs a story reference or id (see 'storykiosk list').\n",
				opt->command);
			return EXIT_USAGE;
		}
		opt->story_id = argv[optind++];
	} else if (strcmp(opt->command, "import") == 0) {
		if (optind >= argc) {
			fputs("storykiosk: import needs a file: storykiosk import FILE.jsonl\n", stderr);
			return EXIT_USAGE;
		}
		opt->import_path = argv[optind++];
	} else if (strcmp(opt->command, "sync") == 0 && optind < argc) {
		opt->target = argv[optind++];
	} else if (strcmp(opt->command, "unseal") == 0 && optind < argc) {
		opt->input = argv[optind++];
	}
	if (strcmp(opt->command, "keygen") == 0 && (!opt->public_path || !opt->secret_path)) {
		fputs("storykiosk: keygen needs --public FILE and --secret FILE.\n", stderr);
		return EXIT_USAGE;
	}
	if (strcmp(opt->command, "unseal") == 0 && !opt->secret_path) {
		fputs("storykiosk: unseal needs --secret FILE (the organisation's secret key).\n", stderr);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "storykiosk: unexpected '%s'. Try 'storykiosk --help'.\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (opt->format && exchange_format_from_name(opt->format) < 0) {
		fprintf(stderr, "storykiosk: unknown export format '%s' (jsonl, csv or text).\n",
			opt->format);
		return EXIT_USAGE;
	}
	if (opt->status) {
		static const char *const statuses[] = { "queued", "sending", "delivered", "failed", "withdrawn" };
		int valid = 0;
		for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
			valid |= strcmp(opt->status, statuses[i]) == 0;
		if (!valid) {
			fprintf(stderr, "storykiosk: unknown status '%s' (queued, sending, delivered, "
				"failed or withdrawn).\n", opt->status);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* What to tell the person when the integrity check found queue damaged
 * (whole lines), after store_check has failed. */
static void say_damaged(store *queue, char *out, size_t outlen)
{
	snprintf(out, outlen, "storykiosk: %s. %s Call IT; do not delete the file: "
		 "the stories in it may still be recovered.\n", store_error(queue),
		 store_problem(queue));
}

/* Open the queue named by --db, $STORYKIOSK_DB or the default. On failure,
 * NULL with *status set and what to tell the person in problem (whole lines). */
static store *open_queue(const options *opt, int *status, char *problem, size_t problem_len)
{
	char path[4096];
	const char *from_env = getenv("STORYKIOSK_DB");
	if (opt->db_path)
		snprintf(path, sizeof path, "%s", opt->db_path);
	else if (from_env && from_env[0])
		snprintf(path, sizeof path, "%s", from_env);
	else if (paths_default_db(path, sizeof path) != 0) {
		snprintf(problem, problem_len,
			 "storykiosk: no HOME or XDG_DATA_HOME to keep the queue in; use --db PATH.\n");
		*status = EXIT_CONFIG;
		return NULL;
	}
	char err[1024];
	int trouble = 0;
	store *queue = store_open_checked(path, &trouble, err, sizeof err);
	if (queue == NULL) {
		int damaged = trouble == STORE_DAMAGED;
		snprintf(problem, problem_len, "storykiosk: %s\n%s Call IT; %s\n", err,
			 damaged ? "The queue file is damaged." :
			 trouble == STORE_READ_ONLY ? "The queue file cannot be written." :
						      "The queue could not be opened.",
			 damaged ? "do not delete the file: the stories in it may still be recovered."
				 : "nothing in it has been changed.");
		*status = damaged ? EXIT_IOERR : EXIT_CANTCREAT;
		return NULL;
	}
	/* A damaged queue is reported, never written over. The kiosk and sync
	 * check in the background (their first commit waits for the verdict, and
	 * run_sync reports it); other commands that write wait for it here; list,
	 * show, stats, status and a plain export only read, and do not check. */
	const char *command = opt->command;
	if (strcmp(command, "capture") == 0 || strcmp(command, "sync") == 0) {
		store_check_start(queue);
	} else if (strcmp(command, "withdraw") == 0 ||
		   strcmp(command, "import") == 0 ||
		   (strcmp(command, "export") == 0 && opt->mark_exported)) {
		if (store_check(queue) != 0) {
			say_damaged(queue, problem, problem_len);
			store_close(queue);
			*status = EXIT_IOERR;
			return NULL;
		}
	}
	return queue;
}

static int status_for_load_error(const char *path)
{
	return access(path, R_OK) != 0 ? EXIT_NOINPUT : EXIT_DATAERR;
}

/* The username word lists from data_dir/data. EXIT_OK, or EXIT_DATAERR with
 * the reason in err. */
static int load_word_lists(const char *data_dir, validate_wordlists **words, char *err,
			   size_t errlen)
{
	char blocked[4300], warn[4300];
	snprintf(blocked, sizeof blocked, "%s/data/username-blocked.txt", data_dir);
	snprintf(warn, sizeof warn, "%s/data/username-warn.txt", data_dir);
	*words = validate_wordlists_load(blocked, warn, err, errlen);
	return *words == NULL ? EXIT_DATAERR : EXIT_OK;
}

/* Before the screen opens: the settings, and a PIN for kiosk mode. Each
 * problem is said plainly on stderr. */
static int load_kiosk_settings(const options *opt, config *settings)
{
	char err[1024];
	if (config_load(settings, opt->config_path, err, sizeof err) != 0) {
		fprintf(stderr, "storykiosk: %s\n", err);
		return EXIT_CONFIG;
	}
	if (opt->kiosk)
		settings->kiosk = 1;
	if (settings->kiosk && settings->pin_hash == NULL) {
		fputs("storykiosk: kiosk mode needs an exit PIN: set one with 'storykiosk set-pin' "
		      "(as the user the kiosk runs as).\n", stderr);
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

/* What the kiosk loads once its first screen is up, and what was wrong with it
 * (said on stderr after the terminal is given back). */
typedef struct {
	const options *opt;
	const config *settings;
	const char *data_dir;
	char problem[1400];
	char warning[1100];
	store *queue;
	seal_key *key;
	catalogue *services;
	validate_wordlists *words;
	detect_lists *checks;
} capture_rest;

/* The queue, its health, the sealing key and expired drafts. */
static int prepare_queue(capture_rest *rest)
{
	int status = EXIT_OK;
	rest->queue = open_queue(rest->opt, &status, rest->problem, sizeof rest->problem);
	if (rest->queue == NULL)
		return status;
	/* open_queue started the integrity check in the background: the first
	 * write waits for its verdict, so a damaged file is never written. */
	if (rest->settings->public_key != NULL) {
		char err[1024];
		rest->key = seal_load_public(rest->settings->public_key, err, sizeof err);
		if (rest->key == NULL) {
			snprintf(rest->problem, sizeof rest->problem, "storykiosk: public_key: %s\n", err);
			return EXIT_CONFIG;
		}
		store_set_seal_key(rest->queue, rest->key);
	}
	if (draft_expire(rest->queue, rest->settings->draft_expiry_seconds) < 0)
		snprintf(rest->warning, sizeof rest->warning,
			 "storykiosk: old drafts could not be removed: %s\n", store_error(rest->queue));
	return EXIT_OK;
}

/* ui_context.load_rest: everything no screen needs before sign-in is done:
 * the queue, the services, the username word lists and the story checks. A
 * queue of any length then costs the first screen nothing. */
static int load_capture_rest(ui_context *ctx)
{
	capture_rest *rest = ctx->loader;
	char path[4300], err[1024];
	int status = prepare_queue(rest);
	if (status != EXIT_OK)
		return status;
	ctx->queue = rest->queue;
	if (rest->opt->services_path)
		snprintf(path, sizeof path, "%s", rest->opt->services_path);
	else
		snprintf(path, sizeof path, "%s/data/services.txt", rest->data_dir);
	rest->services = catalogue_load(path, err, sizeof err);
	if (rest->services == NULL) {
		snprintf(rest->problem, sizeof rest->problem, "storykiosk: %s\n", err);
		return status_for_load_error(path);
	}
	if (load_word_lists(rest->data_dir, &rest->words, err, sizeof err) != EXIT_OK) {
		snprintf(rest->problem, sizeof rest->problem, "storykiosk: %s\n", err);
		return EXIT_DATAERR;
	}
	char swearing[4300], safeguarding[4300], safety[4300];
	snprintf(swearing, sizeof swearing, "%s/data/swear-words.txt", rest->data_dir);
	snprintf(safeguarding, sizeof safeguarding, "%s/data/%s", rest->data_dir,
		 ctx->form->safeguarding_phrases ? ctx->form->safeguarding_phrases :
						   "safeguarding-phrases.txt");
	snprintf(safety, sizeof safety, "%s/data/%s", rest->data_dir,
		 ctx->form->safety_phrases ? ctx->form->safety_phrases : "safety-incident-phrases.txt");
	rest->checks = detect_lists_load(swearing, safeguarding, safety, err, sizeof err);
	if (rest->checks == NULL) {
		snprintf(rest->problem, sizeof rest->problem, "storykiosk: %s\n", err);
		return EXIT_DATAERR;
	}
	ctx->services = rest->services;
	ctx->words = rest->words;
	ctx->checks = rest->checks;
	return EXIT_OK;
}

static int run_capture(const options *opt)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs("storykiosk: the kiosk needs a terminal. To read the queue, use list, show or export.\n",
		      stderr);
		return EXIT_CONFIG;
	}
	char data_dir[4096], path[4300], err[1024];
	paths_data_dir(data_dir, sizeof data_dir);

	const char *name = opt->form_name ? opt->form_name : "default";
	if (strchr(name, '/') || strstr(name, ".form"))
		snprintf(path, sizeof path, "%s", name);
	else
		snprintf(path, sizeof path, "%s/forms/%s.form", data_dir, name);
	form *guide = form_load(path, err, sizeof err);
	if (guide == NULL) {
		fprintf(stderr, "storykiosk: %s\n", err);
		return status_for_load_error(path);
	}

	config settings;
	config_defaults(&settings);
	capture_rest rest = { .opt = opt, .settings = &settings, .data_dir = data_dir };
	int status = load_kiosk_settings(opt, &settings);
	if (status == EXIT_OK) {
		ui_context ctx = { .form = guide, .settings = &settings, .load_rest = load_capture_rest,
				   .loader = &rest };
		status = ui_capture(&ctx);
		fputs(rest.problem, stderr);
		fputs(rest.warning, stderr);
	}
	detect_lists_free(rest.checks);
	if (rest.queue != NULL) {
		store_set_seal_key(rest.queue, NULL);
		store_close(rest.queue);
	}
	seal_key_free(rest.key);
	config_free(&settings);
	validate_wordlists_free(rest.words);
	catalogue_free(rest.services);
	form_free(guide);
	return status;
}

/* Where an export goes: straight to stdout, or through a private temporary
 * file renamed into place only when whole. */
typedef struct {
	FILE *out;
	const char *final_path;
	char temp_path[4200];
	const char *why;
} export_output;

/* Called by exchange_export before it marks stories exported: the bytes must
 * be safely where they belong first. */
static int commit_export(void *context)
{
	export_output *output = context;
	if (fflush(output->out) != 0 || ferror(output->out)) {
		output->why = strerror(errno);
		return -1;
	}
	if (output->final_path == NULL)
		return 0;
	if (fsync(fileno(output->out)) != 0 || fclose(output->out) != 0) {
		output->why = strerror(errno);
		output->out = NULL;
		return -1;
	}
	output->out = NULL;
	if (rename(output->temp_path, output->final_path) != 0) {
		output->why = strerror(errno);
		return -1;
	}
	return 0;
}

/* Send output to stdout (path NULL or "-"), or to a private temporary file
 * beside path that commit_export renames into place. 0, or -1 said on stderr. */
static int open_output(export_output *output, const char *path)
{
	memset(output, 0, sizeof *output);
	output->out = stdout;
	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	snprintf(output->temp_path, sizeof output->temp_path, "%s.partial-XXXXXX", path);
	int fd = mkstemp(output->temp_path);
	if (fd < 0 || (output->out = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "storykiosk: cannot create %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(output->temp_path);
		}
		return -1;
	}
	output->final_path = path;
	return 0;
}

static int run_export(const options *opt, store *queue)
{
	export_output output;
	if (open_output(&output, opt->output_path) != 0)
		return EXIT_CANTCREAT;
	int to_file = output.final_path != NULL;
	int format = opt->format ? exchange_format_from_name(opt->format) : EXPORT_JSONL;
	const char *actor = getenv("USER") ? getenv("USER") : "command line";
	char err[1024] = "";
	long written = exchange_export(queue, (export_format)format, opt->mark_exported, actor,
				       output.out, commit_export, &output, err, sizeof err);
	/* Without --mark-exported the exporter never calls back: commit here. */
	if (written >= 0 && !opt->mark_exported && commit_export(&output) != 0)
		written = -1;
	if (output.out != NULL && output.out != stdout)
		fclose(output.out);
	if (written < 0) {
		if (to_file)
			unlink(output.temp_path);
		fprintf(stderr, "storykiosk: export failed: %s\n", err[0] ? err : output.why ? output.why : "unknown error");
		return EXIT_IOERR;
	}
	if (to_file || opt->mark_exported)
		fprintf(stderr, "storykiosk: exported %ld stor%s%s\n", written, written == 1 ? "y" : "ies",
			opt->mark_exported ? " and marked them exported" : "");
	return EXIT_OK;
}

static int run_import(const options *opt, store *queue)
{
	validate_wordlists *words;
	char data_dir[4096], err[1024] = "";
	paths_data_dir(data_dir, sizeof data_dir);
	int status = load_word_lists(data_dir, &words, err, sizeof err);
	if (status != EXIT_OK) {
		fprintf(stderr, "storykiosk: %s\n", err);
		return status;
	}
	exchange_import_summary summary = { 0 };
	int rc = exchange_import(queue, opt->import_path, words, &summary, err, sizeof err);
	validate_wordlists_free(words);
	if (rc != 0) {
		fprintf(stderr, "storykiosk: %s\nNothing was imported.\n", err);
		if (rc == IMPORT_QUEUE_FAILED)
			return EXIT_IOERR;
		if (rc == IMPORT_UNREADABLE)
			return access(opt->import_path, R_OK) != 0 ? EXIT_NOINPUT : EXIT_IOERR;
		return EXIT_DATAERR;
	}
	printf("imported %ld, already here %ld", summary.imported, summary.skipped);
	if (summary.withdrawn > 0)
		printf(", left out as withdrawn here %ld", summary.withdrawn);
	putchar('\n');
	return EXIT_OK;
}

#ifdef STORYKIOSK_NETWORK
static int run_sync(const options *opt, store *queue)
{
	config cfg;
	config_defaults(&cfg);
	char err[2048] = "";
	sync_summary summary = { 0 };
	int status;
	if (config_load(&cfg, opt->config_path, err, sizeof err) != 0 ||
	    (opt->target != NULL && (free(cfg.target), cfg.target = strdup(opt->target)) == NULL) ||
	    config_read_secret(&cfg, err, sizeof err) != 0) {
		/* Nothing was sent: the summary still says what is waiting. */
		if (err[0] == '\0')
			snprintf(err, sizeof err, "out of memory");
		summary.left = sync_count_left(queue);
		status = EXIT_CONFIG;
	} else {
		status = sync_run(queue, &cfg, opt->force, isatty(STDERR_FILENO) ? stderr : NULL,
				  &summary, err, sizeof err);
	}
	config_free(&cfg);
	/* The integrity check ran in the background (open_queue): nothing was
	 * committed to the queue, and no story sent, before its verdict; damage
	 * is said as it is, whatever else failed for want of it. */
	if (store_check(queue) != 0) {
		char problem[1024];
		say_damaged(queue, problem, sizeof problem);
		fputs(problem, stderr);
		return EXIT_IOERR;
	}
	if (err[0])
		fprintf(stderr, "storykiosk: %s\n", err);
	printf("delivered %ld, already there %ld, failed %ld, left %ld\n", summary.delivered,
	       summary.already_there, summary.failed, summary.left);
	return status;
}

#endif

/* Read one line without echo from the terminal (or plainly from a pipe). */
static int read_secret_line(const char *prompt, char *out, size_t outlen)
{
	int tty = isatty(STDIN_FILENO);
	struct termios saved, quiet;
	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &saved) != 0)
			return -1;
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
			return -1;
	}
	char *got = fgets(out, (int)outlen, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (got == NULL)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int run_set_pin(const options *opt)
{
	char path[4096];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (opt->config_path)
		snprintf(path, sizeof path, "%s", opt->config_path);
	else if (xdg && xdg[0] == '/')
		snprintf(path, sizeof path, "%s/storykiosk/storykiosk.conf", xdg);
	else if (home && home[0])
		snprintf(path, sizeof path, "%s/.config/storykiosk/storykiosk.conf", home);
	else {
		fputs("storykiosk: no HOME to keep the config in; use --config FILE.\n", stderr);
		return EXIT_CONFIG;
	}
	char pin[128], again[128], msg[256], hash[256];
	int status = EXIT_OK;
	if (read_secret_line("New exit PIN: ", pin, sizeof pin) != 0 ||
	    read_secret_line("The same PIN again: ", again, sizeof again) != 0) {
		fputs("storykiosk: no PIN was given; nothing changed.\n", stderr);
		status = EXIT_USAGE;
	} else if (strcmp(pin, again) != 0) {
		fputs("storykiosk: the two PINs differ; nothing changed.\n", stderr);
		status = EXIT_USAGE;
	} else if (!pin_acceptable(pin, msg, sizeof msg)) {
		fprintf(stderr, "storykiosk: %s; nothing changed.\n", msg);
		status = EXIT_USAGE;
	} else if (pin_hash(pin, hash, sizeof hash) != 0) {
		fputs("storykiosk: the PIN could not be hashed (libsodium failed).\n", stderr);
		status = EXIT_SOFTWARE;
	} else if (pin_store(path, hash, msg, sizeof msg) != 0) {
		fprintf(stderr, "storykiosk: %s\n", msg);
		status = EXIT_CANTCREAT;
	} else {
		fprintf(stderr, "storykiosk: the exit PIN is set in %s\n", path);
	}
	volatile char *wipe_pin = pin, *wipe_again = again;
	for (size_t i = 0; i < sizeof pin; i++)
		wipe_pin[i] = wipe_again[i] = '\0';
	return status;
}

static int run_keygen(const options *opt)
{
	char err[1024];
	if (seal_keygen(opt->public_path, opt->secret_path, err, sizeof err) != 0) {
		fprintf(stderr, "storykiosk: %s\n", err);
		return EXIT_CANTCREAT;
	}
	fprintf(stderr, "storykiosk: wrote the public key %s (for every terminal's public_key) and "
		"the secret key %s (mode 0600: keep it off the wards)\n", opt->public_path, opt->secret_path);
	return EXIT_OK;
}

#ifdef STORYKIOSK_NETWORK
static int run_unseal(const options *opt)
{
	char err[1024] = "";
	seal_key *key = seal_load_secret(opt->secret_path, err, sizeof err);
	if (key == NULL) {
		fprintf(stderr, "storykiosk: %s\n", err);
		return EXIT_CONFIG;
	}
	export_output output;
	if (open_output(&output, opt->output_path) != 0) {
		seal_key_free(key);
		return EXIT_CANTCREAT;
	}
	int to_file = output.final_path != NULL;
	long written;
	int status = EXIT_DATAERR;
	if (opt->input != NULL && sync_target_for(opt->input) == &sync_pg_ops) {
		config cfg;
		config_defaults(&cfg);
		if (config_load(&cfg, opt->config_path, err, sizeof err) != 0 ||
		    config_read_secret(&cfg, err, sizeof err) != 0) {
			written = -1;
			status = EXIT_CONFIG;
		} else {
			written = unseal_postgresql(key, opt->input, cfg.secret, output.out, err, sizeof err);
			status = EXIT_TEMPFAIL;
		}
		config_free(&cfg);
	} else {
		FILE *in = opt->input && strcmp(opt->input, "-") != 0 ? fopen(opt->input, "r") : stdin;
		if (in == NULL) {
			snprintf(err, sizeof err, "cannot open %s: %s", opt->input, strerror(errno));
			written = -1;
			status = EXIT_NOINPUT;
		} else {
			written = unseal_jsonl(key, in, opt->input ? opt->input : "stdin", output.out, err,
					       sizeof err);
			if (in != stdin)
				fclose(in);
		}
	}
	seal_key_free(key);
	if (written >= 0 && commit_export(&output) != 0) {
		snprintf(err, sizeof err, "cannot write %s: %s", opt->output_path, output.why);
		written = -1;
		status = EXIT_IOERR;
	}
	if (output.out != NULL && output.out != stdout)
		fclose(output.out);
	if (written < 0) {
		if (to_file)
			unlink(output.temp_path);
		fprintf(stderr, "storykiosk: %s\n%s\n", err,
			to_file ? "Nothing was written." : "The output stops before that record.");
		return status;
	}
	fprintf(stderr, "storykiosk: opened %ld record%s\n", written, written == 1 ? "" : "s");
	return EXIT_OK;
}

static int run_withdraw(const options *opt, store *queue)
{
	char said[512] = "";
	const char *actor = getenv("USER") ? getenv("USER") : "command line";
	int rc = sync_withdraw(queue, opt->story_id, actor, said, sizeof said);
	if (rc == 1 || rc == 2) {
		fprintf(stderr, "storykiosk: %s\n", store_error(queue));
		return rc == 1 ? EXIT_NOT_FOUND : EXIT_TEMPFAIL;
	}
	if (rc != 0) {
		fprintf(stderr, "storykiosk: %s\n", store_error(queue));
		return EXIT_IOERR;
	}
	puts(said);
	return EXIT_OK;
}
#else
/* sync, withdraw, status and unseal are the delivery half: they live in
 * storykiosk-sync, which links libpq and libcurl. Handing them over keeps those
 * libraries (and the 30-odd they pull in) out of the kiosk's start-up and
 * memory. argv goes over unchanged, so the helper sees the same command line. */
static int run_delivery_helper(const char *command, char **argv)
{
	char helper[4096];
	paths_sync_helper(helper, sizeof helper);
	fflush(NULL);
	execv(helper, argv);
	fprintf(stderr, "storykiosk: cannot run %s for '%s': %s\n"
		"It is installed with storykiosk (make install); reinstall StoryKiosk.\n",
		helper, command, strerror(errno));
	return EXIT_UNAVAILABLE;
}
#endif

static int run_report(const options *opt, store *queue)
{
	int rc;
	if (strcmp(opt->command, "list") == 0)
		rc = store_list(queue, opt->status, opt->limit, stdout);
#ifdef STORYKIOSK_NETWORK
	else if (strcmp(opt->command, "status") == 0)
		rc = sync_status(queue, stdout);
#endif
	else if (strcmp(opt->command, "show") == 0)
		rc = store_show(queue, opt->story_id, stdout);
	else
		rc = store_stats(queue, stdout);
	if (rc == 1) {
		fprintf(stderr, "storykiosk: %s\n", store_error(queue));
		return EXIT_NOT_FOUND;
	}
	if (rc != 0) {
		fprintf(stderr, "storykiosk: %s failed: %s\n", opt->command, store_error(queue));
		return EXIT_IOERR;
	}
	return EXIT_OK;
}

/* The kiosk draws and measures UTF-8; under a non-UTF-8 locale we switch to
 * C.UTF-8 for characters rather than show garbled text, or refuse. */
static int ensure_utf8_locale(void)
{
	if (strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
		return 0;
	if (setlocale(LC_CTYPE, "C.UTF-8") != NULL && strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
		return 0;
	fputs("storykiosk: this terminal's locale is not UTF-8, and C.UTF-8 is not installed.\n"
	      "Set LANG to a UTF-8 locale, for example: export LANG=C.UTF-8\n", stderr);
	return -1;
}

int main(int argc, char **argv)
{
	/* Only the character set: the screens are English whatever the locale, and
	 * numbers and times in files and messages must not take a decimal comma. */
	setlocale(LC_CTYPE, "");
	store_init_process();
	/* Everything we create holds patients' words: private from the first byte. */
	umask(077);
	/* Past a file-size limit a write should fail (and be reported), not kill
	 * the kiosk with the story on screen. */
	signal(SIGXFSZ, SIG_IGN);
	options opt = { 0 };
	int status = parse_options(argc, argv, &opt);
	if (status != EXIT_OK)
		return status;
	if (strcmp(opt.command, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(opt.command, "set-pin") == 0)
		return run_set_pin(&opt);
	if (strcmp(opt.command, "keygen") == 0)
		return run_keygen(&opt);
#ifdef STORYKIOSK_NETWORK
	if (strcmp(opt.command, "unseal") == 0)
		return run_unseal(&opt);
#else
	if (strcmp(opt.command, "sync") == 0 || strcmp(opt.command, "withdraw") == 0 ||
	    strcmp(opt.command, "status") == 0 || strcmp(opt.command, "unseal") == 0)
		return run_delivery_helper(opt.command, argv);
#endif
	if (ensure_utf8_locale() != 0)
		return EXIT_CONFIG;
	if (strcmp(opt.command, "capture") == 0)
		return run_capture(&opt);
	char problem[1400];
	store *queue = open_queue(&opt, &status, problem, sizeof problem);
	if (queue == NULL) {
		fputs(problem, stderr);
		return status;
	}
	if (strcmp(opt.command, "export") == 0)
		status = run_export(&opt, queue);
	else if (strcmp(opt.command, "import") == 0)
		status = run_import(&opt, queue);
#ifdef STORYKIOSK_NETWORK
	else if (strcmp(opt.command, "sync") == 0)
		status = run_sync(&opt, queue);
	else if (strcmp(opt.command, "withdraw") == 0)
		status = run_withdraw(&opt, queue);
#endif
	else
		status = run_report(&opt, queue);
	store_close(queue);
	return status;
}
