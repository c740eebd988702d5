/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/schema.h"
#include "log/seal.h"
#include "util/escape.h"
#include "util/log.h"
#include "util/safefile.h"
#include "util/strbuf.h"

#define MAX_REPORTS 20

int log_dir_format(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	struct segment_info *segs;
	int n = segment_list(dfd, &segs);
	close(dfd);
	if (n <= 0) {
		if (n == 0)
			free(segs);
		return -1;
	}
	int f = segs[n - 1].format;
	free(segs);
	return f;
}

struct cat_state {
	FILE *out;
	enum log_format want;
	struct strbuf line, shown;
	struct log_line_parser parser;
	struct log_layout cols; /* the current CSV segment's, from its header */
	bool cols_standard;	/* ... and it is the header this version writes */
	char host[3][256];
	bool header_done;
	uint64_t bad;
	int rc;
	/* --seq, --since: records before them are left out; next_seq: the seq
	 * after the last record written (follow skips what it has shown) */
	const struct log_cat_filter *filter;
	bool started;
	uint64_t next_seq;
	/* log_follow_each: each record goes to fn instead of out */
	log_follow_fn fn;
	void *fn_arg;
	bool fn_stop; /* fn said to stop */
};

/* Whether a record passes the filter; once one has, the ones after it do
 * (times may step back), except what was already written (follow). */
static bool wanted(struct cat_state *s, const struct log_line *ln)
{
	uint64_t seq;
	bool has_seq = log_line_seq(ln, &seq);
	if (has_seq && s->started && seq < s->next_seq)
		return false; /* already written (a segment read again after a rotation) */
	if (!s->started && s->filter) {
		uint64_t t;
		if (!has_seq || seq < s->filter->from_seq)
			return false;
		if (s->filter->since_ns &&
		    (csv_parse_time(ln->f[COL_TIME], &t) != 0 || t < s->filter->since_ns))
			return false;
	}
	s->started = true;
	if (has_seq)
		s->next_seq = seq + 1;
	return true;
}

/* START names the host in its detail: JSON Lines records carry it */
static void note_host(struct cat_state *s, const char *event, const char *detail)
{
	if (strcmp(event, "START") != 0)
		return;
	detail_get(detail, "host", s->host[0], sizeof(s->host[0]));
	detail_get(detail, "machine_id", s->host[1], sizeof(s->host[1]));
	detail_get(detail, "boot_id", s->host[2], sizeof(s->host[2]));
}

static void bad_line(struct cat_state *s, const char *name, uint64_t line_no, const char *why)
{
	s->bad++;
	if (s->bad <= MAX_REPORTS)
		log_warnx("%s:%" PRIu64 ": %s; record skipped", name, line_no, why);
	s->rc = 1;
}

static void emit_csv_header(struct cat_state *s)
{
	if (s->header_done || s->want != LOG_FORMAT_CSV || s->fn)
		return;
	struct strbuf h = STRBUF_INIT;
	log_write_header(&h, true);
	fputs(h.data, s->out);
	sb_free(&h);
	s->header_done = true;
}

/* The columns of a CSV segment, by its header's names. */
static void segment_header(struct cat_state *s, const char *line, size_t len)
{
	if (!log_layout_from_header(&s->cols, line, len) || s->cols.idx[COL_TIME] < 0 ||
	    s->cols.idx[COL_SEQ] < 0 || s->cols.idx[COL_EVENT] < 0)
		log_layout_standard(&s->cols, true); /* a damaged header: ours, by position */
	bool standard = s->cols.chain < 0 || s->cols.chain == COL_COUNT;
	for (int c = 0; c < COL_COUNT && standard; c++)
		standard = s->cols.idx[c] == c;
	s->cols_standard = standard && s->cols.nfields == COL_COUNT + (s->cols.chain >= 0);
}

