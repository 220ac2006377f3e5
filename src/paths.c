/* paths.c - finding the queue, forms and data, so one binary works from the
 * source tree (make run) and after make install. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h" /* STORYKIOSK_DATADIR and _LIBEXECDIR, written by the Makefile */

int paths_default_db(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	int n;
	if (xdg && xdg[0] == '/') {
		n = snprintf(out, outlen, "%s/storykiosk/queue.db", xdg);
	} else {
		const char *home = getenv("HOME");
		if (home == NULL || home[0] == '\0')
			return -1;
		n = snprintf(out, outlen, "%s/.local/share/storykiosk/queue.db", home);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int has_default_form(const char *dir)
{
	char probe[4096];
	int n = snprintf(probe, sizeof probe, "%s/forms/default.form", dir);
	return n > 0 && (size_t)n < sizeof probe && access(probe, R_OK) == 0;
}

/* The directory holding the running binary, into dir; 0, or -1 if unknown. */
static int exe_dir(char *dir, size_t dirlen)
{
	ssize_t len = readlink("/proc/self/exe", dir, dirlen - 1);
	if (len <= 0)
		return -1;
	dir[len] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

void paths_data_dir(char *out, size_t outlen)
{
	const char *chosen = getenv("STORYKIOSK_DATA_DIR");
	if (chosen != NULL && chosen[0] != '\0') {
		snprintf(out, outlen, "%s", chosen);
		return;
	}
	char exe[4096];
	/* The installed binary's directory never holds forms/, so this only
	 * picks the source tree. */
	if (exe_dir(exe, sizeof exe) == 0 && has_default_form(exe) && strlen(exe) < outlen) {
		snprintf(out, outlen, "%s", exe);
		return;
	}
	snprintf(out, outlen, "%s", STORYKIOSK_DATADIR);
}

void paths_sync_helper(char *out, size_t outlen)
{
	char exe[4096];
	if (exe_dir(exe, sizeof exe) == 0) {
		int n = snprintf(out, outlen, "%s/storykiosk-sync", exe);
		if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
			return;
	}
	snprintf(out, outlen, "%s/storykiosk-sync", STORYKIOSK_LIBEXECDIR);
}

int paths_make_private_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		snprintf(err, errlen, "directory name too long");
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0) {
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		struct stat info;
		if (stat(path, &info) != 0 || !S_ISDIR(info.st_mode)) {
			snprintf(err, errlen, "%s is not a directory", path);
			return -1;
		}
	}
	return 0;
}
