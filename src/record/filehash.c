/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/filehash.h"

#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

const char *hash_err_name(enum hash_err e)
{
	static const char *const names[HASH_E_COUNT] = {
	    [HASH_E_TOO_BIG] = "too_big",
	    [HASH_E_EXITED] = "exited",
	    [HASH_E_CHANGED] = "changed",
	    [HASH_E_UNREADABLE] = "unreadable",
	    [HASH_E_BUSY] = "busy",
	    [HASH_E_STOPPED] = "stopped",
	    [HASH_E_NOT_FILE] = "not_regular",
	};
	return e > HASH_OK && e < HASH_E_COUNT ? names[e] : NULL;
}

uint32_t dev_to_kernel(dev_t d)
{
	return (uint32_t)((major(d) << 20) | (minor(d) & 0xfffff));
}

void file_key_from_id(struct om_file_key *k, const struct om_file_id *id)
{
	memset(k, 0, sizeof(*k));
	k->ino = id->ino;
	k->size = id->size;
	k->ctime_sec = id->ctime_sec;
	k->ctime_nsec = id->ctime_nsec;
	k->dev = id->dev;
	k->generation = id->generation;
}

void file_id_from_stat(struct om_file_id *id, const struct stat *st, long f_type)
{
	memset(id, 0, sizeof(*id));
	id->ino = st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->ctime_sec = st->st_ctim.tv_sec;
	id->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	id->dev = dev_to_kernel(st->st_dev);
	id->nlink = (uint32_t)st->st_nlink;
	id->magic = (uint32_t)f_type;
	id->flags = OM_FID_VALID | OM_FID_CTIME_QUERIED;
}

bool file_is_same(const struct om_file_id *id, const struct stat *st, long f_type)
{
	if (!(id->flags & OM_FID_VALID) || !S_ISREG(st->st_mode))
		return false;
	if ((uint32_t)f_type != id->magic || st->st_ino != id->ino ||
	    (uint64_t)st->st_size != id->size)
		return false;
	/* overlayfs shows the device of the layer that holds the file */
	return id->magic == OVERLAYFS_MAGIC || dev_to_kernel(st->st_dev) == id->dev;
}

bool file_is_unchanged(const struct om_file_id *id, const struct stat *st, long f_type,
		       int64_t event_unix_ns)
{
	if (!file_is_same(id, st, f_type))
		return false;
	if (st->st_ctim.tv_sec != id->ctime_sec || (uint32_t)st->st_ctim.tv_nsec != id->ctime_nsec)
		return false;
	if (id->flags & OM_FID_CTIME_QUERIED)
		return true;
	int64_t ctime_ns = id->ctime_sec * 1000000000ll + id->ctime_nsec;
	return event_unix_ns - ctime_ns >= HASH_CTIME_SETTLE_NS;
}

bool stat_unchanged(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int hash_cache_init(struct hash_cache *c, size_t entries)
{
	size_t sets = 1;
	while (sets * HASH_CACHE_WAYS < entries)
		sets <<= 1;
	c->slots = calloc(sets * HASH_CACHE_WAYS, sizeof(*c->slots));
	c->nsets = sets;
	c->tick = 0;
	return c->slots ? 0 : -1;
}

void hash_cache_free(struct hash_cache *c)
{
	free(c->slots);
	c->slots = NULL;
}

static struct hash_cache_slot *cache_set(struct hash_cache *c, const struct om_file_key *k)
{
	/* FNV-1a over the key's bytes (its padding is zero) */
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return &c->slots[(h & (c->nsets - 1)) * HASH_CACHE_WAYS];
}

bool hash_cache_get(struct hash_cache *c, const struct om_file_key *k, uint8_t sha[32])
{
	struct hash_cache_slot *set = cache_set(c, k);
	for (int i = 0; i < HASH_CACHE_WAYS; i++)
		if (set[i].used && memcmp(&set[i].key, k, sizeof(*k)) == 0) {
			set[i].used = ++c->tick;
			memcpy(sha, set[i].sha, 32);
			return true;
		}
	return false;
}

void hash_cache_put(struct hash_cache *c, const struct om_file_key *k, const uint8_t sha[32])
{
	struct hash_cache_slot *set = cache_set(c, k), *victim = &set[0];
	for (int i = 0; i < HASH_CACHE_WAYS; i++) {
		if (set[i].used && memcmp(&set[i].key, k, sizeof(*k)) == 0) {
			victim = &set[i];
			break;
		}
		if (set[i].used < victim->used)
			victim = &set[i];
	}
	victim->key = *k;
	memcpy(victim->sha, sha, 32);
	victim->used = ++c->tick;
}
