/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Process guid derivation. The guid must be computable by anyone from facts
 * that identify one process on one boot, with no state of ours: the recorder
 * that saw the fork, the start-up snapshot of /proc and a later reader all
 * arrive at the same value. So it is a hash, not a counter or a random id:
 *
 *   h    = SHA-256("onmitsu-process-guid-v1" .      23 bytes, no NUL
 *                  boot_id .                        16 bytes
 *                  pid .                            4 bytes, big-endian
 *                  start_ticks)                     8 bytes, big-endian
 *   guid = h[0..15] with h[6] = 0x8X (version 8, RFC 9562 "custom") and
 *          h[8] = 0b10XXXXXX (the RFC variant), written lowercase 8-4-4-4-12.
 *
 * The boot id keeps guids of different boots apart; (pid, start time) is
 * unique within one boot, since a pid is not reused while its process lives
 * and a reused pid starts later. The domain string versions the derivation:
 * changing any part of it means a new string ("...-v2"), never a silent change
 * of the ids in old logs. Fixed-width big-endian fields make the input
 * unambiguous and independent of the host.
 */
#include "record/guid.h"

#include <string.h>

#include <openssl/evp.h>

#include "util/hex.h"
#include "util/log.h"

#define GUID_DOMAIN "onmitsu-process-guid-v1"

/*
 * One digest context per thread, with the algorithm fetched once: OpenSSL 3
 * looks the algorithm up again and allocates a context on every
 * EVP_Digest(), which costs more than the hash of a few dozen bytes.
 */
static int digest_sha256(const void *in, size_t n, unsigned char *md, unsigned int *mdlen)
{
	static __thread EVP_MD *alg;
	static __thread EVP_MD_CTX *ctx;
	if (!alg && !(alg = EVP_MD_fetch(NULL, "SHA256", NULL)))
		return 0;
	if (!ctx && !(ctx = EVP_MD_CTX_new()))
		return 0;
	return EVP_DigestInit_ex2(ctx, alg, NULL) && EVP_DigestUpdate(ctx, in, n) &&
	       EVP_DigestFinal_ex(ctx, md, mdlen);
}

void guid_format(char out[GUID_STR_LEN], const uint8_t boot_id[16], uint32_t pid,
		 uint64_t start_ticks)
{
	uint8_t in[sizeof(GUID_DOMAIN) - 1 + 16 + 4 + 8];
	size_t n = 0;
	memcpy(in, GUID_DOMAIN, sizeof(GUID_DOMAIN) - 1);
	n += sizeof(GUID_DOMAIN) - 1;
	memcpy(in + n, boot_id, 16);
	n += 16;
	for (int i = 3; i >= 0; i--)
		in[n++] = (uint8_t)(pid >> (8 * i));
	for (int i = 7; i >= 0; i--)
		in[n++] = (uint8_t)(start_ticks >> (8 * i));

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	/* Only a broken or out-of-memory libcrypto fails here; a process without
	 * its true guid would break every link in the log, so stop instead. */
	if (!digest_sha256(in, n, md, &mdlen) || mdlen != 32)
		fatalx("process guid: SHA-256 from libcrypto failed");

	md[6] = (uint8_t)((md[6] & 0x0f) | 0x80);
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);

	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[md[i] >> 4];
		out[o++] = digits[md[i] & 0xf];
	}
	out[o] = '\0';
}

int uuid_parse(const char *s, uint8_t out[16])
{
	uint8_t tmp[16];
	size_t pos = 0;
	/* Exactly the 8-4-4-4-12 form: no braces, no "urn:uuid:", no spaces,
	 * nothing after it, so that one id has one spelling apart from case. */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (s[pos] != '-')
				return -1;
			pos++;
		}
		int hi = hex_digit(s[pos]);
		if (hi < 0)
			return -1;
		int lo = hex_digit(s[pos + 1]);
		if (lo < 0)
			return -1;
		tmp[i] = (uint8_t)(hi << 4 | lo);
		pos += 2;
	}
	if (s[pos] != '\0')
		return -1;
	memcpy(out, tmp, 16);
	return 0;
}
