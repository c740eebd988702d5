/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 of the files processes run and map, off the ring buffer's path
 * (docs/DESIGN.md, "What a process was"). The consumer asks for the hash of
 * a file the kernel identified (record/filehash.h); a cached identity is
 * answered at once. Otherwise one worker thread opens the file at once (the
 * process's /proc/PID/exe, which pins the inode even when deleted or a
 * memfd; else the path or /proc/PID/map_files, when they hold that very
 * file unchanged), checks it against the kernel's identity, and hashes it
 * from that descriptor in chunks, opening newer requests' files between
 * chunks. A file that cannot be proven to be what ran gets no hash, and a
 * reason (enum hash_err), never another file's hash.
 *
 * The worker keeps CAP_SYS_PTRACE (open other users' /proc/PID/exe),
 * CAP_DAC_READ_SEARCH (read files whatever their mode) and
 * CAP_CHECKPOINT_RESTORE (/proc/PID/map_files), and nothing else.
 */
#ifndef ONMITSU_HASHER_H
#define ONMITSU_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "record/filehash.h"

#define HASH_INFLIGHT_MAX 1024 /* files waiting for their hash at once (more: busy) */
#define HASH_CANDIDATES_MAX 64 /* processes tried for one file's descriptor */
#define HASH_CHUNK (1u << 20)  /* bytes hashed between looks at new requests */
#define HASH_SHA_HEX 65	       /* 64 hex digits and a NUL */

struct hasher_opts {
	uint64_t max_size;     /* bytes; larger files: too_big */
	const char *proc_root; /* "/proc" (tests: a fixture) */
	/* The generation of pid's latest exec as the kernel holds it (0), or -1. */
	int (*exec_gen)(void *ctx, uint32_t pid, uint64_t *gen);
	/* A file was hashed: the kernel need not wake user space for it again. */
	void (*known)(void *ctx, const struct om_file_key *k);
	void *ctx;
	/* The kernel refuses to write a file a process runs (ETXTBSY; not so
	 * in 6.11): an exe still the image of its exec is then what ran. */
	bool running_exe_unwritable;
};

/* Whether this kernel refuses to open a running executable for writing: its
 * own exe (/proc/self/exe) is tried; when it opens, it is closed at once. */
bool hasher_probe_running_exe_unwritable(void);

enum hash_req_kind {
	HASH_REQ_EXEC,	 /* the file pid executed: /proc/PID/exe, then the path */
	HASH_REQ_MODULE, /* a file pid mapped: the path, then /proc/PID/map_files */
	HASH_REQ_FD,	 /* a descriptor already open (the start-up snapshot), taken over */
};

struct hash_req {
	enum hash_req_kind kind;
	uint32_t pid;
	uint64_t gen;	      /* EXEC: the image's generation (om_ev_proc.exec_gen), 0: none */
	struct om_file_id id; /* the kernel's identity (FD: from fstat, file_id_from_stat) */
	int64_t event_unix_ns;
	const char *path; /* the file's name as the event gave it (need not hold NUL) */
	size_t path_len;
	int fd; /* FD: an open descriptor of the file; closed by the hasher */
};

struct hasher_stats {
	uint64_t hashed;     /* files hashed */
	uint64_t cache_hits; /* requests answered by a file already hashed or being hashed */
	uint64_t bytes;	     /* bytes read to hash them */
};

struct hasher;
struct hash_wait;

/*
 * Open the file pid executed the way HASH_REQ_EXEC proves it (r->kind,
 * r->fd unused; r->path NUL-terminated or NULL): /proc/PID/exe when it is the
 * kernel's inode r->id and still the image of that exec (r->gen) or
 * unchanged, else r->path when it holds that very file unchanged. HASH_OK
 * with *fd (read-only) and *st; else the reason. For another reader of what
 * ran than the hasher's worker (record/evidence.c); o->proc_root NULL: /proc.
 */
enum hash_err exec_file_open(const struct hasher_opts *o, const struct hash_req *r, int *fd,
			     struct stat *st);

/* Starts the worker thread. NULL when out of memory or threads. */
struct hasher *hasher_new(const struct hasher_opts *o);
/* Stops the worker; waits still held are released. */
void hasher_free(struct hasher *h);

/*
 * Ask for the hash of r's file. Known now: returns NULL, with sha_hex the
 * hash (HASH_OK) or "" and *err the reason. Otherwise a wait, to ask
 * hasher_result about until it is ready (then it is released).
 */
struct hash_wait *hasher_request(struct hasher *h, const struct hash_req *r,
				 char sha_hex[HASH_SHA_HEX], enum hash_err *err);
/* true when w's result is ready: sha_hex/err as hasher_request, w released. */
bool hasher_result(struct hasher *h, struct hash_wait *w, char sha_hex[HASH_SHA_HEX],
		   enum hash_err *err);
/* Give a wait up (its result is no longer wanted). */
void hasher_release(struct hasher *h, struct hash_wait *w);
/* Sleep until some result is ready, at most ms. */
void hasher_sleep(struct hasher *h, int ms);
void hasher_get_stats(struct hasher *h, struct hasher_stats *s);

#endif
