/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small program for the end-to-end tests: makes one network action whose
 * outcome the test knows, and prints what the recorder must have seen as one
 * line: "pid=P tid=T sport=S errno=E". Modes:
 *   tcp HOST PORT [syncnt]      blocking connect (syncnt: SYN retries)
 *   tcp-nb HOST PORT            non-blocking connect, wait for the outcome
 *   tcp-from SADDR SPORT HOST PORT  bind SADDR:SPORT (SO_REUSEADDR), connect
 *   tcp-thread HOST PORT        connect from a second thread
 *   udp HOST PORT               unbound socket, one sendto
 *   udp-connected HOST PORT     connect, send
 *   udp-reply PORT              bind PORT (any), wait for one datagram, reply
 *   tcp-accept PORT             listen on PORT (any), accept one, close
 *   fork-connect HOST PORT      fork without exec; the child connects
 *   orphan-connect HOST PORT    child forks a grandchild and exits; the
 *                               grandchild (reparented) connects
 *   selfdelete HOST PORT        unlink own executable, then connect
 *   sleep MS                    just sleep (a process that stays alive)
 *   tcp-linger HOST PORT MS     connect, keep the socket MS ms, exit (a payload
 *                               that lives a few ms: tests/e2e/test_evidence.py)
 * Bounded: every wait has a timeout of a few seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sockaddr.h"

static void report(int sport, int err)
{
	printf("pid=%d tid=%ld sport=%d errno=%d\n", getpid(), (long)syscall(SYS_gettid), sport,
	       err);
	fflush(stdout);
}

static const char *g_host;
static int g_port;

static void tcp_connect(const char *host, int port, int syncnt)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, host, port);
	int fd = socket(family_of(host), SOCK_STREAM, 0);
	if (syncnt > 0)
		setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt));
	int err = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
	/* the port is gone after a failed connect: ask the kernel before */
	report(local_port(fd), err);
	close(fd);
}

