/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The record schema and the record line, in one place: the columns of a log
 * record (docs/DESIGN.md "Event model", docs/FORMAT.md), the longest line any
 * reader takes, and the one parser of a record line (CSV or JSON Lines) that
 * the writer's recovery, verify, the forwarder, the converter and the query
 * reader all use.
 *
 * To add a column (sha256, cgroup, container id, script, ...):
 *   1. Append one line at the end of LOG_COLUMNS below: its COL_ name, its
 *      CSV header name, its key in the flat JSON Lines of before 0.3 (read
 *      only: "onmitsu.NAME" for a new column) and its kind. Never insert or reorder: users'
 *      scripts and older readers find columns by header name, and new ones
 *      are only ever appended (the chain column stays the last of a line:
 *      it is not a column of the table but the line's trailer, log/chain.h).
 *   2. Add the field to struct om_record (log/record.h), fill it where the
 *      recorder builds records, and write it at the end of csv_encode
 *      (log/csv.c); test_csv.c's csv_encode_writes_every_column fails until
 *      the encoder writes as many fields as the table has. Give it its place
 *      in the ECS object of JSON Lines (log/jsonl.c: enc_ecs writes it,
 *      columns_ecs reads it back; test_jsonl.c's round trip and ECS field
 *      check fail until both do, and tests/data/ecs/ lists its field).
 *   3. Document it in docs/FORMAT.md (the header line, the column table, the
 *      JSON Lines table; the unit and e2e tests read the header line from
 *      there) and in docs/DESIGN.md's column list.
 *   4. Regenerate the goldens (ONMITSU_GOLDEN_UPDATE=1 build/unit-tests
 *      golden) and commit their diff: every header and record gains a field.
 * Nothing else changes: the CSV header, the JSON keys, the query reader's
 * columns (rec->f[COL_...]), verify, the forwarder, the converter and the
 * writer's recovery all take the columns from here, and find them in a log
 * by the header's names, so logs written before the column still read.
 */
#ifndef ONMITSU_SCHEMA_H
#define ONMITSU_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/jsonl.h"
#include "log/segment.h"
#include "util/strbuf.h"

/* What a column holds, for the encoders and the checks of the readers. */
enum col_kind {
	COL_KIND_TIME,	      /* 2026-11-25T19:13:17.123456Z (csv_format_time) */
	COL_KIND_NUMBER,      /* unsigned decimal; a JSON number */
	COL_KIND_NUMBER_TEXT, /* unsigned decimal; a JSON string (ECS user.id is a string) */
	COL_KIND_IP,	      /* an IPv4 or IPv6 address as inet_ntop writes it */
	COL_KIND_TEXT,	      /* escaped text (util/escape.h) */
};

/* X(ID, CSV header name, flat JSON Lines key of before 0.3, kind), in CSV column order. */
#define LOG_COLUMNS(X)                                                                             \
	X(TIME, "time", "@timestamp", COL_KIND_TIME)                                               \
	X(SEQ, "seq", "event.sequence", COL_KIND_NUMBER)                                           \
	X(EVENT, "event", "event.action", COL_KIND_TEXT)                                           \
	X(PID, "pid", "process.pid", COL_KIND_NUMBER)                                              \
	X(PPID, "ppid", "process.parent.pid", COL_KIND_NUMBER)                                     \
	X(GUID, "guid", "process.entity_id", COL_KIND_TEXT)                                        \
	X(PARENT_GUID, "parent_guid", "process.parent.entity_id", COL_KIND_TEXT)                   \
	X(UID, "uid", "user.id", COL_KIND_NUMBER_TEXT)                                             \
	X(EXE, "exe", "process.executable", COL_KIND_TEXT)                                         \
	X(CMDLINE, "cmdline", "process.command_line", COL_KIND_TEXT)                               \
	X(PROTO, "proto", "network.transport", COL_KIND_TEXT)                                      \
	X(SRC_IP, "src_ip", "source.ip", COL_KIND_IP)                                              \
	X(SRC_PORT, "src_port", "source.port", COL_KIND_NUMBER)                                    \
	X(DST_IP, "dst_ip", "destination.ip", COL_KIND_IP)                                         \
	X(DST_PORT, "dst_port", "destination.port", COL_KIND_NUMBER)                               \
	X(DIRECTION, "direction", "network.direction", COL_KIND_TEXT)                              \
	X(RESULT, "result", "onmitsu.result", COL_KIND_TEXT)                                       \
	X(PATH, "path", "file.path", COL_KIND_TEXT)                                                \
	X(COMMUNITY_ID, "community_id", "network.community_id", COL_KIND_TEXT)                     \
	X(DETAIL, "detail", "onmitsu.detail", COL_KIND_TEXT)                                       \
	X(SHA256, "sha256", "onmitsu.sha256", COL_KIND_TEXT)                                       \
	X(CGROUP, "cgroup", "onmitsu.cgroup", COL_KIND_TEXT)                                       \
	X(CONTAINER_ID, "container_id", "container.id", COL_KIND_TEXT)                             \
	X(TARGET_PID, "target_pid", "onmitsu.target.pid", COL_KIND_NUMBER)                         \
	X(TARGET_GUID, "target_guid", "onmitsu.target.entity_id", COL_KIND_TEXT)                   \
	X(DNS_NAME, "dns_name", "dns.question.name", COL_KIND_TEXT)                                \
	X(DNS_TYPE, "dns_type", "dns.question.type", COL_KIND_TEXT)                                \
	X(DNS_ANSWERS, "dns_answers", "onmitsu.dns.answers", COL_KIND_TEXT)

/* COL_TIME, COL_SEQ, ...: a column's place in the table (and in the CSV
 * line the recorder writes; a reader finds it in a log by name). */
/* clang-format off */
enum log_col {
#define LOG_COL_ENUM_(id, name, key, kind) COL_##id,
	LOG_COLUMNS(LOG_COL_ENUM_)
#undef LOG_COL_ENUM_
	COL_COUNT
};
/* clang-format on */

struct log_column {
	const char *name;     /* in the CSV header */
	const char *json_key; /* in the flat JSON Lines of before 0.3 (log/jsonl.h) */
	enum col_kind kind;
};

extern const struct log_column log_columns[COL_COUNT];
/* log_columns[c].name, for the readers that want only the names */
extern const char *const log_col_names[COL_COUNT];

/*
 * The longest line (without its "\n") any reader takes: the writer's recovery
 * at open, verify, cat, the forwarder and the query commands. The recorder's
 * longest record, a full-size exe, path and argv each escaped to four bytes a
 * byte and quoted, is far below it; a longer line is not one onmitsu wrote.
 * docs/FORMAT.md states it.
 */
#define LOG_LINE_MAX (1u << 20)
_Static_assert(4ull * (2 * 4096 + 32768) + 65536 < LOG_LINE_MAX,
	       "a record of full-size exe, path and argv (event.h) fits in a line");
/* The most fields a line may have, known columns or not. */
#define LOG_MAX_FIELDS 256

/* ---- where the columns are in a log's lines ---- */

struct log_layout {
	int nfields;	    /* fields in every line, chain included */
	int idx[COL_COUNT]; /* field index of each column; -1 when the log has none */
	int chain;	    /* field index of chain; -1 when the log has none */
};

/* The layout of the header this onmitsu writes (with or without chain). */
void log_layout_standard(struct log_layout *l, bool with_chain);
/*
 * The layout of a CSV header line (without "\n"; it is not changed). Columns
 * are found by name, so columns in another order and unknown ones are
 * fine. false when the line does not split into 1..LOG_MAX_FIELDS names;
 * which columns a caller needs, it checks (idx[c] < 0: absent).
 */
bool log_layout_from_header(struct log_layout *l, const char *line, size_t len);
/* The same from names already split (names[0..n), n as csv_split gave it). */
bool log_layout_from_names(struct log_layout *l, char *const *names, int n);

/* The header line for the standard layout, with its "\n". */
void log_write_header(struct strbuf *out, bool with_chain);

/* ---- one record line ---- */

/* A record line's fields. Pointers are into the line (CSV, split in place)
 * or into the parser's store (JSON Lines), valid until the next parse. */
struct log_line {
	const char *f[COL_COUNT]; /* each column's text, NUL-terminated; "" when empty or absent */
	uint32_t len[COL_COUNT];
	const char *chain; /* the chain field, "" when none */
	uint32_t chain_len;
	int nfields;	      /* CSV: every field of the line, in file order */
	char *const *fields;  /* ...with their text */
	const uint32_t *flen; /* ...and lengths */
};

struct log_line_parser {
	char *fields[LOG_MAX_FIELDS];
	uint32_t flen[LOG_MAX_FIELDS];
	struct strbuf copy;
	struct jsonl_store store;
	bool flat; /* the last JSON Lines line parsed was flat (before 0.3, log/jsonl.h) */
};

void log_line_parser_free(struct log_line_parser *p);

/* What is wrong with a line (log_line_split, log_line_parse). */
enum log_line_error {
	LOG_LINE_OK = 0,
	LOG_LINE_QUOTING = -1, /* malformed RFC 4180 quoting */
	LOG_LINE_NUL = -2,     /* a NUL byte */
	LOG_LINE_FIELDS = -3,  /* not the layout's field count (out->nfields says how many) */
	LOG_LINE_JSON = -4,    /* not a JSON Lines record (log/jsonl.h) */
};

/*
 * Split a CSV record line in place (line[len] must be writable: the "\n" it
 * was read with, or its NUL) and find its columns by the layout. Most lines
 * hold no double quote and are split in one pass.
 */
int log_line_split(struct log_line_parser *p, const struct log_layout *l, char *line, size_t len,
		   struct log_line *out);

/* The same for a caller that keeps the columns in arrays of its own
 * (f[COL_COUNT], flen[COL_COUNT]: the query reader's log_record), without
 * the copy; *nfields is set as out->nfields is. */
int log_line_split_cols(struct log_line_parser *p, const struct log_layout *l, char *line,
			size_t len, const char **f, uint32_t *flen, int *nfields);

/*
 * Parse a record line of either format without changing it: CSV by the
 * layout (NULL: the standard one with chain), JSON Lines by key.
 */
int log_line_parse(struct log_line_parser *p, enum log_format f, const struct log_layout *l,
		   const char *line, size_t len, struct log_line *out);

/* Text of a line error, for a report ("malformed quoting", ...). */
const char *log_line_strerror(int err);

/*
 * An unsigned decimal field: 1..20 digits, nothing else, no overflow. Every
 * reader takes seq, pid and ports through it.
 */
static inline bool log_parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return false;
		/* 19 digits always fit; only the 20th can overflow */
		if (i == 19 && v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* The line's seq; false when it is empty or not a number that fits. */
bool log_line_seq(const struct log_line *l, uint64_t *seq);

#endif
