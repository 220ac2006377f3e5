/* intake_min.c - the fastest honest HTTP intake for `make bench`: it speaks
 * just enough HTTP/1.1 to take a POST with a Content-Length body and answer
 * "201 Created" on the same kept-alive connection, and counts what it took.
 * It stores nothing and checks nothing, so what is left of a sync's time is
 * the client's own. Loopback only; one thread, poll() over the connections.
 *   intake_min PORTFILE    binds 127.0.0.1 on a free port, writes the port to
 *                          PORTFILE, serves until SIGTERM, then prints
 *                          "posts N bytes N connections N" on stdout */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 256
#define BUF_SIZE (1 << 20)

typedef struct {
	int fd;
	char *buf;
	size_t len;
} conn;

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static long posts, connections;
static long long body_bytes;

static const char reply[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";

/* Answer every whole request in the buffer; returns -1 to close. */
static int serve(conn *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end == NULL)
			return c->len >= BUF_SIZE ? -1 : 0;
		size_t head = (size_t)(end - c->buf) + 4;
		long body = 0;
		for (char *p = c->buf; p < end; p++) {
			if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0)
				body = strtol(p + 15, NULL, 10);
		}
		if (body < 0 || head + (size_t)body > BUF_SIZE)
			return -1;
		if (c->len < head + (size_t)body)
			return 0;
		if (strncmp(c->buf, "POST ", 5) == 0) {
			posts++;
			body_bytes += body;
		}
		size_t off = 0;
		while (off < sizeof reply - 1) {
			ssize_t n = write(c->fd, reply + off, sizeof reply - 1 - off);
			if (n <= 0)
				return -1;
			off += (size_t)n;
		}
		size_t used = head + (size_t)body;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: intake_min PORTFILE\n", stderr);
		return 64;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof addr;
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 128) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
		perror("intake_min");
		return 1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%d\n", ntohs(addr.sin_port)) < 0 || fclose(f) != 0 ||
	    rename(tmp, argv[1]) != 0) {
		perror("intake_min: port file");
		return 1;
	}
	static conn conns[MAX_CONN];
	struct pollfd pfd[MAX_CONN + 1];
	int n = 0;
	while (!stop) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (int i = 0; i < n; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		int rc = poll(pfd, (nfds_t)n + 1, 200);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		for (int i = n - 1; i >= 0; i--) {
			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			conn *c = &conns[i];
			ssize_t got = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);
			if (got > 0) {
				c->len += (size_t)got;
				if (serve(c) == 0)
					continue;
			}
			close(c->fd);
			free(c->buf);
			conns[i] = conns[--n];
		}
		if ((pfd[0].revents & POLLIN) && n < MAX_CONN) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				conns[n].fd = fd;
				conns[n].buf = malloc(BUF_SIZE);
				conns[n].len = 0;
				if (conns[n].buf == NULL) {
					close(fd);
				} else {
					n++;
					connections++;
				}
			}
		}
	}
	printf("posts %ld bytes %lld connections %ld\n", posts, body_bytes, connections);
	return 0;
}
