/* SPDX-License-Identifier: BSD-2-Clause */
#include "query/reader.h"

#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/segment.h"
#include "util/log.h"
#include "util/safefile.h"
#include "util/strbuf.h"

#define ACTIVE_LOG "onmitsu.csv"
#define ACTIVE_JSONL "onmitsu.jsonl"
#define BATCHES 3
#define BATCH_RECORDS 8192
#define BATCH_TEXT (2u << 20)
#define BATCH_FIELD_PTRS (BATCH_RECORDS * 24)

/* ---- segments ---- */

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		fatal("out of memory");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static bool is_jsonl_path(const char *path)
{
	size_t n = strlen(path);
	return has_suffix(path, n, ".jsonl") || has_suffix(path, n, ".jsonl.zst");
}

int log_segments(const char *dir, char ***paths_out)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	/* the log's own listing (log/segment.h): exactly the files verify
	 * checks; a file that only looks like a segment is named and left out */
	struct segment_info *segs;
	struct segment_stray *strays = NULL;
	size_t nstrays = 0;
	int n = segment_list_all(dirfd, &segs, &strays, &nstrays);
	int saved = errno;
	close(dirfd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	segment_warn_strays(dir, strays, nstrays);
	segment_strays_free(strays, nstrays);
	char **paths = calloc((size_t)n + 1, sizeof(*paths));
	if (!paths)
		fatal("out of memory");
	for (int i = 0; i < n; i++)
		paths[i] = join_path(dir, segs[i].name);
	free(segs);
	paths[n] = NULL;
	*paths_out = paths;
	return n;
}

void log_segments_free(char **paths)
{
	if (!paths)
		return;
	for (char **p = paths; *p; p++)
		free(*p);
	free(paths);
}

/* ---- byte sources: a plain file or a zstd stream (log/segment.h) ---- */

static int source_open(struct seg_reader *sr, const char *path)
{
	/* the listing took regular files only; one swapped for a link, a FIFO
	 * or a device since is refused, not followed or read (a FIFO could hang
	 * the query) */
	char err[512];
	int fd = open_regular(AT_FDCWD, path, O_RDONLY, 0, 0, err, sizeof(err));
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			log_open_error(err, sizeof(err), path, false, errno);
		log_warnx("%s", err);
		return -1;
	}
	seg_reader_init_fd(sr, fd, has_suffix(path, strlen(path), ".zst"));
	sr->skip_long = true; /* a query skips such a line and reads on */
	return 0;
}

/* ---- the reader ---- */

struct log_reader {
	struct log_reader_opts opts;
	uint32_t wanted;
	char **paths;
	size_t next_path;
	const char *file;     /* current segment, or NULL */
	struct seg_reader sr; /* its lines (log/segment.h) */
	uint64_t line_no;     /* of the line last taken */

	/* the current file's header; every one is kept until close, since
	 * records handed over in batches point at their names */
	struct file_header *header, *headers;
	struct log_layout layout; /* where each known column is (log/schema.h) */
	bool have_header;
	char *first_header;
	/* the standard header (log/schema.h), for a file without one; and the
	 * one a JSON Lines segment is read under: the columns, then chain, as
	 * `cat --format csv` writes them (log/convert.h) */
	struct strbuf default_header, jsonl_header;

	struct log_line_parser parser; /* the record line parser (log/schema.h) */
	struct strbuf scratch;
	char *rec_work; /* where the last record's fields are, and how many bytes */
	size_t rec_work_len;

	/* the current segment is JSON Lines: each line is decoded (log/jsonl.h)
	 * and rebuilt as its CSV line, then read like one */
	bool jsonl;
	struct jsonl_store jstore;
	struct strbuf jline;

	/* the reading thread and the batches it hands over */
	bool threaded, thread_running, done;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct batch *full[BATCHES + 1], *empty[BATCHES];
	int nfull, nempty;
	bool stopping; /* under lock: the consumer closes early */
	struct batch *current;
	uint32_t current_pos;
	struct batch *all_batches[BATCHES];

	uint64_t records, bad, bad_in_file;
	bool failed;

	/* time parsing cache: records of one minute share "YYYY-MM-DDTHH:MM" */
	char time_prefix[16];
	uint64_t time_prefix_ns;
	bool time_cached;
};

