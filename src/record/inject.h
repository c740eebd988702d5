/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * INJECT records from the kernel's samples, and the summaries of their
 * series: the kernel writes the first event of a series (actor, target,
 * method) and counts the rest in its map "inject_series"; once a second, and
 * when the actor or the target exits, one record says how many came since
 * the series' last record (count=N). docs/FORMAT.md, INJECT.
 */
#ifndef ONMITSU_INJECT_H
#define ONMITSU_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onmitsu/event.h"
#include "record/guid.h"

struct consumer;

/* Whether an INJECT of this method fires the evidence rule "inject": a
 * process acting on another (ptrace, process_vm_writev, a proc mem file) or
 * forcing code into programs (LD_PRELOAD, LD_AUDIT, ld.so.preload); not
 * wx_memory, anon_exec or LD_LIBRARY_PATH, which every JIT engine and many
 * launchers do: each JVM, browser or node process would be copied. */
bool inject_method_keeps_evidence(uint32_t method);

/* Where the kernel keeps a series' count (the loader; a fake in tests).
 * read: 0 and *v filled, or -1 when the kernel has no entry for k. */
struct inject_source {
	int (*read)(void *ctx, const struct om_inject_key *k, struct om_inject_val *v);
	void (*forget)(void *ctx, const struct om_inject_key *k);
	void *ctx;
};

struct inject_series {
	struct om_inject_key key;
	uint64_t reported; /* events already written (the first included) */
	uint32_t uid;
	char guid[GUID_STR_LEN];
	char target_guid[GUID_STR_LEN]; /* "" when the target was not found */
};

/* The series the kernel counts, at most as many as its map holds (16384):
 * found by a linear scan, once a second and at each EXIT. */
struct inject_table {
	struct inject_series *v;
	size_t n, cap;
	struct inject_source src;
};

/* "ptrace_attach", ... ; NULL for an unknown method. */
const char *inject_method_name(uint32_t method);

void inject_table_free(struct inject_table *t);

/* An INJECT sample (its size already checked against om_hdr.size). 0, or -1
 * when malformed. */
int inject_sample(struct consumer *c, const struct om_ev_inject *e, size_t size);

/* Write a record for each series that grew since its last one. */
void inject_tick(struct consumer *c);

/* The process (tgid, start) ended: write what its series (as actor or as
 * target) still count, and forget them. */
void inject_process_ended(struct consumer *c, uint32_t tgid, uint64_t start_ns);

#endif
