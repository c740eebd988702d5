/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Opening files and directories as root where another user might have put
 * something first. The recorder runs as root and its log is evidence, so:
 *   - a symbolic link is never followed where someone else could have made
 *     it (the last component of a file is never followed at all);
 *   - a FIFO, socket or device is refused by name, and opened (if it appears
 *     between the check and the open) with O_NONBLOCK, so it cannot hang the
 *     caller;
 *   - a file onmitsu trusts (its log, lock, sealing key, cursor) must be a
 *     regular file owned by the effective uid that neither group nor others
 *     may write, with one link when it is written (not another file's alias),
 *     checked on the open descriptor before anything is done with it;
 *   - O_TRUNC is applied only after those checks.
 *
 * On failure each function returns -1 with errno set and writes into err one
 * sentence that starts with the name it was given and says what would be
 * right (a caller with a directory prefixes it: "%s/%s", dir, err).
 */
#ifndef ONMITSU_SAFEFILE_H
#define ONMITSU_SAFEFILE_H

#include <stdbool.h>
#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

/* checks for open_regular */
#define SF_OWNED 0x1u /* owned by the euid, no group/other write, one link if written */
#define SF_FOLLOW                                                                                  \
	0x2u /* the last component may be a link (read-only use of a path the                      \
		user gave, e.g. the query commands) */

/*
 * openat(dirfd, name, flags, mode) of a regular file, never through a link
 * (unless SF_FOLLOW), with the checks above. O_CLOEXEC and O_NOCTTY are
 * added; the descriptor returned is blocking.
 */
int open_regular(int dirfd, const char *name, int flags, mode_t mode, unsigned checks, char *err,
		 size_t errsize);

/*
 * Create NAME in dirfd as a new regular file (O_CREAT|O_EXCL, never through
 * a link), after removing a stale one of that name with unlinkat: whatever
 * it was (a link, a FIFO, another user's file), it is removed, never opened.
 */
int create_fresh(int dirfd, const char *name, int flags, mode_t mode, char *err, size_t errsize);

/* how for open_dir_nofollow */
#define SF_DIR_CREATE                                                                              \
	0x1u		    /* create what is missing: the last with mode, others 0755,            \
			       each with mkdirat under a directory already checked */
#define SF_DIR_PRIVATE 0x2u /* the last directory is the euid's alone (see below) */

/*
 * Open the directory PATH (O_RDONLY|O_DIRECTORY), walking it component by
 * component from "/" (a relative path from the real working directory):
 *   - every directory on the way is owned by root or the euid: another owner
 *     could swap what lies under it;
 *   - a link on the way is followed only when root or the euid owns it and the
 *     directory holding it is not writable by group or others (or is sticky):
 *     a link someone else planted is refused, naming it;
 *   - the last directory is trusted the same way: owned by root or the euid,
 *     not writable by group or others unless sticky.
 * With SF_DIR_PRIVATE (a log directory) the last component must not be a link
 * at all and must be owned by the euid; if group or others have any access to
 * it, and ours(name) is true for every entry in it (an empty directory, or one
 * only onmitsu wrote into), it is made 0700 (taken over); if they may write
 * it and it holds anything else it is refused; if they may only read it, it
 * is left as it is. ours may be NULL (nothing is taken over).
 * *took_over (may be NULL) says whether the mode was changed.
 */
int open_dir_nofollow(const char *path, unsigned how, mode_t mode, bool (*ours)(const char *name),
		      bool *took_over, char *err, size_t errsize);

/* The directory part of path ("." when it has none) and the last component,
 * for open_dir_nofollow + open_regular; -1 (ENAMETOOLONG) when it does not
 * fit, or EINVAL when path ends in '/'. */
int split_path(const char *path, char *dir, size_t dirsize, const char **base);

/*
 * The directory name under dirfd (name "." for dirfd itself) to list, never
 * through a link; a description of its own, so that its read offset is
 * shared with no other reader of dirfd. NULL with errno set.
 */
DIR *dir_list_at(int dirfd, const char *name);

#endif
