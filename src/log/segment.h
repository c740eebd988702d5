/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Log segments (docs/LIFECYCLE.md). A log directory holds the active segment
 * DIR/onmitsu.csv (or .jsonl) and closed ones named by their first record:
 *     onmitsu-20261125T191317.123456Z-000000000042.csv[.zst]
 * (time of the first record, then its seq), so that sorting the names
 * sorts the segments in time order. A closed segment is compressed with zstd
 * into NAME.zst (written as NAME.zst.tmp, then renamed; the plain one is
 * removed only after that), and expired oldest first.
 */
#ifndef ONMITSU_SEGMENT_H
#define ONMITSU_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/strbuf.h"

#define SEGMENT_PREFIX "onmitsu-"
#define SEGMENT_NAME_MAX 96

enum log_format { LOG_FORMAT_CSV, LOG_FORMAT_JSONL };

/* "csv" / "jsonl" */
const char *log_format_ext(enum log_format f);
/* "onmitsu.csv" / "onmitsu.jsonl" */
const char *log_active_name(enum log_format f);

/* The closed segment's name for a first record at t_ns with seq. */
void segment_name(char *out, size_t size, uint64_t t_ns, uint64_t seq, enum log_format f);
/* Parse a closed segment's name; false when it is not one. */
bool segment_name_parse(const char *name, uint64_t *t_ns, uint64_t *seq, enum log_format *f,
			bool *zst);

struct segment_info {
	char name[SEGMENT_NAME_MAX];
	uint64_t first_seq;
	uint64_t first_time_ns;
	enum log_format format;
	bool zst;
	bool active;
	off_t size;
	int64_t mtime; /* seconds */
};

/*
 * The log of dirfd, the one listing that the writer, verify, cat, the
 * forwarder and the query commands all go by, so that what the queries read
 * is exactly what verify checks.
 *
 * The log's segments are the regular files (never a symbolic link) named
 * onmitsu.csv / onmitsu.jsonl (active) or as segment_name names a closed
 * segment, of the log's one format: that of its active segment (the
 * non-empty one when both exist, else CSV), or without one, CSV when there is
 * a CSV segment, else JSON Lines. *out gets them in reading order: closed
 * ones by name (a segment both plain and compressed is listed once, as the
 * plain one: the compressor is at work), then the active one. *out is
 * malloc'ed. Returns the count, or -1 with errno (readdir failed, or a file
 * could not be examined; a file that vanished while listing is skipped).
 *
 * strays (may be NULL): every other file that looks like a segment, named
 * onmitsu-*.csv, .jsonl (either .zst) or onmitsu.csv / onmitsu.jsonl: a
 * symbolic link, a FIFO or other non-regular file, a name the writer does not
 * make, a segment of the other format. No reader takes one for part of the
 * log; verify reports each (a file put there is tampering evidence) and the
 * queries warn. Free with segment_strays_free.
 */
struct segment_stray {
	char *name;	 /* escaped (util/escape.h): it can hold any byte */
	const char *why; /* "a symbolic link", ... */
};

int segment_list_all(int dirfd, struct segment_info **out, struct segment_stray **strays,
		     size_t *nstrays);
/* segment_list_all without the strays. */
int segment_list(int dirfd, struct segment_info **out);
void segment_strays_free(struct segment_stray *v, size_t n);
/* Warn on stderr about each stray of the log in dir (named in the message). */
void segment_warn_strays(const char *dir, const struct segment_stray *v, size_t n);

/*
 * Why a log directory (is_dir) or a file of it at path cannot be opened,
 * after errno e, and what to do, into buf: a directory that is not there
 * names --log-dir; a permission error says to run as root, or to join the
 * group that may read it when the directory (or file) lets its group read.
 */
void log_open_error(char *buf, size_t size, const char *path, bool is_dir, int e);

/*
 * How many of the oldest closed segments to delete so that the total size
 * (closed + active_size) is at most keep_size and none is older than
 * keep_age seconds (by mtime: the time of its last record). 0 disables a
 * limit. segs: closed segments only, oldest first.
 */
size_t segment_plan_retention(const struct segment_info *segs, size_t n, uint64_t active_size,
			      uint64_t keep_size, uint64_t keep_age, int64_t now);

/* From this level on the compressor's window and match tables are capped
 * (segment.c): 1 MiB and 2^18 entries each. */
#define SEGMENT_ZSTD_CAP_FROM_LEVEL 6
#define SEGMENT_ZSTD_WINDOW_LOG 20
#define SEGMENT_ZSTD_TABLE_LOG 18

/* Compress dirfd/name into name.zst (see above). stop: checked between
 * blocks; when it is set the work is abandoned and -1 returned with
 * errno ECANCELED. On failure err says why. */
int segment_compress(int dirfd, const char *name, int level, const volatile int *stop, char *err,
		     size_t errsize);

/*
 * The bytes of one file, plain or zstd-decompressed. Both line readers stand
 * on it: seg_reader below (verify, cat, the writer, the forwarder) and the
 * query commands' reader (query/reader.c), which splits lines its own way.
 */
struct seg_source {
	int fd;
	bool zst;
	void *zs;
	char *in;
	size_t in_cap, in_len, in_pos;
	bool in_eof;
	size_t last_ret; /* ZSTD_decompressStream's last hint: 0 when a frame just ended */
	char error[160];
};

/* Read fd (then owned: seg_source_close closes it), zstd when zst. */
void seg_source_init(struct seg_source *s, int fd, bool zst);
/* Bytes read into dst (cap > 0), 0 at the end, -1 on a read or
 * decompression error (s->error says why). */
ssize_t seg_source_read(struct seg_source *s, char *dst, size_t cap);
void seg_source_close(struct seg_source *s);

/* Read the lines of one segment, plain or zstd. */
struct seg_reader {
	struct seg_source src;
	char *buf;
	size_t cap, pos, end;
	bool eof;
	uint64_t line_no; /* of the line last returned, 1-based */
	uint64_t offset;  /* byte offset (uncompressed) of the line last returned */
	uint64_t consumed;
	bool skip_long; /* set by the caller: a line over LOG_LINE_MAX is skipped (2) */
	bool skipping;
	char error[160];
};

int seg_reader_open(struct seg_reader *r, int dirfd, const char *name);
/* Read fd (then owned: seg_reader_close closes it), zstd when zst. */
void seg_reader_init_fd(struct seg_reader *r, int fd, bool zst);
/* 1: a line (without "\n"; *complete false when the file ends without one),
 * 0: the end, -1: read or decompression error (r->error), or a line longer
 * than LOG_LINE_MAX; with skip_long set such a line is passed over instead
 * and 2 says so (r->line_no is its number). The line stays valid until the
 * next call and may be modified in place. */
int seg_reader_next(struct seg_reader *r, char **line, size_t *len, bool *complete);
void seg_reader_close(struct seg_reader *r);

/* Set or clear FS_APPEND_FL on fd: 0, or -1 with errno (ENOTTY or
 * EOPNOTSUPP when the file system has no such flag, EPERM without
 * CAP_LINUX_IMMUTABLE). */
int file_set_append_only(int fd, bool on);

#endif
