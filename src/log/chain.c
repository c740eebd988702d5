/* SPDX-License-Identifier: BSD-2-Clause */
/* the low-level SHA-256 calls, deprecated in OpenSSL 3.0 (see hash_into) */
#define OPENSSL_API_COMPAT 0x10100000L

#include "log/chain.h"

#include <string.h>

#include <openssl/sha.h>

#include "log/jsonl.h"
#include "util/hex.h"
#include "util/log.h"

const char CHAIN_SEED[CHAIN_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/*
 * OpenSSL's low-level SHA-256, not EVP: this runs for every record, and EVP's
 * provider dispatch costs twice the hash itself on a ~200-byte line (about
 * 400 against 190 ns here). Deprecated since OpenSSL 3.0 but kept, and
 * OPENSSL_API_COMPAT (above the includes) asks for it on purpose.
 */
static void hash_into(const char *prev, const void *body, size_t len, char out[CHAIN_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;
	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, prev, CHAIN_HEX_LEN) != 1 ||
	    SHA256_Update(&c, body, len) != 1 || SHA256_Final(md, &c) != 1)
		fatalx("SHA-256 failed in OpenSSL");
	hex_encode(out, md, sizeof(md));
}

void chain_init(struct chain *c)
{
	memcpy(c->head, CHAIN_SEED, sizeof(c->head));
}

void chain_free(struct chain *c)
{
	(void)c;
}

bool chain_hex_valid(const char *s, size_t len)
{
	return len == CHAIN_HEX_LEN && hex_is_lower(s, len);
}

bool chain_field_valid(const char *s, size_t len)
{
	return len == 0 || ((len == CHAIN_HEX_LEN || len == CHAIN_TAG_LEN) && hex_is_lower(s, len));
}

bool chain_field_matches(const char *full, const char *field, size_t len)
{
	return chain_field_valid(field, len) && memcmp(full, field, len) == 0;
}

int chain_set_head(struct chain *c, const char *hex, size_t len)
{
	if (!chain_hex_valid(hex, len))
		return -1;
	memcpy(c->head, hex, CHAIN_HEX_LEN);
	c->head[CHAIN_HEX_LEN] = '\0';
	return 0;
}

void chain_next(struct chain *c, const void *body, size_t len)
{
	char prev[CHAIN_HEX_LEN + 1];
	memcpy(prev, c->head, sizeof(prev));
	hash_into(prev, body, len, c->head);
}

void chain_compute(const char *prev_hex, const void *body, size_t len, char out[CHAIN_HEX_LEN + 1])
{
	char prev[CHAIN_HEX_LEN + 1];
	memcpy(prev, prev_hex, CHAIN_HEX_LEN); /* out may be prev_hex */
	hash_into(prev, body, len, out);
}

bool chain_split_line(const char *line, size_t len, bool jsonl, size_t *body_len,
		      const char **field, size_t *field_len)
{
	if (jsonl && len >= 2 && memcmp(line + len - 2, "}}", 2) == 0) {
		/* ECS (log/jsonl.h): ...,"chain":"HEX"}} or {"chain":"HEX"}} at
		 * the end of the object "onmitsu"; a flat line never ends in "}}" */
		static const char mark[] = JSONL_CHAIN_MEMBER;
		size_t m = sizeof(mark) - 1;
		*body_len = len - 2; /* no chain member: the line without its "}}" */
		*field = line + len - 2;
		*field_len = 0;
		if (len < m + 4 || line[len - 3] != '"')
			return true;
		/* the value holds no quote: find the one that opens it (every
		 * quote inside a string is escaped, so the member cannot be forged
		 * by a value) */
		const char *q = memrchr(line, '"', len - 3);
		if (!q || (size_t)(q - line) < m)
			return true;
		size_t at = (size_t)(q - line) + 1 - m;
		if (memcmp(line + at, mark, m) != 0)
			return true;
		if (line[at - 1] == ',')
			*body_len = at - 1;
		else if (line[at - 1] == '{')
			*body_len = at;
		else
			return false;
		*field = q + 1;
		*field_len = (size_t)(line + len - 3 - *field);
	} else if (jsonl) {
		/* flat, before 0.3: ...,"onmitsu.chain":"HEX"} */
		static const char mark[] = JSONL_FLAT_CHAIN_MARK;
		size_t m = sizeof(mark) - 1;
		if (len < 2 || line[len - 1] != '}')
			return false;
		*body_len = len - 1; /* no chain member: the line without its "}" */
		*field = line + len - 1;
		*field_len = 0;
		if (len < m + 2 || line[len - 2] != '"')
			return true;
		/* the value holds no quote: find the one that opens it */
		const char *q = memrchr(line, '"', len - 2);
		if (!q || (size_t)(q - line) + 1 < m)
			return true;
		size_t at = (size_t)(q - line) + 1 - m;
		if (memcmp(line + at, mark, m) != 0)
			return true;
		*body_len = at;
		*field = q + 1;
		*field_len = (size_t)(line + len - 2 - *field);
	} else {
		const char *comma = memrchr(line, ',', len);
		if (!comma)
			return false;
		*body_len = (size_t)(comma - line);
		*field = comma + 1;
		*field_len = len - *body_len - 1;
	}
	return chain_field_valid(*field, *field_len);
}
