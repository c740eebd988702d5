/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The process history: every process the log knows, by guid, with what it was
 * over time, and the links that let an investigator walk from a flow to the
 * process that made it and up to the ancestor that started it all.
 *
 * - A process is its guid (pids are reused). It is created by the first record
 *   that names its guid.
 * - Its parent is the parent_guid of its FORK record (the parent when it was
 *   born, which stays right after the parent exits and the child is
 *   reparented). Without a FORK, the first record that names a parent_guid
 *   (EXISTING, EXEC) gives it. A later record never overrides it, so a
 *   restart of the recorder, whose snapshot shows reparented processes under
 *   their new parent, does not rewrite history.
 * - Its start is its first FORK, EXEC or EXISTING; its exe and cmdline at a
 *   moment are those of its latest FORK/EXEC/EXISTING before that moment
 *   (images, in time order).
 * - Strings are interned; the history holds no pointer into a record.
 */
#ifndef ONMITSU_QUERY_HISTORY_H
#define ONMITSU_QUERY_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "query/intern.h"
#include "query/ipaddr.h"
#include "query/reader.h"
#include "util/strbuf.h"

#define PROC_NONE (-1)
/* Ancestry chains are cut here: a longer one means a corrupt log (a cycle). */
#define HISTORY_MAX_DEPTH 1024

struct proc_image {
	uint64_t time_ns;
	uint32_t exe, cmdline; /* history.strings */
	/* history.strings, 0: empty; a forked child's image is its parent's */
	uint32_t sha256, cgroup, container_id;
	uint32_t next; /* index + 1 in history.images; 0: the last */
};

enum proc_origin {
	ORIGIN_OTHER = 0, /* known only from records that are not FORK/EXEC/EXISTING */
	ORIGIN_FORK,
	ORIGIN_EXEC,
	ORIGIN_EXISTING,
};

struct proc {
	uint32_t guid;	      /* history.guids */
	uint32_t parent_guid; /* history.guids; 0: unknown */
	int32_t parent;	      /* index in history.procs, PROC_NONE when not in the log */
	int32_t pid, ppid;    /* ppid: the latest seen; -1 unknown */
	int64_t uid;	      /* -1 unknown */
	uint64_t start_ns;    /* first FORK/EXEC/EXISTING; 0 unknown */
	uint64_t exit_ns;     /* 0: no EXIT in the log */
	uint32_t exit_result; /* history.strings, e.g. "exit:0", "signal:KILL" */
	uint32_t first_image, last_image; /* index + 1 in history.images; 0: none */
	uint64_t first_seen_ns, last_seen_ns;
	int32_t first_child, next_sibling; /* PROC_NONE-terminated, in start order */
	uint8_t origin;			   /* enum proc_origin of the first such record */
	bool parent_from_fork;
	uint32_t injects_in; /* index + 1 in history.injects of the latest INJECT into it
				(chained by next_into, latest first); 0: none */
	uint32_t period;     /* the latest recording period (index) that saw it */
	uint64_t gone_ns;    /* no EXIT, but missing from a later start-up snapshot:
				it ended before this time (while the recorder was down) */
};

/* NET records a command keeps (who's matches, correlate's index, tree's flows). */
enum { DIR_UNKNOWN = 0, DIR_OUT = 1, DIR_IN = 2 };

struct flow_rec {
	uint64_t time_ns;
	int32_t proc;		    /* PROC_NONE when the record named no guid */
	uint32_t src_ip, dst_ip;    /* history.ips */
	uint32_t proto_text;	    /* history.strings */
	uint32_t result;	    /* history.strings */
	uint32_t community_id;	    /* history.strings */
	int32_t src_port, dst_port; /* -1: empty */
	uint8_t proto;		    /* IPPROTO_TCP/UDP/ICMP/ICMPV6, 0 for anything else */
	uint8_t direction;	    /* DIR_* */
};

/* MODLOAD records a command keeps. */
struct module_rec {
	uint64_t time_ns;
	int32_t proc;
	uint32_t path; /* history.strings */
};

/* INJECT records: who acted on which process, how (every one the log has). */
struct inject_rec {
	uint64_t time_ns;
	int32_t actor;	    /* PROC_NONE when the record named no guid */
	int32_t target;	    /* PROC_NONE when it named no target_guid */
	uint32_t method;    /* history.strings: the record's result */
	uint32_t next_into; /* index + 1 of the INJECT into the same target before it */
	uint64_t count;	    /* its detail's count=, 1 when it has none */
};

/* What was done to a process: one per actor and method, its first time and
 * the events counted up to a moment (history_injected_by). */
struct inject_by {
	int32_t actor;
	uint32_t method;
	uint64_t first_ns;
	uint64_t count;
};

/* When the recorder was running, from its START and STOP records. */
struct rec_period {
	uint64_t start_ns, end_ns;
	bool stopped; /* ended by a STOP; otherwise the last record before the next START */
};

struct history {
	struct intern guids;
	struct intern strings;
	struct ip_table ips;

	struct proc *procs;
	uint32_t nprocs, procs_cap;
	int32_t *proc_of_guid; /* guid id -> index, PROC_NONE */
	uint32_t proc_of_guid_cap;

	struct proc_image *images;
	uint32_t nimages, images_cap;

