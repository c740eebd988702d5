/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/csv.h"
#include "log/jsonl.h"
#include "log/schema.h"
#include "log/segment.h"
#include "log/writer.h"
#include "util/safefile.h"
#include "util/strbuf.h"

#define MAX_REPORTED 20
/* The largest seal epoch checked: over 3 years of seals a second (the
 * shortest --seal-interval); deriving its key takes some 40 s of hashing. */
#define VERIFY_MAX_EPOCH 100000000ull

struct pending_break {
	bool active;
	char where[160];
	uint64_t seq, prev_seq;
	bool have_prev_seq;
	char chain[CHAIN_HEX_LEN + 1], prev_chain[CHAIN_HEX_LEN + 1];
	bool chain_full; /* chain holds a full value, not a tag */
};

struct vstate {
	FILE *out;
	struct verify_result *res;
	const uint8_t *key0;
	/* the chain so far */
	bool have_prev;
	char prev_chain[CHAIN_HEX_LEN + 1];
	bool have_seq;
	uint64_t prev_seq;
	struct pending_break pend;
	/* after a break at a tag, the full value is unknown until the next
	 * checkpoint: records in between cannot be checked */
	bool unsynced;
	uint64_t unsynced_from;
	/* seals */
	bool sealing_seen;
	bool have_epoch;
	uint64_t last_epoch;
	/* the epoch the next seal must have: the last one's + 1, or what a
	 * START says the key was at (a crash may have used one up) */
	bool have_expected;
	uint64_t expected_epoch;
	struct seal_key derived; /* key of derived.epoch, from key0 */
	bool have_seal;
	uint64_t last_seal_seq;
	/* a counted loss of the writer's: the seals among the lost records
	 * used their epochs up, so the next seal may skip them */
	bool epoch_may_skip;
	/* SEAL reason=failed: the recorder stopped sealing; the records after
	 * it, to the next START, were not sealed */
	bool seal_failed;
	uint64_t seal_failed_seq;
	char seal_failed_where[160], seal_failed_error[32];
	/* the last record */
	char last_event[16], last_reason[16];
	bool any;
	struct log_line_parser parser;
};

static void problem(struct vstate *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct vstate *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!s->res->problems)
		snprintf(s->res->first_problem, sizeof(s->res->first_problem), "%s", msg);
	s->res->problems++;
	if (s->res->problems <= MAX_REPORTED)
		fprintf(s->out, "BAD %s\n", msg);
	else if (s->res->problems == MAX_REPORTED + 1)
		fprintf(s->out, "BAD ... (further problems are counted, not shown)\n");
}

struct fields {
	const char *time, *seq, *event, *detail;
};

/* The fields verify reads, from the one record line parser (log/schema.h). */
static bool get_fields(struct vstate *s, const char *line, size_t len, enum log_format f,
		       const struct log_layout *cols, struct fields *out)
{
	struct log_line ln;
	if (log_line_parse(&s->parser, f, cols, line, len, &ln) != LOG_LINE_OK)
		return false;
	out->time = ln.f[COL_TIME];
	out->seq = ln.f[COL_SEQ];
	out->event = ln.f[COL_EVENT];
	out->detail = ln.f[COL_DETAIL];
	return true;
}

/* A decimal seq or epoch: digits only, no overflow. */
static bool parse_seq(const char *s, uint64_t *v)
{
	return log_parse_u64(s, strlen(s), v);
}

