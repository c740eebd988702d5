/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The "malware" of the investigation end-to-end test (tests/e2e/test_investigation.py),
 * acting out the paper's Zeus sample:
 *
 *   stage 0  DROPPER TEMPDIR H1 P1 H2 P2
 *            copies its own executable to TEMPDIR/svch0st, runs the copy as
 *            stage 1 and waits for it.
 *   stage 1  TEMPDIR/svch0st -s H1 P1 H2 P2
 *            starts another copy (stage 2) and exits at once, orphaning it.
 *   stage 2  TEMPDIR/svch0st -c H1 P1 H2 P2
 *            waits until it is reparented, deletes its own file, then connects
 *            to the "C&C" hosts: TCP H1:P1 (closed with a reset, so that the
 *            source port can be reused at once), TCP H2:P2 and one UDP
 *            datagram to H2:P2.
 *
 * Every stage prints what the test must know ("stage=N pid=P ppid=Q",
 * "forked child=C", "reparented ppid=Q", "deleted path=F" and
 * "flow proto=.. dst=.. dport=.. sport=.. errno=..") on the stdout it inherits,
 * then waits for one byte on stdin before going on, so that the test can read
 * the process's start time from /proc while it is alive. Every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sockaddr.h"

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* announce this stage, then wait (at most 10 s) for the test's go-ahead */
static void announce(int stage)
{
	printf("stage=%d pid=%d ppid=%d\n", stage, getpid(), getppid());
	fflush(stdout);
	struct pollfd p = {0, POLLIN, 0};
	if (poll(&p, 1, 10000) == 1) {
		char c;
		if (read(0, &c, 1) != 1)
			exit(3);
	} else {
		exit(3);
	}
}

static int copy_self(const char *dst)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) != 0)
		rc = -1;
	return rc;
}

/* one flow; returns the socket (still open) */
static int flow(int type, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, host, port);
	int fd = socket(ss.ss_family, type, 0);
	if (fd < 0)
		exit(1);
	int err = 0;
	if (type == SOCK_STREAM) {
		struct timeval tv = {5, 0};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&ss, len) != 0)
			err = errno;
	} else if (sendto(fd, "beacon", 6, 0, (struct sockaddr *)&ss, len) < 0) {
		err = errno;
	}
	printf("flow proto=%s dst=%s dport=%d sport=%d errno=%d\n",
	       type == SOCK_STREAM ? "tcp" : "udp", host, port, local_port(fd), err);
	fflush(stdout);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	if (strcmp(argv[1], "-s") && strcmp(argv[1], "-c")) {
		/* stage 0: the dropper, run from where the victim found it */
		announce(0);
		char dst[4096];
		if (snprintf(dst, sizeof(dst), "%s/svch0st", argv[1]) >= (int)sizeof(dst) ||
		    copy_self(dst) != 0)
			return 1;
		pid_t c = fork();
		if (c < 0)
			return 1;
		if (c == 0) {
			execl(dst, dst, "-s", argv[2], argv[3], argv[4], argv[5], (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(c, &st, 0);
		return 0;
	}
	if (!strcmp(argv[1], "-s")) {
		/* stage 1: start another copy, and leave it an orphan */
		announce(1);
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return 1;
		self[n] = '\0';
		/* the orphan waits until this process is gone: tell it which one it is */
		char me[32];
		snprintf(me, sizeof(me), "%d", getpid());
		setenv("SVCH0ST_PARENT", me, 1);
		pid_t c = fork();
		if (c < 0)
			return 1;
		if (c == 0) {
			execl(self, self, "-c", argv[2], argv[3], argv[4], argv[5], (char *)NULL);
			_exit(127);
		}
		printf("forked child=%d\n", c);
		fflush(stdout);
		return 0;
	}
	/* stage 2: the orphan that talks to the C&C hosts */
	const char *pe = getenv("SVCH0ST_PARENT");
	pid_t parent = pe ? atoi(pe) : getppid();
	announce(2);
	for (int i = 0; i < 500 && getppid() == parent; i++)
		sleep_ms(10);
	printf("reparented ppid=%d\n", getppid());
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	if (unlink(self) != 0)
		return 1;
	printf("deleted path=%s\n", self);
	fflush(stdout);
	sleep_ms(200); /* let the ordinary traffic of the other processes interleave */
	int a = flow(SOCK_STREAM, argv[2], atoi(argv[3]));
	struct linger lg = {1, 0}; /* close with a reset: no TIME_WAIT, the port is free */
	setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a);
	sleep_ms(100);
	int b = flow(SOCK_STREAM, argv[4], atoi(argv[5]));
	sleep_ms(100);
	int u = flow(SOCK_DGRAM, argv[4], atoi(argv[5]));
	sleep_ms(100);
	close(b);
	close(u);
	return 0;
}
