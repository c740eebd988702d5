/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forward-secure seals (docs/INTEGRITY.md). The sealing key of epoch N seals
 * the chain head with HMAC-SHA-256; then the key evolves one way,
 *     key[N+1] = SHA-256("onmitsu-seal-evolve-v1" || key[N]),
 * and key[N] is erased. Whoever takes the host at epoch N holds key[N] and
 * later keys only, so seals of earlier epochs cannot be forged. The
 * verification key is key[0]: it derives every epoch's key, and is kept off
 * the host (`onmitsu keygen` prints it).
 *
 * A SEAL record's detail is
 *     reason=R epoch=N head=HEX hmac=HEX
 * with hmac = HMAC-SHA-256(key[N], "onmitsu-seal-v1 epoch=N seq=S head=HEX"),
 * S being the SEAL's own seq and head the chain value of the record before it.
 */
#ifndef ONMITSU_SEAL_H
#define ONMITSU_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32
#define SEAL_HMAC_HEX_LEN 64
#define SEAL_DEFAULT_KEY_FILE "/etc/onmitsu/seal.key"
#define SEAL_VERIFY_PREFIX "onmitsu-verify-v1:"

struct seal_key {
	uint64_t epoch;
	uint8_t key[SEAL_KEY_LEN];
};

/* Read a sealing key file; on failure err says why (naming the file). It
 * must be a regular file of the euid's that group and others cannot write,
 * reached by a path no other user controls (util/safefile.h). */
int seal_key_load(const char *path, struct seal_key *k, char *err, size_t errsize);
/* Replace the key file: write a new temporary file PATH.new (a stale one,
 * whatever it is, is removed, never opened), fsync, rename, fsync the
 * directory, so a crash leaves the old key or the new one, never half.
 * -1 with errno, and err (may be NULL) saying why, naming the file. */
int seal_key_store(const char *path, const struct seal_key *k, char *err, size_t errsize);
/* key = next epoch's key; the old one is erased. */
void seal_key_evolve(struct seal_key *k);
/* A fresh epoch-0 key from getrandom(2). */
int seal_key_generate(struct seal_key *k);
void seal_key_wipe(struct seal_key *k);

/* hmac_hex gets 64 hex digits + NUL. */
void seal_hmac(const uint8_t key[SEAL_KEY_LEN], uint64_t epoch, uint64_t seq, const char *head,
	       char hmac_hex[SEAL_HMAC_HEX_LEN + 1]);

/* "onmitsu-verify-v1:HEX" for key[0]. out >= 100 bytes. */
void seal_verify_key_format(const uint8_t key0[SEAL_KEY_LEN], char *out, size_t size);
/* Find that form in text (a file's contents; surrounding text is allowed). */
int seal_verify_key_parse(const char *text, uint8_t key0[SEAL_KEY_LEN]);

/* The value of key in "k=v k=v" (detail), copied into out; false if absent. */
bool detail_get(const char *detail, const char *key, char *out, size_t size);
/* A range "A..B" (decimal, A <= B) under key in detail; false if absent or not one. */
bool detail_get_range(const char *detail, const char *key, uint64_t *first, uint64_t *last);

#endif
