/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Recovery (docs/LIFECYCLE.md): what log_writer_open finds of an earlier run
 * (the last record, its seq and chain value, a torn last line, the newest
 * closed segment's name), and cutting a line a failed write left torn.
 */
#include "log/writer.h"
#include "log/writer_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/csv.h"
#include "log/schema.h"
#include "util/log.h"

#define TAIL_MAX LOG_LINE_MAX /* the longest last line recovery looks for */

int log_line_tail(const char *line, size_t len, enum log_format f, const struct log_layout *cols,
		  struct log_tail *t)
{
	memset(t, 0, sizeof(*t));
	struct log_line_parser p = {0};
	struct log_line ln;
	int rc = -1;
	if (log_line_parse(&p, f, cols, line, len, &ln) != LOG_LINE_OK)
		goto out;
	if (!log_line_seq(&ln, &t->seq) || csv_parse_time(ln.f[COL_TIME], &t->time_ns) != 0)
		goto out;
	const char *event_s = ln.f[COL_EVENT], *chain_s = ln.chain;
	snprintf(t->event, sizeof(t->event), "%s", event_s);
	if (strcmp(event_s, "SEAL") == 0)
		detail_get(ln.f[COL_DETAIL], "reason", t->reason, sizeof(t->reason));
	/* a log with the chain column: its field may be empty (not a
	 * checkpoint), and the value is then recomputed from the last one */
	if (f == LOG_FORMAT_JSONL || !cols || cols->chain >= 0) {
		size_t cl = strlen(chain_s);
		if (!chain_field_valid(chain_s, cl))
			goto out;
		memcpy(t->chain, chain_s, cl + 1);
		t->has_chain = true;
		t->chain_full = cl == CHAIN_HEX_LEN;
	}
	t->found = true;
	rc = 0;
out:
	log_line_parser_free(&p);
	return rc;
}

static int scan_active(struct log_writer *w, const char *path, struct active_scan *s)
{
	memset(s, 0, sizeof(*s));
	struct stat st;
	if (fstat(w->fd, &st) != 0) {
		log_warn("cannot stat %s", path);
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	size_t head_len = st.st_size > TAIL_MAX ? TAIL_MAX : (size_t)st.st_size;
	char *head = malloc(head_len + 1);
	if (!head)
		fatal("out of memory");
	if (pread(w->fd, head, head_len, 0) != (ssize_t)head_len) {
		log_warn("cannot read %s", path);
		free(head);
		return -1;
	}
	head[head_len] = '\0';
	size_t hdr = 0;
	if (w->opts.format == LOG_FORMAT_CSV) {
		struct strbuf want = STRBUF_INIT, old = STRBUF_INIT;
		write_header(&want, LOG_FORMAT_CSV, true);
		write_header(&old, LOG_FORMAT_CSV, false);
		if (head_len >= want.len && memcmp(head, want.data, want.len) == 0) {
			hdr = want.len;
		} else if (head_len >= old.len && memcmp(head, old.data, old.len) == 0) {
			hdr = old.len;
			s->old_header = true;
		} else {
			log_warnx("%s exists but does not start with onmitsu's CSV header; "
				  "move it away or choose another --log-dir",
				  path);
			sb_free(&want);
			sb_free(&old);
			free(head);
			return -1;
		}
		sb_free(&want);
		sb_free(&old);
	} else if (head[0] != '{') {
		log_warnx("%s exists but is not an onmitsu JSON Lines log; move it away or "
			  "choose another --log-dir",
			  path);
		free(head);
		return -1;
	}
	/* the first record, which names the segment when it is closed */
	/* the header is ours (checked above): with chain, or from before it */
	struct log_layout cols;
	log_layout_standard(&cols, !s->old_header);
	char *nl = memchr(head + hdr, '\n', head_len - hdr);
	if (nl)
		log_line_tail(head + hdr, (size_t)(nl - head - hdr), w->opts.format, &cols,
			      &s->first);
	free(head);

	/* the tail: the last complete line and anything after it */
	off_t size = st.st_size;
	size_t tail_len = size > TAIL_MAX ? TAIL_MAX : (size_t)size;
	char *tail = malloc(tail_len + 1);
	if (!tail)
		fatal("out of memory");
	if (pread(w->fd, tail, tail_len, size - (off_t)tail_len) != (ssize_t)tail_len) {
		log_warn("cannot read the end of %s", path);
		free(tail);
		return -1;
	}
	tail[tail_len] = '\0';
	size_t end = tail_len;
	while (end > 0 && tail[end - 1] != '\n')
		end--;
	if (end < tail_len) {
		/* a torn line: the recorder died in the middle of a write */
		w->torn_bytes = tail_len - end;
		if (end == 0 && size > (off_t)tail_len) {
			log_warnx("%s ends in a line longer than %u bytes; not a log onmitsu wrote",
				  path, TAIL_MAX);
			free(tail);
			return -1;
		}
		if (ftruncate(w->fd, size - (off_t)w->torn_bytes) != 0) {
			log_warn("cannot cut the torn last line of %s", path);
			free(tail);
			return -1;
		}
		log_warnx("cut a torn last line of %" PRIu64 " bytes from %s", w->torn_bytes, path);
		size -= (off_t)w->torn_bytes;
	}
	if (end > 0 && (uint64_t)size > hdr) {
		size_t ls = end - 1;
		while (ls > 0 && tail[ls - 1] != '\n')
			ls--;
		if (log_line_tail(tail + ls, end - 1 - ls, w->opts.format, &cols, &s->last) != 0) {
			log_warnx("the last record of %s cannot be parsed; move the file away "
				  "or choose another --log-dir",
				  path);
			free(tail);
			return -1;
		}
		s->has_records = true;
	}
	free(tail);
	if (s->has_records && !s->first.found)
		s->first = s->last;
	w->seg_bytes = (uint64_t)size;
	return 0;
}

/*
 * Read a whole segment for its last record and the full chain value after it
 * (records between checkpoints carry no value, or a tag in a log from before
 * 0.3, so it is recomputed from the last checkpoint: a crash between two
 * leaves up to CHAIN_CHECKPOINT_EVERY - 1 records after the last one, and
 * the next run's START names the value over them, previous_chain=). full[0]
 * is '\0' when the segment has no chain.
 */
static int chain_state_of(struct log_writer *w, const char *name, enum log_format f,
			  struct log_tail *last, char full[CHAIN_HEX_LEN + 1])
{
	memset(last, 0, sizeof(*last));
	full[0] = '\0';
	struct seg_reader r;
	if (seg_reader_open(&r, w->dirfd, name) != 0)
		return -1;
	struct log_layout cols;
	log_layout_standard(&cols, true);
	char *line;
	size_t len;
	bool complete, warned = false;
	int rc;
	while ((rc = seg_reader_next(&r, &line, &len, &complete)) > 0) {
		if (f == LOG_FORMAT_CSV && r.line_no == 1) {
			/* columns by name: a segment of another version reads too */
			if (!log_layout_from_header(&cols, line, len))
				log_layout_standard(&cols, true);
			continue;
		}
		if (!complete)
			continue;
		size_t body_len, flen;
		const char *field;
		if (!chain_split_line(line, len, f == LOG_FORMAT_JSONL, &body_len, &field, &flen)) {
			full[0] = '\0';
		} else if (flen == CHAIN_HEX_LEN) {
			memcpy(full, field, CHAIN_HEX_LEN);
			full[CHAIN_HEX_LEN] = '\0';
		} else if (full[0]) {
			chain_compute(full, line, body_len, full);
			if (!chain_field_matches(full, field, flen) && !warned) {
				log_warnx("%s/%s:%" PRIu64 ": the hash chain breaks here; the log "
					  "continues from it, and `onmitsu verify` will report it",
					  w->dir, name, r.line_no);
				warned = true;
			}
		}
		struct log_tail t;
		if (log_line_tail(line, len, f, &cols, &t) == 0)
			*last = t;
	}
	if (rc < 0)
		log_warnx("%s/%s: %s", w->dir, name, r.error);
	seg_reader_close(&r);
	return 0;
}

/* The last record of the newest closed segment (when the active one is new). */
static void scan_closed(struct log_writer *w, struct log_tail *last, char *full)
{
	memset(last, 0, sizeof(*last));
	struct segment_info *segs;
	int n = segment_list(w->dirfd, &segs);
	if (n < 0)
		return;
	for (int i = n - 1; i >= 0 && !last->found; i--)
		if (!segs[i].active)
			chain_state_of(w, segs[i].name, segs[i].format, last, full);
	free(segs);
}

/* The time in the newest closed segment's name: the next may not sort before. */
static void find_last_name_time(struct log_writer *w)
{
	struct segment_info *segs;
	int n = segment_list(w->dirfd, &segs);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++)
		if (!segs[i].active && segs[i].first_time_ns > w->last_name_time_ns)
			w->last_name_time_ns = segs[i].first_time_ns;
	free(segs);
}

/*
 * Cut a line that a failed write left torn at the end of the active segment
 * (its whole text is still at the start of the buffer). Shrinking a file
 * needs no space. Lifts the append-only flag, which forbids it.
 */
int cut_torn_line(struct log_writer *w)
{
	size_t torn = w->buf_written;
	if (!torn || w->fd < 0)
		return 0;
	if (w->append_only > 0 && append_flag(w, w->fd, false) != 0) {
		log_warn("cannot lift append-only from %s/%s to cut a torn line", w->dir,
			 w->active_name);
		return -1;
	}
	if (ftruncate(w->fd, (off_t)(w->seg_bytes - torn)) != 0) {
		log_warn("cannot cut a torn line of %zu bytes from %s/%s", torn, w->dir,
			 w->active_name);
		if (w->append_only > 0)
			append_flag(w, w->fd, true);
		return -1;
	}
	w->seg_bytes -= torn;
	w->bytes_written -= torn;
	w->buf_written = 0;
	return 0;
}

/*
 * The recovery part of log_writer_open: lift the append-only flag a crashed
 * run left, read the active segment (cutting a torn last line), and find the
 * last record (in the newest closed segment when the active one has none),
 * its seq and chain value, which the writer continues from. *last is that
 * record (last->found is false in a new log).
 */
int recover_last(struct log_writer *w, const char *path, struct active_scan *s,
		 struct log_tail *last)
{
	/* a crashed run leaves the flag set; it would forbid cutting a torn line */
	append_flag(w, w->fd, false);
	if (scan_active(w, path, s) != 0)
		return -1;
	find_last_name_time(w);
	*last = s->last;
	char full[CHAIN_HEX_LEN + 1] = "";
	if (!s->has_records) {
		scan_closed(w, last, full);
	} else if (last->chain_full) {
		memcpy(full, last->chain, sizeof(full));
	} else if (last->has_chain) {
		struct log_tail t;
		chain_state_of(w, w->active_name, w->opts.format, &t, full);
	}
	if (last->found) {
		w->next_seq = last->seq + 1;
		w->last_time_ns = last->time_ns;
		w->unclean =
		    strcmp(last->event, "STOP") != 0 &&
		    !(strcmp(last->event, "SEAL") == 0 && strcmp(last->reason, "stop") == 0);
		if (full[0])
			chain_set_head(&w->chain, full, CHAIN_HEX_LEN);
		else
			w->chain_restarted = true;
	}
	return 0;
}
