/* paths.h - where things live: the queue file, the forms and the data files,
 * both in the source tree and when installed. */
#ifndef STORYKIOSK_PATHS_H
#define STORYKIOSK_PATHS_H

#include <stddef.h>

/* The default queue file: $XDG_DATA_HOME/storykiosk/queue.db, else
 * ~/.local/share/storykiosk/queue.db. 0, or -1 when no home is known. */
int paths_default_db(char *out, size_t outlen);

/* The directory holding forms/ and data/: $STORYKIOSK_DATA_DIR when set, else
 * beside the running binary when it is run from the source tree, else the
 * installed data directory. */
void paths_data_dir(char *out, size_t outlen);

/* The delivery helper, storykiosk-sync: beside the running binary when it is
 * there (the source tree, build-asan/), else in the installed libexec
 * directory. Always writes a path; whether it runs is for execv to say. */
void paths_sync_helper(char *out, size_t outlen);

/* Create dir and any missing parents; the last is created mode 0700. 0 or -1
 * with the reason in err. */
int paths_make_private_dir(const char *dir, char *err, size_t errlen);

#endif