/* The break at pend, now that the record after it (or the end) is known. */
static void resolve_break(struct vstate *s, const char *next_body, size_t next_len,
			  const char *next_field, uint64_t next_seq, bool *next_follows_before)
{
	struct pending_break *p = &s->pend;
	char c[CHAIN_HEX_LEN + 1];
	bool skip = false, link = false;
	if (next_body) {
		size_t flen = strlen(next_field);
		chain_compute(p->prev_chain, next_body, next_len, c);
		skip = chain_field_matches(c, next_field, flen);
		if (p->chain_full) {
			chain_compute(p->chain, next_body, next_len, c);
			link = chain_field_matches(c, next_field, flen);
		}
	}
	if (next_body && p->have_prev_seq && p->seq > p->prev_seq + 1 &&
	    next_seq == p->prev_seq + 1) {
		problem(s, "%s (seq %" PRIu64 "): reordered: it comes before seq %" PRIu64,
			p->where, p->seq, next_seq);
		skip = false;
	} else if (skip)
		problem(s,
			"%s (seq %" PRIu64 "): inserted: this record is not part of the chain "
			"(the record after it follows the one before it)",
			p->where, p->seq);
	else if (p->have_prev_seq && p->seq > p->prev_seq + 1)
		problem(s,
			"%s (seq %" PRIu64 "): missing: records seq %" PRIu64 "..%" PRIu64
			" before it were deleted",
			p->where, p->seq, p->prev_seq + 1, p->seq - 1);
	else if (p->have_prev_seq && p->seq <= p->prev_seq)
		problem(s,
			"%s (seq %" PRIu64 "): reordered or inserted: it comes after seq %" PRIu64,
			p->where, p->seq, p->prev_seq);
	else if (link || !p->chain_full || !next_body)
		problem(s,
			"%s (seq %" PRIu64 "): edited: the record was changed after it was "
			"written (its chain value does not match its content)",
			p->where, p->seq);
	else
		problem(s,
			"%s (seq %" PRIu64 "): edited or replaced: the chain breaks here and "
			"the next record does not link to it either",
			p->where, p->seq);
	if (next_follows_before)
		*next_follows_before = skip;
	p->active = false;
}

static void check_seal(struct vstate *s, const char *where, uint64_t seq, const char *detail)
{
	char reason[16] = "", epoch_s[24] = "", head[CHAIN_HEX_LEN + 8] = "",
	     hmac[SEAL_HMAC_HEX_LEN + 8] = "";
	detail_get(detail, "reason", reason, sizeof(reason));
	detail_get(detail, "epoch", epoch_s, sizeof(epoch_s));
	detail_get(detail, "head", head, sizeof(head));
	detail_get(detail, "hmac", hmac, sizeof(hmac));
	uint64_t epoch, problems_before = s->res->problems;
	s->sealing_seen = true;
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
	if (strcmp(reason, "failed") == 0) {
		/* no seal: the recorder could not store its next key, so it made
		 * none with the one left on disk, and stopped sealing */
		if (!s->seal_failed) {
			s->seal_failed = true;
			s->seal_failed_seq = seq;
			snprintf(s->seal_failed_where, sizeof(s->seal_failed_where), "%s", where);
			if (!detail_get(detail, "error", s->seal_failed_error,
					sizeof(s->seal_failed_error)))
				snprintf(s->seal_failed_error, sizeof(s->seal_failed_error), "?");
		}
		return;
	}
	s->res->seals++;
	bool may_skip = s->epoch_may_skip;
	s->epoch_may_skip = false;
	if (!parse_seq(epoch_s, &epoch) || !chain_hex_valid(head, strlen(head)) ||
	    strlen(hmac) != SEAL_HMAC_HEX_LEN) {
		problem(s, "%s (seq %" PRIu64 "): a SEAL without epoch, head and hmac", where, seq);
		return;
	}
	if (s->have_prev && strcmp(head, s->prev_chain) != 0)
		problem(s,
			"%s (seq %" PRIu64 "): the seal's head is not the chain value of the "
			"record before it",
			where, seq);
	if (s->have_epoch && epoch <= s->last_epoch)
		problem(s,
			"%s (seq %" PRIu64 "): seal epoch %" PRIu64
			" does not follow epoch %" PRIu64
			" (a seal forged with a later key, or seals reordered)",
			where, seq, epoch, s->last_epoch);
	else if (s->have_expected && epoch > s->expected_epoch && may_skip)
		fprintf(s->out,
			"note: %s (seq %" PRIu64 "): seal epoch %" PRIu64 " where %" PRIu64
			" was due: the seals of epochs %" PRIu64 "..%" PRIu64
			" were among the records the recorder lost (counted above)\n",
			where, seq, epoch, s->expected_epoch, s->expected_epoch, epoch - 1);
	else if (s->have_expected && epoch != s->expected_epoch)
		/* seals of one run have consecutive epochs: a jump without a
		 * restart means seals were removed and history re-sealed with a
		 * later key, the one thing a thief of the current key can do */
		problem(s,
			"%s (seq %" PRIu64 "): seal epoch %" PRIu64 " where %" PRIu64
			" was due: seals removed and the records re-sealed with a later key",
			where, seq, epoch, s->expected_epoch);
	s->have_epoch = true;
	s->last_epoch = epoch;
	s->have_expected = true;
	s->expected_epoch = epoch + 1;
	s->have_seal = true;
	s->last_seal_seq = seq;
	if (!s->key0)
		return;
	/* key[N] takes N hashes from key[0]. They are taken once, forward: a
	 * log whose seal epochs went down and up again (forged) would otherwise
	 * have verify derive up to VERIFY_MAX_EPOCH keys for each seal, for hours */
	if (epoch < s->derived.epoch) {
		if (s->res->problems == problems_before)
			problem(s,
				"%s (seq %" PRIu64 "): seal epoch %" PRIu64
				" comes after a seal of epoch %" PRIu64 " (not checked)",
				where, seq, epoch, s->derived.epoch);
		return;
	}
	if (epoch > VERIFY_MAX_EPOCH) {
		problem(s, "%s (seq %" PRIu64 "): seal epoch %" PRIu64 " is implausibly large",
			where, seq, epoch);
		return;
	}
	while (s->derived.epoch < epoch)
		seal_key_evolve(&s->derived);
	char want[SEAL_HMAC_HEX_LEN + 1];
	seal_hmac(s->derived.key, epoch, seq, head, want);
	if (strcmp(want, hmac) != 0)
		problem(s,
			"%s (seq %" PRIu64 "): the seal does not verify with this key (forged, "
			"edited, or not this log's key)",
			where, seq);
	else
		s->res->seals_checked++;
}