static void one_line(struct cat_state *s, const struct segment_info *si, char *line, size_t len,
		     uint64_t line_no)
{
	emit_csv_header(s);
	sb_reset(&s->line);
	struct log_line ln;
	if (si->format == LOG_FORMAT_CSV) {
		if (log_line_parse(&s->parser, LOG_FORMAT_CSV, &s->cols, line, len, &ln) != 0 ||
		    (s->cols.chain >= 0 && !chain_field_valid(ln.chain, ln.chain_len))) {
			bad_line(s, si->name, line_no, "not a record of the expected columns");
			return;
		}
		note_host(s, ln.f[COL_EVENT], ln.f[COL_DETAIL]);
		if (!wanted(s, &ln))
			return;
		if (s->fn) {
			s->fn_stop = s->fn_stop || s->fn(&ln, s->fn_arg) != 0;
			return;
		}
		if (s->want == LOG_FORMAT_CSV && s->cols_standard) {
			sb_add(&s->line, line, len);
			sb_addc(&s->line, '\n');
		} else if (s->want == LOG_FORMAT_CSV) {
			/* this version's columns, in its order; unknown ones are left out */
			csv_encode_fields(&s->line, ln.f, COL_COUNT);
			sb_addc(&s->line, ',');
			sb_adds(&s->line, ln.chain);
			sb_addc(&s->line, '\n');
		} else {
			struct jsonl_host h = {s->host[0], s->host[1], s->host[2]};
			jsonl_encode_fields(&s->line, ln.f, &h, ln.chain);
		}
	} else {
		if (log_line_parse(&s->parser, LOG_FORMAT_JSONL, NULL, line, len, &ln) != 0 ||
		    !*ln.f[COL_TIME] || !*ln.f[COL_SEQ] || !*ln.f[COL_EVENT]) {
			bad_line(s, si->name, line_no,
				 "not an onmitsu JSON Lines record (want @timestamp, "
				 "event.sequence and event.action)");
			return;
		}
		note_host(s, ln.f[COL_EVENT], ln.f[COL_DETAIL]);
		if (!wanted(s, &ln))
			return;
		if (s->fn) {
			s->fn_stop = s->fn_stop || s->fn(&ln, s->fn_arg) != 0;
			return;
		}
		if (s->want == LOG_FORMAT_JSONL && !s->parser.flat) {
			sb_add(&s->line, line, len);
			sb_addc(&s->line, '\n');
		} else if (s->want == LOG_FORMAT_JSONL) {
			/* a flat line of before 0.3: in ECS, as a CSV log converts */
			struct jsonl_host h = {s->host[0], s->host[1], s->host[2]};
			jsonl_encode_fields(&s->line, ln.f, &h, ln.chain);
		} else {
			csv_encode_fields(&s->line, ln.f, COL_COUNT);
			sb_addc(&s->line, ',');
			sb_adds(&s->line, ln.chain);
			sb_addc(&s->line, '\n');
		}
	}
	/* cat is read on terminals: nothing a terminal acts on passes, even
	 * from an old or a forged log (util/escape.h) */
	sb_reset(&s->shown);
	if (s->want == LOG_FORMAT_JSONL)
		escape_display_json(&s->shown, s->line.data, s->line.len);
	else
		escape_display(&s->shown, s->line.data, s->line.len);
	fwrite(s->shown.data, 1, s->shown.len, s->out);
}

int log_cat(const char *dir, enum log_format want, FILE *out)
{
	return log_cat_filtered(dir, want, NULL, out);
}

int log_cat_filtered(const char *dir, enum log_format want, const struct log_cat_filter *filter,
		     FILE *out)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		char err[1024];
		log_open_error(err, sizeof(err), dir, true, errno);
		log_warnx("%s", err);
		return 1;
	}
	struct segment_info *segs;
	struct segment_stray *strays = NULL;
	size_t nstrays = 0;
	int n = segment_list_all(dfd, &segs, &strays, &nstrays);
	if (n >= 0) {
		segment_warn_strays(dir, strays, nstrays);
		segment_strays_free(strays, nstrays);
	}
	if (n <= 0) {
		log_warnx("no log in %s (expected onmitsu.csv, onmitsu.jsonl or onmitsu-*; is "
			  "--log-dir right?)",
			  dir);
		if (n == 0)
			free(segs);
		close(dfd);
		return 1;
	}
	struct cat_state s;
	memset(&s, 0, sizeof(s));
	s.out = out;
	s.want = want;
	s.filter = filter;
	for (int i = 0; i < n; i++) {
		struct seg_reader r;
		if (seg_reader_open(&r, dfd, segs[i].name) != 0) {
			log_warn("cannot read log segment %s/%s", dir, segs[i].name);
			s.rc = 1;
			continue;
		}
		char *line;
		size_t len;
		bool complete;
		int rc;
		while ((rc = seg_reader_next(&r, &line, &len, &complete)) > 0) {
			if (segs[i].format == LOG_FORMAT_CSV && r.line_no == 1) {
				segment_header(&s, line, len);
				continue;
			}
			if (!complete) {
				if (!segs[i].active)
					bad_line(&s, segs[i].name, r.line_no,
						 "incomplete last line (torn)");
				continue;
			}
			one_line(&s, &segs[i], line, len, r.line_no);
		}
		if (rc < 0) {
			log_warnx("%s/%s: %s; rest of the segment skipped", dir, segs[i].name,
				  r.error);
			s.rc = 1;
		}
		seg_reader_close(&r);
	}
	emit_csv_header(&s); /* a log of headers only still has its header */
	if (s.bad > MAX_REPORTS)
		log_warnx("%" PRIu64 " more unreadable lines skipped", s.bad - MAX_REPORTS);
	if (fflush(out) != 0 || ferror(out)) {
		log_warn("writing the output failed");
		s.rc = 1;
	}
	free(segs);
	close(dfd);
	sb_free(&s.line);
	log_line_parser_free(&s.parser);
	sb_free(&s.shown);
	return s.rc;
}

