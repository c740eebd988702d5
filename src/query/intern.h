/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * String interning for the query side. A log of millions of records repeats
 * the same few thousand exe paths, command lines, addresses and results; the
 * process history keeps each distinct string once and refers to it by a
 * 32-bit id, which keeps it small and makes comparisons integer compares.
 *
 * Id 0 is the empty string; ids are dense (1, 2, 3, ...), so callers may keep
 * side arrays indexed by id.
 */
#ifndef ONMITSU_QUERY_INTERN_H
#define ONMITSU_QUERY_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct intern_entry {
	uint64_t offset; /* in text */
	uint32_t length;
	uint32_t pad_;
};

/* A slot holds an id (0: free) and its hash, side by side, so that a probe
 * touches one cache line. */
struct intern_slot {
	uint32_t id;
	uint32_t hash;
};

struct intern {
	char *text; /* every string, NUL-terminated, back to back */
	size_t text_len, text_cap;
	struct intern_entry *entry; /* by id */
	uint32_t count;		    /* ids in use, including 0 */
	uint32_t cap;
	struct intern_slot *slots; /* open addressing */
	uint32_t nslots;	   /* a power of two */
};

void intern_init(struct intern *in);
void intern_free(struct intern *in);

/* The id of s[0..n), adding it when new. */
uint32_t intern_add(struct intern *in, const char *s, size_t n);
/* The id of s[0..n), or 0 when it was never added (0 is also the id of ""). */
uint32_t intern_find(const struct intern *in, const char *s, size_t n);

static inline const char *intern_str(const struct intern *in, uint32_t id)
{
	return in->text + in->entry[id].offset;
}

static inline size_t intern_len(const struct intern *in, uint32_t id)
{
	return in->entry[id].length;
}

#endif
