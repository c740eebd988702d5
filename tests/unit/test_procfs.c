/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc parsing: hostile texts, a fixture tree (tests/data/proc) and the live
 * /proc/self.
 *
 * tests/data/proc:
 *   2      kthreadd: PF_KTHREAD, no exe link, empty cmdline
 *   4242   comm "a) b (c", uid 1000 / euid 1001, exe -> "/usr/bin/fake (deleted)",
 *          cmdline "/usr/bin/fake" "--opt" "" "last arg"
 *   4243   comm "x\ny", exe -> "/memfd:payload (deleted)", cmdline "payload" "-q"
 *   4244   a zombie: no exe link, empty cmdline
 *   self -> 4242, uptime, 0042, 12ab: entries that are not processes
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "onmitsu/event.h"
#include "record/procfs.h"
#include "test.h"

/* A stat line with the given head ("PID (COMM) STATE PPID") and the rest
 * shaped like a real one: flags (field 9) and starttime (field 22) as given. */
static void make_stat(char *buf, size_t size, const char *head, unsigned flags,
		      unsigned long long start)
{
	snprintf(buf, size,
		 "%s 4098 2380 0 -1 %u 98 0 1 0 0 0 0 0 20 0 1 0 %llu 3133440 394 "
		 "18446744073709551615 94161180598272 94161180618153 140730503652800 0 0 0 0 0 0 "
		 "0 0 0 17 1 0 0 0 0 0 94161180634160 94161180635776 94161368481792 "
		 "140730503654026 140730503654046 140730503654046 140730503655403 0\n",
		 head, flags, start);
}

TEST(procfs_stat_plain)
{
	char buf[1024];
	struct proc_stat st;
	make_stat(buf, sizeof(buf), "4100 (cat) R 4098", 4194304, 52082);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.pid, 4100);
	CHECK_EQ_INT(st.ppid, 4098);
	CHECK_EQ_INT(st.state, 'R');
	CHECK_EQ_INT(st.start_ticks, 52082);
	CHECK_EQ_INT(st.is_kernel_thread, 0);

	/* the real kthreadd line, PF_KTHREAD set */
	const char *kt = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 "
			 "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 "
			 "0 0 0 0 0 0\n";
	CHECK_EQ_INT(procfs_parse_stat(kt, strlen(kt), &st), 0);
	CHECK_EQ_INT(st.pid, 2);
	CHECK_EQ_INT(st.ppid, 0);
	CHECK_EQ_INT(st.start_ticks, 24);
	CHECK(st.is_kernel_thread);

	/* a large start time, beyond 32 bits */
	make_stat(buf, sizeof(buf), "7 (x) S 1", 0, 123456789012345ull);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK(st.start_ticks == 123456789012345ull);
}

TEST(procfs_stat_hostile_comm)
{
	char buf[1024];
	struct proc_stat st;

	make_stat(buf, sizeof(buf), "1234 (a) b (c) S 77", 0, 999);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.pid, 1234);
	CHECK_EQ_INT(st.state, 'S');
	CHECK_EQ_INT(st.ppid, 77);
	CHECK_EQ_INT(st.start_ticks, 999);

	/* a comm that imitates the fields after it */
	make_stat(buf, sizeof(buf), "1235 (x) Z 9 9) D 78", 0, 1000);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.state, 'D');
	CHECK_EQ_INT(st.ppid, 78);
	CHECK_EQ_INT(st.start_ticks, 1000);

	/* newline, empty comm, a comm of only parentheses */
	make_stat(buf, sizeof(buf), "1236 (x\ny) S 79", 0, 1001);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.ppid, 79);
	CHECK_EQ_INT(st.start_ticks, 1001);
	make_stat(buf, sizeof(buf), "1237 () S 80", 0, 1002);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.ppid, 80);
	make_stat(buf, sizeof(buf), "1238 ()()) S 81", 0, 1003);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.ppid, 81);
	CHECK_EQ_INT(st.start_ticks, 1003);

	/* a comm that fakes the kernel-thread flag cannot set it */
	make_stat(buf, sizeof(buf), "1239 (1 2 3 4 2129984) S 82", 0, 1004);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), 0);
	CHECK_EQ_INT(st.is_kernel_thread, 0);
}

