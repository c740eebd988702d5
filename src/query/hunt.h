/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * onmitsu hunt: what in a time window deserves a look, before anyone asked
 * (docs/QUERY.md, "hunt"). Each finding has a kind, a score in [0, 1], the
 * reason in words and the records that prove it (seq and guid).
 *
 * Kinds and their scores (fixed unless said):
 *   inject          per actor, target and method: 0.90 ptrace, process_vm_writev,
 *                         /proc/PID/mem writes on another process (0.50 by a
 *                         debugger or on itself) and ld.so.preload writes;
 *                         0.60 LD_PRELOAD / LD_AUDIT; 0.30 LD_LIBRARY_PATH,
 *                         W+X and anonymous executable memory (JITs do it)
 *   memfd-network   0.90  flows of a process running a memfd
 *   deleted-network 0.85  flows of a process whose file was deleted
 *   tmp-network     0.80  flows of a process run from /tmp, /var/tmp, /dev/shm
 *   server-shell    0.85  a shell whose parent is a network server (0.80 grandparent)
 *   reverse-shell   a shell or interpreter whose stdin or stdout was a socket at
 *                         exec: 0.95 a TCP or UDP connection made from here, or
 *                         a Unix socket from a relay (socat, ncat) whose flow went
 *                         out (0.90: no NET record of the flow in the log); 0.70
 *                         a connection that came in to a listener here (a bind
 *                         shell), a socket with no peer or of another kind; 0.60 a peer on
 *                         this host; 0.40 a connection accepted by an inetd-style
 *                         service manager (systemd, inetd, xinetd, tcpserver)
 *   kthread-name    0.85  a program whose argv[0] pretends to be a kernel thread
 *   download-origin 0.70  a long-lived process (>= 30 s) with flows whose
 *                         exited ancestor ran from a download directory
 *   beacon          RITA's mapping of the beacon score (0.5 -> 0.2, 0.7 -> 0.4,
 *                         0.9 -> 0.6, 1 -> 0.8), +0.15 from a writable
 *                         directory, memfd or deleted file, -0.2 from a system
 *                         directory, -0.3 for a safelisted program
 *   beacon-exe      the same over all of a program's destinations
 *   first-contact   0.35  (0.25 for more than 3) destinations a program with
 *                         earlier flows in the log never contacted before
 *
 * The history's pass calls hunt_record (HUNT_EVENTS); hunt_run then finds.
 */
#ifndef ONMITSU_QUERY_HUNT_H
#define ONMITSU_QUERY_HUNT_H

#include <stdint.h>

#include "query/history.h"

#define HUNT_EVENTS (LOG_EVENT_BIT(OM_EVENT_NET) | LOG_EVENT_BIT(OM_EVENT_INJECT))
/* the records listed per finding (the total is always given) */
#define HUNT_MAX_REFS 64
/* the default window: this long before the log's last record */
#define HUNT_DEFAULT_WINDOW_NS (24ull * 3600 * 1000000000ull)

enum hunt_kind {
	HUNT_INJECT,
	HUNT_MEMFD_NET,
	HUNT_DELETED_NET,
	HUNT_TMP_NET,
	HUNT_SERVER_SHELL,
	HUNT_KTHREAD_NAME,
	HUNT_DOWNLOAD_ORIGIN,
	HUNT_BEACON,
	HUNT_BEACON_EXE,
	HUNT_FIRST_CONTACT,
	HUNT_REVERSE_SHELL,
};

const char *hunt_kind_name(enum hunt_kind k);

struct hunt_ref {
	int64_t seq; /* -1: the record had none */
	int32_t proc;
	uint64_t time_ns;
};

struct hunt_finding {
	enum hunt_kind kind;
	double score;
	int32_t proc;  /* the process it is about */
	int32_t other; /* the parent (server-shell), target (inject), ancestor
			  (download-origin); PROC_NONE */
	uint32_t exe;  /* history.strings */
	uint64_t first_ns, last_ns;
	uint32_t dst_ip; /* beacon, first-contact: history.ips; 0 none */
	int32_t dst_port;
	uint8_t proto;
	double ts, hist, dur, beacon; /* beacon, beacon-exe */
	uint32_t connections;
	uint32_t method; /* inject: history.strings */
	char *reason;
	struct hunt_ref *refs;
	uint32_t nrefs, nrefs_total;
};

struct hunt_exec; /* hunt.c */
struct hunt_inject;

struct hunt {
	int64_t *flow_seq; /* per h->flows index */
	uint32_t flow_seq_cap;
	struct hunt_exec *execs;
	uint32_t nexecs, execs_cap;
	struct hunt_inject *injects;
	uint32_t ninjects, injects_cap;
	int32_t *last_exec_of; /* proc -> index + 1 in execs of its latest */
	uint32_t last_exec_cap;

	struct hunt_finding *v;
	uint32_t n, cap;
	uint64_t since_ns, until_ns; /* the window hunt_run used */
};

void hunt_init(struct hunt *hu);
void hunt_free(struct hunt *hu);
/* A history_record_fn (arg: struct hunt *); pass HUNT_EVENTS to the load. */
void hunt_record(struct history *h, const struct log_record *rec, int32_t proc, void *arg);
/* Find, in [since, until] (since 0: HUNT_DEFAULT_WINDOW_NS before the log's
 * last record); the findings are in hu->v, highest score first. */
void hunt_run(struct hunt *hu, const struct history *h, uint64_t since_ns, uint64_t until_ns);
/* One finding as the JSON Lines object `hunt --json` prints (with "\n"). */
void hunt_json(struct strbuf *sb, const struct history *h, const struct hunt_finding *f);

#endif