struct file_header {
	char *copy;
	char *names[LOG_MAX_FIELDS];
	struct file_header *next;
};

/* Records parsed by the reading thread, with their own copy of the text. */
struct batch {
	char *text;
	size_t text_len, text_cap;
	struct log_record *recs;
	uint32_t n;
	char **field_ptrs;
	size_t nfield_ptrs;
};

static void sanitize(char *out, size_t size, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		}
		if (i == 40 && n > 44) {
			snprintf(out + o, size - o, "...");
			return;
		}
	}
	out[o < size ? o : size - 1] = '\0';
}

static void report(struct log_reader *r, uint64_t line_no, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct log_reader *r, uint64_t line_no, const char *fmt, ...)
{
	r->bad++;
	r->bad_in_file++;
	if (r->opts.quiet || r->bad_in_file > LOG_MAX_REPORTS)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%llu: %s; record skipped", r->file, (unsigned long long)line_no, msg);
}

static void finish_file(struct log_reader *r)
{
	if (!r->file)
		return;
	if (!r->opts.quiet && r->bad_in_file > LOG_MAX_REPORTS)
		log_warnx("%s: %llu more unreadable lines skipped", r->file,
			  (unsigned long long)(r->bad_in_file - LOG_MAX_REPORTS));
	seg_reader_close(&r->sr);
	r->file = NULL;
}

static bool open_next_file(struct log_reader *r)
{
	finish_file(r);
	while (r->paths[r->next_path]) {
		const char *path = r->paths[r->next_path++];
		if (source_open(&r->sr, path) < 0) {
			r->failed = true;
			continue;
		}
		r->file = path;
		r->line_no = 0;
		r->bad_in_file = 0;
		r->have_header = false;
		r->jsonl = is_jsonl_path(path);
		return true;
	}
	return false;
}

/* The next line of the current file, without "\n": 1, or 0 at its end. */
static int next_line(struct log_reader *r, char **line, size_t *len)
{
	for (;;) {
		bool complete;
		int rc = seg_reader_next(&r->sr, line, len, &complete);
		r->line_no = r->sr.line_no;
		if (rc == 1 && complete)
			return 1;
		if (rc == 1) {
			report(r, r->line_no,
			       "incomplete last line (%zu bytes without an end of "
			       "line: torn, or being written right now)",
			       *len);
			return 0;
		}
		if (rc == 2) {
			report(r, r->line_no, "line longer than %u bytes", LOG_LINE_MAX);
			continue;
		}
		if (rc < 0) {
			log_warnx("%s: %s (after line %llu); rest of the segment skipped", r->file,
				  r->sr.error, (unsigned long long)r->line_no);
			r->failed = true;
		}
		return 0;
	}
}

/* The event names and their lengths, set up once before any reading. */
static size_t event_name_len[OM_EVENT_COUNT];
/* The columns that must hold a number when not empty (log/schema.h's kinds). */
static enum log_col numeric_cols[COL_COUNT];
static size_t n_numeric_cols;

static void event_names_init(void)
{
	for (int e = 0; e < OM_EVENT_COUNT; e++)
		event_name_len[e] = strlen(om_event_name((enum om_event)e));
	size_t n = 0;
	for (int c = 0; c < COL_COUNT; c++)
		if (log_columns[c].kind == COL_KIND_NUMBER ||
		    log_columns[c].kind == COL_KIND_NUMBER_TEXT)
			numeric_cols[n++] = (enum log_col)c;
	n_numeric_cols = n;
}

static int event_lookup(const char *s, size_t n)
{
	for (int e = 0; e < OM_EVENT_COUNT; e++)
		if (event_name_len[e] == n && memcmp(om_event_name((enum om_event)e), s, n) == 0)
			return e;
	return -1;
}

