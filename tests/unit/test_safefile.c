/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util/safefile: what another user can plant where root opens a file (a
 * link, a FIFO, a socket, a file of theirs, a group-writable file, a second
 * name for a file) is refused by name, without being opened or followed.
 * Runs as root and as any other user; what needs root to set up (a file
 * owned by uid 65534) says so on stderr and passes without checking.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log_fixture.h"
#include "test.h"
#include "util/safefile.h"

#define NOBODY 65534

static void put(const char *dir, const char *name, const char *text)
{
	char p[8192];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int dir_fd(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool can_chown(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr,
		"  skip: a file owned by uid %d needs root to make; run as root "
		"(CI does)\n",
		NOBODY);
	return false;
}

TEST(safefile_refuses_a_link_and_leaves_its_target)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char victim[4096], link[4096], err[512], buf[64];
	snprintf(victim, sizeof(victim), "%s/victim", d);
	snprintf(link, sizeof(link), "%s/onmitsu.lock", d);
	put(d, "victim", "precious\n");
	CHECK_EQ_INT(symlink(victim, link), 0);
	int dfd = dir_fd(d);
	CHECK(dfd >= 0);
	int fd = open_regular(dfd, "onmitsu.lock", O_RDWR | O_CREAT | O_TRUNC, 0600, SF_OWNED, err,
			      sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK_EQ_INT(errno, ELOOP);
	CHECK(strstr(err, "onmitsu.lock is a symbolic link") != NULL);
	CHECK_EQ_INT(lf_slurp(victim, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "precious\n");
	/* a dangling link is not created through either */
	CHECK_EQ_INT(unlink(victim), 0);
	fd = open_regular(dfd, "onmitsu.lock", O_RDWR | O_CREAT, 0600, SF_OWNED, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(access(victim, F_OK) != 0);
	/* SF_FOLLOW (the query commands) follows it to a regular file */
	put(d, "victim", "read me\n");
	fd = open_regular(dfd, "onmitsu.lock", O_RDONLY, 0, SF_FOLLOW, err, sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_refuses_a_fifo_without_blocking)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char p[4096], err[512];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", d);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	int dfd = dir_fd(d);
	/* a blocking open of a FIFO with no writer would hang here */
	int fd = open_regular(dfd, "onmitsu.csv", O_RDONLY, 0, 0, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "onmitsu.csv is a FIFO, not a regular file") != NULL);
	fd = open_regular(dfd, "onmitsu.csv", O_RDWR | O_APPEND | O_CREAT, 0600, SF_OWNED, err,
			  sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "FIFO") != NULL);
	fd = open_regular(AT_FDCWD, p, O_RDONLY, 0, SF_FOLLOW, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_refuses_a_socket_and_a_directory)
{
	char *d = lf_tmpdir();
	CHECK(d);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/onmitsu.lock", d);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	CHECK_EQ_INT(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char p[4096], err[512];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", d);
	CHECK_EQ_INT(mkdir(p, 0700), 0);
	int dfd = dir_fd(d);
	int fd =
	    open_regular(dfd, "onmitsu.lock", O_RDWR | O_CREAT, 0600, SF_OWNED, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "onmitsu.lock is a socket") != NULL);
	fd = open_regular(dfd, "onmitsu.csv", O_RDONLY, 0, 0, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "onmitsu.csv is a directory") != NULL);
	close(s);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_refuses_another_users_file)
{
	if (!can_chown())
		return;
	char *d = lf_tmpdir();
	CHECK(d);
	char p[4096], err[512], buf[64];
	snprintf(p, sizeof(p), "%s/onmitsu.csv", d);
	put(d, "onmitsu.csv", "theirs\n");
	CHECK_EQ_INT(chown(p, NOBODY, NOBODY), 0);
	int dfd = dir_fd(d);
	int fd = open_regular(dfd, "onmitsu.csv", O_RDWR | O_APPEND | O_CREAT | O_TRUNC, 0600,
			      SF_OWNED, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "onmitsu.csv is owned by uid 65534") != NULL);
	CHECK_EQ_INT(lf_slurp(p, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "theirs\n"); /* O_TRUNC was not applied */
	/* without SF_OWNED (reading someone's copy of a log) it is fine */
	fd = open_regular(dfd, "onmitsu.csv", O_RDONLY, 0, 0, err, sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_refuses_a_group_writable_or_hard_linked_file)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char p[4096], q[4096], err[512], buf[64];
	snprintf(p, sizeof(p), "%s/onmitsu.lock", d);
	put(d, "onmitsu.lock", "123\n");
	CHECK_EQ_INT(chmod(p, 0620), 0);
	int dfd = dir_fd(d);
	int fd =
	    open_regular(dfd, "onmitsu.lock", O_RDWR | O_CREAT, 0600, SF_OWNED, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "onmitsu.lock is writable by its group or by others (mode 0620)") !=
	      NULL);
	CHECK_EQ_INT(chmod(p, 0600), 0);
	/* a second name: writing would change the other file */
	snprintf(q, sizeof(q), "%s/elsewhere", d);
	CHECK_EQ_INT(link(p, q), 0);
	fd = open_regular(dfd, "onmitsu.lock", O_RDWR | O_TRUNC, 0600, SF_OWNED, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "onmitsu.lock has 2 hard links") != NULL);
	CHECK_EQ_INT(lf_slurp(q, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "123\n");
	fd = open_regular(dfd, "onmitsu.lock", O_RDONLY, 0, SF_OWNED, err, sizeof(err));
	CHECK(fd >= 0); /* reading it changes nothing */
	close(fd);
	CHECK_EQ_INT(unlink(q), 0);
	fd = open_regular(dfd, "onmitsu.lock", O_RDWR | O_TRUNC, 0600, SF_OWNED, err, sizeof(err));
	CHECK(fd >= 0);
	struct stat st;
	CHECK_EQ_INT(fstat(fd, &st), 0);
	CHECK_EQ_INT(st.st_size, 0);
	CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
	close(fd);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_create_fresh_removes_a_stale_link_without_following_it)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char victim[4096], link[4096], err[512], buf[64];
	snprintf(victim, sizeof(victim), "%s/victim", d);
	snprintf(link, sizeof(link), "%s/seal.key.new", d);
	put(d, "victim", "precious\n");
	CHECK_EQ_INT(symlink(victim, link), 0);
	int dfd = dir_fd(d);
	int fd = create_fresh(dfd, "seal.key.new", O_WRONLY, 0600, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, "new\n", 4), 4);
	close(fd);
	CHECK_EQ_INT(lf_slurp(victim, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "precious\n");
	struct stat st;
	CHECK_EQ_INT(lstat(link, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	/* a FIFO in its place goes the same way */
	CHECK_EQ_INT(unlink(link), 0);
	CHECK_EQ_INT(mkfifo(link, 0600), 0);
	fd = create_fresh(dfd, "seal.key.new", O_WRONLY, 0600, err, sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_split_path)
{
	char dir[64];
	const char *base;
	CHECK_EQ_INT(split_path("/etc/onmitsu/seal.key", dir, sizeof(dir), &base), 0);
	CHECK_EQ_STR(dir, "/etc/onmitsu");
	CHECK_EQ_STR(base, "seal.key");
	CHECK_EQ_INT(split_path("/seal.key", dir, sizeof(dir), &base), 0);
	CHECK_EQ_STR(dir, "/");
	CHECK_EQ_INT(split_path("seal.key", dir, sizeof(dir), &base), 0);
	CHECK_EQ_STR(dir, ".");
	CHECK_EQ_INT(split_path("/etc/", dir, sizeof(dir), &base), -1);
	CHECK_EQ_INT(split_path("", dir, sizeof(dir), &base), -1);
}

static bool only_onmitsu(const char *name)
{
	return strncmp(name, "onmitsu", 7) == 0;
}

TEST(safefile_dir_refuses_a_link_as_the_log_directory)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char victim[4096], link[4096], err[1024];
	snprintf(victim, sizeof(victim), "%s/victim", d);
	snprintf(link, sizeof(link), "%s/log", d);
	CHECK_EQ_INT(mkdir(victim, 0755), 0);
	CHECK_EQ_INT(symlink(victim, link), 0);
	int fd = open_dir_nofollow(link, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL,
				   err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/log is a symbolic link") != NULL);
	struct stat st;
	CHECK_EQ_INT(stat(victim, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0755); /* its target is not touched */
	/* a link on the way, made by root or us in a directory only we write,
	 * is followed (like /var/run -> /run) */
	char via[4096];
	snprintf(via, sizeof(via), "%s/log/sub", d);
	fd = open_dir_nofollow(via, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err,
			       sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	snprintf(via, sizeof(via), "%s/victim/sub", d);
	CHECK_EQ_INT(stat(via, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0700);
	/* the same link in a directory others can write is not followed */
	CHECK_EQ_INT(chmod(d, 0777), 0);
	snprintf(via, sizeof(via), "%s/log/sub", d);
	fd = open_dir_nofollow(via, SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/log is a symbolic link that another user could have made") != NULL);
	CHECK_EQ_INT(chmod(d, 0700), 0);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_dir_creates_what_is_missing)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char p[4096], err[1024];
	snprintf(p, sizeof(p), "%s/a/b/log", d);
	int fd = open_dir_nofollow(p, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err,
				   sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	struct stat st;
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0700);
	snprintf(p, sizeof(p), "%s/a/b", d);
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	/* without SF_DIR_CREATE a missing one is an error naming it */
	snprintf(p, sizeof(p), "%s/none/log", d);
	fd = open_dir_nofollow(p, SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/none") != NULL);
	/* a relative path goes from the working directory */
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_EQ_INT(chdir(d), 0);
	fd = open_dir_nofollow("rel/log", SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL,
			       err, sizeof(err));
	CHECK_EQ_INT(chdir(cwd), 0);
	CHECK(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/rel/log", d);
	CHECK_EQ_INT(stat(p, &st), 0);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_dir_takes_over_only_a_directory_of_its_own)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char p[4096], err[1024];
	snprintf(p, sizeof(p), "%s/log", d);
	CHECK_EQ_INT(mkdir(p, 0700), 0);
	CHECK_EQ_INT(chmod(p, 0777), 0);
	put(p, "onmitsu.lock", "");
	bool took = false;
	int fd = open_dir_nofollow(p, SF_DIR_PRIVATE, 0700, only_onmitsu, &took, err, sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	CHECK(took);
	struct stat st;
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0700);
	/* writable by others and holding something else: refused, unchanged */
	CHECK_EQ_INT(chmod(p, 0777), 0);
	put(p, "notes.txt", "");
	fd = open_dir_nofollow(p, SF_DIR_PRIVATE, 0700, only_onmitsu, &took, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/log is writable by its group or by others (mode 0777) and holds") !=
	      NULL);
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0777);
	/* readable only: left as it is (think /etc) */
	CHECK_EQ_INT(chmod(p, 0755), 0);
	fd = open_dir_nofollow(p, SF_DIR_PRIVATE, 0700, only_onmitsu, &took, err, sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	CHECK(!took);
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0755);
	/* a key's directory (not private) may be sticky like /tmp, not writable */
	CHECK_EQ_INT(chmod(p, 0777), 0);
	fd = open_dir_nofollow(p, 0, 0700, NULL, NULL, err, sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "(mode 0777)") != NULL);
	CHECK_EQ_INT(chmod(p, 01777), 0);
	fd = open_dir_nofollow(p, 0, 0700, NULL, NULL, err, sizeof(err));
	CHECK(fd >= 0);
	close(fd);
	lf_rm_rf(d);
	free(d);
}

TEST(safefile_dir_refuses_another_users_directory)
{
	if (!can_chown())
		return;
	char *d = lf_tmpdir();
	CHECK(d);
	char p[4096], err[1024];
	snprintf(p, sizeof(p), "%s/log", d);
	CHECK_EQ_INT(mkdir(p, 0700), 0);
	CHECK_EQ_INT(chown(p, NOBODY, NOBODY), 0);
	int fd = open_dir_nofollow(p, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err,
				   sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/log is owned by uid 65534") != NULL);
	struct stat st;
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_uid, NOBODY); /* not taken from them */
	/* nor is anything under it used: they could swap it */
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/log/sub", d);
	fd = open_dir_nofollow(sub, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err,
			       sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/log is owned by uid 65534") != NULL);
	CHECK(access(sub, F_OK) != 0);
	/* their link, even in a directory of ours, is not followed */
	char link[4096];
	snprintf(link, sizeof(link), "%s/mine", d);
	CHECK_EQ_INT(mkdir(link, 0700), 0);
	snprintf(link, sizeof(link), "%s/theirs", d);
	CHECK_EQ_INT(symlink("mine", link), 0);
	CHECK_EQ_INT(lchown(link, NOBODY, NOBODY), 0);
	snprintf(sub, sizeof(sub), "%s/theirs/log", d);
	fd = open_dir_nofollow(sub, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, only_onmitsu, NULL, err,
			       sizeof(err));
	CHECK_EQ_INT(fd, -1);
	CHECK(strstr(err, "/theirs is a symbolic link that its owner could have made") != NULL);
	lf_rm_rf(d);
	free(d);
}

/* a directory is listed under its own description; a link to one never is */
TEST(safefile_dir_list_at_refuses_a_link)
{
	char *d = lf_tmpdir();
	CHECK(d);
	char sub[4096], link[4096];
	snprintf(sub, sizeof(sub), "%s/sub", d);
	snprintf(link, sizeof(link), "%s/via", d);
	CHECK_EQ_INT(mkdir(sub, 0700), 0);
	put(sub, "a", "x\n");
	CHECK_EQ_INT(symlink(sub, link), 0);
	int dfd = dir_fd(d);
	CHECK(dfd >= 0);
	DIR *l = dir_list_at(dfd, "via");
	CHECK(l == NULL);
	CHECK(errno == ELOOP || errno == ENOTDIR);
	DIR *s = dir_list_at(dfd, "sub");
	CHECK(s != NULL);
	int found = 0;
	struct dirent *de;
	while (s && (de = readdir(s)))
		found += strcmp(de->d_name, "a") == 0;
	CHECK_EQ_INT(found, 1);
	/* its own read offset: listing dfd's "." twice sees the entries twice */
	for (int round = 0; round < 2; round++) {
		DIR *self = dir_list_at(dfd, ".");
		CHECK(self != NULL);
		int subs = 0;
		while (self && (de = readdir(self)))
			subs += strcmp(de->d_name, "sub") == 0;
		CHECK_EQ_INT(subs, 1);
		if (self)
			closedir(self);
	}
	if (s)
		closedir(s);
	close(dfd);
	lf_rm_rf(d);
	free(d);
}
