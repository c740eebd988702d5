/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/intern.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		fatal("out of memory (%zu bytes for the process history)", n);
	return q;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

/* A fast, well-mixing 64-bit hash of bytes (not for adversaries: the log's
 * writer is trusted to be the recorder, and a collision costs time only). */
static uint64_t query_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ mix64(w)) * 0xc4ceb9fe1a85ec53ULL;
		h = (h << 29) | (h >> 35);
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, s, n);
		h = (h ^ mix64(w ^ n)) * 0xc4ceb9fe1a85ec53ULL;
	}
	return mix64(h);
}

static void add_text(struct intern *in, const char *s, size_t n)
{
	if (in->text_len + n + 1 > in->text_cap) {
		size_t cap = in->text_cap ? in->text_cap : 4096;
		while (cap < in->text_len + n + 1)
			cap *= 2;
		in->text = xrealloc(in->text, cap);
		in->text_cap = cap;
	}
	if (n)
		memcpy(in->text + in->text_len, s, n);
	in->text[in->text_len + n] = '\0';
	in->text_len += n + 1;
}

void intern_init(struct intern *in)
{
	memset(in, 0, sizeof(*in));
	in->cap = 256;
	in->entry = xrealloc(NULL, in->cap * sizeof(*in->entry));
	in->nslots = 512;
	in->slots = calloc(in->nslots, sizeof(*in->slots));
	if (!in->slots)
		fatal("out of memory for the process history");
	add_text(in, "", 0);
	in->entry[0] = (struct intern_entry){0, 0, 0};
	in->count = 1;
}

void intern_free(struct intern *in)
{
	free(in->text);
	free(in->entry);
	free(in->slots);
	memset(in, 0, sizeof(*in));
}

static void grow_slots(struct intern *in)
{
	uint32_t n = in->nslots * 2;
	struct intern_slot *slots = calloc(n, sizeof(*slots));
	if (!slots)
		fatal("out of memory for the process history");
	for (uint32_t i = 0; i < in->nslots; i++) {
		if (!in->slots[i].id)
			continue;
		uint32_t j = in->slots[i].hash & (n - 1);
		while (slots[j].id)
			j = (j + 1) & (n - 1);
		slots[j] = in->slots[i];
	}
	free(in->slots);
	in->slots = slots;
	in->nslots = n;
}

static uint32_t lookup(const struct intern *in, const char *s, size_t n, uint32_t h, uint32_t *slot)
{
	uint32_t mask = in->nslots - 1;
	uint32_t j = h & mask;
	for (;;) {
		struct intern_slot sl = in->slots[j];
		if (!sl.id)
			break;
		if (sl.hash == h) {
			const struct intern_entry *e = &in->entry[sl.id];
			if (e->length == n && memcmp(in->text + e->offset, s, n) == 0) {
				*slot = j;
				return sl.id;
			}
		}
		j = (j + 1) & mask;
	}
	*slot = j;
	return 0;
}

uint32_t intern_find(const struct intern *in, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	uint32_t slot;
	return lookup(in, s, n, (uint32_t)query_hash(s, n), &slot);
}

uint32_t intern_add(struct intern *in, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (n > UINT32_MAX)
		fatalx("a log field of %zu bytes is too long to index", n);
	uint32_t h = (uint32_t)query_hash(s, n);
	uint32_t slot;
	uint32_t id = lookup(in, s, n, h, &slot);
	if (id)
		return id;
	if (in->count == UINT32_MAX)
		fatalx("more than %u distinct strings in the log", UINT32_MAX - 1);
	if (in->count == in->cap) {
		in->cap *= 2;
		in->entry = xrealloc(in->entry, (size_t)in->cap * sizeof(*in->entry));
	}
	id = in->count++;
	in->entry[id] = (struct intern_entry){in->text_len, (uint32_t)n, 0};
	add_text(in, s, n);
	in->slots[slot] = (struct intern_slot){id, h};
	/* keep the table at most half full so probes stay short */
	if ((uint64_t)in->count * 2 > in->nslots)
		grow_slots(in);
	return id;
}