static bool event_name_well_formed(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Parse the header line of the current file from a copy of it. */
static bool parse_header(struct log_reader *r, const char *line, size_t len, bool required)
{
	struct file_header *fh = calloc(1, sizeof(*fh));
	if (!fh || !(fh->copy = malloc(len + 1)))
		fatal("out of memory");
	memcpy(fh->copy, line, len);
	fh->copy[len] = '\0';
	char **names = fh->names;
	int n = csv_split(fh->copy, len, names, LOG_MAX_FIELDS);
	if (n <= 0 || n > LOG_MAX_FIELDS) {
		free(fh->copy);
		free(fh);
		return false;
	}
	struct log_layout l;
	log_layout_from_names(&l, names, n);
	if (required && (l.idx[COL_TIME] < 0 || l.idx[COL_EVENT] < 0)) {
		free(fh->copy);
		free(fh);
		return false;
	}
	fh->next = r->headers;
	r->headers = fh;
	r->header = fh;
	r->layout = l;
	r->have_header = true;
	return true;
}

int64_t log_field_num(const char *s)
{
	return log_field_numn(s, strlen(s));
}

int64_t log_field_numn(const char *s, size_t n)
{
	uint64_t v;
	if (!log_parse_u64(s, n, &v) || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

/* Records of one minute share their first 16 characters; parse the rest by
 * hand and the minute only once (csv_parse_time handles every other form). */
static int parse_time(struct log_reader *r, const char *s, size_t n, uint64_t *t_ns)
{
	if (n == 27 && r->time_cached && memcmp(s, r->time_prefix, 16) == 0 && s[16] == ':' &&
	    s[19] == '.' && s[26] == 'Z') {
		uint64_t sec, usec;
		if (log_parse_u64(s + 17, 2, &sec) && sec < 60 && log_parse_u64(s + 20, 6, &usec)) {
			*t_ns = r->time_prefix_ns + sec * 1000000000ull + usec * 1000ull;
			return 0;
		}
	}
	if (csv_parse_time(s, t_ns) < 0)
		return -1;
	uint64_t sec, usec;
	if (n == 27 && s[16] == ':' && s[19] == '.' && s[26] == 'Z' &&
	    log_parse_u64(s + 17, 2, &sec) && sec < 60 && log_parse_u64(s + 20, 6, &usec)) {
		memcpy(r->time_prefix, s, 16);
		r->time_prefix_ns = *t_ns - sec * 1000000000ull - usec * 1000ull;
		r->time_cached = true;
	}
	return 0;
}

/*
 * Find the event name without splitting the line: time and seq come before it
 * and are never quoted. Returns the event (or -1 unknown), or -2 when the line
 * must be split to tell.
 */
static int peek_event(const struct log_reader *r, const char *line, size_t len)
{
	int want = r->layout.idx[COL_EVENT];
	const char *p = line, *end = line + len;
	for (int i = 0; i < want; i++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			return -2;
		p = comma + 1;
	}
	const char *q = memchr(p, ',', (size_t)(end - p));
	if (!q)
		q = end;
	/* a quoted or odd name: let the full parse judge it */
	if (!event_name_well_formed(p, (size_t)(q - p)))
		return -2;
	return event_lookup(p, (size_t)(q - p));
}

static uint32_t event_bit(int e)
{
	return e < 0 ? LOG_EVENT_UNKNOWN_BIT : LOG_EVENT_BIT(e);
}

/* 1: rec filled; 0: skipped (unwanted or bad). */
static int parse_record(struct log_reader *r, char *line, size_t len, struct log_record *rec)
{
	if (len == 0) {
		report(r, r->line_no, "empty line");
		return 0;
	}
	if (r->wanted != LOG_EVENTS_ALL) {
		int e = peek_event(r, line, len);
		if (e != -2 && !(r->wanted & event_bit(e)))
			return 0;
	}
	char *work = line;
	if (r->opts.keep_raw) {
		sb_reset(&r->scratch);
		sb_add(&r->scratch, line, len);
		work = r->scratch.data;
	}
	int n = 0;
	int rc = log_line_split_cols(&r->parser, &r->layout, work, len, rec->f, rec->len, &n);
	if (rc == LOG_LINE_FIELDS) {
		report(r, r->line_no, "%d field%s where the header has %d", n, n == 1 ? "" : "s",
		       r->layout.nfields);
		return 0;
	}
	if (rc != LOG_LINE_OK) {
		report(r, r->line_no, "%s", log_line_strerror(rc));
		return 0;
	}
	const char *ev = rec->f[COL_EVENT];
	size_t evlen = rec->len[COL_EVENT];
	char shown[256];
	if (!event_name_well_formed(ev, evlen)) {
		sanitize(shown, sizeof(shown), ev, evlen);
		report(r, r->line_no, "bad event name \"%s\"", shown);
		return 0;
	}
	rec->event = event_lookup(ev, evlen);
	if (!(r->wanted & event_bit(rec->event)))
		return 0;
	if (parse_time(r, rec->f[COL_TIME], rec->len[COL_TIME], &rec->time_ns) < 0) {
		sanitize(shown, sizeof(shown), rec->f[COL_TIME], rec->len[COL_TIME]);
		report(r, r->line_no, "bad time \"%s\" (want 2026-11-25T19:13:17.123456Z)", shown);
		return 0;
	}
	for (size_t k = 0; k < n_numeric_cols; k++) {
		const char *v = rec->f[numeric_cols[k]];
		uint64_t dummy;
		size_t vlen = rec->len[numeric_cols[k]];
		if (vlen && !log_parse_u64(v, vlen, &dummy)) {
			sanitize(shown, sizeof(shown), v, vlen);
			report(r, r->line_no, "bad number \"%s\" in column %s", shown,
			       log_col_names[numeric_cols[k]]);
			return 0;
		}
	}
	rec->file = r->file;
	rec->line_no = r->line_no;
	rec->nfields = n;
	rec->fields = r->parser.fields;
	rec->names = r->header->names;
	rec->raw = r->opts.keep_raw ? line : NULL;
	rec->raw_len = r->opts.keep_raw ? len : 0;
	r->rec_work = work;
	r->rec_work_len = len + 1;
	return 1;
}

static void start_thread(struct log_reader *r);

struct log_reader *log_reader_open(const char *dir, const struct log_reader_opts *opts, char *err,
				   size_t errsize)
{
	char **paths;
	int n = log_segments(dir, &paths);
	if (n < 0) {
		log_open_error(err, errsize, dir, true, errno);
		return NULL;
	}
	if (n == 0) {
		log_segments_free(paths);
		snprintf(err, errsize,
			 "no log in %s (expected " ACTIVE_LOG ", " ACTIVE_JSONL
			 " or " SEGMENT_PREFIX "*.csv|jsonl[.zst]; is --log-dir right?)",
			 dir);
		return NULL;
	}
	struct log_reader *r = calloc(1, sizeof(*r));
	if (!r)
		fatal("out of memory");
	event_names_init();
	log_write_header(&r->default_header, false);
	r->default_header.data[--r->default_header.len] = '\0'; /* its "\n" */
	log_write_header(&r->jsonl_header, true);
	r->jsonl_header.data[--r->jsonl_header.len] = '\0';
	if (opts)
		r->opts = *opts;
	r->wanted = r->opts.events ? r->opts.events : LOG_EVENTS_ALL;
	r->paths = paths;
	r->sr.src.fd = -1;
	/* two cores: one reads, decompresses and splits, the other builds the
	 * history (ONMITSU_READER_THREAD=0 keeps it all on one) */
	const char *env = getenv("ONMITSU_READER_THREAD");
	r->threaded = !r->opts.single_thread && !(env && strcmp(env, "0") == 0);
	if (r->threaded)
		start_thread(r);
	return r;
}

/* The first segment's header is the log's; a later one that differs is told. */
static void note_header(struct log_reader *r, const char *line, size_t len)
{
	if (!r->first_header) {
		r->first_header = strndup(line, len);
		if (!r->first_header)
			fatal("out of memory");
	} else if (!r->opts.quiet &&
		   (strlen(r->first_header) != len || memcmp(r->first_header, line, len))) {
		/* an upgrade appended columns: records still read by name */
		log_warnx("%s: its header differs from the first segment's", r->file);
	}
}

/* A JSON Lines record as the CSV line `cat --format csv` writes for it, in
 * r->jline (with a spare byte after it, as the read buffer has); false when
 * the line is no record (reported). */
static bool jsonl_to_csv(struct log_reader *r, char **line, size_t *len)
{
	const char *f[COL_COUNT + 1];
	if (*len == 0) {
		report(r, r->line_no, "empty line");
		return false;
	}
	if (jsonl_decode(*line, *len, &r->jstore, f, NULL) < 0 || !*f[0] || !*f[1] || !*f[2]) {
		report(r, r->line_no,
		       "not an onmitsu JSON Lines record (want an object with @timestamp, "
		       "event.sequence and event.action)");
		return false;
	}
	sb_reset(&r->jline);
	csv_encode_fields(&r->jline, f, COL_COUNT);
	sb_addc(&r->jline, ',');
	sb_adds(&r->jline, f[COL_COUNT]);
	/* the recorder escapes line breaks; a CSV line cannot hold one */
	if (memchr(r->jline.data, '\n', r->jline.len)) {
		report(r, r->line_no, "a line break in a value");
		return false;
	}
	*line = r->jline.data;
	*len = r->jline.len;
	return true;
}

/* The next record, read and parsed here (single-threaded, or on the reading
 * thread). */
static int produce_next(struct log_reader *r, struct log_record *rec)
{
	for (;;) {
		if (!r->file && !open_next_file(r))
			return 0;
		char *line;
		size_t len;
		if (r->jsonl && !r->have_header) {
			parse_header(r, r->jsonl_header.data, r->jsonl_header.len, true);
			note_header(r, r->jsonl_header.data, r->jsonl_header.len);
		}
		if (!next_line(r, &line, &len)) {
			finish_file(r);
			continue;
		}
		if (!r->have_header) {
			if (parse_header(r, line, len, true)) {
				note_header(r, line, len);
				continue;
			}
			/* no header: a torn start, or not a log; read it as the standard columns */
			log_warnx("%s: no header line; reading it with the standard columns",
				  r->file);
			parse_header(r, r->default_header.data, r->default_header.len, true);
			if (!r->first_header) {
				r->first_header = strdup(r->default_header.data);
				if (!r->first_header)
					fatal("out of memory");
			}
		}
		if (r->jsonl && !jsonl_to_csv(r, &line, &len))
			continue;
		memset(rec, 0, sizeof(*rec));
		if (parse_record(r, line, len, rec)) {
			r->records++;
			return 1;
		}
	}
}

/* ---- the reading thread ---- */

static struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		fatal("out of memory");
	b->text_cap = BATCH_TEXT;
	b->text = malloc(b->text_cap);
	b->recs = malloc(BATCH_RECORDS * sizeof(*b->recs));
	b->field_ptrs = malloc(BATCH_FIELD_PTRS * sizeof(*b->field_ptrs));
	if (!b->text || !b->recs || !b->field_ptrs)
		fatal("out of memory for the log reader");
	return b;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->text);
	free(b->recs);
	free(b->field_ptrs);
	free(b);
}

static const char *relocate(const char *p, const char *from, size_t n, char *to)
{
	if (p >= from && p < from + n)
		return to + (p - from);
	return p; /* the static "" of an absent column */
}

/* Copy rec (and the text it points at) into b; false when b is full. */
static bool batch_add(struct batch *b, const struct log_reader *r, const struct log_record *rec)
{
	size_t need = r->rec_work_len + (rec->raw ? rec->raw_len + 1 : 0);
	size_t nf = (size_t)rec->nfields;
	if (b->n == BATCH_RECORDS || b->nfield_ptrs + nf > BATCH_FIELD_PTRS ||
	    b->text_len + need > b->text_cap) {
		if (b->n)
			return false;
		/* a record larger than a batch: make room, nothing points into it yet */
		if (need > b->text_cap) {
			free(b->text);
			b->text_cap = need;
			b->text = malloc(need);
			if (!b->text)
				fatal("out of memory for a %zu-byte record", need);
		}
	}
	char *to = b->text + b->text_len;
	const char *from = r->rec_work;
	size_t n = r->rec_work_len;
	memcpy(to, from, n);
	struct log_record *out = &b->recs[b->n++];
	*out = *rec;
	for (int c = 0; c < COL_COUNT; c++)
		out->f[c] = relocate(rec->f[c], from, n, to);
	char **fp = b->field_ptrs + b->nfield_ptrs;
	for (size_t i = 0; i < nf; i++)
		fp[i] = (char *)relocate(rec->fields[i], from, n, to);
	out->fields = fp;
	b->nfield_ptrs += nf;
	b->text_len += n;
	if (rec->raw) {
		char *raw = b->text + b->text_len;
		memcpy(raw, rec->raw, rec->raw_len);
		raw[rec->raw_len] = '\0';
		out->raw = raw;
		b->text_len += rec->raw_len + 1;
	}
	return true;
}

static void batch_reset(struct batch *b)
{
	b->n = 0;
	b->text_len = 0;
	b->nfield_ptrs = 0;
}

/* An empty batch for the reading thread; NULL when the consumer has gone. */
static struct batch *take_empty(struct log_reader *r)
{
	pthread_mutex_lock(&r->lock);
	while (!r->nempty && !r->stopping)
		pthread_cond_wait(&r->changed, &r->lock);
	struct batch *b = r->stopping ? NULL : r->empty[--r->nempty];
	pthread_mutex_unlock(&r->lock);
	if (b)
		batch_reset(b);
	return b;
}

/* Hand a batch over; NULL marks the end. */
static void hand_over(struct log_reader *r, struct batch *b)
{
	pthread_mutex_lock(&r->lock);
	r->full[r->nfull++] = b;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static bool stopping(struct log_reader *r)
{
	pthread_mutex_lock(&r->lock);
	bool s = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return s;
}

static void *reading_thread(void *arg)
{
	struct log_reader *r = arg;
	struct batch *b = take_empty(r);
	struct log_record rec;
	while (b && produce_next(r, &rec)) {
		if (batch_add(b, r, &rec))
			continue;
		hand_over(r, b);
		/* a consumer that closed early must not wait for a whole log */
		b = stopping(r) ? NULL : take_empty(r);
		if (b)
			batch_add(b, r, &rec); /* an empty batch takes any record */
	}
	if (b && b->n)
		hand_over(r, b);
	else if (b) {
		pthread_mutex_lock(&r->lock);
		r->empty[r->nempty++] = b;
		pthread_mutex_unlock(&r->lock);
	}
	hand_over(r, NULL);
	return NULL;
}

static void start_thread(struct log_reader *r)
{
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	for (int i = 0; i < BATCHES; i++)
		r->empty[r->nempty++] = r->all_batches[i] = batch_new();
	if (pthread_create(&r->thread, NULL, reading_thread, r) != 0) {
		log_warnx("cannot start the log reading thread; reading on one core");
		for (int i = 0; i < BATCHES; i++)
			batch_free(r->all_batches[i]);
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->changed);
		r->nempty = 0;
		r->threaded = false;
		return;
	}
	r->thread_running = true;
}

int log_reader_next(struct log_reader *r, struct log_record *rec)
{
	if (!r->threaded)
		return produce_next(r, rec);
	for (;;) {
		struct batch *b = r->current;
		if (b && r->current_pos < b->n) {
			*rec = b->recs[r->current_pos++];
			return 1;
		}
		if (r->done)
			return 0;
		pthread_mutex_lock(&r->lock);
		if (b) {
			r->empty[r->nempty++] = b;
			pthread_cond_broadcast(&r->changed);
		}
		r->current = NULL;
		while (!r->nfull)
			pthread_cond_wait(&r->changed, &r->lock);
		b = r->full[0];
		memmove(r->full, r->full + 1, (size_t)--r->nfull * sizeof(r->full[0]));
		pthread_mutex_unlock(&r->lock);
		if (!b) {
			r->done = true;
			pthread_join(r->thread, NULL);
			r->thread_running = false;
			return 0;
		}
		r->current = b;
		r->current_pos = 0;
	}
}

const char *log_reader_header(const struct log_reader *r)
{
	return r->first_header ? r->first_header : "";
}

uint64_t log_reader_records(const struct log_reader *r)
{
	return r->records;
}

uint64_t log_reader_bad_lines(const struct log_reader *r)
{
	return r->bad;
}

bool log_reader_failed(const struct log_reader *r)
{
	return r->failed;
}

void log_reader_close(struct log_reader *r)
{
	if (!r)
		return;
	if (r->thread_running) {
		pthread_mutex_lock(&r->lock);
		r->stopping = true;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	if (r->threaded) {
		for (int i = 0; i < BATCHES; i++)
			batch_free(r->all_batches[i]);
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->changed);
	}
	finish_file(r);
	log_segments_free(r->paths);
	free(r->first_header);
	while (r->headers) {
		struct file_header *next = r->headers->next;
		free(r->headers->copy);
		free(r->headers);
		r->headers = next;
	}
	sb_free(&r->scratch);
	jsonl_store_free(&r->jstore);
	sb_free(&r->jline);
	log_line_parser_free(&r->parser);
	sb_free(&r->default_header);
	sb_free(&r->jsonl_header);
	free(r);
}
