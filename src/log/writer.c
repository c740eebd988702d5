/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The log writer's core: encoding, appending, flushing, rotating, sealing,
 * open and close. Recovery at open is in writer_recover.c, the keeper thread
 * in writer_keeper.c, compression and retention in writer_maint.c; what they
 * share is in writer_impl.h.
 */
#include "log/writer.h"
#include "log/writer_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/csv.h"
#include "log/forward.h"
#include "log/schema.h"
#include "util/log.h"
#include "util/time.h"
#include "util/safefile.h"

void log_writer_opts_default(struct log_writer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = LOG_FORMAT_CSV;
	o->rotate_size = LOG_DEFAULT_ROTATE_SIZE;
	o->rotate_age = LOG_DEFAULT_ROTATE_AGE;
	o->keep_size = LOG_DEFAULT_KEEP_SIZE;
	o->keep_age = LOG_DEFAULT_KEEP_AGE;
	o->compress_level = LOG_DEFAULT_COMPRESS_LEVEL;
	o->seal_interval = LOG_DEFAULT_SEAL_INTERVAL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The header line of the current format ("" for JSON Lines). */
void write_header(struct strbuf *out, enum log_format f, bool with_chain)
{
	if (f == LOG_FORMAT_JSONL)
		return;
	log_write_header(out, with_chain);
}

/*
 * Create a new, empty active segment with its header. When records wait in
 * the buffer for it (the disk is full), or the disk refuses the header, the
 * header waits at the start of the buffer, ahead of them: the rotation that
 * needs this file must not need free space.
 */
static int open_new_active(struct log_writer *w)
{
	w->seg_bytes = 0;
	char err[512];
	w->fd = open_regular(w->dirfd, w->active_name, O_RDWR | O_APPEND | O_CREAT, 0600, SF_OWNED,
			     err, sizeof(err));
	if (w->fd < 0) {
		if (!w->write_failing)
			log_warnx("%s/%s", w->dir, err);
		return -1;
	}
	struct strbuf h = STRBUF_INIT;
	write_header(&h, w->opts.format, true);
	if (h.len && (w->buf.len || write_all(w->fd, h.data, h.len) != 0)) {
		if (!w->buf.len && !w->write_failing)
			log_warn("cannot write the header of %s/%s yet; it waits with the records",
				 w->dir, w->active_name);
		/* a header cut short is taken back: the buffer holds all of it */
		if (!w->buf.len && ftruncate(w->fd, 0) != 0)
			log_warn("cannot empty %s/%s", w->dir, w->active_name);
		if (w->buf.len)
			sb_add(&h, w->buf.data, w->buf.len);
		w->buf_hdr = h.len - w->buf.len;
		w->buf_written = 0;
		struct strbuf t = w->buf;
		w->buf = h;
		h = t;
	} else {
		w->seg_bytes = h.len;
		w->bytes_written += h.len;
	}
	sb_free(&h);
	set_append_only(w);
	return 0;
}

/* Rename the active segment to its closed name and start a new one. */
static int close_active_segment(struct log_writer *w, uint64_t first_time_ns, uint64_t first_seq)
{
	/* the background thread syncs the closed segment and the directory: the
	 * recording thread must not wait for the disk here */
	bool deferred = w->thread_running;
	if (!deferred && fsync(w->fd) != 0)
		log_warn("cannot fsync %s/%s before rotating it", w->dir, w->active_name);
	if (append_flag(w, w->fd, false) != 0 && w->append_only > 0)
		log_warn("cannot lift append-only from %s/%s to rotate it", w->dir, w->active_name);
	/* names must sort in time order even when the clock stepped back: never
	 * name a segment before the newest one (seq then orders them) */
	if (first_time_ns < w->last_name_time_ns)
		first_time_ns = w->last_name_time_ns;
	w->last_name_time_ns = first_time_ns;
	char name[SEGMENT_NAME_MAX];
	segment_name(name, sizeof(name), first_time_ns, first_seq, w->opts.format);
	if (renameat2(w->dirfd, w->active_name, w->dirfd, name, RENAME_NOREPLACE) != 0 &&
	    (errno != EINVAL || faccessat(w->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	     renameat(w->dirfd, w->active_name, w->dirfd, name) != 0)) {
		log_warn("cannot rotate %s/%s to %s; writing on in it", w->dir, w->active_name,
			 name);
		if (w->append_only > 0)
			append_flag(w, w->fd, true);
		return -1;
	}
	close(w->fd);
	w->fd = -1;
	w->rotations++;
	w->seg_records = 0;
	w->seg_bytes = 0;
	if (open_new_active(w) != 0)
		return -1;
	if (!deferred)
		fsync(w->dirfd);
	log_writer_maintain(w);
	return 0;
}

/* Whether the active segment holds a whole record on disk. */
static bool records_on_disk(const struct log_writer *w)
{
	return w->fd >= 0 && w->seg_bytes - w->buf_written > w->hdr_len;
}

/*
 * The records in the buffer will not be written: they are lost, and counted.
 * They keep their seqs; the next record written declares them (log_writer_
 * append). A header still to be written stays. The caller has cut a line
 * torn on disk.
 */
static void give_up_buffer(struct log_writer *w)
{
	if (w->buf.len <= w->buf_hdr)
		return;
	const char *p = w->buf.data + w->buf_hdr, *end = w->buf.data + w->buf.len;
	uint64_t n = 0;
	for (const char *q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++)
		n++;
	/* all after the last record on disk: what is buffered, what was dropped,
	 * and a loss declared by a record that is buffered too */
	w->unwritten_pending = true;
	w->unwritten_first = w->disk_next_seq;
	w->dropped += n;
	/* the chain goes on from the last record written */
	memcpy(w->chain.head, w->buf_chain, sizeof(w->chain.head));
	w->buf.len = w->buf_hdr;
	w->buf.data[w->buf.len] = '\0';
}

static void rotate(struct log_writer *w, uint64_t t_ns)
{
	/* nothing of this segment on disk and the disk refusing: a rotation
	 * would not help (the tick's flush tries again) */
	if (w->write_failing && !records_on_disk(w))
		return;
	if (log_writer_flush(w) != 0) {
		/*
		 * The disk refuses the buffer. Close the segment anyway, at its last
		 * whole line: the rename needs no space, and compression and
		 * retention can then work on it. What it could not take is lost,
		 * counted and declared in the new segment.
		 */
		if (!records_on_disk(w) || cut_torn_line(w) != 0)
			return;
		give_up_buffer(w);
	}
	if (close_active_segment(w, w->seg_first_time_ns, w->seg_first_seq) != 0)
		return;
	/* the new segment starts with a seal of the previous one's last chain
	 * value, so that it can be checked on its own once older ones expire */
	log_writer_seal(w, "rotate", t_ns);
}

static void rotate_if_due(struct log_writer *w, uint64_t t_ns)
{
	if (w->seg_records && ((w->opts.rotate_size && w->seg_bytes + w->buf.len - w->buf_written >=
							   w->opts.rotate_size) ||
			       (w->opts.rotate_age && t_ns > w->seg_first_time_ns &&
				t_ns - w->seg_first_time_ns >= w->opts.rotate_age * 1000000000ull)))
		rotate(w, t_ns);
}

/*
 * Encode r and its chain field. The chain is computed over every record; its
 * value is written on checkpoints only (log/chain.h), the field left empty
 * (JSON Lines: the member left out) on the others.
 */
static void encode(struct log_writer *w, const struct om_record *r, bool checkpoint)
{
	size_t start = w->buf.len;
	checkpoint = checkpoint || w->seg_records % CHAIN_CHECKPOINT_EVERY == 0 ||
		     r->event == OM_EVENT_START || r->event == OM_EVENT_STOP ||
		     r->event == OM_EVENT_SEAL;
	if (w->opts.format == LOG_FORMAT_JSONL) {
		sb_reset(&w->scratch);
		csv_encode(&w->scratch, r);
		char *f[COL_COUNT + 1];
		int nf = csv_split(w->scratch.data, w->scratch.len - 1, f, COL_COUNT + 1);
		if (nf != COL_COUNT)
			fatalx("internal error: a CSV record of %d fields", nf);
		jsonl_encode_fields(&w->buf, (const char *const *)f, &w->opts.host, NULL);
		chain_next(&w->chain, w->buf.data + start, w->buf.len - start);
		jsonl_add_chain(&w->buf, start, w->chain.head, checkpoint ? CHAIN_HEX_LEN : 0);
		return;
	}
	csv_encode(&w->buf, r);
	w->buf.len--; /* the "\n": the chain value comes first */
	chain_next(&w->chain, w->buf.data + start, w->buf.len - start);
	sb_addc(&w->buf, ',');
	if (checkpoint)
		sb_add(&w->buf, w->chain.head, CHAIN_HEX_LEN);
	sb_addc(&w->buf, '\n');
}

/* Give r the next seq and encode it into the buffer. checkpoint: write its
 * chain value whatever its place (the record after records the writer lost:
 * the block before it may have lost its checkpoint with them). */
static void append_encoded(struct log_writer *w, struct om_record *r, bool checkpoint)
{
	r->seq = w->next_seq++;
	if (w->seg_records == 0) {
		w->seg_first_seq = r->seq;
		w->seg_first_time_ns = r->time_ns;
	}
	/* START names the chain value it continues from, the one record
	 * besides SEAL that can begin a segment (a run after a crash, a full
	 * segment, or a rotation whose seal never reached the disk): once the
	 * segments before it expire, verify still checks it from that value,
	 * and the next seal covers everything from there on */
	struct strbuf start_detail = STRBUF_INIT;
	const char *detail = r->detail;
	if (r->event == OM_EVENT_START && r->seq > 0) { /* seq 0 starts from the seed */
		sb_adds(&start_detail, detail ? detail : "");
		sb_addf(&start_detail, "%sprevious_chain=%s", start_detail.len ? " " : "",
			w->chain.head);
		r->detail = start_detail.data;
	}
	encode(w, r, checkpoint);
	r->detail = detail;
	sb_free(&start_detail);
	w->seg_records++;
	w->records++;
	w->records_since_seal++;
}

/* " unwritten=N unwritten_seqs=A..B": the declaration of a run of lost seqs. */
static void add_unwritten(struct strbuf *d, uint64_t first, uint64_t last)
{
	sb_addf(d, " unwritten=%" PRIu64 " unwritten_seqs=%" PRIu64 "..%" PRIu64, last - first + 1,
		first, last);
}

void log_writer_append(struct log_writer *w, struct om_record *r)
{
	if (w->buf.len > (w->opts.buffer_max ? w->opts.buffer_max : LOG_BUFFER_MAX)) {
		/* the disk has refused writes for long: count what cannot be kept;
		 * the seq is used up, and the next record written declares it */
		if (!w->unwritten_pending) {
			w->unwritten_pending = true;
			w->unwritten_first = w->next_seq;
		}
		w->dropped++;
		w->next_seq++;
		return;
	}
	/* a SEAL has rotated already, if it had to: its HMAC covers its seq and
	 * the chain value before it, which a rotation here would change */
	if (r->event != OM_EVENT_SEAL)
		rotate_if_due(w, r->time_ns);
	struct strbuf d = STRBUF_INIT;
	const char *detail = r->detail;
	bool declares = w->unwritten_pending;
	if (w->unwritten_pending) {
		/* the first record after lost seqs says which they were: a SEAL
		 * (the first record of a segment) or START says it itself, before
		 * any other record a LOST kind=writer does */
		uint64_t first = w->unwritten_first, last = w->next_seq - 1;
		w->unwritten_pending = false;
		if (r->event == OM_EVENT_SEAL || r->event == OM_EVENT_START) {
			sb_adds(&d, r->detail ? r->detail : "");
			add_unwritten(&d, first, last);
			r->detail = d.data;
		} else {
			sb_addf(&d, "lost=%" PRIu64 " kind=writer", last - first + 1);
			add_unwritten(&d, first, last);
			struct om_record l;
			om_record_init(&l, OM_EVENT_LOST);
			l.time_ns = r->time_ns;
			l.detail = d.data;
			append_encoded(w, &l, true);
			declares = false;
		}
	}
	append_encoded(w, r, declares);
	r->detail = detail;
	sb_free(&d);
}

void log_writer_seal(struct log_writer *w, const char *reason, uint64_t t_ns)
{
	if (!w->sealing)
		return;
	if (strcmp(reason, "rotate") != 0)
		rotate_if_due(w, t_ns); /* first: a rotation seals, and moves seq and head */
	if (!w->sealing)
		return; /* that rotation's seal failed */
	char hmac[SEAL_HMAC_HEX_LEN + 1], head[CHAIN_HEX_LEN + 1];
	memcpy(head, w->chain.head, sizeof(head));
	uint64_t epoch = w->key.epoch;
	/* store the next epoch's key before the seal can reach the disk: after a
	 * crash the next seal uses a new epoch, never this one again */
	struct seal_key next = w->key;
	seal_key_evolve(&next);
	char kerr[1024];
	char detail[256];
	if (seal_key_store(w->opts.seal_key, &next, kerr, sizeof(kerr)) != 0) {
		/*
		 * The key of this epoch stays on disk: a seal made with it would
		 * be no better than none (whoever reads the file could forge it),
		 * and every later one neither. Sealing stops; the log says so.
		 */
		int e = errno;
		log_warnx(
		    "cannot store the evolved sealing key in %s (%s): sealing stops until "
		    "the recorder is restarted with a key it can store; the SEAL reason=failed "
		    "in the log says so, and `onmitsu verify` fails for the records after it",
		    w->opts.seal_key, kerr);
		const char *en = strerrorname_np(e);
		snprintf(detail, sizeof(detail),
			 "reason=failed key_epoch=%" PRIu64 " head=%s error=%s", epoch, head,
			 en ? en : "EIO");
		seal_key_wipe(&next);
		seal_key_wipe(&w->key);
		w->sealing = false;
		w->seal_failed = true;
	} else {
		seal_hmac(w->key.key, epoch, w->next_seq, head, hmac);
		w->key = next;
		seal_key_wipe(&next);
		snprintf(detail, sizeof(detail), "reason=%s epoch=%" PRIu64 " head=%s hmac=%s",
			 reason, epoch, head, hmac);
		w->seals++;
	}
	struct om_record r;
	om_record_init(&r, OM_EVENT_SEAL);
	r.time_ns = t_ns;
	r.detail = detail;
	log_writer_append(w, &r);
	w->records_since_seal = 0;
	w->last_seal_ns = t_ns;
}

void log_writer_tick(struct log_writer *w, uint64_t t_ns)
{
	if (w->opts.rotate_age && w->seg_records && t_ns > w->seg_first_time_ns &&
	    t_ns - w->seg_first_time_ns >= w->opts.rotate_age * 1000000000ull)
		rotate(w, t_ns);
	if (w->sealing && w->records_since_seal &&
	    (t_ns < w->last_seal_ns ||
	     t_ns - w->last_seal_ns >= w->opts.seal_interval * 1000000000ull))
		log_writer_seal(w, "interval", t_ns);
}

/* The disk is full: ask the maintainer to make room (retention only). */
static void want_space(struct log_writer *w)
{
	if (!w->thread_running || (!w->opts.keep_size && !w->opts.keep_age))
		return;
	pthread_mutex_lock(&w->mu);
	w->space_wanted = true;
	w->pending = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

/* Advance buf_chain over the records among the lines p[0..n). */
static void chain_over(struct log_writer *w, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		size_t body_len, flen;
		const char *field;
		/* a header has no chain value */
		if (chain_split_line(p, (size_t)(nl - p), w->opts.format == LOG_FORMAT_JSONL,
				     &body_len, &field, &flen))
			chain_compute(w->buf_chain, p, body_len, w->buf_chain);
		p = nl + 1;
	}
}

int log_writer_flush(struct log_writer *w)
{
	if (w->fd < 0 && (w->dirfd < 0 || open_new_active(w) != 0)) {
		/* a rotation could not create the new segment; warned */
		w->write_failing = true;
		errno = EIO;
		return -1;
	}
	size_t off = w->buf_written;
	while (off < w->buf.len) {
		ssize_t n = write(w->fd, w->buf.data + off, w->buf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			if (!w->write_failing)
				log_warnx("cannot write to the log in %s (%s): records are kept in "
					  "memory (up to %u MiB) and written when it works again; "
					  "what cannot be kept is counted and declared in the log",
					  w->dir, strerror(e), LOG_BUFFER_MAX >> 20);
			w->write_failing = true;
			/* keep what was not written, from the start of its line: a line
			 * cut short on disk is finished, or cut, from there */
			const char *nl = off ? memrchr(w->buf.data, '\n', off) : NULL;
			size_t start = nl ? (size_t)(nl - w->buf.data) + 1 : 0;
			chain_over(w, w->buf.data, start);
			if (start) {
				/* the last whole line written; a header has no seq */
				const char *b = memrchr(w->buf.data, '\n', start - 1);
				b = b ? b + 1 : w->buf.data;
				struct log_tail t;
				struct log_layout cols; /* this writer's own lines */
				log_layout_standard(&cols, true);
				if (log_line_tail(b, (size_t)(w->buf.data + start - 1 - b),
						  w->opts.format, &cols, &t) == 0)
					w->disk_next_seq = t.seq + 1;
			}
			memmove(w->buf.data, w->buf.data + start, w->buf.len - start);
			w->buf.len -= start;
			w->buf.data[w->buf.len] = '\0';
			w->buf_written = off - start;
			if (start)
				w->buf_hdr = 0; /* the header is one line: it is written */
			w->write_errno = e;
			if (e == ENOSPC || e == EDQUOT)
				want_space(w);
			errno = e;
			return -1;
		}
		off += (size_t)n;
		w->bytes_written += (uint64_t)n;
		w->seg_bytes += (uint64_t)n;
	}
	if (w->write_failing)
		log_warnx("writing to the log in %s works again", w->dir);
	w->write_failing = false;
	w->buf_written = 0;
	w->buf_hdr = 0;
	memcpy(w->buf_chain, w->chain.head, sizeof(w->buf_chain));
	w->disk_next_seq = w->next_seq;
	if (w->unwritten_pending && w->unwritten_first < w->disk_next_seq)
		w->disk_next_seq = w->unwritten_first; /* dropped: not on disk */
	sb_reset(&w->buf);
	return 0;
}

int log_writer_sync(struct log_writer *w)
{
	int r = log_writer_flush(w);
	if (w->fd >= 0 && fsync(w->fd) != 0) {
		log_warn("cannot fsync the log in %s", w->dir);
		r = -1;
	}
	return r;
}

/* ---- open and close ---- */

/* What onmitsu itself puts in a log directory (or a fresh file system has):
 * a directory holding only these may be taken over (made 0700). */
static bool log_dir_entry_ours(const char *name)
{
	return strncmp(name, "onmitsu", 7) == 0 || strncmp(name, "syslog-", 7) == 0 ||
	       strcmp(name, "lost+found") == 0 || strcmp(name, "evidence") == 0;
}

static int lock_dir(struct log_writer *w)
{
	char err[512];
	w->lock_fd = open_regular(w->dirfd, LOG_LOCK_NAME, O_RDWR | O_CREAT, 0600, SF_OWNED, err,
				  sizeof(err));
	if (w->lock_fd < 0) {
		log_warnx("%s/%s", w->dir, err);
		return -1;
	}
	if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(w->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_warnx("another onmitsu is already recording into %s (pid %s); stop it first "
			  "or choose another --log-dir",
			  w->dir, *pid ? pid : "unknown");
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(w->lock_fd, 0) != 0 || pwrite(w->lock_fd, pid, (size_t)n, 0) != n)
		log_warn("cannot write the pid into %s/%s", w->dir, LOG_LOCK_NAME);
	return 0;
}

#define STATE_MAGIC "onmitsu-state-v1\n"

/* Write the state file in place (its blocks exist: no space is needed). */
static int store_state(struct log_writer *w, bool unwritten, uint64_t first, uint64_t last)
{
	if (w->state_fd < 0)
		return -1;
	char text[LOG_STATE_SIZE];
	memset(text, '\n', sizeof(text));
	int n = unwritten ? snprintf(text, sizeof(text),
				     STATE_MAGIC "unwritten=%" PRIu64 " unwritten_seqs=%" PRIu64
						 "..%" PRIu64 "\n",
				     last - first + 1, first, last)
			  : snprintf(text, sizeof(text), STATE_MAGIC);
	text[n] = '\n';
	if (pwrite(w->state_fd, text, sizeof(text), 0) != (ssize_t)sizeof(text) ||
	    fsync(w->state_fd) != 0)
		return -1;
	return 0;
}

/*
 * Open (or create, at its full size) the state file, and read what a stop
 * could not write. 0 (*found says whether there was such a range), or -1
 * when the file is not one the writer made (warned: a clear error naming it).
 */
static int open_state(struct log_writer *w, bool *found, uint64_t *first, uint64_t *last)
{
	*found = false;
	struct stat st;
	if (fstatat(w->dirfd, LOG_STATE_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1 ||
		    st.st_size > LOG_STATE_SIZE) {
			log_warnx(
			    "%s/%s is not onmitsu's state file (want a regular file of at most "
			    "%d bytes, owned by uid %u, with one link; a link, a FIFO or "
			    "another's file is refused); move it away",
			    w->dir, LOG_STATE_NAME, LOG_STATE_SIZE, (unsigned)geteuid());
			return -1;
		}
		w->state_fd =
		    openat(w->dirfd, LOG_STATE_NAME, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	} else if (errno == ENOENT) {
		w->state_fd = openat(w->dirfd, LOG_STATE_NAME,
				     O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	struct stat fst;
	if (w->state_fd < 0 || fstat(w->state_fd, &fst) != 0 || !S_ISREG(fst.st_mode) ||
	    fst.st_nlink != 1 || fst.st_size > LOG_STATE_SIZE) {
		log_warn("cannot open the state file %s/%s", w->dir, LOG_STATE_NAME);
		if (w->state_fd >= 0)
			close(w->state_fd);
		w->state_fd = -1;
		return -1;
	}
	char text[LOG_STATE_SIZE + 1];
	ssize_t n = pread(w->state_fd, text, LOG_STATE_SIZE, 0);
	text[n > 0 ? n : 0] = '\0';
	if (n > 0 && strncmp(text, STATE_MAGIC, strlen(STATE_MAGIC)) == 0) {
		for (char *p = text; *p; p++)
			if (*p == '\n')
				*p = ' ';
		*found = detail_get_range(text, "unwritten_seqs", first, last);
	}
	/* emptied at its full size now, while there may be space */
	if (store_state(w, false, 0, 0) != 0) {
		log_warn("cannot write the state file %s/%s; records a stop cannot write would "
			 "not be declared by the next START",
			 w->dir, LOG_STATE_NAME);
		close(w->state_fd);
		w->state_fd = -1;
	}
	return 0;
}

/* The writer's fields before anything is opened. */
static void open_init(struct log_writer *w, const char *dir, const struct log_writer_opts *opts)
{
	memset(w, 0, sizeof(*w));
	w->fd = w->dirfd = w->lock_fd = w->state_fd = -1;
	if (opts)
		w->opts = *opts;
	else
		log_writer_opts_default(&w->opts);
	w->active_name = log_active_name(w->opts.format);
	struct strbuf hdr = STRBUF_INIT;
	write_header(&hdr, w->opts.format, true);
	w->hdr_len = hdr.len;
	sb_free(&hdr);
	w->append_only = -1;
	chain_init(&w->chain);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->kcond, NULL);
	w->dir = strdup(dir);
	if (!w->dir)
		fatal("out of memory");
}

/*
 * The directory and its lock, the keeper thread, the sealing key, and no log
 * of the other format in the directory.
 */
static int open_dir(struct log_writer *w, const char *dir)
{
	/* never through a link, never one another user owns or can write:
	 * they could replace the segments or point them at other files */
	char derr[1024];
	bool took_over;
	w->dirfd = open_dir_nofollow(dir, SF_DIR_CREATE | SF_DIR_PRIVATE, 0700, log_dir_entry_ours,
				     &took_over, derr, sizeof(derr));
	if (w->dirfd < 0) {
		log_warnx("log directory: %s", derr);
		return -1;
	}
	if (took_over)
		log_info("restricted the log directory %s to mode 0700", dir);
	if (lock_dir(w) != 0)
		return -1;
	if (pthread_create(&w->keeper, NULL, keeper_main, w) == 0)
		w->keeper_running = true;
	else
		log_warnx(
		    "cannot start the keeper thread; append-only is lifted in the main thread");

	/* the key first: a bad one must leave the log as it is */
	if (w->opts.seal_key) {
		char err[512];
		if (seal_key_load(w->opts.seal_key, &w->key, err, sizeof(err)) != 0) {
			log_warnx("%s; make one with `onmitsu keygen --key %s`", err,
				  w->opts.seal_key);
			return -1;
		}
		w->sealing = true;
	}
	/* one directory, one format: the reader and verify go by the names */
	enum log_format other =
	    w->opts.format == LOG_FORMAT_CSV ? LOG_FORMAT_JSONL : LOG_FORMAT_CSV;
	struct stat ost;
	if (fstatat(w->dirfd, log_active_name(other), &ost, AT_SYMLINK_NOFOLLOW) == 0 &&
	    ost.st_size > 0) {
		log_warnx("%s holds a %s log (%s); record it with --format %s or choose another "
			  "--log-dir",
			  dir, log_format_ext(other), log_active_name(other),
			  log_format_ext(other));
		return -1;
	}
	return 0;
}

/* Records the last stop could not write keep their seqs: START says so. */
static int open_unwritten(struct log_writer *w, const char *dir, const struct log_tail *last)
{
	bool unwritten;
	uint64_t ufirst, ulast;
	if (open_state(w, &unwritten, &ufirst, &ulast) != 0)
		return -1;
	if (unwritten && last->found && last->seq + 1 == ufirst) {
		w->next_seq = ulast + 1;
		w->unwritten_pending = true;
		w->unwritten_first = ufirst;
		w->prev_unwritten = true;
	} else if (unwritten) {
		log_warnx("%s/%s names unwritten records seq %" PRIu64 "..%" PRIu64
			  " but the log does not end right before them; ignored",
			  dir, LOG_STATE_NAME, ufirst, ulast);
	}
	return 0;
}

/*
 * The active segment the writer goes on in: the one found, or a new one when
 * the found one must be closed (a crash, an old header, full) or holds no
 * record.
 */
static int open_active(struct log_writer *w, const char *path, const struct active_scan *s,
		       const struct log_tail *last)
{
	if (s->has_records) {
		w->seg_first_seq = s->first.seq;
		w->seg_first_time_ns = s->first.time_ns;
		w->seg_records = 1 + (last->seq > s->first.seq ? last->seq - s->first.seq : 0);
		uint64_t t = now_unix_ns();
		bool seg_full = (w->opts.rotate_size && w->seg_bytes >= w->opts.rotate_size) ||
				(w->opts.rotate_age && t > s->first.time_ns &&
				 t - s->first.time_ns >= w->opts.rotate_age * 1000000000ull);
		/* after a crash the next run starts a segment of its own, so the
		 * damaged one stays as the crash left it */
		if (w->unclean || s->old_header || seg_full) {
			if (close_active_segment(w, s->first.time_ns, s->first.seq) != 0)
				return -1;
		}
	} else {
		struct stat st;
		if (fstat(w->fd, &st) == 0 && (st.st_size == 0 || s->old_header)) {
			/* nothing but a header (maybe an older one): start it afresh */
			if (ftruncate(w->fd, 0) != 0) {
				log_warn("cannot empty %s", path);
				return -1;
			}
			close(w->fd);
			w->fd = -1;
			if (open_new_active(w) != 0)
				return -1;
		}
	}
	if (w->append_only < 0)
		set_append_only(w);
	memcpy(w->buf_chain, w->chain.head, sizeof(w->buf_chain));
	w->disk_next_seq = w->prev_unwritten ? w->unwritten_first : w->next_seq;
	return 0;
}

/* The forwarder and the compressor thread. */
static int open_threads(struct log_writer *w, const char *dir)
{
	w->last_seal_ns = now_unix_ns();
	if (w->opts.syslog) {
		w->forwarder = forwarder_start(dir, w->dirfd, w->opts.format, w->opts.syslog,
					       &w->opts.host, w->next_seq);
		if (!w->forwarder)
			return -1;
	}
	if (w->opts.compress_level > 0 || w->opts.keep_size || w->opts.keep_age) {
		if (pthread_create(&w->thread, NULL, compressor_main, w) != 0) {
			log_warnx("cannot start the compressor thread; segments stay uncompressed");
		} else {
			w->thread_running = true;
			log_writer_maintain(w); /* what an earlier run left */
		}
	}
	return 0;
}

int log_writer_open(struct log_writer *w, const char *dir, const struct log_writer_opts *opts)
{
	open_init(w, dir, opts);
	if (open_dir(w, dir) != 0)
		return -1;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, w->active_name);
	/* its type and owner before anything is done with it (the ioctl in
	 * recover_last) */
	char ferr[512];
	w->fd = open_regular(w->dirfd, w->active_name, O_RDWR | O_APPEND | O_CREAT, 0600, SF_OWNED,
			     ferr, sizeof(ferr));
	if (w->fd < 0) {
		log_warnx("%s/%s", dir, ferr);
		return -1;
	}
	struct active_scan s;
	struct log_tail last;
	if (recover_last(w, path, &s, &last) != 0)
		return -1;
	if (open_unwritten(w, dir, &last) != 0)
		return -1;
	if (open_active(w, path, &s, &last) != 0)
		return -1;
	return open_threads(w, dir);
}

void log_writer_start_detail(struct log_writer *w, struct strbuf *d, uint64_t t_ns)
{
	const struct log_writer_opts *o = &w->opts;
	sb_addf(d, " format=%s append_only=%d", log_format_ext(o->format),
		w->append_only > 0 ? 1 : 0);
	sb_addf(d,
		" rotate_size=%" PRIu64 " rotate_age=%" PRIu64 " keep_size=%" PRIu64
		" keep_age=%" PRIu64 " compress_level=%d",
		o->rotate_size, o->rotate_age, o->keep_size, o->keep_age, o->compress_level);
	if (w->sealing)
		sb_addf(d, " sealing=1 seal_epoch=%" PRIu64 " seal_interval=%" PRIu64, w->key.epoch,
			o->seal_interval);
	else
		sb_adds(d, " sealing=0");
	if (w->torn_bytes)
		sb_addf(d, " recovered_torn_bytes=%" PRIu64, w->torn_bytes);
	if (w->last_time_ns) {
		uint64_t gap = t_ns > w->last_time_ns ? t_ns - w->last_time_ns : 0;
		sb_addf(d, " previous_record_time_ns=%" PRIu64 " gap_seconds=%" PRIu64 ".%03u",
			w->last_time_ns, gap / UINT64_C(1000000000),
			(unsigned)(gap % 1000000000ull / 1000000));
		sb_addf(d, " previous_end=%s", w->unclean && !w->prev_unwritten ? "crash" : "stop");
	}
	if (w->chain_restarted)
		sb_adds(d, " chain_restarted=1");
	if (o->syslog)
		sb_addf(d, " syslog=%s", o->syslog);
}

void log_writer_stop_detail(struct log_writer *w, struct strbuf *d)
{
	pthread_mutex_lock(&w->mu);
	uint64_t compressed = w->compressed, expired = w->expired, for_space = w->expired_for_space;
	pthread_mutex_unlock(&w->mu);
	sb_addf(d,
		" segments_rotated=%" PRIu64 " segments_compressed=%" PRIu64
		" segments_expired=%" PRIu64 " segments_expired_for_space=%" PRIu64
		" seals=%" PRIu64,
		w->rotations, compressed, expired, for_space, w->seals);
	if (w->seal_failed)
		sb_adds(d, " sealing_failed=1");
}

int log_writer_close(struct log_writer *w)
{
	int rc = 0;
	if (w->dirfd >= 0 && w->sealing && w->records_since_seal)
		log_writer_seal(w, "stop", now_unix_ns());
	if (w->buf.len)
		log_writer_sync(w);
	/* a full disk with retention on: the compressor thread is making room
	 * (each failed write asks it to); give it a moment, bounded */
	for (int i = 0;
	     i < 30 && w->buf.len && w->thread_running && (w->opts.keep_size || w->opts.keep_age) &&
	     (w->write_errno == ENOSPC || w->write_errno == EDQUOT);
	     i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		log_writer_sync(w);
	}
	/* what the disk still refuses is lost: counted, said on stderr, and
	 * kept in the state file for the next START */
	if (w->buf.len) {
		cut_torn_line(w);
		give_up_buffer(w);
	}
	if (w->unwritten_pending) {
		uint64_t first = w->unwritten_first, last = w->next_seq - 1;
		log_warnx("%" PRIu64 " records (seq %" PRIu64 "..%" PRIu64 ") could not be written "
			  "to the log in %s and are lost%s",
			  last - first + 1, first, last, w->dir,
			  store_state(w, true, first, last) == 0
			      ? "; the next START declares them"
			      : " (they cannot be kept for the next START either)");
		w->unwritten_pending = false;
		rc = -1;
	}
	if (w->state_fd >= 0)
		close(w->state_fd);
	if (w->fd >= 0) {
		if (w->append_only > 0)
			append_flag(w, w->fd, false);
		close(w->fd);
	}
	/* after the last seal is on disk: send what is left, for a while */
	forwarder_stop(w->forwarder, FORWARD_DRAIN_MS);
	w->forwarder = NULL;
	if (w->keeper_running) {
		pthread_mutex_lock(&w->mu);
		w->keeper_stop = true;
		pthread_cond_broadcast(&w->kcond);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->keeper, NULL);
		w->keeper_running = false;
	}
	if (w->thread_running) {
		pthread_mutex_lock(&w->mu);
		w->stopping = 1;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		w->thread_running = false;
	}
	if (w->dirfd >= 0)
		fsync(w->dirfd); /* a rotation the compressor had no time to sync */
	if (w->dirfd >= 0)
		close(w->dirfd);
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* the lock goes with it */
	seal_key_wipe(&w->key);
	chain_free(&w->chain);
	free(w->dir);
	sb_free(&w->buf);
	sb_free(&w->scratch);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->kcond);
	w->fd = w->dirfd = w->lock_fd = w->state_fd = -1;
	w->dir = NULL;
	return rc;
}
