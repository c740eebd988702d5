/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The log reader: every record of every segment of a log directory, in order,
 * as one stream, whether a segment is plain or zstd-compressed.
 *
 * Layout (docs/DESIGN.md, docs/FORMAT.md): closed segments DIR/onmitsu-*.csv and
 * DIR/onmitsu-*.csv.zst, ordered by file name (with ".zst" set aside, so that
 * compressed and plain segments interleave by their names), then the active
 * log DIR/onmitsu.csv. When a segment exists both plain and compressed (the
 * writer is compressing it right now), the plain one is read: it is complete,
 * the compressed one may not be yet. The listing is the writer's and verify's
 * own (segment_list_all, log/segment.h): exactly the files `onmitsu verify`
 * checks. A file that only looks like a segment (a link, a name the recorder
 * does not make, the other format) is named in a warning on stderr and not
 * read.
 *
 * Every file starts with a header line; columns are found by header name, so
 * columns appended later are carried along and unknown ones ignored.
 *
 * A JSON Lines log (record --format jsonl: onmitsu.jsonl, onmitsu-*.jsonl
 * and onmitsu-*.jsonl.zst, in the same order) is read too. A directory holds
 * one format (the writer refuses to mix them): the active segment's, else CSV
 * when there is a CSV segment, else JSON Lines. Each JSON line is decoded
 * (log/jsonl.h) and rebuilt as the CSV line `cat --format csv` makes of it,
 * under that command's header (the standard columns, then chain), then read
 * like a CSV line: records, raw lines and the header are the same as on the
 * log converted to CSV. A line that is not an onmitsu JSON Lines record is
 * reported and skipped like a bad CSV line.
 *
 * A line that cannot be parsed (bad quoting, wrong number of fields, binary
 * data, a bad time or number, an incomplete last line) is reported on stderr
 * with its file and line number and skipped; the reader never stops on one.
 *
 * Records are split in place, without a copy per field: the pointers in
 * struct log_record are valid until the next call. By default a second
 * thread reads, decompresses and splits while the caller folds records into
 * its history, handing them over in batches of a few thousand; the caller
 * sees the same stream either way.
 */
#ifndef ONMITSU_QUERY_READER_H
#define ONMITSU_QUERY_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/record.h"
#include "log/schema.h"

/* The columns (enum log_col: COL_TIME, ...), LOG_MAX_FIELDS and the longest
 * line read, LOG_LINE_MAX (a longer one is reported and skipped), are
 * log/schema.h's. */
/* How many bad lines are reported one by one per file before only counting. */
#define LOG_MAX_REPORTS 20

#define LOG_EVENT_BIT(e) (1u << (e))
#define LOG_EVENT_UNKNOWN_BIT (1u << 31) /* a well-formed event name this reader does not know */
#define LOG_EVENTS_ALL 0xffffffffu

struct log_reader_opts {
	uint32_t events;    /* LOG_EVENT_BIT()s of the records wanted; 0 means all */
	bool keep_raw;	    /* keep the line as written in log_record.raw */
	bool quiet;	    /* do not report bad lines (they are still counted) */
	bool single_thread; /* read on the caller's thread (default: a reading thread) */
};

struct log_record {
	const char *file;	  /* the segment's path */
	uint64_t line_no;	  /* 1-based, in that file */
	int event;		  /* enum om_event, or -1: a name this reader does not know */
	uint64_t time_ns;	  /* Unix ns */
	const char *f[COL_COUNT]; /* each known column, NUL-terminated; "" when empty or absent */
	uint32_t len[COL_COUNT];  /* their lengths */
	/* every field in file order, with the header's names */
	int nfields;
	char *const *fields;
	char *const *names;
	/* the line as written, without its "\n" (only with keep_raw) */
	const char *raw;
	size_t raw_len;
};

struct log_reader;

/* The segments of dir, in reading order (see above). Returns the count, or -1
 * with errno set when dir cannot be read; *paths is a NULL-terminated array
 * to free with log_segments_free. */
int log_segments(const char *dir, char ***paths);
void log_segments_free(char **paths);

/* NULL when dir holds no log or cannot be read; the reason is in err. */
struct log_reader *log_reader_open(const char *dir, const struct log_reader_opts *opts, char *err,
				   size_t errsize);
/* 1: a record; 0: the end of the last segment. */
int log_reader_next(struct log_reader *r, struct log_record *rec);
/* The first segment's header line, as written, without "\n" ("" before the
 * first record was read or when there is none). */
const char *log_reader_header(const struct log_reader *r);
/* Counts, for the end of a command (after log_reader_next returned 0). */
uint64_t log_reader_records(const struct log_reader *r);
uint64_t log_reader_bad_lines(const struct log_reader *r);
/* Whether a segment could not be read at all or only in part (unreadable
 * file, corrupt compression): the command must then fail. */
bool log_reader_failed(const struct log_reader *r);
void log_reader_close(struct log_reader *r);

/* A non-negative decimal number of a numeric field; -1 when empty or not a
 * number. */
int64_t log_field_num(const char *s);
int64_t log_field_numn(const char *s, size_t n);
/* A known column of a record as a number (-1: empty or not a number). */
static inline int64_t log_record_num(const struct log_record *rec, enum log_col c)
{
	return log_field_numn(rec->f[c], rec->len[c]);
}

#endif