TEST(procfs_stat_malformed)
{
	char buf[1024];
	struct proc_stat st;
	static const char *const bad[] = {
	    "",
	    "\n",
	    "1234",
	    "1234 (cat",
	    "1234 cat) R 1",
	    "(cat) R 1 2 3",
	    "-1 (cat) R 1",
	    "0 (cat) R 1",
	    "99999999999 (cat) R 1",
	    "1234 (cat) R 1 2 3\n", /* too few fields */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (procfs_parse_stat(bad[i], strlen(bad[i]), &st) != -1)
			TEST_FAIL_("accepted bad stat #%zu \"%s\"", i, bad[i]);
	}

	make_stat(buf, sizeof(buf), "1234 (cat) R x1", 0, 5);
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), -1);
	make_stat(buf, sizeof(buf), "1234 (cat) R -1", 0, 5); /* negative ppid */
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), -1);
	make_stat(buf, sizeof(buf), "1234 (cat)  R 1", 0, 5); /* two spaces */
	CHECK_EQ_INT(procfs_parse_stat(buf, strlen(buf), &st), -1);

	/* the length bounds the parse: the same line cut before field 22 */
	make_stat(buf, sizeof(buf), "1234 (cat) R 1", 0, 5);
	const char *f22 = strstr(buf, " 5 3133440");
	CHECK(f22 != NULL);
	CHECK_EQ_INT(procfs_parse_stat(buf, (size_t)(f22 - buf), &st), -1);
	CHECK_EQ_INT(procfs_parse_stat(buf, (size_t)(f22 - buf) + 2, &st), 0);
	CHECK_EQ_INT(st.start_ticks, 5);
	/* cut inside the comm: the ')' found must lie within the length */
	CHECK_EQ_INT(procfs_parse_stat(buf, 8, &st), -1);
}

TEST(procfs_status_uid)
{
	uint32_t uid = 7, euid = 7;
	const char *s =
	    "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nUid:\t1000\t1001\t1002\t1003\n"
	    "Gid:\t0\t0\t0\t0\n";
	CHECK_EQ_INT(procfs_parse_status_uid(s, strlen(s), &uid, &euid), 0);
	CHECK_EQ_INT(uid, 1000);
	CHECK_EQ_INT(euid, 1001);

	/* first line, no newline at the end */
	const char *first = "Uid:\t0\t4294967295\t0\t0";
	CHECK_EQ_INT(procfs_parse_status_uid(first, strlen(first), &uid, &euid), 0);
	CHECK_EQ_INT(uid, 0);
	CHECK(euid == 4294967295u);

	/* a Name holding "Uid:" is not at a line start (the kernel escapes
	 * newlines in it as "\n") */
	const char *name = "Name:\tx\\nUid:\t0\t0\nUid:\t5\t6\t5\t5\n";
	CHECK_EQ_INT(procfs_parse_status_uid(name, strlen(name), &uid, &euid), 0);
	CHECK_EQ_INT(uid, 5);
	CHECK_EQ_INT(euid, 6);

	static const char *const bad[] = {
	    "",
	    "Name:\tcat\n",
	    "Uid:\n",
	    "Uid:\t1000\n",
	    "Uid:\t1000\tx\t0\t0\n",
	    "Uid:\t-1\t0\t0\t0\n",
	    "Uid:\t4294967296\t0\t0\t0\n",
	    "Uid:1000\t1000\n",
	    "Uid:\t1000\t1000x\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (procfs_parse_status_uid(bad[i], strlen(bad[i]), &uid, &euid) != -1)
			TEST_FAIL_("accepted bad status #%zu \"%s\"", i, bad[i]);
	}
	/* the length bounds the parse */
	CHECK_EQ_INT(procfs_parse_status_uid(s, 20, &uid, &euid), -1);
}

