/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JSON Lines (docs/FORMAT.md, "JSON Lines"): the same records, one JSON
 * object per line, in the Elastic Common Schema (ECS) 8.x as Elastic
 * documents it: nested objects ("process":{"pid":4242}), ecs.version,
 * event.kind/category/type, the values themselves (process.args is the exact
 * argv, process.executable the path without onmitsu's \x escapes), and
 * onmitsu's own fields under "onmitsu".
 *
 * Lossless both ways: every CSV column has one place in the object that
 * gives its text back (log/schema.h's columns; jsonl.c says where). Where the
 * ECS value cannot give the CSV text back byte for byte (bytes that are not
 * UTF-8, a value that is not of the ECS field's type, a damaged field), the
 * CSV text is also written, exactly, in onmitsu.exact.COLUMN; the encoder
 * checks this for every record by decoding what it wrote.
 *
 * The hash chain value, on checkpoints (log/chain.h), is the last member of
 * the last object, "onmitsu":{...,"chain":"HEX"}}; the object "onmitsu" is
 * always written, even empty. The hashed bytes of a JSONL record are its
 * line up to, not including, ',"chain":"' (or '"chain":"' right after the
 * '{' of an onmitsu object that holds nothing else), and of a line without
 * a chain value, the line without its closing "}}".
 *
 * Logs written before 0.3 hold flat objects with dotted keys and the CSV
 * text as values ("process.pid":4242, "event.action":"EXEC", the chain in
 * "onmitsu.chain", the last member when written); they have no ecs.version,
 * and still read and verify.
 */
#ifndef ONMITSU_JSONL_H
#define ONMITSU_JSONL_H

#include <stddef.h>

#include "log/record.h"
#include "util/strbuf.h"

/* The ECS release whose field reference the objects follow
 * (tests/data/ecs/ has the fields used, from that release). */
#define JSONL_ECS_VERSION "8.17.0"

/* The chain member: the last of the onmitsu object, which is the last of the line. */
#define JSONL_CHAIN_MEMBER "\"chain\":\""
/* ... and in the flat JSON Lines of onmitsu before 0.3 */
#define JSONL_FLAT_CHAIN_KEY "onmitsu.chain"
#define JSONL_FLAT_CHAIN_MARK ",\"" JSONL_FLAT_CHAIN_KEY "\":\""

struct jsonl_host {
	const char *name, *id, *boot_id; /* NULL or "": left out */
};

/* What a decoded line is stored in; zero-initialised, freed by jsonl_store_free. */
struct jsonl_store {
	struct strbuf text; /* keys and values */
	struct strbuf ents; /* the members found (jsonl.c) */
};
void jsonl_store_free(struct jsonl_store *s);

/*
 * One object from the CSV fields' text (log/schema.h's column order; NULL or
 * "" is empty). chain: the chain value ("" for none), or NULL; when NULL the
 * object is left open after the last member of "onmitsu" (no chain, no "}}"
 * and no "\n") for the writer to hash it and add the chain with
 * jsonl_add_chain.
 */
void jsonl_encode_fields(struct strbuf *out, const char *const *fields,
			 const struct jsonl_host *host, const char *chain);

/* Close a line jsonl_encode_fields left open (it starts at body_start in
 * out) with its chain value chain[0..len), "}}" and "\n". */
void jsonl_add_chain(struct strbuf *out, size_t body_start, const char *chain, size_t len);

/* What jsonl_decode found. */
enum jsonl_kind {
	JSONL_BAD = -1, /* not a JSON object, or one onmitsu did not write */
	JSONL_ECS = 0,	/* ECS, as written since 0.3 */
	JSONL_FLAT = 1, /* flat, dotted keys: written before 0.3 */
};

/*
 * Parse one JSONL line into CSV field text: fields[] (COL_COUNT + 1
 * entries, the last for chain) point into store, "" when absent. Returns a
 * jsonl_kind. host (optional) gets the host.* members. Bounded: nesting at
 * most 16 deep, and nothing grows beyond a few times the line.
 */
int jsonl_decode(const char *line, size_t len, struct jsonl_store *store, const char **fields,
		 struct jsonl_host *host);

/* Append s as a JSON string body (no quotes): '"', '\\' and controls
 * escaped, every other byte as it is (CSV text, already escaped). */
void json_escape(struct strbuf *out, const char *s, size_t n);

#endif