/* Records the recorder could not write, declared by the record after them. */
static void counted_loss(struct vstate *s, const char *where, uint64_t seq, uint64_t first,
			 uint64_t last)
{
	uint64_t n = last - first + 1;
	fprintf(s->out,
		"loss: records seq %" PRIu64 "..%" PRIu64 ": lost by the recorder (%" PRIu64
		" record%s, counted): the disk refused them; declared by %s (seq %" PRIu64 ")\n",
		first, last, n, n == 1 ? "" : "s", where, seq);
	s->res->unwritten += n;
	s->res->losses++;
	s->epoch_may_skip = true;
}

/* The stretch after a SEAL reason=failed ends (at START, or the log's end). */
static void end_seal_failed(struct vstate *s, uint64_t last_seq)
{
	if (!s->seal_failed)
		return;
	problem(s,
		"%s (seq %" PRIu64 "): the recorder could not store its evolved sealing key "
		"(%s) and stopped sealing: records seq %" PRIu64 "..%" PRIu64
		" are not sealed (forward security was lost for them)",
		s->seal_failed_where, s->seal_failed_seq, s->seal_failed_error, s->seal_failed_seq,
		last_seq);
	s->seal_failed = false;
}

/* The first record kept: checked from the seed, its seal's head or its
 * START's previous_chain; c gets its chain value (or stays "" when it has
 * none to anchor the chain). */
static void check_first_record(struct vstate *s, const char *where, const char *line,
			       size_t body_len, const char *fv, size_t flen, uint64_t seq,
			       const struct fields *fl_, char c[CHAIN_HEX_LEN + 1])
{
	const struct fields fl = *fl_;
	bool full = flen == CHAIN_HEX_LEN;
	/* the first record kept: check it from the seed, or from its seal */
	char head[CHAIN_HEX_LEN + 8];
	const char *from = NULL;
	if (seq == 0)
		from = CHAIN_SEED;
	else if (strcmp(fl.event, "SEAL") == 0 &&
		 detail_get(fl.detail, "head", head, sizeof(head)) &&
		 chain_hex_valid(head, strlen(head)))
		from = head;
	else if (strcmp(fl.event, "START") == 0 &&
		 detail_get(fl.detail, "previous_chain", head, sizeof(head)) &&
		 chain_hex_valid(head, strlen(head)))
		from = head; /* a run that began a segment of its own */
	if (from) {
		chain_compute(from, line, body_len, c);
		if (!chain_field_matches(c, fv, flen))
			problem(s,
				"%s (seq %" PRIu64 "): edited: the first record does not "
				"match its chain value",
				where, seq);
	} else if (full && s->key0) {
		/* its content could be anything: nothing before it is
		 * left to link it, and nothing in it names its
		 * predecessor */
		problem(s,
			"%s (seq %" PRIu64 "): the log starts here (older segments "
			"expired) with a %s that does not name the chain value before "
			"it: it cannot be checked (the recorder begins every segment "
			"with a SEAL or a START with previous_chain=; this one is "
			"older or was altered)",
			where, seq, fl.event);
		memcpy(c, fv, CHAIN_HEX_LEN + 1);
	} else if (full) {
		fprintf(s->out,
			"note: the log starts at seq %" PRIu64 " (older segments expired); "
			"that first record anchors the chain unchecked\n",
			seq);
		memcpy(c, fv, CHAIN_HEX_LEN + 1);
	} else {
		problem(s, "%s (seq %" PRIu64 "): the first record has no full chain value", where,
			seq);
	}
}