TEST(procfs_maps_lines)
{
	struct proc_map m;
	char l1[] = "563515a31000-563515a37000 r-xp 00002000 fe:00 247498                     "
		    "/usr/bin/head";
	CHECK_EQ_INT(procfs_parse_maps_line(l1, &m), 1);
	CHECK_EQ_INT(m.dev_major, 0xfe);
	CHECK_EQ_INT(m.dev_minor, 0);
	CHECK_EQ_INT(m.ino, 247498);
	CHECK_EQ_MEM(m.path, m.path_len, "/usr/bin/head", strlen("/usr/bin/head"));
	CHECK(!m.deleted);

	/* deleted, with spaces in the path and a large minor */
	char l2[] = "7f00a0000000-7f00a0021000 r-xp 00000000 103:1a2 99            "
		    "/tmp/my lib (x).so (deleted)";
	CHECK_EQ_INT(procfs_parse_maps_line(l2, &m), 1);
	CHECK_EQ_INT(m.dev_major, 0x103);
	CHECK_EQ_INT(m.dev_minor, 0x1a2);
	CHECK_EQ_INT(m.ino, 99);
	CHECK_EQ_STR(m.path, "/tmp/my lib (x).so");
	CHECK_EQ_INT(m.path_len, strlen("/tmp/my lib (x).so"));
	CHECK(m.deleted);

	/* a memfd mapped executable: exactly what we want to see */
	char l3[] = "7f00a0000000-7f00a0001000 r-xs 00000000 00:01 1030 /memfd:payload (deleted)";
	CHECK_EQ_INT(procfs_parse_maps_line(l3, &m), 1);
	CHECK_EQ_STR(m.path, "/memfd:payload");
	CHECK(m.deleted);

	/* a trailing newline from getline is tolerated */
	char l4[] = "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n";
	CHECK_EQ_INT(procfs_parse_maps_line(l4, &m), 1);
	CHECK_EQ_STR(m.path, "/usr/bin/dbus-daemon");
}

TEST(procfs_maps_not_modules)
{
	struct proc_map m;
	/* not executable */
	char l1[] = "563515a2f000-563515a31000 r--p 00000000 fe:00 247498       /usr/bin/head";
	CHECK_EQ_INT(procfs_parse_maps_line(l1, &m), 0);
	CHECK_EQ_STR(m.path, "/usr/bin/head");
	/* anonymous, no path at all, and with trailing padding */
	char l2[] = "7ffd1c1b6000-7ffd1c1d8000 rwxp 00000000 00:00 0";
	CHECK_EQ_INT(procfs_parse_maps_line(l2, &m), 0);
	CHECK_EQ_INT(m.path_len, 0);
	char l2b[] = "7ffd1c1b6000-7ffd1c1d8000 r-xp 00000000 00:00 0    ";
	CHECK_EQ_INT(procfs_parse_maps_line(l2b, &m), 0);
	/* pseudo names */
	char l3[] =
	    "7ffd1c1fc000-7ffd1c1fe000 r-xp 00000000 00:00 0                          [vdso]";
	CHECK_EQ_INT(procfs_parse_maps_line(l3, &m), 0);
	CHECK_EQ_STR(m.path, "[vdso]");
	char l4[] =
	    "7ffd1c1b6000-7ffd1c1d8000 rw-p 00000000 00:00 0                          [stack]";
	CHECK_EQ_INT(procfs_parse_maps_line(l4, &m), 0);
	char l5[] = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  "
		    "[vsyscall]";
	CHECK_EQ_INT(procfs_parse_maps_line(l5, &m), 0);
	char l6[] = "7f0000000000-7f0000001000 r-xp 00000000 00:00 0      [anon:jit code]";
	CHECK_EQ_INT(procfs_parse_maps_line(l6, &m), 0);
	/* inode 0 with an absolute path is not a file we can name */
	char l7[] = "7f0000000000-7f0000001000 r-xp 00000000 00:00 0      /fake";
	CHECK_EQ_INT(procfs_parse_maps_line(l7, &m), 0);
	/* a relative name is not a resolved path */
	char l8[] = "7f0000000000-7f0000001000 r-xp 00000000 08:01 12     anon_inode:[x]";
	CHECK_EQ_INT(procfs_parse_maps_line(l8, &m), 0);
}

TEST(procfs_maps_malformed)
{
	static const char *const bad[] = {
	    "",
	    "563515a31000",
	    "563515a31000-563515a37000",
	    "563515a31000-563515a37000 r-xp",
	    "563515a31000-563515a37000 r-xp 00002000 fe:00",
	    "563515a31000-563515a37000 r-xp 00002000 fe00 247498 /usr/bin/head",
	    "563515a31000-563515a37000 rxp 00002000 fe:00 247498 /usr/bin/head",
	    "563515a31000-563515a37000 r-xq 00002000 fe:00 247498 /usr/bin/head",
	    "563515a31000-563515a37000 r-xp 00002000 fe:00 24x498 /usr/bin/head",
	    "563515a31000-563515a37000 r-xp 00002000 fe:00 -1 /usr/bin/head",
	    "563515a37000-563515a31000 r-xp 00002000 fe:00 247498 /usr/bin/head",
	    "g63515a31000-563515a37000 r-xp 00002000 fe:00 247498 /usr/bin/head",
	    "10000000000000000-563515a37000 r-xp 00002000 fe:00 247498 /usr/bin/head",
	    "563515a31000-563515a37000 r-xp 00002000 100000000:00 247498 /usr/bin/head",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[256];
		struct proc_map m;
		snprintf(line, sizeof(line), "%s", bad[i]);
		if (procfs_parse_maps_line(line, &m) != -1)
			TEST_FAIL_("accepted bad maps line #%zu \"%s\"", i, bad[i]);
	}
}

