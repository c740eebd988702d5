/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The writer and the segment reader against what a user who can write the
 * log directory plants there: every attack fails with a clear error and
 * changes nothing outside the log directory (issue 8). Each of these passed
 * the attacker's way before util/safefile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log/segment.h"
#include "log/verify.h"
#include "log/writer.h"
#include "log_fixture.h"
#include "test.h"

static void lh_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void quiet_opts(struct log_writer_opts *o)
{
	log_writer_opts_default(o);
	o->compress_level = 0;
	o->keep_size = 0;
	o->keep_age = 0;
}

/* log_writer_open on dir; 0 or -1 (the writer is closed either way) */
static int try_open(const char *dir)
{
	struct log_writer_opts o;
	quiet_opts(&o);
	struct log_writer w;
	int rc = log_writer_open(&w, dir, &o);
	log_writer_close(&w);
	return rc;
}

TEST(writer_refuses_a_linked_lock_file)
{
	char *t = lf_tmpdir();
	CHECK(t);
	char log[4096], victim[4096], link[8192], buf[64];
	snprintf(log, sizeof(log), "%s/log", t);
	snprintf(victim, sizeof(victim), "%s/victim", t);
	snprintf(link, sizeof(link), "%s/onmitsu.lock", log);
	CHECK_EQ_INT(mkdir(log, 0700), 0);
	lh_put(victim, "precious\n");
	CHECK_EQ_INT(symlink(victim, link), 0);
	/* before: root truncated the victim and wrote its pid into it */
	CHECK_EQ_INT(try_open(log), -1);
	CHECK_EQ_INT(lf_slurp(victim, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "precious\n");
	lf_rm_rf(t);
	free(t);
}

TEST(writer_refuses_a_linked_active_segment)
{
	char *t = lf_tmpdir();
	CHECK(t);
	char log[4096], victim[4096], link[8192], buf[64];
	snprintf(log, sizeof(log), "%s/log", t);
	snprintf(victim, sizeof(victim), "%s/users-file", t);
	snprintf(link, sizeof(link), "%s/onmitsu.csv", log);
	CHECK_EQ_INT(mkdir(log, 0700), 0);
	lh_put(victim, "");
	CHECK_EQ_INT(symlink(victim, link), 0);
	/* before: the log (its header, then every record) went into the
	 * user's file */
	CHECK_EQ_INT(try_open(log), -1);
	CHECK_EQ_INT(lf_slurp(victim, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "");
	lf_rm_rf(t);
	free(t);
}

TEST(writer_leaves_a_foreign_files_append_only_flag)
{
	if (geteuid() != 0) {
		fprintf(stderr, "  skip: setting the append-only flag needs root\n");
		return;
	}
	char *t = lf_tmpdir();
	CHECK(t);
	char log[4096], victim[4096], link[8192];
	snprintf(log, sizeof(log), "%s/log", t);
	snprintf(victim, sizeof(victim), "%s/evidence", t);
	snprintf(link, sizeof(link), "%s/onmitsu.csv", log);
	CHECK_EQ_INT(mkdir(log, 0700), 0);
	lh_put(victim, "not a log\n");
	int fd = open(victim, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	int fl = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &fl) != 0) {
		fprintf(stderr, "  skip: %s does not keep file flags\n", t);
		close(fd);
		lf_rm_rf(t);
		free(t);
		return;
	}
	fl |= FS_APPEND_FL;
	CHECK_EQ_INT(ioctl(fd, FS_IOC_SETFLAGS, &fl), 0);
	CHECK_EQ_INT(symlink(victim, link), 0);
	/* before: root lifted the flag, then the header check refused it */
	CHECK_EQ_INT(try_open(log), -1);
	fl = 0;
	CHECK_EQ_INT(ioctl(fd, FS_IOC_GETFLAGS, &fl), 0);
	close(fd);
	CHECK(fl & FS_APPEND_FL);
	/* and the same for a file of another user's in the directory itself */
	CHECK_EQ_INT(unlink(link), 0);
	lh_put(link, "theirs\n");
	CHECK_EQ_INT(chown(link, 65534, 65534), 0);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	fl = 0;
	CHECK_EQ_INT(ioctl(fd, FS_IOC_GETFLAGS, &fl), 0);
	fl |= FS_APPEND_FL;
	CHECK_EQ_INT(ioctl(fd, FS_IOC_SETFLAGS, &fl), 0);
	CHECK_EQ_INT(try_open(log), -1);
	fl = 0;
	CHECK_EQ_INT(ioctl(fd, FS_IOC_GETFLAGS, &fl), 0);
	close(fd);
	CHECK(fl & FS_APPEND_FL);
	lf_rm_rf(t);
	free(t);
}

TEST(writer_refuses_a_fifo_as_lock_or_log)
{
	char *t = lf_tmpdir();
	CHECK(t);
	char log[4096], p[8192];
	snprintf(log, sizeof(log), "%s/log", t);
	CHECK_EQ_INT(mkdir(log, 0700), 0);
	snprintf(p, sizeof(p), "%s/onmitsu.lock", log);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	/* before: a FIFO lock was taken, and recording went on */
	CHECK_EQ_INT(try_open(log), -1);
	CHECK_EQ_INT(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/onmitsu.csv", log);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	CHECK_EQ_INT(try_open(log), -1);
	struct stat st;
	CHECK_EQ_INT(lstat(p, &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
	lf_rm_rf(t);
	free(t);
}

TEST(writer_refuses_a_linked_log_dir_and_leaves_its_target)
{
	char *t = lf_tmpdir();
	CHECK(t);
	char victim[4096], link[4096];
	snprintf(victim, sizeof(victim), "%s/etc", t);
	snprintf(link, sizeof(link), "%s/log", t);
	CHECK_EQ_INT(mkdir(victim, 0755), 0);
	char pw[8192];
	snprintf(pw, sizeof(pw), "%s/passwd", victim);
	lh_put(pw, "root:x:0:0\n");
	CHECK_EQ_INT(symlink(victim, link), 0);
	/* before: the target was made 0700 (and given to root) */
	CHECK_EQ_INT(try_open(link), -1);
	struct stat st;
	CHECK_EQ_INT(stat(victim, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0755);
	char p[8192];
	snprintf(p, sizeof(p), "%s/onmitsu.lock", victim);
	CHECK(access(p, F_OK) != 0);
	lf_rm_rf(t);
	free(t);
}

TEST(writer_refuses_a_shared_directory_and_takes_over_its_own)
{
	char *t = lf_tmpdir();
	CHECK(t);
	char log[4096], p[8192];
	snprintf(log, sizeof(log), "%s/log", t);
	CHECK_EQ_INT(mkdir(log, 0700), 0);
	CHECK_EQ_INT(chmod(log, 0777), 0);
	snprintf(p, sizeof(p), "%s/someone-elses", log);
	lh_put(p, "x\n");
	/* before: made 0700 whatever it held (with /tmp, that breaks the host) */
	CHECK_EQ_INT(try_open(log), -1);
	struct stat st;
	CHECK_EQ_INT(stat(log, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0777);
	CHECK_EQ_INT(unlink(p), 0);
	/* holding nothing but onmitsu's: closed to others and used */
	CHECK_EQ_INT(try_open(log), 0);
	CHECK_EQ_INT(stat(log, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0700);
	lf_rm_rf(t);
	free(t);
}

/* seg_reader_open in a child, so that a hang is a failure, not a stuck run */
static int open_in_child(const char *dir, const char *name)
{
	pid_t pid = fork();
	if (pid == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct seg_reader r;
		_exit(seg_reader_open(&r, dfd, name) == 0 ? 0 : 1);
	}
	if (pid < 0)
		return -2;
	for (int i = 0; i < 300; i++) { /* 3 s */
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -4; /* hung */
}

TEST(seg_reader_refuses_a_fifo_without_hanging)
{
	char *t = lf_tmpdir();
	CHECK(t);
	const char *name = "onmitsu-20261125T191317.123456Z-000000000000.csv";
	char p[8192];
	snprintf(p, sizeof(p), "%s/%s", t, name);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	/* before: verify, cat and the writer's recovery blocked here forever */
	CHECK_EQ_INT(open_in_child(t, name), 1);
	/* and a link named like a segment is not followed */
	CHECK_EQ_INT(unlink(p), 0);
	char target[8192];
	snprintf(target, sizeof(target), "%s/elsewhere.csv", t);
	lh_put(target, "time\n");
	CHECK_EQ_INT(symlink(target, p), 0);
	CHECK_EQ_INT(open_in_child(t, name), 1);
	lf_rm_rf(t);
	free(t);
}

/* log_verify in a child: its exit status, or -4 when it hung */
static int verify_in_child(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		FILE *out = fopen("/dev/null", "we");
		struct verify_result res;
		_exit(log_verify(dir, NULL, out ? out : stdout, &res) == 0 ? 0 : 1);
	}
	if (pid < 0)
		return -2;
	for (int i = 0; i < 1000; i++) { /* 10 s */
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -4;
}

TEST(verify_does_not_hang_on_a_fifo_lock)
{
	char *t = lf_tmpdir();
	CHECK(t);
	char log[4096], p[8192];
	snprintf(log, sizeof(log), "%s/log", t);
	CHECK_EQ_INT(mkdir(log, 0700), 0);
	CHECK_EQ_INT(try_open(log), 0); /* a log of a header only */
	snprintf(p, sizeof(p), "%s/onmitsu.lock", log);
	CHECK_EQ_INT(unlink(p), 0);
	CHECK_EQ_INT(mkfifo(p, 0600), 0);
	/* before: verify blocked opening the FIFO to see if a recorder runs */
	int rc = verify_in_child(log);
	CHECK(rc == 0 || rc == 1);
	lf_rm_rf(t);
	free(t);
}