/* A START: its sealing key epoch against the seals before it (a log cut
 * back to a clean stop), and the gap before it. */
static void check_start(struct vstate *s, const char *where, uint64_t seq, const struct fields *fl_,
			bool declared, uint64_t ufirst)
{
	const struct fields fl = *fl_;
	end_seal_failed(s, seq - 1);
	char gap[32], end[16] = "", ep[24];
	uint64_t e;
	if (detail_get(fl.detail, "seal_epoch", ep, sizeof(ep)) && parse_seq(ep, &e)) {
		if (s->have_epoch && e <= s->last_epoch)
			problem(s,
				"%s (seq %" PRIu64 "): START with sealing key epoch %" PRIu64
				", already used by a seal (the key was restored from a copy)",
				where, seq, e);
		else if (s->have_epoch && e != s->last_epoch + 1 &&
			 strcmp(s->last_event, "SEAL") == 0 && strcmp(s->last_reason, "stop") == 0)
			/* after a clean stop the key file holds the next
			 * epoch: a later one means runs in between are gone */
			problem(s,
				"%s (seq %" PRIu64 "): START with sealing key epoch %" PRIu64
				" right after a clean stop sealed with epoch %" PRIu64
				": the seals of epochs %" PRIu64 "..%" PRIu64
				" are missing (the log was cut back to this stop, "
				"removing a later run, and recording resumed)",
				where, seq, e, s->last_epoch, s->last_epoch + 1, e - 1);
		s->have_expected = true;
		s->expected_epoch = e;
	} else {
		s->have_expected = false; /* a run without seals, or an older log */
	}
	if (detail_get(fl.detail, "gap_seconds", gap, sizeof(gap))) {
		detail_get(fl.detail, "previous_end", end, sizeof(end));
		fprintf(s->out,
			"gap: nothing was recorded for %s s before seq %" PRIu64
			" (START at %s; the previous run ended by %s)\n",
			gap, seq, fl.time, *end ? end : "?");
		s->res->gaps++;
		/* after a crash, or a stop whose last records the disk refused */
		uint64_t unsealed_to = declared ? ufirst : seq;
		if ((strcmp(end, "crash") == 0 || declared) && s->sealing_seen && s->have_seal &&
		    s->last_seal_seq + 1 < unsealed_to)
			fprintf(s->out,
				"note: records seq %" PRIu64 "..%" PRIu64
				" were never sealed (the recorder stopped without sealing)\n",
				s->last_seal_seq + 1, unsealed_to - 1);
	}
}

static void check_record(struct vstate *s, const char *where, char *line, size_t len,
			 enum log_format f, const struct log_layout *cols)
{
	size_t body_len, flen;
	const char *field;
	if (!chain_split_line(line, len, f == LOG_FORMAT_JSONL, &body_len, &field, &flen)) {
		problem(s, "%s: no valid chain value at the end of the line", where);
		return;
	}
	char fv[CHAIN_HEX_LEN + 1];
	memcpy(fv, field, flen);
	fv[flen] = '\0';
	bool full = flen == CHAIN_HEX_LEN;
	struct fields fl;
	uint64_t seq;
	if (!get_fields(s, line, len, f, cols, &fl) || !parse_seq(fl.seq, &seq)) {
		problem(s, "%s: the record cannot be parsed (damaged line)", where);
		return;
	}
	s->res->records++;
	if (!s->any)
		s->res->first_seq = seq;
	s->any = true;
	s->res->last_seq = seq;