/* The live /proc/self/maps: every line parses, and the test binary itself is
 * among the executable file mappings. */
TEST(procfs_maps_live_self)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		TEST_FAIL_("cannot open /proc/self/maps: %s", strerror(errno));
	char exe[PATH_MAX];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (el < 0) {
		fclose(f);
		TEST_FAIL_("readlink /proc/self/exe: %s", strerror(errno));
	}
	exe[el] = '\0';

	char *line = NULL;
	size_t cap = 0;
	int lines = 0, modules = 0, malformed = 0;
	bool saw_self = false;
	while (getline(&line, &cap, f) > 0) {
		struct proc_map m;
		int rc = procfs_parse_maps_line(line, &m);
		lines++;
		if (rc < 0) {
			fprintf(stderr, "  malformed: %s\n", line);
			malformed++;
		} else if (rc == 1) {
			modules++;
			if (strcmp(m.path, exe) == 0)
				saw_self = true;
		}
	}
	free(line);
	fclose(f);
	CHECK_EQ_INT(malformed, 0);
	CHECK(lines > 0);
	CHECK(modules > 0);
	CHECK(saw_self);
}

static char fixture_root[PATH_MAX];

static const char *fixture(void)
{
	snprintf(fixture_root, sizeof(fixture_root), "%s/proc", test_data_dir());
	return fixture_root;
}

TEST(procfs_read_fixture_deleted_exe)
{
	struct proc_info pi;
	proc_info_init(&pi);
	if (procfs_read(fixture(), 4242, 4096, &pi) != 0) {
		int e = errno;
		proc_info_free(&pi);
		TEST_FAIL_("procfs_read %s/4242: %s (run from the project root or set "
			   "ONMITSU_TEST_DATA)",
			   fixture(), strerror(e));
	}
	struct proc_info c = pi; /* the scalars, for checks after the free */
	bool ok_exe = strcmp(sb_str(&pi.exe), "/usr/bin/fake") == 0;
	static const char want_args[] = "/usr/bin/fake\0--opt\0\0last arg\0";
	bool ok_args = pi.args.len == sizeof(want_args) - 1 &&
		       memcmp(pi.args.data, want_args, sizeof(want_args) - 1) == 0;
	proc_info_free(&pi);

	CHECK_EQ_INT(c.stat.pid, 4242);
	CHECK_EQ_INT(c.stat.ppid, 1);
	CHECK_EQ_INT(c.stat.state, 'S');
	CHECK_EQ_INT(c.stat.start_ticks, 123456);
	CHECK_EQ_INT(c.stat.is_kernel_thread, 0);
	CHECK_EQ_INT(c.uid, 1000);
	CHECK_EQ_INT(c.euid, 1001);
	CHECK(ok_exe);
	CHECK(c.exe_deleted);
	CHECK(!c.exe_memfd);
	CHECK(ok_args);
	CHECK(!c.args_truncated);
}

TEST(procfs_read_fixture_args_truncated)
{
	struct proc_info pi;
	proc_info_init(&pi);
	int rc = procfs_read(fixture(), 4242, 8, &pi);
	bool ok = rc == 0 && pi.args.len == 8 && memcmp(pi.args.data, "/usr/bin", 8) == 0;
	bool trunc = pi.args_truncated;
	proc_info_free(&pi);
	CHECK_EQ_INT(rc, 0);
	CHECK(ok);
	CHECK(trunc);

	/* exactly the size of the file: nothing was cut */
	proc_info_init(&pi);
	rc = procfs_read(fixture(), 4242, 30, &pi);
	size_t len = pi.args.len;
	trunc = pi.args_truncated;
	proc_info_free(&pi);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(len, 30);
	CHECK(!trunc);

	/* one byte short of it */
	proc_info_init(&pi);
	rc = procfs_read(fixture(), 4242, 29, &pi);
	len = pi.args.len;
	trunc = pi.args_truncated;
	proc_info_free(&pi);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(len, 29);
	CHECK(trunc);
}

