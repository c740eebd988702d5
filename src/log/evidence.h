/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Evidence kept by the recorder when a rule fires (docs/DESIGN.md, "Evidence
 * preservation"; docs/FORMAT.md, EVIDENCE): the parts that need neither the
 * kernel nor /proc, shared by the recorder (record/evidence.c) and
 * `onmitsu verify`: the manifest (write, parse, check against the files),
 * the redaction of an environment, the disk budget.
 *
 * Layout under the log directory:
 *   evidence/GUID/           one directory per process kept (GUID.1 .. GUID.9
 *                            when a later run of the recorder keeps it again)
 *   evidence/GUID/MANIFEST   what was kept: every file with its size and SHA-256
 *   evidence/GUID/NAME       maps, status, cmdline, environ, fds, cwd, cgroup, ns
 *   evidence/files/SHA256    content-addressed copies (executables, mappings of
 *                            deleted or memfd files), shared by every manifest
 * The EVIDENCE record names the directory (path) and the manifest's SHA-256
 * (sha256): the chained log vouches for the manifest, the manifest for each file.
 */
#ifndef ONMITSU_EVIDENCE_H
#define ONMITSU_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define EVIDENCE_DIR "evidence"
#define EVIDENCE_FILES "files"		    /* evidence/files/SHA256 */
#define EVIDENCE_MANIFEST "MANIFEST"	    /* in each evidence/GUID/ */
#define EVIDENCE_MAGIC "onmitsu-evidence 1" /* the manifest's first line */
#define EVIDENCE_MANIFEST_MAX (64u << 10)   /* bytes of a manifest */
#define EVIDENCE_ENTRIES_MAX 64		    /* files and not-kept lines in one manifest */
#define EVIDENCE_NAME_MAX 80		    /* bytes of an entry's name */
#define EVIDENCE_REASON_MAX 32		    /* bytes of a not-kept reason */
#define EVIDENCE_DIRNAME_MAX 48		    /* GUID.N */

/* Defaults of record --evidence-max, --evidence-exe-max (docs/CONFIG.md). */
#define EVIDENCE_DEFAULT_MAX (256ull << 20)
#define EVIDENCE_DEFAULT_EXE_MAX (32ull << 20)

/* One line of a manifest: a file kept, or one that was not (and why). */
struct ev_entry {
	bool kept;
	char name[EVIDENCE_NAME_MAX + 1];     /* kept: "maps", ... or "files/SHA256" */
	uint64_t size;			      /* kept: bytes */
	char sha[65];			      /* kept: SHA-256, 64 lowercase hex digits */
	char what[EVIDENCE_NAME_MAX + 1];     /* "exe", "map:START-END", "maps", ... */
	char reason[EVIDENCE_REASON_MAX + 1]; /* not kept: why */
};

struct ev_manifest {
	uint32_t pid;
	uint64_t start_ticks;
	char guid[40];
	char rule[32];
	struct ev_entry e[EVIDENCE_ENTRIES_MAX];
	size_t n;
};

/* A name evidence entries may have: "files/" and 64 hex digits, or 1..32
 * of [a-z0-9_.-] not starting with '.'. Anything else is refused by the
 * parser (and never opened by verify). */
bool ev_entry_name_ok(const char *name);
/* An evidence directory as the record's path names it: "evidence/" then
 * a GUID (36 of [0-9a-f-]) and maybe ".1".."9". */
bool ev_record_path_ok(const char *path, size_t len);

/*
 * Held by whoever reuses or removes a file of evidence/files: the recorder's
 * evidence threads when a manifest is to name a file kept before (they
 * refresh its time under it), and retention when it removes files no
 * manifest names any more (ev_expire), so that it never removes one that a
 * manifest being written names.
 */
void ev_store_lock(void);
void ev_store_unlock(void);

/*
 * Retention of evidence (the log's --keep-size, --keep-age): what no record
 * left in the log can name. Removes, under the log directory logfd, each
 * evidence/GUID directory whose MANIFEST (or itself, without one) was last
 * changed before cutoff (seconds since the epoch), then each file of
 * evidence/files that no manifest left names and that is older than cutoff.
 * Nothing is followed through a link; only names evidence writes are
 * touched. Returns the directories removed; *files and *bytes (if given):
 * the shared files removed and the bytes freed in all.
 */
size_t ev_expire(int logfd, int64_t cutoff, size_t *files, uint64_t *bytes);

/* The manifest's text. */
void ev_manifest_write(const struct ev_manifest *m, struct strbuf *out);
/* Parse a manifest (len bytes): 0, or -1 with err saying what is wrong. */
int ev_manifest_parse(const char *buf, size_t len, struct ev_manifest *m, char *err,
		      size_t errsize);

/*
 * Check the evidence an EVIDENCE record names, in the log directory logfd:
 * the manifest at path/MANIFEST hashes to sha_hex, and each file it lists
 * has its size and SHA-256. 0 intact; -1 with err naming the first problem.
 * Nothing is followed through a link.
 */
int ev_check(int logfd, const char *path, const char *sha_hex, char *err, size_t errsize);

/*
 * Whether the value of an environment variable of this name is a secret
 * (redacted by default): its name, in any case, holds KEY, TOKEN, SECRET,
 * PASS, PWD (but not PWD or OLDPWD themselves), CREDENTIAL, AUTH, COOKIE,
 * SESSION or PRIVATE.
 */
bool ev_env_name_secret(const char *name, size_t len);
/*
 * A copy of an environment (/proc/PID/environ: NAME=VALUE entries, each
 * ending in NUL; the last may lack it) into out, with the value of every
 * secret (above), and every value that holds credentials in a URL
 * ("scheme://user:password@"), replaced by "<redacted>"; an entry without
 * '=' is replaced whole. Returns how many were redacted.
 */
unsigned ev_env_redact(const char *env, size_t len, struct strbuf *out);

/* The disk budget of evidence: what is used against what may be. */
struct ev_budget {
	uint64_t max;  /* bytes under evidence/, all in all */
	uint64_t used; /* bytes there now */
};
/* Take n bytes: true when they fit (then counted), false when not. */
bool ev_budget_take(struct ev_budget *b, uint64_t n);

#endif