	uint64_t ufirst = 0, ulast = 0;
	bool declared = detail_get_range(fl.detail, "unwritten_seqs", &ufirst, &ulast);
	bool follows_before = false;
	if (s->pend.active)
		resolve_break(s, line, body_len, fv, seq, &follows_before);
	bool broken = false;
	char c[CHAIN_HEX_LEN + 1] = "";
	if (follows_before) {
		/* the record before was an insertion: this one links past it */
		chain_compute(s->pend.prev_chain, line, body_len, c);
		s->unsynced = false;
	} else if (s->unsynced) {
		if (full) {
			fprintf(s->out,
				"note: records seq %" PRIu64 "..%" PRIu64 " after the break could "
				"not be checked; the chain resumes at the checkpoint %s\n",
				s->unsynced_from, seq > 0 ? seq - 1 : 0, where);
			memcpy(c, fv, sizeof(c));
			s->unsynced = false;
		}
	} else if (s->have_prev) {
		chain_compute(s->prev_chain, line, body_len, c);
		broken = !chain_field_matches(c, fv, flen);
	} else {
		check_first_record(s, where, line, body_len, fv, flen, seq, &fl, c);
	}
	if (broken) {
		struct pending_break *p = &s->pend;
		p->active = true;
		snprintf(p->where, sizeof(p->where), "%s", where);
		p->seq = seq;
		p->prev_seq = s->prev_seq;
		p->have_prev_seq = s->have_seq;
		memcpy(p->chain, fv, sizeof(p->chain));
		p->chain_full = full;
		memcpy(p->prev_chain, s->prev_chain, sizeof(p->prev_chain));
		if (full) {
			memcpy(c, fv, sizeof(c)); /* resync on the stored value */
		} else {
			s->unsynced = true;
			s->unsynced_from = seq + 1;
		}
	} else if (s->have_seq && !follows_before && seq != s->prev_seq + 1) {
		if (declared && seq > s->prev_seq && ufirst == s->prev_seq + 1 && ulast + 1 == seq)
			counted_loss(s, where, seq, ufirst, ulast);
		else
			problem(s,
				"%s: seq jumps from %" PRIu64 " to %" PRIu64 " though the chain is "
				"unbroken, and the record does not declare the records between "
				"as lost by the recorder (unwritten_seqs=)",
				where, s->prev_seq, seq);
	} else if (declared && s->have_seq && !follows_before) {
		problem(s,
			"%s (seq %" PRIu64 "): declares records seq %" PRIu64 "..%" PRIu64
			" lost by the recorder, but no seqs are missing before it",
			where, seq, ufirst, ulast);
	} else if (declared && !s->have_seq) {
		/* the first record kept: what it declares was before it */
		counted_loss(s, where, seq, ufirst, ulast);
	}
	if (strcmp(fl.event, "SEAL") == 0)
		check_seal(s, where, seq, fl.detail);
	if (strcmp(fl.event, "START") == 0)
		check_start(s, where, seq, &fl, declared, ufirst);
	snprintf(s->last_event, sizeof(s->last_event), "%s", fl.event);
	if (c[0]) {
		memcpy(s->prev_chain, c, sizeof(s->prev_chain));
		s->have_prev = true;
	}
	s->prev_seq = seq;
	s->have_seq = true;
}