TEST(procfs_read_fixture_memfd)
{
	struct proc_info pi;
	proc_info_init(&pi);
	int rc = procfs_read(fixture(), 4243, 4096, &pi);
	bool ok_exe = rc == 0 && strcmp(sb_str(&pi.exe), "/memfd:payload") == 0;
	bool ok_args =
	    rc == 0 && pi.args.len == 11 && memcmp(pi.args.data, "payload\0-q\0", 11) == 0;
	struct proc_info c = pi;
	proc_info_free(&pi);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(c.stat.pid, 4243);
	CHECK_EQ_INT(c.stat.ppid, 4242);
	CHECK_EQ_INT(c.stat.state, 'R');
	CHECK(ok_exe);
	CHECK(c.exe_memfd);
	CHECK(c.exe_deleted);
	CHECK(ok_args);
}

TEST(procfs_read_fixture_no_image)
{
	/* kthreadd and a zombie: no exe link in the fixture, success anyway */
	static const uint32_t pids[] = {2, 4244};
	for (size_t i = 0; i < 2; i++) {
		struct proc_info pi;
		proc_info_init(&pi);
		/* leftovers from an earlier use must not survive */
		sb_adds(&pi.exe, "/stale");
		sb_adds(&pi.args, "stale");
		pi.exe_deleted = pi.args_truncated = true;
		int rc = procfs_read(fixture(), pids[i], 4096, &pi);
		int e = errno;
		struct proc_info c = pi;
		proc_info_free(&pi);
		if (rc != 0)
			TEST_FAIL_("procfs_read pid %u: %s", pids[i], strerror(e));
		CHECK_EQ_INT(c.stat.pid, pids[i]);
		CHECK_EQ_INT(c.exe.len, 0);
		CHECK_EQ_INT(c.args.len, 0);
		CHECK(!c.exe_deleted);
		CHECK(!c.args_truncated);
	}
	struct proc_info pi;
	proc_info_init(&pi);
	CHECK_EQ_INT(procfs_read(fixture(), 2, 4096, &pi), 0);
	struct proc_info c = pi;
	proc_info_free(&pi);
	CHECK(c.stat.is_kernel_thread);
	CHECK_EQ_INT(c.stat.ppid, 0);
	proc_info_init(&pi);
	CHECK_EQ_INT(procfs_read(fixture(), 4244, 4096, &pi), 0);
	c = pi;
	proc_info_free(&pi);
	CHECK_EQ_INT(c.stat.state, 'Z');
	CHECK_EQ_INT(c.stat.is_kernel_thread, 0);
	CHECK_EQ_INT(c.uid, 1000);
}

TEST(procfs_read_missing_pid)
{
	struct proc_info pi;
	proc_info_init(&pi);
	errno = 0;
	int rc = procfs_read(fixture(), 9999, 4096, &pi);
	int e = errno;
	proc_info_free(&pi);
	CHECK_EQ_INT(rc, -1);
	CHECK_EQ_INT(e, ENOENT);
}

TEST(procfs_list_fixture)
{
	uint32_t *pids = NULL;
	size_t n = 0;
	if (procfs_list_pids(fixture(), &pids, &n) != 0)
		TEST_FAIL_("procfs_list_pids %s: %s", fixture(), strerror(errno));
	static const uint32_t want[] = {2, 4242, 4243, 4244};
	bool same = n == 4 && memcmp(pids, want, sizeof(want)) == 0;
	for (size_t i = 0; !same && i < n; i++)
		fprintf(stderr, "  listed %u\n", pids[i]);
	free(pids);
	CHECK(same);

	errno = 0;
	CHECK_EQ_INT(procfs_list_pids("/nonexistent-onmitsu-dir", &pids, &n), -1);
	CHECK_EQ_INT(errno, ENOENT);
}

