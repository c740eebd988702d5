/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The processes a live command needs (`who --follow`): what each running
 * process is now and where it came from, kept as the records come, so that a
 * flow recorded now is told with its process and ancestry as `who` tells it.
 *
 * Memory is bounded. A process leaves the table at its EXIT unless a process
 * in the table descends from it (an exited dropper stays while its child
 * runs, as the ancestry needs it), and leaves with its last descendant. A
 * restart of the recorder (START) is followed by its start-up snapshot: the
 * processes it does not repeat ended while the recorder was down and go as
 * if they had exited. Should EXIT records be lost, the table still stops at
 * LIVE_MAX_PROCS: then the processes seen longest ago go first. DNS answers
 * are the latest LIVE_MAX_DNS; a process keeps at most LIVE_MAX_INJECTS
 * entries of who acted on it.
 */
#ifndef ONMITSU_QUERY_LIVE_H
#define ONMITSU_QUERY_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "query/dnsmap.h"
#include "query/history.h"
#include "query/reader.h"

#define LIVE_MAX_PROCS 65536
#define LIVE_MAX_DNS 16384
#define LIVE_MAX_INJECTS 32

struct live_proc;
struct live_dns;

struct live {
	struct live_proc **buckets; /* by guid */
	uint32_t nbuckets;
	uint32_t nprocs;
	uint64_t tick;	      /* counts records: when a process was seen last */
	uint32_t epoch;	      /* recording periods (START) */
	bool in_snapshot;     /* after a START, while its EXISTING records come */
	struct live_dns *dns; /* a ring of the latest answers */
	uint32_t ndns, dns_next;
	uint64_t evicted; /* processes pushed out at LIVE_MAX_PROCS */
};

void live_init(struct live *lv);
void live_free(struct live *lv);
/* Fold one record in (process records, INJECT, DNS; others are ignored). */
void live_add(struct live *lv, const struct log_record *rec);
/* How many processes are held (for tests). */
uint32_t live_count(const struct live *lv);

/*
 * A flow of the process with this guid, now, as a history of its own: the
 * process (the index returned, PROC_NONE when the table does not hold it),
 * its ancestors as they were when each started the next one, who acted on
 * it, and the name dst_ip was resolved from (*dns; outgoing flows only), as
 * `who` gives them. h is initialised here; free it with history_free.
 */
int32_t live_history(const struct live *lv, const char *guid, size_t guid_len, const char *dst_ip,
		     bool outgoing, struct history *h, struct dns_hit *dns);

#endif