static bool recorder_running(int dirfd)
{
	/* not through a link, and a FIFO there must not hang verify */
	int fd = open_regular(dirfd, LOG_LOCK_NAME, O_RDONLY, 0, 0, NULL, 0);
	if (fd < 0)
		return false;
	bool busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* What the epochs of the host's sealing key and of seals seen off the host
 * say about the log's end (struct verify_opts). */
static void check_last_epoch(struct vstate *s, const struct verify_opts *o)
{
	bool clean_end = strcmp(s->last_event, "SEAL") == 0 && strcmp(s->last_reason, "stop") == 0;
	/* the epoch the key file must be at: the last seal's + 1, or the one
	 * the last START names when its run has not sealed yet */
	bool have_due = s->have_expected || s->have_epoch;
	uint64_t due = s->have_expected ? s->expected_epoch : s->last_epoch + 1;
	char what[96];
	if (s->have_epoch && due == s->last_epoch + 1)
		snprintf(what, sizeof(what), "the log's last seal has epoch %" PRIu64,
			 s->last_epoch);
	else
		snprintf(what, sizeof(what), "the log's last START names epoch %" PRIu64, due);
	/* a recorder at work may have sealed since the key file was read, or
	 * have computed a seal it has not written yet */
	bool running = s->res->running && !clean_end;
	if (o->have_key_epoch) {
		uint64_t k = o->key_epoch;
		if (!have_due && k > 0)
			problem(s,
				"the sealing key is at epoch %" PRIu64 " but the log holds no "
				"seal: the seals of epochs 0..%" PRIu64 " are missing (the log "
				"was cut back or replaced)",
				k, k - 1);
		else if (!have_due)
			; /* a key that never sealed, a log without seals */
		else if (k < due && !running)
			problem(s,
				"the sealing key is at epoch %" PRIu64 " but %s: the key file "
				"was not updated after sealing, or was restored from an older "
				"copy (is it this log's key?)",
				k, what);
		else if (k > due && !(running && k == due + 1))
			problem(s,
				"the sealing key is at epoch %" PRIu64 " but %s: the seals of "
				"epochs %" PRIu64 "..%" PRIu64 " are not in the log (it was cut "
				"back to an earlier state, removing later records; or the "
				"recorder lost them)",
				k, what, due, k - 1);
	}
	if (o->have_min_epoch && (!s->have_epoch || s->last_epoch < o->min_epoch)) {
		if (s->have_epoch)
			problem(s,
				"the log's last seal has epoch %" PRIu64 ", but a seal of "
				"epoch %" PRIu64 " was seen (--min-epoch): the log was cut "
				"back to an earlier state, removing later records",
				s->last_epoch, o->min_epoch);
		else
			problem(s,
				"the log holds no seal, but a seal of epoch %" PRIu64
				" was seen (--min-epoch): the log was cut back or replaced",
				o->min_epoch);
	}
}

/* Every line of one segment, in order: its header, then each record. */
static void verify_segment(struct vstate *s, int dirfd, const struct segment_info *si, FILE *out)
{
	struct seg_reader r;
	if (seg_reader_open(&r, dirfd, si->name) != 0) {
		problem(s, "%s: cannot be read: %s", si->name, strerror(errno));
		return;
	}
	struct log_layout cols;
	log_layout_standard(&cols, true);
	bool header = si->format == LOG_FORMAT_CSV, first = true;
	char *line;
	size_t len;
	bool complete;
	int rc;
	while ((rc = seg_reader_next(&r, &line, &len, &complete)) > 0) {
		char where[160];
		snprintf(where, sizeof(where), "%s:%" PRIu64, si->name, r.line_no);
		if (!complete) {
			if (si->active && s->res->running)
				fprintf(out, "note: %s: the last line is being written\n", where);
			else
				problem(s, "%s: truncated: the last line is incomplete", where);
			break;
		}
		if (header) {
			header = false;
			/* columns by name: an unknown one is carried along */
			if (!log_layout_from_header(&cols, line, len) || cols.idx[COL_TIME] < 0 ||
			    cols.idx[COL_SEQ] < 0 || cols.idx[COL_EVENT] < 0 ||
			    cols.idx[COL_DETAIL] < 0 || cols.chain != cols.nfields - 1) {
				problem(s,
					"%s: no header with a last column \"chain\" (a log "
					"from before the hash chain, or a damaged header)",
					where);
				break;
			}
			continue;
		}
		uint64_t before = s->res->records;
		check_record(s, where, line, len, si->format, &cols);
		if (first && s->res->records > before && !si->active) {
			/* the name says where the segment belongs */
			uint64_t seq = s->res->last_seq;
			if (seq != si->first_seq)
				problem(s,
					"%s: the segment is named for seq %" PRIu64
					" but starts at seq %" PRIu64
					" (segments renamed, swapped or spliced)",
					si->name, si->first_seq, seq);
		}
		first = false;
	}
	if (rc < 0)
		problem(s, "%s: %s", si->name, r.error);
	seg_reader_close(&r);
}

/* How the log ends: sealed at a stop, a STOP, or still being written. */
static void verify_end(struct vstate *s, const uint8_t *key0)
{
	bool sealing = s->sealing_seen || key0;
	bool seal_failed = s->seal_failed;
	end_seal_failed(s, s->res->last_seq);
	if (!s->any) {
		fprintf(s->out, "note: the log holds no records yet\n");
	} else if (s->res->running) {
		if (sealing)
			fprintf(s->out,
				"note: recording in progress: records after seq %" PRIu64
				" are sealed at the next interval\n",
				s->have_seal ? s->last_seal_seq : s->res->first_seq);
	} else if (sealing && !seal_failed &&
		   !(strcmp(s->last_event, "SEAL") == 0 && strcmp(s->last_reason, "stop") == 0)) {
		problem(s,
			"the log ends at seq %" PRIu64 " with %s: unsealed tail (records after "
			"seq %" PRIu64 " are not sealed): truncated, or the recorder crashed "
			"and has not run since",
			s->res->last_seq, s->last_event,
			s->have_seal ? s->last_seal_seq : s->res->first_seq);
	} else if ((!sealing || seal_failed) && strcmp(s->last_event, "STOP") != 0) {
		problem(s,
			"the log ends at seq %" PRIu64 " with %s, not STOP: truncated, or the "
			"recorder crashed and has not run since",
			s->res->last_seq, s->last_event);
	}
	if (key0 && !s->sealing_seen && s->any)
		problem(s, "a key was given but the log holds no SEAL records");
}

int log_verify(const char *dir, const uint8_t *key0, FILE *out, struct verify_result *res)
{
	struct verify_opts o = {.key0 = key0};
	return log_verify_opts(dir, &o, out, res);
}

int log_verify_opts(const char *dir, const struct verify_opts *o, FILE *out,
		    struct verify_result *res)
{
	const uint8_t *key0 = o->key0;
	memset(res, 0, sizeof(*res));
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "onmitsu verify: cannot open the log directory %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	/* the listing the query commands read too (log/segment.h) */
	struct segment_info *segs;
	struct segment_stray *strays = NULL;
	size_t nstrays = 0;
	int n = segment_list_all(dirfd, &segs, &strays, &nstrays);
	if (n < 0) {
		fprintf(stderr, "onmitsu verify: cannot list the log directory %s: %s\n", dir,
			strerror(errno));
		close(dirfd);
		return -1;
	}
	if (n == 0 && nstrays == 0) {
		fprintf(
		    stderr,
		    "onmitsu verify: no log in %s (expected onmitsu.csv or onmitsu-*.csv[.zst]; "
		    "is --log-dir right?)\n",
		    dir);
		free(segs);
		close(dirfd);
		return -1;
	}
	struct vstate s;
	memset(&s, 0, sizeof(s));
	s.out = out;
	s.res = res;
	s.key0 = key0;
	if (key0)
		memcpy(s.derived.key, key0, SEAL_KEY_LEN);
	/* a file put where a segment belongs is tampering evidence, even though
	 * no reader takes it for part of the log */
	for (size_t i = 0; i < nstrays; i++)
		problem(&s,
			"%s: not part of the log: %s; the query commands ignore it (a file "
			"added to the log directory)",
			strays[i].name, strays[i].why);
	res->strays = nstrays;
	segment_strays_free(strays, nstrays);
	res->running = recorder_running(dirfd);
	res->segments = (uint64_t)n;
	for (int i = 0; i < n; i++) {
		verify_segment(&s, dirfd, &segs[i], out);
	}
	if (s.pend.active)
		resolve_break(&s, NULL, 0, NULL, 0, NULL);
	verify_end(&s, key0);
	check_last_epoch(&s, o);
	char lossbuf[128] = "";
	if (res->unwritten)
		snprintf(lossbuf, sizeof(lossbuf),
			 "; %" PRIu64 " record%s lost by the recorder (counted)", res->unwritten,
			 res->unwritten == 1 ? "" : "s");
	if (res->problems)
		fprintf(out, "NOT INTACT: %" PRIu64 " problem%s; the first: %s\n", res->problems,
			res->problems == 1 ? "" : "s", res->first_problem);
	else
		fprintf(out,
			"intact: %" PRIu64 " segment%s, %" PRIu64 " records (seq %" PRIu64
			"..%" PRIu64 "), %" PRIu64 " seal%s %s%s\n",
			res->segments, res->segments == 1 ? "" : "s", res->records, res->first_seq,
			res->last_seq, res->seals, res->seals == 1 ? "" : "s",
			key0 ? "verified with the key" : "(not checked: no --key)", lossbuf);
	free(segs);
	close(dirfd);
	seal_key_wipe(&s.derived);
	log_line_parser_free(&s.parser);
	return res->problems ? 1 : 0;
}
