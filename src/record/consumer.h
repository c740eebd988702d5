/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Turns ring-buffer samples into log records: checks every sample's size
 * against what it claims before trusting it, derives guids, keeps the
 * process table, resolves times, names results and computes Community IDs.
 */
#ifndef ONMITSU_CONSUMER_H
#define ONMITSU_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "log/record.h"
#include "onmitsu/event.h"
#include "record/dns.h"
#include "record/evidence.h"
#include "record/inject.h"
#include "record/hasher.h"
#include "record/proctable.h"
#include "util/strbuf.h"

typedef void (*consumer_out_fn)(void *ctx, struct om_record *r);

/* Records held while one before them waits for its hash: in order, at most
 * CONSUMER_PENDING_MAX (then the consumer waits for the first). */
#define CONSUMER_PENDING_MAX 65536
struct pending_record;

struct consumer {
	uint8_t boot_id[16];
	int64_t boot_to_unix_ns; /* Unix time = CLOCK_BOOTTIME + this */
	struct proctable procs;
	consumer_out_fn out;
	void *out_ctx;
	uint64_t bad_samples;	       /* samples rejected as malformed */
	uint64_t dns_malformed;	       /* DNS messages that could not be parsed: no record (STOP) */
	struct dns_tcp_table *dns_tcp; /* where the next message of each TCP stream starts */
	struct dns_msg dns;	       /* the message being parsed (its buffer is reused) */
	uint64_t by_kind[OM_K_MAX];
	struct inject_table inject; /* INJECT series the kernel counts */
	struct hasher *hasher;	    /* NULL: no hashing (record --hash-max 0, tests) */
	struct pending_record *pending, **pending_tail;
	size_t npending;
	uint64_t hash_errors;	   /* records written with hash_error= */
	struct evidence *evidence; /* NULL: no evidence rules (record/evidence.h) */
};

void consumer_init(struct consumer *c, const uint8_t boot_id[16], consumer_out_fn out, void *ctx);
void consumer_free(struct consumer *c);
/* Measure the offset between CLOCK_BOOTTIME and CLOCK_REALTIME now. */
void consumer_sync_clock(struct consumer *c);
/* One sample. 0, or -1 when it was malformed (counted, nothing written). */
int consumer_sample(struct consumer *c, const void *data, size_t size);

/* The kernel's count of INJECT series (the loader's map). */
void consumer_set_inject_source(struct consumer *c, const struct inject_source *src);

/* A record's common fields from a sample's header (guid written into guid). */
void consumer_base_record(struct consumer *c, struct om_record *r, enum om_event ev,
			  const struct om_hdr *h, char guid[GUID_STR_LEN]);
/* The guid of process (pid, start). */
void consumer_make_guid(struct consumer *c, char out[GUID_STR_LEN], uint32_t pid,
			uint64_t start_ns);
/*
 * Hand r to the output, in order: at once when nothing waits, else after the
 * records before it. w: r's hash is still to come (hasher_request); it is
 * then filled in (sha256, or hash_error= in detail). r is copied.
 */
void consumer_emit(struct consumer *c, struct om_record *r, struct hash_wait *w);
/* Write the held records whose hashes are ready (and those after them that
 * wait for nothing). */
void consumer_drain(struct consumer *c);
/* Wait up to timeout_ms for every held record, then write those still
 * waiting with hash_error=stopped. */
void consumer_finish(struct consumer *c, int timeout_ms);
/* A rule fired for process (pid, start_ns): keep its evidence, once per
 * process (no-op without c->evidence). trigger: a word for the record. */
void consumer_evidence(struct consumer *c, enum ev_rule rule, uint32_t pid, uint64_t start_ns,
		       const char *guid, int64_t uid, const char *trigger);
/* The same with the start time in guid ticks (/proc's, for EXISTING). */
void consumer_evidence_ticks(struct consumer *c, enum ev_rule rule, uint32_t pid, uint64_t ticks,
			     const char *guid, int64_t uid, const char *trigger);

/* " hash_error=NAME" into d. */
void hash_error_detail(struct strbuf *d, enum hash_err err);

/* "exit:N" or "signal:SIGNAME" for a wait status; buf >= 32 bytes. */
void exit_result(char *buf, size_t size, uint32_t status);
/* "established", "refused", ... or "error:ENAME" for a connect outcome. */
void connect_result(char *buf, size_t size, uint32_t err);

/* The absolute name of the script behind an EXEC (cwd_len 0: script is
 * already absolute), into out (reset first). */
/* EXEC, EXISTING: the detail keys of the standard descriptors (" stdin=tcp
 * stdout=tcp stderr=pipe stdio_proto=tcp stdio_peer=IP:PORT
 * stdio_local=IP:PORT", docs/FORMAT.md) appended to d. A value out of range
 * (a damaged sample) is written "other"; inet_fd out of range: no stdio_*. */
void stdio_detail(struct strbuf *d, const struct om_stdio *st);

void exec_script_path(struct strbuf *out, const char *script, size_t script_len, const char *cwd,
		      size_t cwd_len);

#endif
