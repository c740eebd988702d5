/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workload 3: a UDP first-datagram storm. A receiver thread on 127.0.0.1
 * (ephemeral port) drains datagrams; the main thread makes N sockets, each
 * sends one datagram to the receiver and is closed, so that every datagram
 * is the first of a new flow both ways (sent by a new socket, received from
 * a new source). Prints "datagrams=N failed=F received=R elapsed_ns=T pid=P"
 * and, with -o FILE, "SPORT DPORT" for every datagram sent.
 * Loopback drops nothing unless the receive buffer overflows; the buffer is
 * made large and the received count is printed so a drop is seen.
 * Bounded: N is capped and everything gives up after 120 s.
 *
 * usage: udpstorm [-n N] [-o FILE]
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

#define MAX_DATAGRAMS 1000000

static int rx;
static long n_datagrams = 10000, received;
static int sending_done;
static unsigned long long t0;

static void *receive_loop(void *arg)
{
	char buf[64];
	struct pollfd pfd = {.fd = rx, .events = POLLIN};
	int idle = 0;
	while (received < n_datagrams && now_ns() - t0 < DEADLINE_NS) {
		int r = poll(&pfd, 1, 100);
		if (r <= 0) {
			/* after the sender is done, 1 s of silence ends it */
			if (__atomic_load_n(&sending_done, __ATOMIC_ACQUIRE) && ++idle >= 10)
				break;
			continue;
		}
		idle = 0;
		while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			received++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *outfile = NULL;
	int c;
	while ((c = getopt(argc, argv, "n:o:")) != -1) {
		switch (c) {
		case 'n':
			n_datagrams = parse_count("udpstorm", optarg, 1, MAX_DATAGRAMS, "-n");
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: udpstorm [-n N] [-o FILE]\n");
			return 2;
		}
	}
	struct sockaddr_in to = {.sin_family = AF_INET};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(to);
	int rcvbuf = 16 << 20;
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || bind(rx, (struct sockaddr *)&to, len) < 0 ||
	    getsockname(rx, (struct sockaddr *)&to, &len) < 0) {
		perror("udpstorm: receiver");
		return 1;
	}
	/* SO_RCVBUFFORCE needs CAP_NET_ADMIN; the plain one is capped by rmem_max */
	if (setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	unsigned short *sports = calloc((size_t)n_datagrams, sizeof(*sports));
	if (!sports) {
		perror("udpstorm: calloc");
		return 1;
	}

	t0 = now_ns();
	pthread_t th;
	if (pthread_create(&th, NULL, receive_loop, NULL) != 0) {
		fprintf(stderr, "udpstorm: cannot start the receiver thread\n");
		return 1;
	}
	long failed = 0, sent = 0;
	static const char msg[16] = "onmitsu-bench";
	for (long i = 0; i < n_datagrams; i++) {
		if (now_ns() - t0 > DEADLINE_NS) {
			failed += n_datagrams - i;
			break;
		}
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0) {
			failed++;
			continue;
		}
		if (sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) !=
		    (ssize_t)sizeof(msg)) {
			failed++;
			close(s);
			continue;
		}
		struct sockaddr_in me;
		socklen_t mlen = sizeof(me);
		if (getsockname(s, (struct sockaddr *)&me, &mlen) == 0)
			sports[sent++] = ntohs(me.sin_port);
		close(s);
	}
	__atomic_store_n(&sending_done, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	unsigned long long elapsed = now_ns() - t0;

	if (outfile) {
		FILE *f = open_output("udpstorm", outfile);
		if (!f)
			return 1;
		for (long i = 0; i < sent; i++)
			fprintf(f, "%u %u\n", sports[i], ntohs(to.sin_port));
		if (close_output("udpstorm", outfile, f) != 0)
			return 1;
	}
	printf("datagrams=%ld failed=%ld received=%ld elapsed_ns=%llu pid=%d\n", sent, failed,
	       received, elapsed, (int)getpid());
	return failed ? 1 : 0;
}
