/* runstat.c - run one command and report what it cost, for `make bench`:
 * wall time from fork to exit, its peak resident memory, its CPU time.
 * A small C wrapper, so the peak is the command's own: Linux carries the
 * resident peak of the process image before exec into ru_maxrss, and a
 * process forked from Python starts out as large as Python.
 *   runstat [-o FILE] [-n LINES] -- COMMAND [ARGS...]
 * -n LINES: read the command's standard output through a pipe and close it
 * after LINES lines, as `COMMAND | head -n LINES` does; first_us is when the
 * last of those lines arrived. The report ("name value" lines) goes to FILE,
 * or to standard error: wall_us, first_us, maxrss_kb, user_us, sys_us, status. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	const char *report = NULL;
	long lines = -1;
	int opt;
	while ((opt = getopt(argc, argv, "+o:n:")) != -1) {
		switch (opt) {
		case 'o': report = optarg; break;
		case 'n': lines = atol(optarg); break;
		default:
			fputs("usage: runstat [-o FILE] [-n LINES] -- COMMAND [ARGS...]\n", stderr);
			return 64;
		}
	}
	if (optind >= argc) {
		fputs("runstat: no command\n", stderr);
		return 64;
	}
	int pipefd[2] = { -1, -1 };
	if (lines >= 0 && pipe(pipefd) != 0) {
		perror("runstat: pipe");
		return 70;
	}
	long long t0 = now_us(), first = -1;
	pid_t pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 70;
	}
	if (pid == 0) {
		if (lines >= 0) {
			dup2(pipefd[1], STDOUT_FILENO);
			close(pipefd[0]);
			close(pipefd[1]);
		}
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "runstat: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	if (lines >= 0) {
		close(pipefd[1]);
		long seen = 0;
		char buf[65536];
		while (seen < lines) {
			ssize_t n = read(pipefd[0], buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				seen += buf[i] == '\n';
		}
		first = now_us() - t0;
		close(pipefd[0]);
	}
	int status;
	struct rusage usage;
	while (wait4(pid, &status, 0, &usage) < 0)
		if (errno != EINTR) {
			perror("runstat: wait4");
			return 70;
		}
	long long wall = now_us() - t0;
	FILE *out = report ? fopen(report, "w") : stderr;
	if (out == NULL) {
		perror("runstat: report");
		return 70;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(out, "wall_us %lld\nfirst_us %lld\nmaxrss_kb %ld\nuser_us %lld\nsys_us %lld\nstatus %d\n",
		wall, first, usage.ru_maxrss,
		(long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec,
		(long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec, code);
	if (out != stderr)
		fclose(out);
	/* A command stopped by the closed pipe (SIGPIPE) after -n lines is a success. */
	if (lines >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		return 0;
	return code;
}
