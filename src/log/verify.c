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
#include "log/evidence.h"
#include "log/jsonl.h"
#include "log/schema.h"
#include "log/segment.h"
#include "log/writer.h"
#include "util/safefile.h"
#include "util/log.h"
#include "util/strbuf.h"

#define MAX_REPORTED 20
/* The largest seal epoch checked: over 3 years of seals a second (the
 * shortest --seal-interval); deriving its key takes some 40 s of hashing. */
#define VERIFY_MAX_EPOCH 100000000ull

/*
 * The records since the last checkpoint (a record whose chain value is
 * written): the block the next checkpoint's value covers. A log from before
 * 0.3 writes a value (a tag, or the full one) on every record: its blocks are
 * single records.
 */
struct block {
	bool open;
	uint64_t records, first_seq;
	char first_where[160];
	bool seq_problem; /* a seq out of place in it: reported on its own */
};

/* A record whose seq is not the one due: judged by the record after it. */
struct seq_pending {
	bool active;
	char where[160];
	uint64_t seq, prev;
};

struct vstate {
	FILE *out;
	struct verify_result *res;
	const uint8_t *key0;
	/* the chain so far: the value after the last record */
	bool have_prev;
	char prev_chain[CHAIN_HEX_LEN + 1];
	bool have_seq;
	uint64_t prev_seq;
	struct seq_pending sp;
	struct block blk;
	/* records in a row without a chain value */
	uint64_t since_checkpoint;
	/* after a break: values the next block may continue from instead of the
	 * stored one (the checkpoint's own value edited: its computed value; the
	 * checkpoint inserted: the value before it) */
	int nalt;
	char alt[2][CHAIN_HEX_LEN + 1];
	/* after a break at a tag (a log before 0.3), the full value is unknown
	 * until the next full one: records in between cannot be checked */
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
	/* EVIDENCE records whose files are checked at the end */
	struct evidence_ref {
		uint64_t seq;
		char path[EVIDENCE_DIRNAME_MAX + 16];
		char sha[65];
	} * evidence;
	size_t nevidence;
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
	const char *time, *seq, *event, *detail, *path, *sha256;
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
	out->path = ln.f[COL_PATH];
	out->sha256 = ln.f[COL_SHA256];
	return true;
}

