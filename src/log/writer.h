/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The log writer (docs/LIFECYCLE.md, docs/INTEGRITY.md): the active segment
 * DIR/onmitsu.csv (or .jsonl), header then records, numbered by a gap-free
 * seq and chained by a hash that both continue across restarts. Records are
 * encoded into a buffer and written by log_writer_flush (the recorder flushes
 * at least once a second and on stop).
 *
 * The active segment is rotated by size and age into a closed segment named
 * by its first record; a thread compresses closed segments with zstd and
 * expires the oldest, off the recording path. With a sealing key, SEAL
 * records seal the chain at an interval, at rotation and at close.
 *
 * At open, a torn last line left by a crash is cut, and a log that ended
 * without a clean stop is closed as a segment of its own, so the next run
 * starts in a new segment. The active segment is append-only (FS_APPEND_FL)
 * while open, and the directory is locked against a second writer.
 */
#ifndef ONMITSU_WRITER_H
#define ONMITSU_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "log/chain.h"
#include "log/jsonl.h"
#include "log/record.h"
#include "log/schema.h"
#include "log/seal.h"
#include "log/segment.h"
#include "util/strbuf.h"

#define LOG_ACTIVE_NAME "onmitsu.csv"
#define LOG_LOCK_NAME "onmitsu.lock"
/* What a stop could not write, for the next START (docs/LIFECYCLE.md):
 * created at open at its full size, so that it can be written on a full disk */
#define LOG_STATE_NAME "onmitsu.state"
#define LOG_STATE_SIZE 256
#define LOG_BUFFER_MAX (64u << 20) /* bytes held while the disk refuses writes */

/* Defaults for an always-on host (docs/LIFECYCLE.md). */
#define LOG_DEFAULT_ROTATE_SIZE (64ull << 20)
#define LOG_DEFAULT_ROTATE_AGE (24ull * 3600)
#define LOG_DEFAULT_KEEP_SIZE (1ull << 30)
#define LOG_DEFAULT_KEEP_AGE (90ull * 24 * 3600)
#define LOG_DEFAULT_COMPRESS_LEVEL 9
#define LOG_DEFAULT_SEAL_INTERVAL 300ull
#define LOG_MIN_ROTATE_SIZE 4096ull

struct log_writer_opts {
	enum log_format format;
	uint64_t rotate_size;	/* bytes; 0: never by size */
	uint64_t rotate_age;	/* seconds; 0: never by age */
	uint64_t keep_size;	/* bytes of all segments; 0: no limit */
	uint64_t keep_age;	/* seconds; 0: no limit */
	int compress_level;	/* zstd level 1..19; 0: do not compress */
	const char *seal_key;	/* sealing key file; NULL: no seals */
	uint64_t seal_interval; /* seconds */
	struct jsonl_host host; /* named in every JSON Lines record */
	const char *syslog;	/* HOST:PORT to forward to (log/forward.h), or NULL */
	size_t buffer_max;	/* bytes held while the disk refuses writes;
				   0: LOG_BUFFER_MAX (tests set less) */
};

/* The defaults above, CSV, no sealing key. */
void log_writer_opts_default(struct log_writer_opts *o);

struct log_writer {
	char *dir;
	int dirfd;
	int fd;
	int lock_fd;
	struct log_writer_opts opts;
	const char *active_name;
	uint64_t next_seq;
	uint64_t torn_bytes;   /* cut from a torn last line at open */
	uint64_t last_time_ns; /* time of the last record found at open (0: none) */
	bool unclean;	       /* the previous run did not end with STOP */
	bool chain_restarted;  /* an older log without chain: the chain starts anew */
	int append_only;       /* 1: FS_APPEND_FL set; 0: not supported here */
	int append_only_errno;
	uint64_t dropped; /* records given up: the buffer was full, or the disk
			     refused them when the segment had to be closed */
	uint64_t bytes_written;
	uint64_t records;
	bool write_failing;
	int write_errno; /* of the last failed write */
	/*
	 * The buffer: records encoded, not yet written. It starts at a line:
	 * its first buf_written bytes are on disk already (a write cut short),
	 * and its first buf_hdr bytes are the segment's header when the disk
	 * refused that too.
	 */
	struct strbuf buf;
	size_t buf_written, buf_hdr;
	char buf_chain[CHAIN_HEX_LEN + 1]; /* the chain value before its first record */
	uint64_t disk_next_seq;		   /* the seq after the last record on disk */
	size_t hdr_len;			   /* of a segment's header */
	/* seqs given up, from unwritten_first to next_seq - 1: the next record
	 * written declares them (unwritten_seqs=, docs/FORMAT.md) */
	bool unwritten_pending;
	uint64_t unwritten_first;
	/* the previous run stopped with records unwritten (LOG_STATE_NAME) */
	bool prev_unwritten;
	int state_fd;
	struct strbuf scratch;
	struct chain chain;

