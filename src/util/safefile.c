/* SPDX-License-Identifier: BSD-2-Clause */
#include "util/safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SF_MAX_LINKS 40 /* as the kernel's own limit for one lookup */

static void say(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errsize, const char *fmt, ...)
{
	if (!err || !errsize)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

static const char *kind_of(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	return "not a regular file";
}

/* 0, or -1 with errno and err when st is not a file the caller may use. */
static int check_file(const char *name, const struct stat *st, bool writing, unsigned checks,
		      char *err, size_t errsize)
{
	if (S_ISLNK(st->st_mode)) {
		say(err, errsize,
		    "%s is a symbolic link; onmitsu never follows one here (whoever can write "
		    "the directory could point it at any file): remove it",
		    name);
		errno = ELOOP;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		say(err, errsize, "%s is %s, not a regular file: remove it", name,
		    kind_of(st->st_mode));
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if (!(checks & SF_OWNED))
		return 0;
	uid_t me = geteuid();
	if (st->st_uid != me) {
		say(err, errsize,
		    "%s is owned by uid %u, not by uid %u who runs onmitsu: someone else put it "
		    "there; move it away (and look at what it is)",
		    name, (unsigned)st->st_uid, (unsigned)me);
		errno = EPERM;
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		say(err, errsize,
		    "%s is writable by its group or by others (mode %04o); onmitsu's files are "
		    "0600: chmod 0600 it if it is onmitsu's, else move it away",
		    name, (unsigned)(st->st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	if (writing && st->st_nlink != 1) {
		say(err, errsize,
		    "%s has %lu hard links: it may be another file under a second name; move it "
		    "away",
		    name, (unsigned long)st->st_nlink);
		errno = EMLINK;
		return -1;
	}
	return 0;
}

int open_regular(int dirfd, const char *name, int flags, mode_t mode, unsigned checks, char *err,
		 size_t errsize)
{
	bool follow = checks & SF_FOLLOW;
	bool writing = (flags & O_ACCMODE) != O_RDONLY;
	struct stat st;
	/* what is there already is judged before it is opened: opening a device
	 * can do something, opening a FIFO can block */
	if (fstatat(dirfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0) {
		if (!(flags & O_EXCL) && check_file(name, &st, writing, checks, err, errsize) != 0)
			return -1;
	} else if (errno != ENOENT || !(flags & O_CREAT)) {
		int e = errno;
		say(err, errsize, "cannot open %s: %s", name, strerror(e));
		errno = e;
		return -1;
	}
	int oflags = (flags & ~O_TRUNC) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if (!follow)
		oflags |= O_NOFOLLOW;
	int fd = openat(dirfd, name, oflags, mode);
	if (fd < 0) {
		int e = errno;
		struct stat lst;
		if (e == ELOOP && !follow && fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0)
			check_file(name, &lst, writing, checks, err, errsize);
		else if (e == ENXIO || e == EWOULDBLOCK)
			say(err, errsize, "%s is a FIFO or socket, not a regular file: remove it",
			    name);
		else
			say(err, errsize, "cannot %s %s: %s", flags & O_CREAT ? "create" : "open",
			    name, strerror(e));
		errno = e;
		return -1;
	}
	/* the checks again, on what was opened: it may have been swapped in */
	if (fstat(fd, &st) != 0) {
		int e = errno;
		say(err, errsize, "cannot stat %s: %s", name, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (check_file(name, &st, writing, checks, err, errsize) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if ((flags & O_TRUNC) && writing && ftruncate(fd, 0) != 0) {
		int e = errno;
		say(err, errsize, "cannot empty %s: %s", name, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!(flags & O_NONBLOCK)) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

int create_fresh(int dirfd, const char *name, int flags, mode_t mode, char *err, size_t errsize)
{
	/* unlinkat removes the name, whatever it names, and follows nothing */
	if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
		int e = errno;
		say(err, errsize, "cannot remove a stale %s: %s", name, strerror(e));
		errno = e;
		return -1;
	}
	return open_regular(dirfd, name, flags | O_CREAT | O_EXCL, mode, SF_OWNED, err, errsize);
}

int split_path(const char *path, char *dir, size_t dirsize, const char **base)
{
	const char *slash = strrchr(path, '/');
	if (!*path || (slash && slash[1] == '\0')) {
		errno = EINVAL;
		return -1;
	}
	if (!slash) {
		if (dirsize < 2) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(dir, ".");
		*base = path;
		return 0;
	}
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirsize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
	return 0;
}

/* ---- directories ---- */

struct walk {
	unsigned how;
	mode_t mode;
	int links;
	char *err;
	size_t errsize;
};

static bool owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/* No one but root and the euid can change the entries of this directory. */
static bool entries_safe(const struct stat *st)
{
	return owner_ok(st) && (!(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX));
}

/* "DOING WHAT: strerror(e)" into err; closes fd. */
static int fail_errno(struct walk *w, int fd, int e, const char *doing, const char *what)
{
	if (fd >= 0)
		close(fd);
	say(w->err, w->errsize, "%s%s%s: %s", doing, *doing ? " " : "", what, strerror(e));
	errno = e;
	return -1;
}

static int resolve(int at, const char *path, bool last_private, bool create, struct walk *w);

/*
 * A link met on the way to a directory: followed only when it cannot have been
 * planted (root's, in a directory only root can change) and never as the
 * private directory itself; its target is resolved as a way of its own. The
 * directory it leads to, with *st, or -1 (cur closed, w->err says why).
 */
static int follow_link(int cur, const struct stat *cur_st, const char *comp, const char *shown,
		       bool last, bool last_private, struct walk *w, struct stat *st)
{
	if (last && last_private) {
		say(w->err, w->errsize,
		    "%s is a symbolic link; onmitsu does not follow one to its log "
		    "directory (whoever made it could point it anywhere): give the "
		    "directory itself",
		    shown);
		close(cur);
		errno = ELOOP;
		return -1;
	}
	if (!owner_ok(st) || !entries_safe(cur_st)) {
		say(w->err, w->errsize,
		    "%s is a symbolic link that %s could have made or replaced "
		    "(link owned by uid %u, in a directory of mode %04o owned by "
		    "uid %u); onmitsu does not follow it: give the real path",
		    shown, owner_ok(st) ? "another user" : "its owner", (unsigned)st->st_uid,
		    (unsigned)(cur_st->st_mode & 07777), (unsigned)cur_st->st_uid);
		close(cur);
		errno = EPERM;
		return -1;
	}
	if (++w->links > SF_MAX_LINKS)
		return fail_errno(w, cur, ELOOP, "cannot resolve", shown);
	char target[PATH_MAX];
	ssize_t n = readlinkat(cur, comp, target, sizeof(target) - 1);
	if (n < 0)
		return fail_errno(w, cur, errno, "cannot read the link", shown);
	target[n] = '\0';
	int base = target[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
				    : openat(cur, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return fail_errno(w, cur, errno, "cannot resolve", shown);
	/* the target is a way to the directory, judged as such; it is
	 * not created: a link to nothing is a mistake to report */
	int next = resolve(base, target, false, false, w);
	if (next < 0) {
		close(cur);
		return -1;
	}
	if (fstat(next, st) != 0) {
		int e = errno;
		close(next);
		return fail_errno(w, cur, e, "cannot stat", shown);
	}
	return next;
}

/*
 * The directory PATH names from the directory `at` (an O_PATH descriptor,
 * consumed), as an O_PATH descriptor. last_private: PATH's last component is
 * the private directory itself (never a link). shown: how to name PATH.
 */
static int resolve(int at, const char *path, bool last_private, bool create, struct walk *w)
{
	size_t plen = strlen(path);
	char *buf = malloc(plen + 1);
	if (!buf) {
		close(at);
		errno = ENOMEM;
		say(w->err, w->errsize, "out of memory");
		return -1;
	}
	memcpy(buf, path, plen + 1);
	int cur = at;
	struct stat cur_st;
	if (fstat(cur, &cur_st) != 0) {
		free(buf);
		return fail_errno(w, cur, errno, "cannot stat", path);
	}
	char *p = buf;
	while (*p) {
		char *comp = p;
		while (*p && *p != '/')
			p++;
		bool more = false;
		if (*p) {
			*p++ = '\0';
			for (char *q = p; *q; q++)
				if (*q != '/') {
					more = true;
					break;
				}
		}
		if (!*comp || strcmp(comp, ".") == 0) {
			if (!more)
				break;
			continue;
		}
		/* how to name this component in a message: PATH up to it */
		char shown[PATH_MAX];
		snprintf(shown, sizeof(shown), "%.*s", (int)(comp - buf + strlen(comp)), path);
		bool last = !more;
		int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, last ? w->mode : 0755) != 0 && errno != EEXIST) {
				free(buf);
				return fail_errno(w, cur, errno, "cannot create", shown);
			}
			next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		struct stat st;
		bool is_link = false;
		if (next >= 0) {
			if (fstat(next, &st) != 0) {
				int e = errno;
				close(next);
				free(buf);
				return fail_errno(w, cur, e, "cannot stat", shown);
			}
			is_link = S_ISLNK(st.st_mode);
			if (is_link)
				close(next);
		} else {
			int e = errno;
			if ((e == ELOOP || e == ENOTDIR) &&
			    fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				is_link = true;
			} else {
				free(buf);
				return fail_errno(w, cur, e, "cannot open the directory", shown);
			}
		}
		if (is_link) {
			next = follow_link(cur, &cur_st, comp, shown, last, last_private, w, &st);
			if (next < 0) {
				free(buf);
				return -1;
			}
		}
		if (!S_ISDIR(st.st_mode)) {
			close(next);
			free(buf);
			return fail_errno(w, cur, ENOTDIR, "", shown);
		}
		if (!owner_ok(&st)) {
			say(w->err, w->errsize,
			    "%s is owned by uid %u, who could replace what lies in it; onmitsu "
			    "needs a path that only root (or uid %u, who runs it) controls: "
			    "chown root it or choose another path",
			    shown, (unsigned)st.st_uid, (unsigned)geteuid());
			close(next);
			free(buf);
			close(cur);
			errno = EPERM;
			return -1;
		}
		close(cur);
		cur = next;
		cur_st = st;
		if (!more)
			break;
	}
	free(buf);
	return cur;
}

static bool all_ours(int fd, bool (*ours)(const char *name))
{
	if (!ours)
		return false;
	DIR *d = dir_list_at(fd, ".");
	if (!d)
		return false;
	bool ok = true;
	struct dirent *de;
	while (ok && (de = readdir(d)))
		ok = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		     ours(de->d_name);
	closedir(d);
	return ok;
}

int open_dir_nofollow(const char *path, unsigned how, mode_t mode, bool (*ours)(const char *name),
		      bool *took_over, char *err, size_t errsize)
{
	struct walk w = {.how = how, .mode = mode, .err = err, .errsize = errsize};
	if (took_over)
		*took_over = false;
	if (!*path) {
		say(err, errsize, "an empty directory name");
		errno = ENOENT;
		return -1;
	}
	/* a relative path from the real working directory, so that every
	 * directory above it is checked as well */
	char *abs = NULL;
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd) {
			int e = errno;
			say(err, errsize, "cannot find the working directory for %s: %s", path,
			    strerror(e));
			errno = e;
			return -1;
		}
		size_t n = strlen(cwd) + strlen(path) + 2;
		abs = malloc(n);
		if (!abs) {
			free(cwd);
			errno = ENOMEM;
			return -1;
		}
		snprintf(abs, n, "%s/%s", cwd, path);
		free(cwd);
	}
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		int e = errno;
		free(abs);
		say(err, errsize, "cannot open /: %s", strerror(e));
		errno = e;
		return -1;
	}
	int pfd = resolve(root, abs ? abs : path, how & SF_DIR_PRIVATE, how & SF_DIR_CREATE, &w);
	free(abs);
	if (pfd < 0)
		return -1;
	int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		say(err, errsize, "cannot open the directory %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	unsigned m = st.st_mode & 07777;
	if (!(how & SF_DIR_PRIVATE)) {
		if (!entries_safe(&st)) {
			say(err, errsize,
			    "%s is writable by its group or by others (mode %04o): anyone could "
			    "put files there; use a directory only root can write (chmod 0700)",
			    path, m);
			close(fd);
			errno = EPERM;
			return -1;
		}
		return fd;
	}
	if (st.st_uid != geteuid()) {
		say(err, errsize,
		    "%s is owned by uid %u; onmitsu keeps its log only in a directory of its "
		    "own user's (uid %u): chown %u %s and chmod 0700 it, or choose another "
		    "directory",
		    path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (!(m & 077))
		return fd;
	/* only a directory onmitsu alone has used is taken over: closing /etc
	 * or a shared directory would break the host. What someone else put in
	 * it under onmitsu's names is judged where it is opened. */
	if (all_ours(fd, ours)) {
		if (fchmod(fd, 0700) != 0) {
			int e = errno;
			say(err, errsize, "cannot restrict %s to mode 0700: %s", path, strerror(e));
			close(fd);
			errno = e;
			return -1;
		}
		if (took_over)
			*took_over = true;
		return fd;
	}
	if (m & (S_IWGRP | S_IWOTH)) {
		say(err, errsize,
		    "%s is writable by its group or by others (mode %04o) and holds files that "
		    "are not onmitsu's; give onmitsu a directory of its own (or chmod 0700 this "
		    "one)",
		    path, m);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

DIR *dir_list_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}
