/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One log record as the recorder builds it, before encoding (docs/DESIGN.md,
 * "Event model"). Text fields hold raw bytes exactly as the kernel gave
 * them; the encoder escapes them. NULL / OM_NONE means "empty field".
 */
#ifndef ONMITSU_RECORD_H
#define ONMITSU_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum om_event {
	OM_EVENT_START,
	OM_EVENT_STOP,
	OM_EVENT_EXISTING,
	OM_EVENT_FORK,
	OM_EVENT_EXEC,
	OM_EVENT_EXIT,
	OM_EVENT_MODLOAD,
	OM_EVENT_NET,
	OM_EVENT_LOST,
	OM_EVENT_SEAL,	   /* a forward-secure seal of the hash chain (log/seal.h) */
	OM_EVENT_INJECT,   /* a process acted on another's memory or loading */
	OM_EVENT_DNS,	   /* a DNS query or response, attributed to the process */
	OM_EVENT_CONFIG,   /* the configuration was reloaded: what changed */
	OM_EVENT_EVIDENCE, /* a rule fired: what was kept of the process, and where */
	OM_EVENT_COUNT
};

/* "START", "FORK", ... ; NULL for an out-of-range value. */
const char *om_event_name(enum om_event e);

#define OM_NONE INT64_MIN /* an empty numeric field */

struct om_ip {
	int family;	  /* 0 (empty), AF_INET or AF_INET6 */
	uint8_t addr[16]; /* AF_INET: first 4 bytes */
};

struct om_record {
	uint64_t time_ns; /* Unix time, ns */
	uint64_t seq;
	enum om_event event;
	int64_t pid, ppid, uid;		/* OM_NONE: empty */
	const char *guid, *parent_guid; /* NUL-terminated, or NULL */

	const char *exe; /* raw bytes */
	size_t exe_len;
	bool exe_truncated; /* cut at the path limit: written after PATH_CUT_MARK */
	const char *args;   /* argv: each argument NUL-terminated, back to back */
	size_t args_len;
	bool has_cmdline; /* write the cmdline column (args may be empty) */

	const char *proto; /* "tcp", "udp", "icmp", "icmpv6" or NULL */
	struct om_ip src, dst;
	int64_t src_port, dst_port; /* OM_NONE: empty */
	const char *direction;	    /* "out", "in" or NULL */
	const char *result;	    /* NULL: empty */

	const char *path; /* raw bytes */
	size_t path_len;
	bool path_truncated;	  /* as exe_truncated */
	const char *community_id; /* NULL: empty */
	const char *detail;	  /* already "k=v k=v"; escaped as text */

	/* since 0.3: appended columns (docs/FORMAT.md), NULL / OM_NONE: empty */
	const char *sha256; /* 64 lower-case hex digits of the executed or mapped file */
	const char *cgroup; /* raw bytes: the process's cgroup v2 path */
	size_t cgroup_len;
	const char *container_id; /* hex id found in the cgroup path */
	int64_t target_pid;	  /* INJECT: the process acted upon */
	const char *target_guid;
	const char *dns_name; /* DNS: the name asked (escaped as text) */
	const char *dns_type; /* "A", "AAAA", "CNAME", ..., or "TYPE65" */
	const char *dns_answers;
};

void om_record_init(struct om_record *r, enum om_event e);

#endif
