/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Evidence preservation (docs/DESIGN.md, "Evidence preservation"): rules
 * that fire at event time, and one worker thread that keeps what /proc shows
 * of the process into LOG_DIR/evidence/ (log/evidence.h has the layout and
 * the manifest), then an EVIDENCE record names it.
 *
 * A process whose executable is suspicious (a memfd, a deleted file, under
 * /tmp, /var/tmp or /dev/shm) is snapshot as soon as its EXEC (or EXISTING,
 * or FORK from such a process) reaches the consumer: the worker opens its
 * exe, proven to be what ran (hasher.h, exec_file_open), and holds that
 * descriptor (a memfd's or deleted file's content stays readable through
 * it after the process is gone), and reads maps, status, cmdline, environ,
 * the fd list, cwd, cgroup and namespaces while the process lives. When a
 * rule fires for it, the evidence is written from a fresh reading where the
 * process still lives, and from the snapshot for what it no longer shows.
 * Nothing stops, traces or slows the process; every reading is bracketed by
 * two checks of its start time (/proc/PID/stat field 22) through one
 * /proc/PID directory descriptor, so a reused pid is never read as it.
 *
 * The worker keeps CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH and
 * CAP_CHECKPOINT_RESTORE (other users' /proc files, map_files), as the
 * hasher's does, and writes only under the log directory (as its owner).
 */
#ifndef ONMITSU_RECORD_EVIDENCE_H
#define ONMITSU_RECORD_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/evidence.h"
#include "onmitsu/event.h"
#include "record/guid.h"
#include "record/hasher.h"

struct consumer;

/* The rules (record --evidence-rules). */
enum ev_rule {
	EV_RULE_SUSPICIOUS_NET, /* "suspicious-exe-net": a NET of a suspicious exe */
	EV_RULE_INJECT,		/* "inject": an INJECT (its actor, and its target) */
	EV_RULE_REVERSE_SHELL,	/* "reverse-shell": an EXEC whose stdin/out/err is a network socket
				 */
	EV_RULE_COUNT
};
#define EV_RULES_ALL ((1u << EV_RULE_COUNT) - 1)
const char *ev_rule_name(enum ev_rule r);
/* "suspicious-exe-net,inject" or "none" (n bytes): the rule bits; -1 unknown */
int ev_rules_parse(const char *s, unsigned *rules);

/* What of the environment is kept (record --evidence-environ). */
enum ev_environ { EV_ENV_REDACTED, EV_ENV_FULL, EV_ENV_NONE };

#define EV_SNAPSHOTS_MAX 64	      /* snapshots held at once (the oldest is dropped) */
#define EV_SNAPSHOT_TTL_MS 30000      /* a snapshot no rule used is dropped after this */
#define EV_SNAPSHOT_BYTES (32u << 20) /* memory all snapshots hold (the oldest is dropped) */
#define EV_QUEUE_MAX 256	      /* jobs waiting for the worker (more: busy) */
#define EV_FIRED_MAX 1024	      /* processes remembered as kept (kept once each) */
#define EV_TEXT_MAX (1u << 20)	      /* bytes of one /proc file kept (more: cut) */
#define EV_FDS_MAX 1024		      /* descriptors listed */
#define EV_MAPS_MAX 8		      /* mappings of deleted or memfd files copied */
#define EV_NET_FILE_MAX (4u << 20)    /* bytes of /proc/PID/net/tcp etc. read */
#define EV_MANIFEST_RESERVE 4096      /* bytes of the cap held for a manifest while copying */

struct evidence_opts {
	int log_dirfd; /* the log directory (the writer's) */
	uint64_t max_total, exe_max;
	unsigned rules; /* 1 << EV_RULE_* */
	enum ev_environ environ_mode;
	/* how exec_file_open proves the exe (proc_root, exec_gen, ...) */
	struct hasher_opts exec;
};

struct evidence_stats {
	uint64_t kept, partial, skipped; /* EVIDENCE records by result */
	uint64_t snapshots;		 /* processes snapshot at exec */
	uint64_t snapshots_dropped;	 /* not taken (queue full) or pushed out unused */
	uint64_t bytes;			 /* written under evidence/ by this run */
};

struct evidence;

/* Starts the worker (before capabilities are dropped). NULL: out of memory,
 * or evidence/ cannot be made (said why). */
struct evidence *evidence_new(const struct evidence_opts *o);
/* Waits up to timeout_ms for the rules already fired, writes their records
 * through c, stops the worker and frees everything. */
void evidence_finish(struct evidence *ev, struct consumer *c, int timeout_ms);
void evidence_free(struct evidence *ev);

/* Whether an exe is suspicious: a memfd or deleted file (the EXEC flags),
 * or a path under /tmp/, /var/tmp/ or /dev/shm/. One test and three
 * compares: it runs on every EXEC. */
bool ev_exe_suspicious(uint32_t flags, const char *exe, size_t exe_len);
/* Whether an EXEC's detail says a standard stream is a network socket
 * (stdin=, stdout= or stderr= tcp, udp or socket; not unix): the
 * reverse-shell rule. */
bool ev_exec_reverse_shell(const char *detail);

/*
 * The consumer's side (one thread). Snapshot a suspicious process now:
 * id (NULL: not known) is the kernel's identity of its exe, gen its exec's
 * generation, path its exe's name (for exec_file_open's fallback).
 */
void evidence_snapshot(struct evidence *ev, uint32_t pid, uint64_t start_ticks,
		       const char guid[GUID_STR_LEN], const struct om_file_id *id, uint64_t gen,
		       const char *path, size_t path_len, int64_t event_unix_ns);
/* A rule fired for the process: keep its evidence (once per process). */
void evidence_fire(struct evidence *ev, enum ev_rule rule, uint32_t pid, uint64_t start_ticks,
		   const char guid[GUID_STR_LEN], int64_t uid, const char *trigger);
/* Write the EVIDENCE records of the evidence kept since (consumer_emit). */
void evidence_emit(struct evidence *ev, struct consumer *c);
void evidence_get_stats(struct evidence *ev, struct evidence_stats *s);

/*
 * One line of /proc/net/tcp, tcp6, udp or udp6 (without "\n"): its local
 * and remote address and port, state and inode, as "LOCAL REMOTE STATE" text
 * into out (addresses as inet_ntop writes them). 1 when parsed, 0 for the
 * header, -1 when malformed. Bounded by len; outside input.
 */
int ev_parse_net_line(const char *line, size_t len, uint64_t *inode, char *out, size_t outsize);

/* The same line's fields: addresses in network order (IPv4 in the first 4
 * bytes), ports in host order. 1, 0 (header), -1 (malformed). */
struct ev_net_entry {
	uint64_t inode;
	int family; /* AF_INET or AF_INET6 */
	unsigned state;
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
};
int ev_parse_net_entry(const char *line, size_t len, struct ev_net_entry *e);

#endif