	/* the active segment */
	uint64_t seg_bytes; /* written to it, header included */
	uint64_t seg_records;
	uint64_t seg_first_seq, seg_first_time_ns;
	uint64_t rotations;
	uint64_t last_name_time_ns; /* in the newest closed segment's name */

	/* sealing */
	bool sealing;
	struct seal_key key;
	uint64_t last_seal_ns;
	uint64_t records_since_seal;
	uint64_t seals;
	bool seal_failed; /* the evolved key could not be stored: sealing stopped */

	/* the compressor thread */
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool pending;
	volatile int stopping;
	uint64_t compressed, expired; /* counts, under mu */
	uint64_t expired_for_space;   /* under mu: expired because the disk was full */
	bool space_wanted;	      /* under mu: the disk is full, make room */

	/*
	 * The keeper thread: the one thread that keeps CAP_LINUX_IMMUTABLE (and
	 * nothing else) after the recorder drops every capability, to lift and
	 * set the append-only flag at rotation. Capabilities are per thread.
	 */
	pthread_t keeper;
	bool keeper_running;
	pthread_cond_t kcond;
	bool kreq_pending, kreq_done, kreq_on, keeper_stop;
	int kreq_fd, kreq_rc, kreq_errno;

	struct forwarder *forwarder; /* log/forward.h; NULL without --syslog */
};

/* Create DIR (mode 0700) if needed, lock it and open the active segment.
 * On failure prints why, naming the path, and returns -1. */
int log_writer_open(struct log_writer *w, const char *dir, const struct log_writer_opts *opts);

/* Give r the next seq, encode it and its chain value into the buffer;
 * rotates first when the active segment is full. */
void log_writer_append(struct log_writer *w, struct om_record *r);

/* Once a second: rotation by age, interval seals. now: Unix ns. */
void log_writer_tick(struct log_writer *w, uint64_t now_ns);

/* Append a SEAL record now (when sealing); reason: interval, rotate, stop. */
void log_writer_seal(struct log_writer *w, const char *reason, uint64_t now_ns);

/* " key=value ..." for START: recovery, gap, settings (appended to d). */
void log_writer_start_detail(struct log_writer *w, struct strbuf *d, uint64_t now_ns);
/* " key=value ..." for STOP: the writer's counters. */
void log_writer_stop_detail(struct log_writer *w, struct strbuf *d);

/* Write what is buffered; 0, or -1 (kept for the next try, warned once;
 * on a full disk the compressor is asked to make room, see LIFECYCLE.md). */
int log_writer_flush(struct log_writer *w);

/* Flush and fsync. */
int log_writer_sync(struct log_writer *w);

/* Wake the compressor (compress closed segments, expire old ones). */
void log_writer_maintain(struct log_writer *w);

/* Seal (reason stop) when records were written since the last seal, sync,
 * lift the append-only flag, stop the compressor, unlock. Records the disk
 * still refuses are counted, named on stderr and kept in LOG_STATE_NAME for
 * the next START (on a full disk with retention on, after giving the compressor
 * up to 3 s to make room): then -1, else 0. */
int log_writer_close(struct log_writer *w);

/* The last record of a line as the writer needs it at open. */
struct log_tail {
	bool found;
	uint64_t seq, time_ns;
	char event[16];
	char reason[16];	       /* SEAL's reason */
	char chain[CHAIN_HEX_LEN + 1]; /* the chain field: full value, empty, or tag */
	bool has_chain;		       /* the log has the chain column (the field may be empty) */
	bool chain_full;	       /* the field is a full value (a checkpoint) */
};

/* Parse one record line of format f (log/schema.h's parser; cols: where the
 * columns are, NULL for the standard header with chain), at open. */
int log_line_tail(const char *line, size_t len, enum log_format f, const struct log_layout *cols,
		  struct log_tail *t);

#endif
