/* main.c - the storykiosk command: options, sub-commands and exit codes. It
 * loads and checks everything (form, services, word lists, queue) before the
 * screen is taken over, so a mistake is reported plainly on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue.h"
#include "exitcode.h"
#include "form.h"
#include "paths.h"
#include "store.h"
#include "ui/ui.h"
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
	const char *story_id;
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
	      "  list [--status S]   one line per queued story (no contact details)\n"
	      "  show ID             one story, by its id or the first 4+ characters of it\n"
	      "  export [--format jsonl] [--output FILE]\n"
	      "                      every story as one JSON object per line\n"
	      "  stats               counts by status and service, and the staff-posted share\n"
	      "\n"
	      "Options:\n"
	      "  --db PATH           the queue file (default: $STORYKIOSK_DB, else\n"
	      "                      $XDG_DATA_HOME/storykiosk/queue.db)\n"
	      "  --form NAME|FILE    the conversation guide (default: default)\n"
	      "  --services FILE     the services catalogue (default: the shipped sample)\n"
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
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("storykiosk %s\n", STORYKIOSK_VERSION); exit(EXIT_OK);
		default:
			fputs("Try 'storykiosk --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	opt->command = optind < argc ? argv[optind++] : "capture";
	static const char *const commands[] = { "capture", "list", "show", "export", "stats", "help" };
	int known = 0;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		known |= strcmp(opt->command, commands[i]) == 0;
	if (!known) {
		fprintf(stderr, "storykiosk: unknown command '%s'. Try 'storykiosk --help'.\n", opt->command);
		return EXIT_USAGE;
	}
	if (strcmp(opt->command, "show") == 0) {
		if (optind >= argc) {
			fputs("storykiosk: show needs a story id (see 'storykiosk list').\n", stderr);
			return EXIT_USAGE;
		}
		opt->story_id = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "storykiosk: unexpected '%s'. Try 'storykiosk --help'.\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (opt->format && strcmp(opt->format, "jsonl") != 0) {
		fprintf(stderr, "storykiosk: unknown export format '%s' (this version writes jsonl).\n",
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

static store *open_queue(const options *opt, int *status)
{
	char path[4096];
	const char *from_env = getenv("STORYKIOSK_DB");
	if (opt->db_path)
		snprintf(path, sizeof path, "%s", opt->db_path);
	else if (from_env && from_env[0])
		snprintf(path, sizeof path, "%s", from_env);
	else if (paths_default_db(path, sizeof path) != 0) {
		fputs("storykiosk: no HOME or XDG_DATA_HOME to keep the queue in; use --db PATH.\n", stderr);
		*status = EXIT_CONFIG;
		return NULL;
	}
	char err[1024];
	store *queue = store_open(path, err, sizeof err);
	if (queue == NULL) {
		fprintf(stderr, "storykiosk: %s\n", err);
		*status = EXIT_CANTCREAT;
	}
	return queue;
}

static int status_for_load_error(const char *path)
{
	return access(path, R_OK) != 0 ? EXIT_NOINPUT : EXIT_DATAERR;
}

static int run_capture(const options *opt, store *queue)
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

	if (opt->services_path)
		snprintf(path, sizeof path, "%s", opt->services_path);
	else
		snprintf(path, sizeof path, "%s/data/services.txt", data_dir);
	catalogue *services = catalogue_load(path, err, sizeof err);
	if (services == NULL) {
		fprintf(stderr, "storykiosk: %s\n", err);
		form_free(guide);
		return status_for_load_error(path);
	}

	char blocked[4300], warn[4300];
	snprintf(blocked, sizeof blocked, "%s/data/username-blocked.txt", data_dir);
	snprintf(warn, sizeof warn, "%s/data/username-warn.txt", data_dir);
	validate_wordlists *words = validate_wordlists_load(blocked, warn, err, sizeof err);
	if (words == NULL) {
		fprintf(stderr, "storykiosk: %s\n", err);
		catalogue_free(services);
		form_free(guide);
		return EXIT_DATAERR;
	}

	ui_context ctx = { .form = guide, .services = services, .words = words, .queue = queue };
	int status = ui_capture(&ctx);
	validate_wordlists_free(words);
	catalogue_free(services);
	form_free(guide);
	return status;
}

/* Write the export to a private temporary file and rename it into place, so
 * a half-written export never looks like a whole one. */
static int run_export(const options *opt, store *queue)
{
	if (opt->output_path == NULL || strcmp(opt->output_path, "-") == 0) {
		if (store_export_jsonl(queue, stdout) != 0) {
			fprintf(stderr, "storykiosk: export failed: %s\n", store_error(queue));
			return EXIT_IOERR;
		}
		return EXIT_OK;
	}
	char temp[4200];
	snprintf(temp, sizeof temp, "%s.partial-XXXXXX", opt->output_path);
	int fd = mkstemp(temp);
	if (fd < 0) {
		fprintf(stderr, "storykiosk: cannot create %s: %s\n", opt->output_path, strerror(errno));
		return EXIT_CANTCREAT;
	}
	FILE *out = fdopen(fd, "w");
	if (out == NULL) {
		close(fd);
		unlink(temp);
		fprintf(stderr, "storykiosk: cannot write %s: %s\n", opt->output_path, strerror(errno));
		return EXIT_IOERR;
	}
	int failed = store_export_jsonl(queue, out) != 0;
	const char *why = failed ? store_error(queue) : NULL;
	if (!failed && (fflush(out) != 0 || fsync(fileno(out)) != 0)) {
		failed = 1;
		why = strerror(errno);
	}
	if (fclose(out) != 0 && !failed) {
		failed = 1;
		why = strerror(errno);
	}
	if (!failed && rename(temp, opt->output_path) != 0) {
		failed = 1;
		why = strerror(errno);
	}
	if (failed) {
		unlink(temp);
		fprintf(stderr, "storykiosk: export to %s failed: %s\n", opt->output_path, why);
		return EXIT_IOERR;
	}
	return EXIT_OK;
}

static int run_report(const options *opt, store *queue)
{
	int rc;
	if (strcmp(opt->command, "list") == 0)
		rc = store_list(queue, opt->status, stdout);
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
	setlocale(LC_ALL, "");
	/* Everything we create holds patients' words: private from the first byte. */
	umask(077);
	options opt = { 0 };
	int status = parse_options(argc, argv, &opt);
	if (status != EXIT_OK)
		return status;
	if (strcmp(opt.command, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (ensure_utf8_locale() != 0)
		return EXIT_CONFIG;
	store *queue = open_queue(&opt, &status);
	if (queue == NULL)
		return status;
	if (strcmp(opt.command, "capture") == 0)
		status = run_capture(&opt, queue);
	else if (strcmp(opt.command, "export") == 0)
		status = run_export(&opt, queue);
	else
		status = run_report(&opt, queue);
	store_close(queue);
	return status;
}