	struct flow_rec *flows;
	uint32_t nflows, flows_cap;
	struct module_rec *modules;
	uint32_t nmodules, modules_cap;

	struct inject_rec *injects;
	uint32_t ninjects, injects_cap;

	struct rec_period *periods;
	uint32_t nperiods, periods_cap;
	bool period_open;

	uint8_t *local_ip; /* ip id -> 1 when the log has seen it as this host's address */
	uint32_t local_ip_cap;

	int32_t last_proc; /* the process of the last record: an EXEC follows its FORK */

	uint64_t first_ns, last_ns; /* of all records read */
	uint64_t records;
	bool finished;
};

void history_init(struct history *h);
void history_free(struct history *h);

/* Remember the local address of a NET record (its source when it went out,
 * its destination when it came in). */
void history_note_local(struct history *h, const struct log_record *rec);

/* Called for each record a pass reads, with the index of its process. */
typedef void (*history_record_fn)(struct history *h, const struct log_record *rec, int32_t proc,
				  void *arg);

/* The record kinds the history itself needs. */
#define HISTORY_EVENTS                                                                             \
	(LOG_EVENT_BIT(OM_EVENT_START) | LOG_EVENT_BIT(OM_EVENT_STOP) |                            \
	 LOG_EVENT_BIT(OM_EVENT_EXISTING) | LOG_EVENT_BIT(OM_EVENT_FORK) |                         \
	 LOG_EVENT_BIT(OM_EVENT_EXEC) | LOG_EVENT_BIT(OM_EVENT_EXIT) |                             \
	 LOG_EVENT_BIT(OM_EVENT_INJECT))

/*
 * Read the whole log in dir into h (HISTORY_EVENTS and extra_events), calling
 * fn for every record read, then link parents and children. Returns 0, or 1 when the
 * log could not be read or only in part (the message is printed).
 */
int history_load(struct history *h, const char *dir, uint32_t extra_events, history_record_fn fn,
		 void *arg);
/* A further pass over the log (events only) that does not change the
 * processes: fn gets each record with its process's index. keep_raw as in
 * struct log_reader_opts. Same return values. */
int history_scan(struct history *h, const char *dir, uint32_t events, bool keep_raw,
		 history_record_fn fn, void *arg);

/* The process with this guid text, or PROC_NONE. */
int32_t history_find_guid(const struct history *h, const char *guid);
/* The image (exe, cmdline) of p at t: its latest before or at t, or its first
 * when t is before all. NULL when the log never named one. */
const struct proc_image *history_image_at(const struct history *h, int32_t p, uint64_t t_ns);
/* Whether p was running at t (started at or before, not yet exited). */
bool history_alive_at(const struct history *h, int32_t p, uint64_t t_ns);
/* Fill chain[] with p's ancestors, parent first, up to the first one the log
 * knows; returns how many (at most max). */
int history_ancestry(const struct history *h, int32_t p, int32_t *chain, int max);

/*
 * Visit p's descendants depth first, each before its children, children in
 * start order; depth is p's, a child's is one more. fn says whether to go on
 * below the process it was given.
 */
typedef bool (*history_visit_fn)(int32_t p, int depth, void *arg);
void history_walk_descendants(const struct history *h, int32_t p, int depth, history_visit_fn fn,
			      void *arg);
/* Set mark[] to value for every descendant of p whose mark is still 0. */
void history_mark_descendants(const struct history *h, int32_t p, uint8_t *mark, uint8_t value);

static inline const char *history_str(const struct history *h, uint32_t id)
{
	return intern_str(&h->strings, id);
}

static inline const char *history_guid(const struct history *h, int32_t p)
{
	return intern_str(&h->guids, h->procs[p].guid);
}

/* Keep a NET record (returns its index in h->flows) / a MODLOAD record;
 * proc PROC_NONE: resolve it from the record. */
uint32_t history_keep_flow(struct history *h, const struct log_record *rec, int32_t proc);
/* The process a record of another kind names (made when the log has not named
 * it before), as the kept flows and modules get theirs; PROC_NONE when it
 * names none. */
int32_t history_proc_of(struct history *h, const struct log_record *rec);
uint32_t history_keep_module(struct history *h, const struct log_record *rec, int32_t proc);

/*
 * Who acted on p (INJECT records whose target is p) at or before until_ns:
 * one entry per actor and method, in the order of their first time, with the
 * events counted up to until_ns. Returns how many; *out is allocated (free
 * it), NULL when none.
 */
size_t history_injected_by(const struct history *h, int32_t p, uint64_t until_ns,
			   struct inject_by **out);

/* "tcp" -> IPPROTO_TCP, ... ; 0 for anything else. */
uint8_t proto_from_name(const char *s);
const char *proto_name(uint8_t proto);

/* Recording periods: whether t lies in one, and the earliest and latest. */
bool history_recording_at(const struct history *h, uint64_t t_ns, uint64_t slack_ns);

#endif

/*
 * The process an investigator means by --guid G, or by --pid P [--at T]
 * (pid_or_minus1, at_ns 0 for no --at). Returns 0 and sets *out; 1 when no
 * process matches; 2 when several do (pid reuse) and --at or --guid must
 * choose. msg explains either failure, listing the candidates.
 */
int history_pick(const struct history *h, int64_t pid, uint64_t at_ns, const char *guid,
		 int32_t *out, struct strbuf *msg);
