/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/schema.h"
#include "log/seal.h"
#include "util/escape.h"
#include "util/log.h"
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
};

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
	if (s->header_done || s->want != LOG_FORMAT_CSV)
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
