/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Workload 11: a DNS query storm. A responder thread on ADDR:53 (default
 * 127.0.53.53, a loopback address no resolver uses) answers every query with
 * one A record; the main thread asks N times the way glibc's resolver does:
 * a new UDP socket, connect() to the server, send the query, wait for the
 * answer, close. Each query is for a name of its own (q<i>.bench.example),
 * so every one is a new question and a new flow. Prints
 * "queries=N failed=F answered=A elapsed_ns=T pid=P" and, with -o FILE,
 * "SPORT 53" for every query answered.
 * Bounded: N is capped, each answer is waited for at most 1 s, and
 * everything gives up after 120 s.
 *
 * usage: dnsstorm [-n N] [-a ADDR] [-o FILE]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define MAX_QUERIES 1000000

static int srv;
static volatile int stop_server;

/* Answer each query: the question copied, QR/RA set, one A record after it
 * (its owner a pointer to the question's name). */
static void *serve(void *arg)
{
	uint8_t buf[512];
	struct pollfd pfd = {.fd = srv, .events = POLLIN};
	while (!stop_server) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(srv, buf, sizeof(buf) - 16, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);
		if (n < 12)
			continue;
		static const uint8_t rr[16] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
					       0,    60,   0, 4, 192, 0, 2, 1};
		buf[2] = 0x81;
		buf[3] = 0x80;
		buf[6] = 0;
		buf[7] = 1;
		memcpy(buf + n, rr, sizeof(rr));
		sendto(srv, buf, (size_t)n + sizeof(rr), 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

/* A query for q<i>.bench.example, type A, id i. */
static size_t make_query(uint8_t *q, long i)
{
	char label[24];
	int ll = snprintf(label, sizeof(label), "q%ld", i);
	size_t n = 0;
	q[n++] = (uint8_t)(i >> 8);
	q[n++] = (uint8_t)i;
	q[n++] = 0x01; /* RD */
	q[n++] = 0;
	static const uint8_t counts[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(q + n, counts, 8);
	n += 8;
	q[n++] = (uint8_t)ll;
	memcpy(q + n, label, (size_t)ll);
	n += (size_t)ll;
	static const uint8_t rest[] = {5,   'b', 'e', 'n', 'c', 'h', 7, 'e', 'x', 'a',
				       'm', 'p', 'l', 'e', 0,	0,   1, 0,   1};
	memcpy(q + n, rest, sizeof(rest));
	return n + sizeof(rest);
}

int main(int argc, char **argv)
{
	const char *outfile = NULL, *addr = "127.0.53.53";
	long n_queries = 10000;
	int c;
	while ((c = getopt(argc, argv, "n:a:o:")) != -1) {
		switch (c) {
		case 'n':
			n_queries = parse_count("dnsstorm", optarg, 1, MAX_QUERIES, "-n");
			break;
		case 'a':
			addr = optarg;
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: dnsstorm [-n N] [-a ADDR] [-o FILE]\n");
			return 2;
		}
	}
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		fprintf(stderr, "dnsstorm: -a \"%s\": want an IPv4 address\n", addr);
		return 2;
	}
	srv = socket(AF_INET, SOCK_DGRAM, 0);
	if (srv < 0 || bind(srv, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fprintf(stderr, "dnsstorm: cannot serve on %s:53: %s\n", addr, strerror(errno));
		return 1;
	}
	unsigned short *sports = calloc((size_t)n_queries, sizeof(*sports));
	if (!sports) {
		perror("dnsstorm: calloc");
		return 1;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, serve, NULL) != 0) {
		fprintf(stderr, "dnsstorm: cannot start the responder thread\n");
		return 1;
	}
	unsigned long long t0 = now_ns();
	long failed = 0, answered = 0;
	uint8_t q[64], a[512];
	for (long i = 0; i < n_queries; i++) {
		if (now_ns() - t0 > DEADLINE_NS) {
			failed += n_queries - i;
			break;
		}
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0) {
			failed++;
			continue;
		}
		size_t qn = make_query(q, i);
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		if (connect(s, (struct sockaddr *)&to, sizeof(to)) < 0 ||
		    send(s, q, qn, 0) != (ssize_t)qn || poll(&pfd, 1, 1000) != 1 ||
		    recv(s, a, sizeof(a), 0) < 12) {
			failed++;
			close(s);
			continue;
		}
		struct sockaddr_in me;
		socklen_t mlen = sizeof(me);
		if (getsockname(s, (struct sockaddr *)&me, &mlen) == 0)
			sports[answered++] = ntohs(me.sin_port);
		close(s);
	}
	unsigned long long elapsed = now_ns() - t0;
	stop_server = 1;
	pthread_join(th, NULL);

	if (outfile) {
		FILE *f = open_output("dnsstorm", outfile);
		if (!f)
			return 1;
		for (long i = 0; i < answered; i++)
			fprintf(f, "%u 53\n", sports[i]);
		if (close_output("dnsstorm", outfile, f) != 0)
			return 1;
	}
	printf("queries=%ld failed=%ld answered=%ld elapsed_ns=%llu pid=%d\n", n_queries, failed,
	       answered, elapsed, (int)getpid());
	return failed ? 1 : 0;
}