TEST(procfs_list_live)
{
	uint32_t *pids = NULL;
	size_t n = 0;
	if (procfs_list_pids("/proc", &pids, &n) != 0)
		TEST_FAIL_("procfs_list_pids /proc: %s", strerror(errno));
	bool sorted = true, self = false;
	for (size_t i = 0; i < n; i++) {
		if (i && pids[i - 1] >= pids[i])
			sorted = false;
		if (pids[i] == (uint32_t)getpid())
			self = true;
	}
	free(pids);
	CHECK(n > 0);
	CHECK(sorted);
	CHECK(self);
}

/* Field 22 of /proc/self/stat, read without procfs.c. */
static int independent_starttime(unsigned long long *out)
{
	char buf[4096];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	if (!rp)
		return -1;
	/* after ')': field 3 (state) .. field 22 (starttime) */
	if (sscanf(rp + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   out) != 1)
		return -1;
	return 0;
}

TEST(procfs_read_live_self)
{
	pid_t me = getpid();
	struct proc_info pi;
	proc_info_init(&pi);
	if (procfs_read("/proc", (uint32_t)me, 1 << 16, &pi) != 0) {
		int e = errno;
		proc_info_free(&pi);
		TEST_FAIL_("procfs_read /proc/%d: %s", (int)me, strerror(e));
	}

	char exe[PATH_MAX];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	bool ok_exe =
	    el > 0 && (size_t)el == pi.exe.len && memcmp(exe, pi.exe.data, (size_t)el) == 0;

	char cmd[1 << 16];
	bool ok_args = false;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		size_t got = 0;
		ssize_t r;
		while ((r = read(fd, cmd + got, sizeof(cmd) - got)) > 0)
			got += (size_t)r;
		close(fd);
		ok_args = got == pi.args.len && memcmp(cmd, pi.args.data, got) == 0;
	}

	struct proc_info c = pi;
	proc_info_free(&pi);

	unsigned long long start = 0;
	CHECK_EQ_INT(independent_starttime(&start), 0);
	CHECK_EQ_INT(c.stat.pid, me);
	CHECK_EQ_INT(c.stat.ppid, getppid());
	CHECK(c.stat.start_ticks == start);
	CHECK(c.stat.start_ticks > 0);
	CHECK_EQ_INT(c.stat.state, 'R');
	CHECK_EQ_INT(c.stat.is_kernel_thread, 0);
	CHECK_EQ_INT(c.uid, getuid());
	CHECK_EQ_INT(c.euid, geteuid());
	CHECK(el > 0);
	CHECK(ok_exe);
	CHECK(!c.exe_deleted);
	CHECK(!c.exe_memfd);
	CHECK(ok_args);
	CHECK(!c.args_truncated);
}

/* pid 2 on Linux is kthreadd, unless we run in a pid namespace */
TEST(procfs_read_live_kthread)
{
	struct proc_info pi;
	proc_info_init(&pi);
	int rc = procfs_read("/proc", 2, 4096, &pi);
	int e = errno;
	struct proc_info c = pi;
	proc_info_free(&pi);
	if (rc != 0 && e == ENOENT) {
		fprintf(stderr, "  no pid 2 here (pid namespace?); nothing to check\n");
		return;
	}
	CHECK_EQ_INT(rc, 0);
	if (!c.stat.is_kernel_thread) {
		fprintf(stderr, "  pid 2 is not a kernel thread here (pid namespace?)\n");
		return;
	}
	CHECK_EQ_INT(c.exe.len, 0);
	CHECK_EQ_INT(c.args.len, 0);
}

/* A child with fds 0-2 set, waiting (bounded) until killed; its pid, once
 * its descriptors are in place. */
static pid_t child_with(int in, int out, int err)
{
	int ready[2];
	if (pipe(ready) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (int i = 0; i < 100; i++)
			usleep(100000);
		_exit(0);
	}
	char b;
	if (pid > 0 && read(ready[0], &b, 1) != 1)
		pid = -1;
	close(ready[0]);
	close(ready[1]);
	return pid;
}

static int stdio_of(pid_t pid, struct om_stdio *st)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	struct procfs_net_cache nets = {0};
	int r = procfs_read_stdio(dir, st, &nets);
	procfs_net_cache_free(&nets);
	close(dir);
	return r;
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* a process's own standard descriptors, as EXISTING reports them: a TCP
 * socket on stdin and stdout (a reverse shell), /dev/null on stderr */