/* ---- follow: the records as they are written ---- */

/* How often the active segment is looked at: a bound on the delay of a
 * record, and on the cost of following (one stat and one read a turn). */
#define FOLLOW_POLL_MS 100

struct tail {
	int fd;
	dev_t dev;
	ino_t ino;
	off_t offset;	   /* bytes of the file taken into buf */
	struct strbuf buf; /* what is read and not yet a whole line */
	uint64_t line_no;
	struct segment_info si;
};

/* A whole segment, closed (plain or compressed), from its start: its
 * records after the last one written. */
/* false when it is gone (compressed or expired since it was listed) */
static bool follow_closed(struct cat_state *s, int dfd, const char *dir,
			  const struct segment_info *si)
{
	struct seg_reader r;
	if (seg_reader_open(&r, dfd, si->name) != 0) {
		if (errno == ENOENT)
			return false;
		log_warn("cannot read log segment %s/%s", dir, si->name);
		return true;
	}
	char *line;
	size_t len;
	bool complete;
	int rc;
	while ((rc = seg_reader_next(&r, &line, &len, &complete)) > 0) {
		if (si->format == LOG_FORMAT_CSV && r.line_no == 1)
			segment_header(s, line, len);
		else if (complete)
			one_line(s, si, line, len, r.line_no);
	}
	if (rc < 0)
		log_warnx("%s/%s: %s; rest of the segment skipped", dir, si->name, r.error);
	seg_reader_close(&r);
	return true;
}

/* The whole lines the active segment has gained. */
static void follow_active(struct cat_state *s, struct tail *t)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(t->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		t->offset += n;
		sb_add(&t->buf, chunk, (size_t)n);
		size_t pos = 0;
		char *nl;
		while ((nl = memchr(t->buf.data + pos, '\n', t->buf.len - pos))) {
			size_t len = (size_t)(nl - (t->buf.data + pos));
			*nl = '\0';
			t->line_no++;
			if (t->si.format == LOG_FORMAT_CSV && t->line_no == 1)
				segment_header(s, t->buf.data + pos, len);
			else
				one_line(s, &t->si, t->buf.data + pos, len, t->line_no);
			pos += len + 1;
		}
		memmove(t->buf.data, t->buf.data + pos, t->buf.len - pos);
		t->buf.len -= pos;
		t->buf.data[t->buf.len] = '\0';
		if (t->buf.len > LOG_LINE_MAX) {
			bad_line(s, t->si.name, t->line_no + 1,
				 "a line longer than any onmitsu writes");
			sb_reset(&t->buf);
		}
	}
}

static void tail_close(struct tail *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	sb_reset(&t->buf);
}

/* Whether the active segment t holds is still the one in the directory
 * (a rotation renames it, a restart after a crash may cut a torn line). */
