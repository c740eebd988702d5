/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workload 2: a loopback TCP connect storm. L listeners on 127.0.0.1
 * (ephemeral ports, so runs never share a 4-tuple with an earlier run's
 * TIME_WAIT), one accept thread that accepts and closes, and the main thread
 * that makes N blocking connects round-robin over the listeners, each closed
 * at once. Prints "connects=N failed=F accepted=A elapsed_ns=T pid=P" and,
 * with -o FILE, "SPORT DPORT" for every connection made, so that the log can
 * be checked for each flow (out from the connect, in from the accept).
 * Bounded: N is capped and everything gives up after 120 s.
 *
 * -p PORT: the listeners on PORT, PORT+1, ... instead (bench/run's filter
 * measurement excludes some of them by port).
 *
 * usage: connstorm [-n N] [-l LISTENERS] [-p PORT] [-o FILE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAX_CONNECTS 1000000
#define MAX_LISTENERS 16

static int listeners[MAX_LISTENERS];
static long n_listeners = 4, n_connects = 20000;
static long accepted;
static unsigned long long t0;

static void *accept_loop(void *arg)
{
	struct pollfd pfd[MAX_LISTENERS];
	for (long i = 0; i < n_listeners; i++) {
		pfd[i].fd = listeners[i];
		pfd[i].events = POLLIN;
	}
	while (__atomic_load_n(&accepted, __ATOMIC_RELAXED) <
		   __atomic_load_n(&n_connects, __ATOMIC_RELAXED) &&
	       now_ns() - t0 < DEADLINE_NS) {
		if (poll(pfd, (nfds_t)n_listeners, 1000) <= 0)
			continue;
		for (long i = 0; i < n_listeners; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (;;) {
				int c = accept4(listeners[i], NULL, NULL, SOCK_NONBLOCK);
				if (c < 0)
					break;
				close(c);
				__atomic_add_fetch(&accepted, 1, __ATOMIC_RELAXED);
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *outfile = NULL;
	long base_port = 0;
	int c;
	while ((c = getopt(argc, argv, "n:l:p:o:")) != -1) {
		switch (c) {
		case 'n':
			n_connects = parse_count("connstorm", optarg, 1, MAX_CONNECTS, "-n");
			break;
		case 'l':
			n_listeners = parse_count("connstorm", optarg, 1, MAX_LISTENERS, "-l");
			break;
		case 'p':
			base_port =
			    parse_count("connstorm", optarg, 1, 65535 - MAX_LISTENERS, "-p");
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: connstorm [-n N] [-l LISTENERS] [-p PORT] [-o FILE]\n");
			return 2;
		}
	}
	struct sockaddr_in addr[MAX_LISTENERS];
	for (long i = 0; i < n_listeners; i++) {
		struct sockaddr_in *a = &addr[i];
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (base_port)
			a->sin_port = htons((unsigned short)(base_port + i));
		socklen_t len = sizeof(*a);
		listeners[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int one = 1;
		if (listeners[i] >= 0)
			setsockopt(listeners[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (listeners[i] < 0 || bind(listeners[i], (struct sockaddr *)a, len) < 0 ||
		    listen(listeners[i], 4096) < 0 ||
		    getsockname(listeners[i], (struct sockaddr *)a, &len) < 0) {
			perror("connstorm: listener");
			return 1;
		}
	}
	unsigned short *ports = calloc((size_t)n_connects, 2 * sizeof(*ports));
	if (!ports) {
		perror("connstorm: calloc");
		return 1;
	}

	t0 = now_ns();
	pthread_t th;
	if (pthread_create(&th, NULL, accept_loop, NULL) != 0) {
		fprintf(stderr, "connstorm: cannot start the accept thread\n");
		return 1;
	}
	long failed = 0, made = 0;
	for (long i = 0; i < n_connects; i++) {
		if (now_ns() - t0 > DEADLINE_NS) {
			failed += n_connects - i;
			break;
		}
		const struct sockaddr_in *a = &addr[i % n_listeners];
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			failed++;
			continue;
		}
		if (connect(s, (const struct sockaddr *)a, sizeof(*a)) < 0) {
			failed++;
			close(s);
			continue;
		}
		struct sockaddr_in me;
		socklen_t len = sizeof(me);
		if (getsockname(s, (struct sockaddr *)&me, &len) == 0) {
			ports[2 * made] = ntohs(me.sin_port);
			ports[2 * made + 1] = ntohs(a->sin_port);
			made++;
		}
		close(s);
	}
	/* the accept thread ends when it has them all (or at the deadline) */
	if (failed)
		__atomic_sub_fetch(&n_connects, failed, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	unsigned long long elapsed = now_ns() - t0;

	if (outfile) {
		FILE *f = open_output("connstorm", outfile);
		if (!f)
			return 1;
		for (long i = 0; i < made; i++)
			fprintf(f, "%u %u\n", ports[2 * i], ports[2 * i + 1]);
		if (close_output("connstorm", outfile, f) != 0)
			return 1;
	}
	printf("connects=%ld failed=%ld accepted=%ld elapsed_ns=%llu pid=%d\n", made, failed,
	       accepted, elapsed, (int)getpid());
	return failed ? 1 : 0;
}