TEST(procfs_stdio_tcp_socket)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	CHECK(getsockname(c, (struct sockaddr *)&me, &ml) == 0);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid = child_with(c, c, null);
	struct om_stdio st;
	CHECK_EQ_INT(stdio_of(pid, &st), 1);
	CHECK_EQ_INT(st.fd[0].type, OM_FD_SOCKET);
	CHECK_EQ_INT(st.fd[0].family, AF_INET);
	CHECK_EQ_INT(st.fd[0].protocol, IPPROTO_TCP);
	CHECK_EQ_INT(st.fd[1].type, OM_FD_SOCKET);
	CHECK_EQ_INT(st.fd[2].type, OM_FD_CHAR);
	CHECK_EQ_INT(st.inet_fd, 0);
	CHECK_EQ_INT(st.protocol, IPPROTO_TCP);
	CHECK_EQ_INT(st.rport, ntohs(a.sin_port));
	CHECK_EQ_INT(st.lport, ntohs(me.sin_port));
	static const uint8_t lo[4] = {127, 0, 0, 1};
	CHECK(memcmp(st.raddr, lo, 4) == 0 && memcmp(st.laddr, lo, 4) == 0);
	end_child(pid);
	close(c);
	close(l);
	close(null);
}

/* pipes and a Unix socket on stdout alone (a service's journal): nothing
 * worth a record; a Unix socket on stdin is, and is named unix */
TEST(procfs_stdio_pipes_and_unix)
{
	int p[2], sp[2];
	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct om_stdio st;
	pid_t pid = child_with(p[0], sp[0], null);
	CHECK_EQ_INT(stdio_of(pid, &st), 0);
	CHECK_EQ_INT(st.fd[0].type, OM_FD_PIPE);
	CHECK_EQ_INT(st.fd[1].type, OM_FD_SOCKET);
	CHECK_EQ_INT(st.inet_fd, OM_STDIO_NO_INET);
	end_child(pid);
	pid = child_with(sp[0], null, null);
	CHECK_EQ_INT(stdio_of(pid, &st), 1);
	CHECK_EQ_INT(st.fd[0].type, OM_FD_SOCKET);
	CHECK_EQ_INT(st.fd[0].family, AF_UNIX);
	CHECK_EQ_INT(st.inet_fd, OM_STDIO_NO_INET);
	end_child(pid);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	close(null);
}

TEST(procfs_unix_lines)
{
	uint64_t ino = 0;
	static const char hdr[] = "Num       RefCount Protocol Flags    Type St Inode Path";
	CHECK_EQ_INT(procfs_parse_unix_inode(hdr, sizeof(hdr) - 1, &ino), -1);
	static const char named[] = "0000000000000000: 00000003 00000000 00000000 0001 03 24561 "
				    "/run/systemd/journal/stdout";
	CHECK_EQ_INT(procfs_parse_unix_inode(named, sizeof(named) - 1, &ino), 0);
	CHECK(ino == 24561);
	static const char anon[] = "0000000000000000: 00000003 00000000 00000000 0001 03 99";
	CHECK_EQ_INT(procfs_parse_unix_inode(anon, sizeof(anon) - 1, &ino), 0);
	CHECK(ino == 99);
	static const char *const bad[] = {"", "0: 1 2 3 4 5", "0: 1 2 3 4 5 x7", "0: 1 2 3 4 5 7x",
					  "0: 1 2 3 4 5 99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(procfs_parse_unix_inode(bad[i], strlen(bad[i]), &ino), -1);
}

/* one read of the namespace's tables serves every process in it */
TEST(procfs_stdio_tables_read_once_per_namespace)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 2) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	int c1 = socket(AF_INET, SOCK_STREAM, 0), c2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c1, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(connect(c2, (struct sockaddr *)&a, sizeof(a)) == 0);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t p1 = child_with(c1, null, null), p2 = child_with(c2, null, null);
	struct procfs_net_cache nets = {0};
	struct om_stdio st;
	pid_t pids[2] = {p1, p2};
	for (int i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d", (int)pids[i]);
		int dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		CHECK(dir >= 0);
		CHECK_EQ_INT(procfs_read_stdio(dir, &st, &nets), 1);
		close(dir);
		CHECK_EQ_INT(st.inet_fd, 0);
		CHECK_EQ_INT(st.rport, ntohs(a.sin_port));
	}
	CHECK_EQ_INT(nets.loads, 1); /* not read again */
	procfs_net_cache_free(&nets);
	end_child(p1);
	end_child(p2);
	close(c1);
	close(c2);
	close(l);
	close(null);
}
