/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The only code that touches libbpf: open, configure, load and attach the
 * BPF programs (one cleanup path), then hand ring-buffer samples to a
 * callback and read the kernel-side counters.
 */
#ifndef ONMITSU_LOADER_H
#define ONMITSU_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "onmitsu/event.h"
#include "util/strbuf.h"

struct loader_opts {
	uint32_t ring_bytes;   /* ring buffer size, a power of two >= 4096 */
	uint32_t cmdline_max;  /* bytes of argv read at exec, <= OM_CMDLINE_MAX */
	uint32_t wakeup_bytes; /* force a wakeup when this much is waiting */
	uint64_t hash_max;     /* files hashed up to this size (0: none) */
};

struct loader;

/* Returns the callback's value to stop polling (non-zero), 0 to go on. */
typedef int (*loader_sample_fn)(void *ctx, void *data, size_t size);

/*
 * Load and attach everything. On failure prints what failed (the hook's
 * name and the kernel's reason) and returns NULL. hooks receives the names
 * of the attached hooks, comma-separated, for the START record.
 */
struct loader *loader_start(const struct loader_opts *opts, loader_sample_fn fn, void *ctx,
			    struct strbuf *hooks);

/* Consume what the ring buffer holds, waiting up to timeout_ms for more.
 * Returns the number of samples, or -1 on error. */
int loader_poll(struct loader *l, int timeout_ms);

/* Sum the per-CPU counters (enum om_counter). 0 or -1. */
int loader_counters(struct loader *l, uint64_t out[OM_C_MAX]);

/*
 * How often the kernel skipped one of our programs because it was already
 * running on that CPU (a tracepoint firing in a softirq that interrupted the
 * same program): each is an invocation that may have been an event.
 */
uint64_t loader_hook_misses(struct loader *l);

/*
 * How many flows the flows map pushed out to make room (each is written again
 * at its next datagram each way if its socket still talks), from flows_new
 * (the OM_C_FLOWS_NEW counter, read before the call) and the entries the map
 * holds now. Keys added while the entries are counted make it lower, never
 * higher. It never goes down. The map is counted again only when flows_new
 * changed and could have pushed one out, and at most every
 * FLOWS_COUNT_EVERY_MS unless now_too (at stop).
 */
#define FLOWS_COUNT_EVERY_MS 10000
uint64_t loader_flows_evicted(struct loader *l, uint64_t flows_new, int now_too);

/* Tell the kernel side that a module of a process that ran before the
 * recorder started was already logged (from /proc/PID/maps). */
void loader_seed_module(struct loader *l, uint32_t tgid, uint32_t dev, uint64_t ino);

/* The kernel's count of an INJECT series (map inject_series): 0, or -1 when
 * it has no entry for k; and forgetting it once its process ended. */
int loader_inject_read(void *l, const struct om_inject_key *k, struct om_inject_val *v);
void loader_inject_forget(void *l, const struct om_inject_key *k);

/* The descriptor of the BPF map of that name, or -1 (loader_filter.c). */
int loader_map_fd(struct loader *l, const char *name);

/* The generation of tgid's latest exec (the map proc_gen; EXEC's exec_gen).
 * 0, or -1 when the kernel holds none (it exited). Thread-safe. */
int loader_exec_gen(struct loader *l, uint32_t tgid, uint64_t *gen);

/* Tell the kernel side that this file is hashed: its EXEC and MODLOAD need
 * not wake user space. Thread-safe. */
void loader_known_file(struct loader *l, const struct om_file_key *key);

void loader_stop(struct loader *l);

#endif