static bool tail_current(const struct tail *t, int dfd)
{
	struct stat now, held;
	if (t->fd < 0 || fstatat(dfd, t->si.name, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
	    fstat(t->fd, &held) != 0)
		return false;
	return now.st_dev == t->dev && now.st_ino == t->ino && held.st_size >= t->offset;
}

/* Open the active segment, either format, into t; false when there is none. */
static bool open_active(int dfd, struct tail *t)
{
	for (int f = LOG_FORMAT_CSV; f <= LOG_FORMAT_JSONL; f++) {
		const char *name = log_active_name((enum log_format)f);
		char err[512];
		int fd = open_regular(dfd, name, O_RDONLY, 0, 0, err, sizeof(err));
		struct stat st;
		if (fd < 0)
			continue;
		if (fstat(fd, &st) != 0) {
			close(fd);
			continue;
		}
		t->fd = fd;
		t->dev = st.st_dev;
		t->ino = st.st_ino;
		t->offset = 0;
		t->line_no = 0;
		memset(&t->si, 0, sizeof(t->si));
		snprintf(t->si.name, sizeof(t->si.name), "%s", name);
		t->si.format = (enum log_format)f;
		t->si.active = true;
		sb_reset(&t->buf);
		return true;
	}
	return false;
}

/*
 * Catch up: the active segment is opened first, then the closed segments
 * that may hold records after the last one written are read, in order, and
 * then the active one from its start (what was read is skipped). So a
 * rotation while this runs leaves nothing out: what was renamed before the
 * listing is in it, and the active segment held is read to its end. Returns
 * false when there is no log yet.
 */
static bool follow_reopen(struct cat_state *s, int dfd, const char *dir, struct tail *t)
{
	bool active = open_active(dfd, t);
	struct segment_info *segs = NULL;
	int n = 0;
	/* a segment compressed (its plain file removed) or expired between the
	 * listing and its reading: list again; what was written is skipped */
	for (int attempt = 0;; attempt++) {
		free(segs);
		segs = NULL;
		n = segment_list(dfd, &segs);
		if (n <= 0) {
			if (n == 0)
				free(segs);
			return active;
		}
		bool gone = false;
		for (int i = 0; i < n && !gone; i++) {
			if (segs[i].active)
				continue;
			/* a segment whose successor starts at or before the next
			 * seq holds nothing new */
			if (s->started && i + 1 < n && !segs[i + 1].active &&
			    segs[i + 1].first_seq <= s->next_seq)
				continue;
			gone = !follow_closed(s, dfd, dir, &segs[i]);
		}
		if (!gone)
			break;
		if (attempt == 20) {
			log_warnx("%s: segments keep vanishing as they are read (expired?); "
				  "records after seq %llu may be missing",
				  dir, (unsigned long long)s->next_seq);
			break;
		}
	}
	free(segs);
	return true;
}

static int follow(const char *dir, int want, const struct log_cat_filter *filter, FILE *out,
		  log_follow_fn fn, void *arg, volatile sig_atomic_t *stop)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		char err[1024];
		log_open_error(err, sizeof(err), dir, true, errno);
		log_warnx("%s", err);
		return 1;
	}
	struct cat_state s;
	memset(&s, 0, sizeof(s));
	s.out = out;
	s.want = (enum log_format)want;
	s.filter = filter;
	s.fn = fn;
	s.fn_arg = arg;
	struct tail t = {.fd = -1};
	bool waiting_said = false;
	while (!*stop && !s.fn_stop) {
		if (!tail_current(&t, dfd)) {
			/* what the held segment gained before it was renamed */
			if (t.fd >= 0)
				follow_active(&s, &t);
			tail_close(&t);
			if (want < 0) {
				int have = log_dir_format(dir);
				if (have >= 0)
					s.want = (enum log_format)have;
			}
			if (!follow_reopen(&s, dfd, dir, &t) && !waiting_said) {
				log_warnx("no log in %s yet; waiting for the recorder", dir);
				waiting_said = true;
			}
		}
		if (t.fd >= 0) {
			emit_csv_header(&s);
			follow_active(&s, &t);
		}
		if (out && (fflush(out) != 0 || ferror(out)))
			break; /* the reader went away (EPIPE): done */
		if (s.fn_stop)
			break;
		struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
		nanosleep(&ts, NULL); /* a signal ends it early: *stop is checked */
	}
	tail_close(&t);
	sb_free(&t.buf);
	close(dfd);
	sb_free(&s.line);
	log_line_parser_free(&s.parser);
	sb_free(&s.shown);
	return 0;
}

int log_follow(const char *dir, int want, const struct log_cat_filter *filter, FILE *out,
	       volatile sig_atomic_t *stop)
{
	return follow(dir, want, filter, out, NULL, NULL, stop);
}

int log_follow_each(const char *dir, const struct log_cat_filter *filter, log_follow_fn fn,
		    void *arg, volatile sig_atomic_t *stop)
{
	return follow(dir, LOG_FORMAT_CSV, filter, NULL, fn, arg, stop);
}