/* A decimal seq or epoch: digits only, no overflow. */
static bool parse_seq(const char *s, uint64_t *v)
{
	return log_parse_u64(s, strlen(s), v);
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
		s->unsynced = true; /* checked from the next full value on */
		s->unsynced_from = seq + 1;
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

/* The seq after a record out of place says what happened to it. next: the
 * seq of the record after it, or NULL at the end of the log. Returns true
 * when that record was taken as part of what was reported (reordered). */
static bool resolve_seq(struct vstate *s, const uint64_t *next)
{
	struct seq_pending *p = &s->sp;
	bool taken = false;
	p->active = false;
	if (next && p->seq > p->prev + 1 && *next == p->prev + 1) {
		problem(s, "%s (seq %" PRIu64 "): reordered: it comes before seq %" PRIu64,
			p->where, p->seq, *next);
		s->prev_seq = p->seq > *next ? p->seq : *next;
		taken = true;
	} else if (next && p->seq <= p->prev && *next == p->prev + 1) {
		problem(s,
			"%s (seq %" PRIu64 "): inserted: this record is not part of the log (its "
			"seq is out of place, and the record after it follows the one before it)",
			p->where, p->seq);
		s->prev_seq = p->prev;
	} else if (p->seq > p->prev) {
		problem(s,
			"%s (seq %" PRIu64 "): missing: records seq %" PRIu64 "..%" PRIu64
			" before it were deleted (the record does not declare them as lost by "
			"the recorder, unwritten_seqs=)",
			p->where, p->seq, p->prev + 1, p->seq - 1);
		s->prev_seq = p->seq;
	} else {
		problem(s,
			"%s (seq %" PRIu64 "): reordered or inserted: it comes after seq %" PRIu64,
			p->where, p->seq, p->prev);
		s->prev_seq = p->seq;
	}
	return taken;
}

/*
 * The record's seq against the one before: gap-free, or a gap the record
 * declares as the recorder's loss (unwritten_seqs=A..B). A seq out of place is
 * judged when the next record is known (resolve_seq). Returns true when the
 * seq is out of place (reported, now or at the next record).
 */
static bool check_seq(struct vstate *s, const char *where, uint64_t seq, bool declared,
		      uint64_t ufirst, uint64_t ulast)
{
	if (s->sp.active && resolve_seq(s, &seq))
		return true;
	if (!s->have_seq) {
		/* the first record kept: what it declares was before it */
		if (declared)
			counted_loss(s, where, seq, ufirst, ulast);
	} else if (seq == s->prev_seq + 1) {
		if (declared)
			problem(s,
				"%s (seq %" PRIu64 "): declares records seq %" PRIu64 "..%" PRIu64
				" lost by the recorder, but no seqs are missing before it",
				where, seq, ufirst, ulast);
	} else if (declared && seq > s->prev_seq && ufirst == s->prev_seq + 1 && ulast + 1 == seq) {
		counted_loss(s, where, seq, ufirst, ulast);
	} else {
		s->sp.active = true;
		snprintf(s->sp.where, sizeof(s->sp.where), "%s", where);
		s->sp.seq = seq;
		s->sp.prev = s->prev_seq;
		return true;
	}
	s->prev_seq = seq;
	s->have_seq = true;
	return false;
}

/* "seg:L1..L2 (records seq A..B)", or "seg:L (seq A)" for one record. */
static void block_name(char *out, size_t size, const struct block *b, const char *where,
		       uint64_t seq)
{
	if (b->records <= 1) {
		snprintf(out, size, "%s (seq %" PRIu64 ")", where, seq);
		return;
	}
	const char *c1 = strrchr(b->first_where, ':'), *c2 = strrchr(where, ':');
	bool same = c1 && c2 && c1 - b->first_where == c2 - where &&
		    memcmp(b->first_where, where, (size_t)(c1 - b->first_where)) == 0;
	snprintf(out, size, "%s..%s (records seq %" PRIu64 "..%" PRIu64 ")", b->first_where,
		 same ? c2 + 1 : where, b->first_seq, seq);
}

/* The chain value of a checkpoint does not match the records of its block. */
static void report_break(struct vstate *s, const char *where, uint64_t seq)
{
	char name[400];
	block_name(name, sizeof(name), &s->blk, where, seq);
	if (s->blk.records <= 1)
		problem(s,
			"%s: edited: the record was changed after it was written (its chain "
			"value does not match its content)",
			name);
	else
		problem(s,
			"%s: edited: a record of this block was changed after it was written "
			"(the chain value at seq %" PRIu64 " does not match the %" PRIu64
			" records since the checkpoint before)",
			name, seq, s->blk.records);
}

/*
 * The chain: every record advances it; a checkpoint (a record with a value)
 * closes its block and is compared. c gets the value after the record, or
 * stays "" when it is not known (after a break at a tag).
 */
static void check_chain(struct vstate *s, const char *where, const char *line, size_t body_len,
			const char *fv, size_t flen, uint64_t seq, bool seq_problem,
			char c[CHAIN_HEX_LEN + 1])
{
	bool cp = flen > 0, full = flen == CHAIN_HEX_LEN;
	if (!s->blk.open) {
		s->blk.open = true;
		s->blk.records = 0;
		s->blk.first_seq = seq;
		snprintf(s->blk.first_where, sizeof(s->blk.first_where), "%s", where);
		s->blk.seq_problem = false;
	}
	s->blk.records++;
	s->blk.seq_problem |= seq_problem;
	char before[CHAIN_HEX_LEN + 1] = "";
	if (s->have_prev) {
		memcpy(before, s->prev_chain, sizeof(before));
		chain_compute(s->prev_chain, line, body_len, c);
	}
	for (int i = 0; i < s->nalt; i++)
		chain_compute(s->alt[i], line, body_len, s->alt[i]);
	if (!cp)
		return;
	s->blk.open = false;
	bool ok = s->have_prev && chain_field_matches(c, fv, flen);
	for (int i = 0; i < s->nalt && !ok; i++) {
		if (chain_field_matches(s->alt[i], fv, flen)) {
			ok = true; /* the break before was that checkpoint's alone */
			memcpy(c, s->alt[i], CHAIN_HEX_LEN + 1);
		}
	}
	s->nalt = 0;
	if (ok && s->unsynced) {
		s->unsynced = false;
	} else if (s->unsynced) {
		if (full) {
			fprintf(s->out,
				"note: records seq %" PRIu64 "..%" PRIu64 " after the break could "
				"not be checked; the chain resumes at the checkpoint %s\n",
				s->unsynced_from, seq > 0 ? seq - 1 : 0, where);
			memcpy(c, fv, CHAIN_HEX_LEN + 1);
			s->unsynced = false;
		}
	} else if (!ok) {
		if (!s->blk.seq_problem)
			report_break(s, where, seq);
		memcpy(s->alt[s->nalt++], c, CHAIN_HEX_LEN + 1);
		if (before[0])
			memcpy(s->alt[s->nalt++], before, sizeof(before));
		if (full) {
			memcpy(c, fv, CHAIN_HEX_LEN + 1); /* resync on the stored value */
		} else {
			c[0] = '\0';
			s->unsynced = true;
			s->unsynced_from = seq + 1;
		}
	}
}

/* an EVIDENCE record names a directory and its manifest's hash: checked
 * once every segment is read (log/evidence.h) */
static void note_evidence(struct vstate *s, const char *where, uint64_t seq,
			  const struct fields *fl)
{
	if (!ev_record_path_ok(fl->path, strlen(fl->path)) || strlen(fl->sha256) != 64) {
		problem(s,
			"%s (seq %" PRIu64 "): an EVIDENCE record whose path or sha256 is not "
			"one the recorder writes (evidence/GUID, 64 hex digits)",
			where, seq);
		return;
	}
	struct evidence_ref *v = realloc(s->evidence, (s->nevidence + 1) * sizeof(*v));
	if (!v)
		fatal("out of memory");
	s->evidence = v;
	v[s->nevidence].seq = seq;
	snprintf(v[s->nevidence].path, sizeof(v[0].path), "%s", fl->path);
	memcpy(v[s->nevidence].sha, fl->sha256, 65);
	s->nevidence++;
}

static void check_evidence(struct vstate *s, int dirfd)
{
	for (size_t i = 0; i < s->nevidence; i++) {
		char err[512];
		if (ev_check(dirfd, s->evidence[i].path, s->evidence[i].sha, err, sizeof(err)) != 0)
			problem(s, "evidence of seq %" PRIu64 ": %s", s->evidence[i].seq, err);
		else
			s->res->evidence_checked++;
	}
	if (s->nevidence)
		fprintf(s->out, "evidence: %" PRIu64 " of %zu kept as their manifests say\n",
			s->res->evidence_checked, s->nevidence);
	free(s->evidence);
	s->evidence = NULL;
	s->nevidence = 0;
}

static void check_record(struct vstate *s, const char *where, char *line, size_t len,
			 enum log_format f, const struct log_layout *cols, bool seg_first)
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
	bool seq_problem = check_seq(s, where, seq, declared, ufirst, ulast);

	/* where the writer always writes the value: a value removed would
	 * only make the block longer, but it is removed all the same */
	bool kind_cp = strcmp(fl.event, "START") == 0 || strcmp(fl.event, "STOP") == 0 ||
		       strcmp(fl.event, "SEAL") == 0;
	if (flen) {
		s->since_checkpoint = 0;
	} else if (seg_first || kind_cp) {
		problem(s,
			"%s (seq %" PRIu64 "): no chain value on a %s (the recorder writes one on "
			"every START, STOP, SEAL and first record of a segment): removed",
			where, seq, seg_first ? "segment's first record" : fl.event);
	} else if (!seq_problem && ++s->since_checkpoint == CHAIN_BLOCK_MAX) {
		/* (a record out of place is reported as such, not counted) */
		problem(s,
			"%s (seq %" PRIu64 "): %d records in a row without a chain value (the "
			"recorder writes one at least every %d): a checkpoint's value was removed",
			where, seq, CHAIN_BLOCK_MAX, CHAIN_CHECKPOINT_EVERY);
	}

	char c[CHAIN_HEX_LEN + 1] = "";
	if (!s->have_prev && !s->unsynced && !s->nalt)
		check_first_record(s, where, line, body_len, fv, flen, seq, &fl, c);
	else
		check_chain(s, where, line, body_len, fv, flen, seq, seq_problem, c);
	if (strcmp(fl.event, "SEAL") == 0)
		check_seal(s, where, seq, fl.detail);
	if (strcmp(fl.event, "START") == 0)
		check_start(s, where, seq, &fl, declared, ufirst);
	if (strcmp(fl.event, "EVIDENCE") == 0 && (fl.path[0] || fl.sha256[0]))
		note_evidence(s, where, seq, &fl);
	snprintf(s->last_event, sizeof(s->last_event), "%s", fl.event);
	memcpy(s->prev_chain, c, sizeof(s->prev_chain));
	s->have_prev = c[0] != '\0';
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
		check_record(s, where, line, len, si->format, &cols, first);
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
	if (s.sp.active)
		resolve_seq(&s, NULL);
	if (s.blk.open)
		fprintf(out,
			"note: records seq %" PRIu64 "..%" PRIu64
			" come after the last checkpoint: "
			"%s\n",
			s.blk.first_seq, res->last_seq,
			res->running ? "they are checked at the next one (recording in progress)"
				     : "no chain value was written after them (the recorder "
				       "stopped before the next checkpoint, or the log was cut): "
				       "they cannot be checked");
	verify_end(&s, key0);
	check_last_epoch(&s, o);
	check_evidence(&s, dirfd);
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
