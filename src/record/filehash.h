/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a file's hash rests on (docs/DESIGN.md, "What a process was"): the
 * identity the kernel took when the file was executed or mapped, checked
 * against the file user space opens, and a bounded cache of hashes by
 * identity, so that a storm of one binary hashes it once. No threads and no
 * /proc here (record/hasher.h does that), so that it is unit-tested alone.
 */
#ifndef ONMITSU_FILEHASH_H
#define ONMITSU_FILEHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "onmitsu/event.h"

#define HASH_DEFAULT_MAX (64ull << 20) /* record --hash-max: bytes of the largest file hashed */
#define HASH_CACHE_ENTRIES 4096	       /* identities whose hash is kept (least recently used go) */
#define HASH_CACHE_WAYS 4	       /* set-associative: each identity has this many places */
#define OVERLAYFS_MAGIC 0x794c7630u    /* include/uapi/linux/magic.h */

/* Why a file has no hash: detail hash_error= (docs/FORMAT.md). */
enum hash_err {
	HASH_OK = 0,
	HASH_E_TOO_BIG,	   /* larger than --hash-max */
	HASH_E_EXITED,	   /* the process was gone and no path held the same file */
	HASH_E_CHANGED,	   /* the file found was not (or no longer) the one run or mapped */
	HASH_E_UNREADABLE, /* it could not be opened or read (errno other than gone) */
	HASH_E_BUSY,	   /* too many files waited for their hash at once */
	HASH_E_STOPPED,	   /* the recorder stopped before the hash was done */
	HASH_E_NOT_FILE,   /* not a regular file */
	HASH_E_COUNT
};

/* "too_big", "exited", ...; NULL for HASH_OK. */
const char *hash_err_name(enum hash_err e);

/* st_dev as the kernel encodes a dev_t (major << 20 | minor). */
uint32_t dev_to_kernel(dev_t d);

/* The cache key of an identity. */
void file_key_from_id(struct om_file_key *k, const struct om_file_id *id);

/* An identity from what fstat and fstatfs say (the start-up snapshot, which
 * has no kernel view): generation unknown (0), ctime taken as queried. */
void file_id_from_stat(struct om_file_id *id, const struct stat *st, long f_type);

/*
 * Whether the open file (st, its file system's f_type) is the inode the
 * kernel identified: device, inode number and file system type (on
 * overlayfs, which shows the layer's device, the inode number only), and
 * size. Says nothing about its content.
 */
bool file_is_same(const struct om_file_id *id, const struct stat *st, long f_type);

/*
 * Whether the file's content is provably what it was when the kernel took
 * id at event_unix_ns: the same inode (file_is_same) with the same change
 * time, and that time able to show a change: the kernel had seen it read
 * (multigrain: the next change gets a later ctime), or it is at least
 * HASH_CTIME_SETTLE_NS older than the event (a coarse clock tick cannot
 * hide a change made after the event).
 */
#define HASH_CTIME_SETTLE_NS 2000000000ll
bool file_is_unchanged(const struct om_file_id *id, const struct stat *st, long f_type,
		       int64_t event_unix_ns);

/* Same change time and size in two fstat's of one open file (no write
 * between them: the first fstat made the ctime fine-grained). */
bool stat_unchanged(const struct stat *a, const struct stat *b);

/* A bounded cache of SHA-256 by identity: HASH_CACHE_WAYS-way set
 * associative, the least recently used of a set replaced. */
struct hash_cache_slot {
	struct om_file_key key;
	uint8_t sha[32];
	uint64_t used; /* 0: empty */
};

struct hash_cache {
	struct hash_cache_slot *slots;
	size_t nsets; /* a power of two */
	uint64_t tick;
};

/* entries is rounded up to a multiple of HASH_CACHE_WAYS times a power of
 * two. 0, or -1 (out of memory). */
int hash_cache_init(struct hash_cache *c, size_t entries);
void hash_cache_free(struct hash_cache *c);
bool hash_cache_get(struct hash_cache *c, const struct om_file_key *k, uint8_t sha[32]);
void hash_cache_put(struct hash_cache *c, const struct om_file_key *k, const uint8_t sha[32]);

#endif
