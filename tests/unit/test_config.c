/* test_config.c - storykiosk.conf parsing, durations, the private credentials
 * file, and hiding passwords in targets. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "config.h"
#include "sync.h"

static char workdir[] = "/tmp/storykiosk-config-XXXXXX";

static int parse(config *cfg, const char *text, char *err, size_t errlen)
{
	config_defaults(cfg);
	return config_parse(cfg, text, strlen(text), "test.conf", err, errlen);
}

TEST(defaults_are_usable)
{
	config cfg;
	config_defaults(&cfg);
	CHECK(cfg.target == NULL);
	CHECK(cfg.timeout_seconds == 30);
	CHECK(cfg.batch_size == 200);
	CHECK(cfg.retention_seconds == 0);
	CHECK(cfg.retry_base_seconds == 60);
	CHECK(cfg.retry_max_seconds == 21600);
	config_free(&cfg);
}

TEST(parses_every_setting)
{
	config cfg;
	char err[256];
	CHECK(parse(&cfg, "# comment\n\n target = https://intake.example/stories \n"
		    "credentials_file=/etc/sk/token\nca_bundle = /etc/sk/ca.pem\r\n"
		    "terminal = ward 7\ntimeout = 2m\nbatch_size = 500\nretention = 7d\n"
		    "retry_base = 30s\nretry_max = 1h", err, sizeof err) == 0);
	CHECK_STR(cfg.target, "https://intake.example/stories");
	CHECK_STR(cfg.credentials_file, "/etc/sk/token");
	CHECK_STR(cfg.ca_bundle, "/etc/sk/ca.pem");
	CHECK_STR(cfg.terminal, "ward 7");
	CHECK(cfg.timeout_seconds == 120);
	CHECK(cfg.batch_size == 500);
	CHECK(cfg.retention_seconds == 7 * 86400);
	CHECK(cfg.retry_base_seconds == 30);
	CHECK(cfg.retry_max_seconds == 3600);
	config_free(&cfg);
}

TEST(later_settings_override)
{
	config cfg;
	char err[256];
	CHECK(parse(&cfg, "target = a=b\ntarget = host=x dbname=y\n", err, sizeof err) == 0);
	CHECK_STR(cfg.target, "host=x dbname=y");
	config_free(&cfg);
}

TEST(errors_name_file_and_line)
{
	config cfg;
	char err[256];
	CHECK(parse(&cfg, "target = x\nbogus = 1\n", err, sizeof err) == -1);
	CHECK(strncmp(err, "test.conf:2:", 12) == 0 && strstr(err, "bogus") != NULL);
	config_free(&cfg);
	CHECK(parse(&cfg, "\n\njust words\n", err, sizeof err) == -1);
	CHECK(strncmp(err, "test.conf:3:", 12) == 0);
	config_free(&cfg);
	CHECK(parse(&cfg, "timeout = soon\n", err, sizeof err) == -1);
	CHECK(strstr(err, "timeout must be a time") != NULL);
	config_free(&cfg);
	CHECK(parse(&cfg, "batch_size = 0\n", err, sizeof err) == -1);
	config_free(&cfg);
	CHECK(parse(&cfg, "batch_size = 10m\n", err, sizeof err) == -1);
	config_free(&cfg);
	CHECK(parse(&cfg, "target =\n", err, sizeof err) == -1);
	CHECK(strstr(err, "no value") != NULL);
	config_free(&cfg);
	CHECK(parse(&cfg, "password = hunter2\n", err, sizeof err) == -1);
	CHECK(strstr(err, "credentials_file") != NULL && strstr(err, "hunter2") == NULL);
	config_free(&cfg);
}

TEST(durations)
{
	CHECK(config_parse_duration("0") == 0);
	CHECK(config_parse_duration("90") == 90);
	CHECK(config_parse_duration("90s") == 90);
	CHECK(config_parse_duration("15m") == 900);
	CHECK(config_parse_duration("6h") == 21600);
	CHECK(config_parse_duration("30d") == 2592000);
	CHECK(config_parse_duration("") == -1);
	CHECK(config_parse_duration("-5") == -1);
	CHECK(config_parse_duration("5x") == -1);
	CHECK(config_parse_duration("5 m") == -1);
	CHECK(config_parse_duration("99999999999999999999") == -1);
	CHECK(config_parse_duration("9999999999999999d") == -1);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	CHECK(chmod(path, mode) == 0);
}

TEST(secret_file_must_be_private)
{
	config cfg;
	char err[512], path[256];
	snprintf(path, sizeof path, "%s/secret", workdir);
	config_defaults(&cfg);
	CHECK(config_read_secret(&cfg, err, sizeof err) == 0);
	CHECK(cfg.secret == NULL);
	cfg.credentials_file = strdup(path);
	write_file(path, "s3cret-token\n", 0644);
	CHECK(config_read_secret(&cfg, err, sizeof err) == -1);
	CHECK(strstr(err, "chmod 600") != NULL && strstr(err, "s3cret") == NULL);
	CHECK(cfg.secret == NULL);
	CHECK(chmod(path, 0600) == 0);
	CHECK(config_read_secret(&cfg, err, sizeof err) == 0);
	CHECK_STR(cfg.secret, "s3cret-token");
	write_file(path, "\n", 0600);
	CHECK(config_read_secret(&cfg, err, sizeof err) == -1);
	free(cfg.credentials_file);
	cfg.credentials_file = strdup("/nonexistent/secret");
	CHECK(config_read_secret(&cfg, err, sizeof err) == -1);
	CHECK(strstr(err, "does not exist") != NULL);
	config_free(&cfg);
}

TEST(load_reads_named_file_and_requires_it)
{
	config cfg;
	char err[512], path[256];
	snprintf(path, sizeof path, "%s/extra.conf", workdir);
	write_file(path, "target = https://example.org/in\nbatch_size = 7\n", 0600);
	config_defaults(&cfg);
	CHECK(config_load(&cfg, path, err, sizeof err) == 0);
	CHECK_STR(cfg.target, "https://example.org/in");
	CHECK(cfg.batch_size == 7);
	config_free(&cfg);
	config_defaults(&cfg);
	CHECK(config_load(&cfg, "/nonexistent/storykiosk.conf", err, sizeof err) == -1);
	config_free(&cfg);
}

TEST(passwords_hidden_in_targets)
{
	char out[512];
	sync_redact_target("postgresql://kiosk:hunter2@db.example:5432/stories", out, sizeof out);
	CHECK_STR(out, "postgresql://kiosk:***@db.example:5432/stories");
	CHECK(sync_target_has_password("postgresql://kiosk:hunter2@db.example/stories"));
	CHECK(!sync_target_has_password("postgresql://kiosk@db.example/stories"));
	CHECK(!sync_target_has_password("https://intake.example/stories?a=b@c"));
	sync_redact_target("host=db password=hunter2 dbname=stories", out, sizeof out);
	CHECK_STR(out, "host=db password=*** dbname=stories");
	sync_redact_target("host=db password = 'hun ter2' dbname=x", out, sizeof out);
	CHECK_STR(out, "host=db password = *** dbname=x");
	CHECK(!sync_target_has_password("host=db dbname=stories"));
	CHECK(sync_target_for("https://x.example/") == &sync_http_ops);
	CHECK(sync_target_for("postgresql://x/y") == &sync_pg_ops);
	CHECK(sync_target_for("host=x dbname=y") == &sync_pg_ops);
	CHECK(sync_target_for("ftp://x") == NULL);
	CHECK(sync_target_for("") == NULL);
}

int main(void)
{
	if (mkdtemp(workdir) == NULL) {
		printf("not ok - setup\n");
		return 1;
	}
	RUN(defaults_are_usable);
	RUN(parses_every_setting);
	RUN(later_settings_override);
	RUN(errors_name_file_and_line);
	RUN(durations);
	RUN(secret_file_must_be_private);
	RUN(load_reads_named_file_and_requires_it);
	RUN(passwords_hidden_in_targets);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", workdir);
	return harness_report();
}
