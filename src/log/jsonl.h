/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JSON Lines (docs/FORMAT.md, "JSON Lines"): the same records, one flat JSON
 * object per line, with Elastic Common Schema names where one exists
 * (dotted keys, as ECS writes them flat). A value is the CSV field's text
 * (escaped the same way, so nothing is lost and converting back gives the
 * CSV line byte for byte), JSON-escaped on top; numbers are JSON numbers;
 * empty fields are left out. The keys are log/schema.h's. Every record also names its host. The
 * hash chain value is the last member, "onmitsu.chain"; the hashed bytes of a JSONL record are its
 * line up to, not including, ',"onmitsu.chain":"'.
 */
#ifndef ONMITSU_JSONL_H
#define ONMITSU_JSONL_H

#include <stddef.h>

#include "log/record.h"
#include "util/strbuf.h"

#define JSONL_CHAIN_KEY "onmitsu.chain"
#define JSONL_CHAIN_MARK ",\"" JSONL_CHAIN_KEY "\":\""

struct jsonl_host {
	const char *name, *id, *boot_id; /* NULL or "": left out */
};

/*
 * One object from the CSV fields' text (log/schema.h's column order; NULL or "" is
 * empty). chain: the chain value, or NULL; when NULL the object is left open
 * (no "}" and no "\n") for the writer to add the chain.
 */
void jsonl_encode_fields(struct strbuf *out, const char *const *fields,
			 const struct jsonl_host *host, const char *chain);

/*
 * Parse one JSONL line into CSV field text: fields[] (COL_COUNT + 1
 * entries, the last for chain) point into store, "" when absent. Returns
 * 0, or -1 when the line is not a flat JSON object of strings and numbers.
 * host (optional) gets the host.* members.
 */
int jsonl_decode(const char *line, size_t len, struct strbuf *store, const char **fields,
		 struct jsonl_host *host);

/* Append s as a JSON string body (no quotes). */
void json_escape(struct strbuf *out, const char *s, size_t n);

#endif
