/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/proctable.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Open addressing with linear probing and backward-shift deletion. */

static size_t slot_of(const struct proctable *t, uint32_t pid)
{
	return (pid * 2654435761u) & (t->cap - 1);
}

void proctable_init(struct proctable *t)
{
	t->cap = 1024;
	t->count = 0;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots)
		fatal("out of memory");
}

static void entry_clear(struct proc_entry *e)
{
	free(e->exe);
	free(e->args);
	memset(e, 0, sizeof(*e));
}

void proctable_free(struct proctable *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			entry_clear(&t->slots[i]);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->count = 0;
}

struct proc_entry *proctable_lookup(struct proctable *t, uint32_t pid)
{
	for (size_t i = slot_of(t, pid);; i = (i + 1) & (t->cap - 1)) {
		struct proc_entry *e = &t->slots[i];
		if (!e->used)
			return NULL;
		if (e->pid == pid)
			return e;
	}
}

static void grow(struct proctable *t)
{
	struct proc_entry *old = t->slots;
	size_t oldcap = t->cap;
	t->cap *= 2;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots)
		fatal("out of memory");
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		size_t j = slot_of(t, old[i].pid);
		while (t->slots[j].used)
			j = (j + 1) & (t->cap - 1);
		t->slots[j] = old[i];
	}
	free(old);
}

struct proc_entry *proctable_put(struct proctable *t, uint32_t pid)
{
	struct proc_entry *e = proctable_lookup(t, pid);
	if (e) {
		entry_clear(e);
	} else {
		if ((t->count + 1) * 4 > t->cap * 3)
			grow(t);
		size_t i = slot_of(t, pid);
		while (t->slots[i].used)
			i = (i + 1) & (t->cap - 1);
		e = &t->slots[i];
		t->count++;
	}
	e->used = true;
	e->pid = pid;
	return e;
}

void proctable_remove(struct proctable *t, uint32_t pid)
{
	struct proc_entry *e = proctable_lookup(t, pid);
	if (!e)
		return;
	size_t i = (size_t)(e - t->slots);
	entry_clear(e);
	t->count--;
	/* backward shift: keep every remaining entry reachable from its home slot */
	for (size_t j = (i + 1) & (t->cap - 1); t->slots[j].used; j = (j + 1) & (t->cap - 1)) {
		size_t home = slot_of(t, t->slots[j].pid);
		/* can the entry at j move to i? only if i lies cyclically in [home, j) */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			t->slots[i] = t->slots[j];
			memset(&t->slots[j], 0, sizeof(t->slots[j]));
			i = j;
		}
	}
}

static char *dup_bytes(const char *p, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		fatal("out of memory");
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

void proc_entry_set_image(struct proc_entry *e, const char *exe, size_t exe_len, const char *args,
			  size_t args_len, bool truncated)
{
	free(e->exe);
	free(e->args);
	e->exe = dup_bytes(exe ? exe : "", exe_len);
	e->exe_len = exe_len;
	e->args = dup_bytes(args ? args : "", args_len);
	e->args_len = args_len;
	e->args_truncated = truncated;
	e->exe_truncated = false;
}