static void *thread_main(void *arg)
{
	(void)arg;
	tcp_connect(g_host, g_port, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	if (!strcmp(mode, "tcp") && argc >= 4) {
		tcp_connect(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
	} else if (!strcmp(mode, "tcp-from") && argc == 6) {
		/* a given source address too: a wildcard bind would conflict with
		 * every socket of this host on that port, whatever its address */
		struct sockaddr_storage ss, local;
		socklen_t len = make_addr(&ss, argv[4], atoi(argv[5]));
		make_addr(&local, argv[2], atoi(argv[3]));
		int fd = socket(ss.ss_family, SOCK_STREAM, 0);
		int one = 1, err = 0;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&local, len) != 0 ||
		    connect(fd, (struct sockaddr *)&ss, len) != 0)
			err = errno;
		report(local_port(fd), err);
		close(fd);
	} else if (!strcmp(mode, "tcp-nb") && argc == 4) {
		struct sockaddr_storage ss;
		socklen_t len = make_addr(&ss, argv[2], atoi(argv[3]));
		int fd = socket(family_of(argv[2]), SOCK_STREAM | SOCK_NONBLOCK, 0);
		int err = 0;
		if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
			err = errno;
			if (err == EINPROGRESS) {
				struct pollfd p = {fd, POLLOUT, 0};
				poll(&p, 1, 5000);
				socklen_t el = sizeof(err);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			}
		}
		report(local_port(fd), err);
		close(fd);
	} else if ((!strcmp(mode, "tcp-reset") || !strcmp(mode, "tcp-abandon")) && argc == 4) {
		/* start a connect that cannot complete (blackholed), then give it
		 * up: disconnect it (AF_UNSPEC: the kernel resets it) or close it */
		struct sockaddr_storage ss;
		socklen_t len = make_addr(&ss, argv[2], atoi(argv[3]));
		int fd = socket(family_of(argv[2]), SOCK_STREAM | SOCK_NONBLOCK, 0);
		int err = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
		int sport = local_port(fd);
		usleep(200000);
		if (!strcmp(mode, "tcp-reset")) {
			struct sockaddr unspec = {.sa_family = AF_UNSPEC};
			connect(fd, &unspec, sizeof(unspec));
		}
		close(fd);
		report(sport, err);
	} else if (!strcmp(mode, "tcp-thread") && argc == 4) {
		g_host = argv[2];
		g_port = atoi(argv[3]);
		pthread_t t;
		pthread_create(&t, NULL, thread_main, NULL);
		pthread_join(t, NULL);
	} else if ((!strcmp(mode, "udp") || !strcmp(mode, "udp-connected")) && argc == 4) {
		struct sockaddr_storage ss;
		socklen_t len = make_addr(&ss, argv[2], atoi(argv[3]));
		int fd = socket(family_of(argv[2]), SOCK_DGRAM, 0);
		int err = 0;
		if (!strcmp(mode, "udp")) {
			if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&ss, len) < 0)
				err = errno;
		} else {
			if (connect(fd, (struct sockaddr *)&ss, len) != 0 ||
			    send(fd, "probe", 5, 0) < 0)
				err = errno;
		}
		/* wait for a reply, if any comes (bounded) */
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 1000) == 1) {
			char buf[64];
			recv(fd, buf, sizeof(buf), 0);
		}
		report(local_port(fd), err);
		close(fd);
	} else if (!strcmp(mode, "udp-reply") && argc == 3) {
		int fd = socket(AF_INET6, SOCK_DGRAM, 0);
		int zero = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		struct sockaddr_in6 a = {.sin6_family = AF_INET6,
					 .sin6_port = htons((uint16_t)atoi(argv[2]))};
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
			return 1;
		report(local_port(fd), 0);
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 10000) == 1) {
			char buf[64];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n > 0)
				sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
		close(fd);
	} else if (!strcmp(mode, "tcp-accept") && argc == 3) {
		int fd = socket(AF_INET6, SOCK_STREAM, 0);
		int zero = 0, one = 1;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in6 a = {.sin6_family = AF_INET6,
					 .sin6_port = htons((uint16_t)atoi(argv[2]))};
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0)
			return 1;
		report(local_port(fd), 0);
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 10000) == 1) {
			int c = accept(fd, NULL, NULL);
			if (c >= 0)
				close(c);
		}
		close(fd);
	} else if (!strcmp(mode, "fork-connect") && argc == 4) {
		pid_t c = fork();
		if (c == 0) {
			tcp_connect(argv[2], atoi(argv[3]), 0);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	} else if (!strcmp(mode, "orphan-connect") && argc == 4) {
		pid_t c = fork();
		if (c == 0) {
			pid_t parent = getpid();
			pid_t g = fork();
			if (g == 0) {
				/* wait until the parent is gone and we are reparented */
				for (int i = 0; i < 500 && getppid() == parent; i++)
					usleep(10000);
				tcp_connect(argv[2], atoi(argv[3]), 0);
				_exit(0);
			}
			printf("grandchild=%d\n", g);
			fflush(stdout);
			_exit(0);
		}
		waitpid(c, NULL, 0);
		/* the grandchild reports on the inherited stdout; wait for it */
		usleep(1500000);
	} else if (!strcmp(mode, "selfdelete") && argc == 4) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return 1;
		self[n] = '\0';
		if (unlink(self) != 0)
			return 1;
		tcp_connect(argv[2], atoi(argv[3]), 0);
	} else if (!strcmp(mode, "rename") && argc == 4) {
		/* hide: rename the thread and overwrite argv in memory, then act */
		char host[64];
		snprintf(host, sizeof(host), "%s", argv[2]);
		int port = atoi(argv[3]);
		prctl(PR_SET_NAME, "kworker/0:1", 0, 0, 0);
		for (int i = 0; i < argc; i++)
			memset(argv[i], 'X', strlen(argv[i]));
		tcp_connect(host, port, 0);
	} else if (!strcmp(mode, "compat-mmap") && argc == 3) {
		/* mmap2 through the i386 system call gate, as 32-bit code would */
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return 1;
		long ret;
		register long ebp __asm__("rbp");
		(void)ebp;
		__asm__ volatile("push %%rbp\n\t"
				 "xor %%ebp, %%ebp\n\t"
				 "int $0x80\n\t"
				 "pop %%rbp"
				 : "=a"(ret)
				 : "a"(192), "b"(0), "c"(4096), "d"(PROT_READ | PROT_EXEC),
				   "S"(MAP_PRIVATE), "D"(fd)
				 : "memory", "r8", "r9", "r10", "r11");
		report(0, ret < 0 && ret > -4096 ? (int)-ret : 0);
	} else if (!strcmp(mode, "compat-gate") && argc == 2) {
		/* getpid through the i386 gate: a kernel without IA32 emulation (or
		 * with it turned off) kills us with SIGSEGV, which the test reads */
		long ret;
		__asm__ volatile("int $0x80"
				 : "=a"(ret)
				 : "a"(20)
				 : "memory", "r8", "r9", "r10", "r11");
		return ret == getpid() ? 0 : 1;
	} else if (!strcmp(mode, "tcp-linger") && argc == 5) {
		struct sockaddr_storage ss;
		socklen_t len = make_addr(&ss, argv[2], atoi(argv[3]));
		int fd = socket(family_of(argv[2]), SOCK_STREAM, 0);
		int err = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
		report(local_port(fd), err);
		struct timespec ts = {atoi(argv[4]) / 1000, (atoi(argv[4]) % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		close(fd);
	} else if (!strcmp(mode, "sleep") && argc == 3) {
		report(0, 0);
		struct timespec ts = {atoi(argv[2]) / 1000, (atoi(argv[2]) % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	} else {
		fprintf(stderr, "netprobe: bad arguments\n");
		return 2;
	}
	return 0;
}
