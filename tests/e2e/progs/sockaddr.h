/* SPDX-License-Identifier: BSD-2-Clause */
/* Socket address helpers shared by the end-to-end test programs. */
#ifndef ONMITSU_E2E_SOCKADDR_H
#define ONMITSU_E2E_SOCKADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static inline int family_of(const char *host)
{
	return strchr(host, ':') ? AF_INET6 : AF_INET;
}

/* host (IPv4 or IPv6 literal) and port into ss; exits 2 on a bad literal */
static inline socklen_t make_addr(struct sockaddr_storage *ss, const char *host, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family_of(host) == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			exit(2);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		exit(2);
	return sizeof(*a);
}

/* the socket's local port, 0 when it has none */
static inline int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

#endif
