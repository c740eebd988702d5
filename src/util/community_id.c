/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Community ID v1, after the public spec (corelight/community-id-spec) and its
 * reference implementation's behaviour:
 *
 *   sha1(seed16 . saddr . daddr . proto8 . 0x00 [. sport16 . dport16])
 *
 * all in network byte order, rendered "1:" + base64 (or lowercase hex). The
 * endpoints are ordered so that the smaller (address, port) comes first:
 * addresses compared as bytes, ports numerically when the addresses are equal.
 *
 * ICMP and ICMPv6 follow Zeek's mapping, which the spec adopts: for a type that
 * has a counterpart (echo request/reply, router solicitation/advertisement,
 * ...) the "ports" are (type, counterpart type), so that a request and its
 * reply give the same id; any other type is one-way, its "ports" are
 * (type, code), and the tuple is never flipped, because there is no reverse
 * direction to pair it with.
 */
/* the low-level SHA-1 calls, deprecated in OpenSSL 3.0 (see digest_sha1) */
#define OPENSSL_API_COMPAT 0x10100000L

#include "util/community_id.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "util/hex.h"
#include "util/log.h"

/* One entry per two-way type: the type and the type that answers it. */
struct icmp_pair {
	uint8_t type, counterpart;
};

static const struct icmp_pair icmp4_pairs[] = {
    {8, 0},   /* echo -> echo reply */
    {0, 8},   /* echo reply -> echo */
    {13, 14}, /* timestamp */
    {14, 13}, /* timestamp reply */
    {15, 16}, /* information request */
    {16, 15}, /* information reply */
    {10, 9},  /* router solicitation */
    {9, 10},  /* router advertisement */
    {17, 18}, /* address mask request */
    {18, 17}, /* address mask reply */
};

static const struct icmp_pair icmp6_pairs[] = {
    {128, 129}, /* echo request */
    {129, 128}, /* echo reply */
    {130, 131}, /* MLD listener query */
    {131, 130}, /* MLD listener report */
    {133, 134}, /* router solicitation */
    {134, 133}, /* router advertisement */
    {135, 136}, /* neighbour solicitation */
    {136, 135}, /* neighbour advertisement */
    {139, 140}, /* node information ("who are you") query */
    {140, 139}, /* node information reply */
    {144, 145}, /* home agent address discovery request */
    {145, 144}, /* home agent address discovery reply */
};

/*
 * Maps (type, code) in *sport and *dport to port equivalents. Returns true when
 * the message is one-way. A type above 255 cannot be an ICMP type; it is left
 * as given and treated as one-way like any unknown type.
 */
static bool icmp_map(const struct icmp_pair *pairs, size_t n, uint16_t *sport, uint16_t *dport)
{
	for (size_t i = 0; i < n; i++) {
		if (pairs[i].type == *sport) {
			*dport = pairs[i].counterpart;
			return false;
		}
	}
	return true;
}

/*
 * OpenSSL's low-level SHA-1 on a context on the stack, not EVP: this runs for
 * every NET record, and EVP's provider dispatch, context reset and cleanse
 * cost more than the hash of a few dozen bytes (as for the chain's SHA-256,
 * log/chain.c). Deprecated since OpenSSL 3.0 but kept, and OPENSSL_API_COMPAT
 * (above the includes) asks for it on purpose.
 */
static int digest_sha1(const void *in, size_t n, unsigned char *md, unsigned int *mdlen)
{
	SHA_CTX c;
	if (SHA1_Init(&c) != 1 || SHA1_Update(&c, in, n) != 1 || SHA1_Final(md, &c) != 1)
		return 0;
	*mdlen = SHA_DIGEST_LENGTH;
	return 1;
}

int community_id_v1(char out[COMMUNITY_ID_LEN], uint16_t seed, uint8_t proto, int family,
		    const uint8_t *saddr, const uint8_t *daddr, uint16_t sport, uint16_t dport,
		    bool has_ports, bool base64)
{
	size_t alen;
	switch (family) {
	case AF_INET:
		alen = 4;
		break;
	case AF_INET6:
		alen = 16;
		break;
	default:
		return -1;
	}

	bool one_way = false;
	if (has_ports && proto == IPPROTO_ICMP)
		one_way = icmp_map(icmp4_pairs, sizeof(icmp4_pairs) / sizeof(icmp4_pairs[0]),
				   &sport, &dport);
	else if (has_ports && proto == IPPROTO_ICMPV6)
		one_way = icmp_map(icmp6_pairs, sizeof(icmp6_pairs) / sizeof(icmp6_pairs[0]),
				   &sport, &dport);

	if (!one_way) {
		int c = memcmp(saddr, daddr, alen);
		/* Only flip when the tuple is strictly greater, as the reference
		 * does: an equal tuple is symmetric either way. */
		if (c > 0 || (c == 0 && has_ports && sport > dport)) {
			const uint8_t *ta = saddr;
			saddr = daddr;
			daddr = ta;
			uint16_t tp = sport;
			sport = dport;
			dport = tp;
		}
	}

	/* 2 + 16 + 16 + 2 + 4: the largest input, always a multiple of 4 bytes */
	uint8_t buf[40];
	size_t n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, saddr, alen);
	n += alen;
	memcpy(buf + n, daddr, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (has_ports) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	/* SHA-1 cannot fail on a 40-byte buffer unless libcrypto is broken or
	 * out of memory; an id we cannot compute must not be written as a
	 * wrong one, and the header leaves no error for it, so stop. */
	if (!digest_sha1(buf, n, md, &mdlen) || mdlen != 20)
		fatalx("community id: SHA-1 from libcrypto failed");

	out[0] = '1';
	out[1] = ':';
	if (base64) {
		/* 20 bytes -> 28 characters + NUL, well inside COMMUNITY_ID_LEN */
		EVP_EncodeBlock((unsigned char *)out + 2, md, (int)mdlen);
	} else {
		/* 40 hex digits + NUL: 2 + 41 <= COMMUNITY_ID_LEN */
		hex_encode(out + 2, md, mdlen);
	}
	return 0;
}
