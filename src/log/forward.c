/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/forward.h"
#include "log/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/chain.h"
#include "log/csv.h"
#include "util/log.h"
#include "util/privs.h"
#include "util/safefile.h"
#include "util/strbuf.h"
#include "util/time.h"

#define IDLE_POLL_MS 100
#define CURSOR_SAVE_MS 1000

struct pending {
	uint64_t seq, end, acked_ms;
};

struct forwarder {
	pthread_t th;
	volatile int stop;
	int drain_ms;
	char *dir;
	int dirfd;
	enum log_format fmt;
	char host[256], port[16];
	char hostname[256]; /* RFC 5424 HOSTNAME: printable ASCII, no spaces */
	char jhost[3][256];
	struct jsonl_host jh;
	int pid;
	char cursor_name[320];
	bool cursor_warned; /* a save failed; said once until one works */

	/* the source */
	bool have_src, src_active, src_zst;
	int fd;
	ino_t ino;
	struct seg_reader sr;
	struct strbuf tb;
	size_t tpos;
	bool skipping_long; /* dropping a line longer than LOG_LINE_MAX to its end */
	uint64_t src_first_seq;
	bool src_saw_record;
	bool src_rotated; /* the active segment we read was rotated: read it to its end */
	bool have_exhausted;
	uint64_t exhausted_first;
	uint64_t next_seq;

	/* the connection */
	int sock;
	uint64_t sent_bytes;
	struct pending *pend;
	size_t phead, plen, pcap;
	uint64_t confirmed_next; /* the first seq the collector may not have */
	uint64_t cursor_saved_ms, backoff_ms, retry_at_ms;
	bool warned_down;
	uint64_t sent, reconnects;

	struct strbuf frame, json;
	/* the record line parser (log/schema.h), and where the columns are in
	 * the source's lines (from its header) */
	struct log_line_parser parser;
	struct log_layout cols;
	bool at_header; /* the next line of a CSV source is its header */
};

void syslog_frame(struct strbuf *out, const char *time, const char *hostname, int pid,
		  const char *msgid, const char *json, size_t json_len)
{
	char head[512];
	/* PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG */
	int n = snprintf(head, sizeof(head), "<%d>1 %s %s onmitsu %d %s - ",
			 SYSLOG_FACILITY * 8 + SYSLOG_SEVERITY, time, *hostname ? hostname : "-",
			 pid, *msgid ? msgid : "-");
	/* RFC 6587 octet counting: "LEN SP MSG", LEN the octets of MSG */
	sb_addf(out, "%zu ", (size_t)n + json_len);
	sb_add(out, head, (size_t)n);
	sb_add(out, json, json_len);
}

/* ---- the cursor ---- */

static void cursor_load(struct forwarder *fw)
{
	char err[512];
	int fd = open_regular(fw->dirfd, fw->cursor_name, O_RDONLY, 0, SF_OWNED, err, sizeof(err));
	if (fd < 0) {
		if (errno != ENOENT)
			log_warnx("syslog: %s/%s; forwarding starts at seq %" PRIu64, fw->dir, err,
				  fw->confirmed_next);
		return;
	}
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	unsigned long long v;
	if (sscanf(buf, "next=%llu", &v) == 1)
		fw->confirmed_next = v;
}

static void cursor_save(struct forwarder *fw)
{
	char tmp[352], buf[64];
	snprintf(tmp, sizeof(tmp), "%s.new", fw->cursor_name);
	int n = snprintf(buf, sizeof(buf), "next=%" PRIu64 "\n", fw->confirmed_next);
	char err[512];
	fw->cursor_saved_ms = now_mono_ms();
	int fd = create_fresh(fw->dirfd, tmp, O_WRONLY, 0600, err, sizeof(err));
	if (fd < 0) {
		if (!fw->cursor_warned)
			log_warnx("syslog: cannot save the cursor: %s/%s", fw->dir, err);
		fw->cursor_warned = true;
		return;
	}
	bool ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	if (ok && renameat(fw->dirfd, tmp, fw->dirfd, fw->cursor_name) == 0)
		fw->cursor_warned = false;
}

/* ---- reading the log back ---- */

static void close_source(struct forwarder *fw)
{
	if (!fw->have_src)
		return;
	if (fw->src_zst)
		seg_reader_close(&fw->sr);
	else
		close(fw->fd);
	fw->fd = -1;
	sb_reset(&fw->tb);
	fw->tpos = 0;
	fw->skipping_long = false;
	fw->have_src = false;
}

static void exhausted(struct forwarder *fw)
{
	if (fw->src_saw_record || !fw->src_active) {
		fw->have_exhausted = true;
		fw->exhausted_first = fw->src_first_seq;
	}
	close_source(fw);
}

static int open_source(struct forwarder *fw)
{
	struct segment_info *segs;
	int n = segment_list(fw->dirfd, &segs);
	if (n < 0)
		return -1;
	int idx = -1, nclosed = 0;
	for (int i = 0; i < n; i++) {
		if (segs[i].active || segs[i].format != fw->fmt)
			continue;
		nclosed = i + 1;
		if (segs[i].first_seq <= fw->next_seq)
			idx = i;
	}
	if (idx >= 0 && fw->have_exhausted && segs[idx].first_seq <= fw->exhausted_first) {
		/* read to its end already: the one after it */
		int j = idx + 1;
		while (j < nclosed && segs[j].first_seq <= fw->exhausted_first)
			j++;
		idx = j < nclosed ? j : -1;
	}
	if (idx < 0 && nclosed > 0 && segs[0].first_seq > fw->next_seq &&
	    !(fw->have_exhausted && fw->exhausted_first >= segs[0].first_seq)) {
		log_warnx("syslog: records seq %" PRIu64 "..%" PRIu64
			  " expired from %s before they could be forwarded",
			  fw->next_seq, segs[0].first_seq - 1, fw->dir);
		fw->next_seq = segs[0].first_seq;
		idx = 0;
	}
	int rc = -1;
	fw->src_rotated = false;
	if (idx >= 0) {
		fw->src_active = false;
		fw->src_first_seq = segs[idx].first_seq;
		fw->src_zst = segs[idx].zst;
		if (fw->src_zst)
			rc = seg_reader_open(&fw->sr, fw->dirfd, segs[idx].name);
		else
			rc = (fw->fd = open_regular(fw->dirfd, segs[idx].name, O_RDONLY, 0,
						    SF_OWNED, NULL, 0)) < 0
				 ? -1
				 : 0;
	} else {
		fw->src_active = true;
		fw->src_zst = false;
		fw->src_saw_record = false;
		fw->fd = open_regular(fw->dirfd, log_active_name(fw->fmt), O_RDONLY, 0, SF_OWNED,
				      NULL, 0);
		struct stat st;
		if (fw->fd >= 0 && fstat(fw->fd, &st) == 0) {
			fw->ino = st.st_ino;
			rc = 0;
		}
	}
	free(segs);
	if (rc == 0) {
		fw->have_src = true;
		fw->at_header = fw->fmt == LOG_FORMAT_CSV;
		log_layout_standard(&fw->cols, true);
	}
	return rc;
}

/* 1: a complete line; 0: none for now (the end of what is written). */
static int source_line(struct forwarder *fw, char **line, size_t *len)
{
	if (fw->src_zst) {
		bool complete;
		int rc = seg_reader_next(&fw->sr, line, len, &complete);
		if (rc < 0)
			log_warnx("syslog: %s: %s", fw->dir, fw->sr.error);
		return rc > 0 && complete;
	}
	for (;;) {
		char *start = fw->tb.data ? fw->tb.data + fw->tpos : NULL;
		char *nl = start ? memchr(start, '\n', fw->tb.len - fw->tpos) : NULL;
		if (nl) {
			*line = start;
			*len = (size_t)(nl - start);
			*nl = '\0';
			fw->tpos += *len + 1;
			if (fw->skipping_long) {
				fw->skipping_long = false;
				continue;
			}
			return 1;
		}
		if (fw->tpos) {
			memmove(fw->tb.data, fw->tb.data + fw->tpos, fw->tb.len - fw->tpos);
			fw->tb.len -= fw->tpos;
			fw->tpos = 0;
		}
		if (fw->tb.len >= LOG_LINE_MAX) {
			/* no record is this long (log/schema.h): drop it to its end
			 * rather than hold it all in memory */
			if (!fw->skipping_long)
				log_warnx(
				    "syslog: %s: a line longer than %u bytes is not a record; "
				    "skipped",
				    fw->dir, LOG_LINE_MAX);
			fw->skipping_long = true;
			fw->tb.len = 0;
		}
		sb_reserve(&fw->tb, 1 << 16);
		ssize_t n = read(fw->fd, fw->tb.data + fw->tb.len, fw->tb.cap - fw->tb.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		fw->tb.len += (size_t)n;
		fw->tb.data[fw->tb.len] = '\0';
	}
}

/* A record of the source: its fields, and its seq (log/schema.h's parser,
 * which refuses a seq that is not a number or does not fit 64 bits). A CSV
 * source's first line is its header: it says where the columns are. */
static bool source_record(struct forwarder *fw, const char *line, size_t len, struct log_line *ln,
			  uint64_t *seq)
{
	if (fw->at_header) {
		fw->at_header = false;
		if (!log_layout_from_header(&fw->cols, line, len) || fw->cols.idx[COL_SEQ] < 0)
			log_layout_standard(&fw->cols, true);
		return false;
	}
	return log_line_parse(&fw->parser, fw->fmt, &fw->cols, line, len, ln) == LOG_LINE_OK &&
	       log_line_seq(ln, seq);
}

/* ---- the connection ---- */

static void disconnect(struct forwarder *fw, const char *why)
{
	if (fw->sock < 0)
		return;
	log_warnx("syslog: lost the collector %s:%s (%s); records wait in %s", fw->host, fw->port,
		  why, fw->dir);
	close(fw->sock);
	fw->sock = -1;
	fw->plen = 0;
	fw->retry_at_ms = now_mono_ms() + 500;
	close_source(fw); /* resend from the cursor */
}

static void try_connect(struct forwarder *fw)
{
	uint64_t now = now_mono_ms();
	if (now < fw->retry_at_ms)
		return;
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	int gai = getaddrinfo(fw->host, fw->port, &hints, &ai);
	int s = -1;
	for (struct addrinfo *a = gai == 0 ? ai : NULL; a && s < 0; a = a->ai_next) {
		s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s < 0)
			continue;
		if (connect(s, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
			close(s);
			s = -1;
			continue;
		}
		struct pollfd pfd = {s, POLLOUT, 0};
		int err = 0;
		socklen_t el = sizeof(err);
		if (poll(&pfd, 1, 3000) != 1 ||
		    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
			close(s);
			s = -1;
		}
	}
	if (ai)
		freeaddrinfo(ai);
	if (s < 0) {
		if (!fw->warned_down)
			log_warnx(
			    "syslog: cannot reach %s:%s%s%s; records wait in %s and go out when "
			    "it answers",
			    fw->host, fw->port, gai ? ": " : "", gai ? gai_strerror(gai) : "",
			    fw->dir);
		fw->warned_down = true;
		fw->backoff_ms = fw->backoff_ms ? fw->backoff_ms * 2 : 500;
		if (fw->backoff_ms > 5000)
			fw->backoff_ms = 5000;
		fw->retry_at_ms = now + fw->backoff_ms;
		return;
	}
	int fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = {5, 0};
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (fw->warned_down || fw->reconnects)
		log_warnx("syslog: connected to %s:%s; sending from seq %" PRIu64, fw->host,
			  fw->port, fw->confirmed_next);
	fw->warned_down = false;
	fw->backoff_ms = 0;
	fw->sock = s;
	fw->sent_bytes = 0;
	fw->plen = 0;
	fw->reconnects++;
	fw->next_seq = fw->confirmed_next;
	close_source(fw);
	fw->have_exhausted = false;
}

static void pending_push(struct forwarder *fw, uint64_t seq, uint64_t end)
{
	if (fw->plen == fw->pcap) {
		size_t ncap = fw->pcap ? fw->pcap * 2 : 1024;
		struct pending *np = malloc(ncap * sizeof(*np));
		if (!np)
			fatal("out of memory");
		for (size_t i = 0; i < fw->plen; i++)
			np[i] = fw->pend[(fw->phead + i) % fw->pcap];
		free(fw->pend);
		fw->pend = np;
		fw->pcap = ncap;
		fw->phead = 0;
	}
	fw->pend[(fw->phead + fw->plen) % fw->pcap] = (struct pending){seq, end, 0};
	fw->plen++;
}

/* Move the cursor over what the collector surely has. all: confirm what is
 * acknowledged without waiting (a clean stop). */
static void update_acks(struct forwarder *fw, bool all)
{
	if (fw->sock < 0)
		return;
	int outq = 0;
	if (ioctl(fw->sock, SIOCOUTQ, &outq) != 0)
		return;
	uint64_t acked = fw->sent_bytes - (uint64_t)outq, now = now_mono_ms();
	for (size_t i = 0; i < fw->plen; i++) {
		struct pending *p = &fw->pend[(fw->phead + i) % fw->pcap];
		if (p->end > acked)
			break;
		if (!p->acked_ms)
			p->acked_ms = now;
	}
	while (fw->plen) {
		struct pending *p = &fw->pend[fw->phead];
		if (!p->acked_ms || (!all && now - p->acked_ms < FORWARD_CONFIRM_MS))
			break;
		fw->confirmed_next = p->seq + 1;
		fw->phead = (fw->phead + 1) % fw->pcap;
		fw->plen--;
	}
	if (now - fw->cursor_saved_ms >= CURSOR_SAVE_MS)
		cursor_save(fw);
}

/* The collector never speaks on a plain syslog connection: readable means
 * it closed (or reset) the connection. */
static bool connection_alive(struct forwarder *fw, int wait_ms)
{
	struct pollfd pfd = {fw->sock, POLLIN | POLLRDHUP, 0};
	if (poll(&pfd, 1, wait_ms) <= 0)
		return true;
	char c;
	ssize_t n = recv(fw->sock, &c, 1, MSG_DONTWAIT);
	if (n > 0)
		return true;
	disconnect(fw, n == 0 ? "closed by the collector" : strerror(errno));
	return false;
}

static bool send_record(struct forwarder *fw, const struct log_line *ln, const char *line,
			size_t len, uint64_t seq)
{
	sb_reset(&fw->json);
	sb_reset(&fw->frame);
	char time[32], msgid[16];
	snprintf(time, sizeof(time), "%s", *ln->f[COL_TIME] ? ln->f[COL_TIME] : "-");
	snprintf(msgid, sizeof(msgid), "%s", *ln->f[COL_EVENT] ? ln->f[COL_EVENT] : "-");
	if (fw->fmt == LOG_FORMAT_JSONL) {
		sb_add(&fw->json, line, len);
	} else {
		if (!chain_field_valid(ln->chain, ln->chain_len))
			return true; /* not a record: skip it */
		jsonl_encode_fields(&fw->json, ln->f, &fw->jh, ln->chain);
		fw->json.len--; /* its "\n" */
	}
	syslog_frame(&fw->frame, time, fw->hostname, fw->pid, msgid, fw->json.data, fw->json.len);
	size_t off = 0;
	while (off < fw->frame.len) {
		ssize_t n = send(fw->sock, fw->frame.data + off, fw->frame.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			disconnect(fw, n < 0 ? strerror(errno) : "short write");
			return false;
		}
		off += (size_t)n;
	}
	fw->sent_bytes += fw->frame.len;
	pending_push(fw, seq, fw->sent_bytes);
	fw->sent++;
	return true;
}

static void *forwarder_main(void *arg)
{
	struct forwarder *fw = arg;
	thread_keep_capability(-1); /* it only reads the log and talks TCP */
	uint64_t deadline = 0, last_ack = 0;
	for (;;) {
		uint64_t now = now_mono_ms();
		if (fw->stop && !deadline)
			deadline = now + (uint64_t)fw->drain_ms;
		if (deadline && now >= deadline)
			break;
		if (fw->sock < 0) {
			try_connect(fw);
			if (fw->sock < 0) {
				if (fw->stop)
					break; /* nobody to drain to: the cursor keeps the place */
				usleep(IDLE_POLL_MS * 1000);
				continue;
			}
		}
		if (!fw->have_src && open_source(fw) != 0) {
			usleep(IDLE_POLL_MS * 1000);
			continue;
		}
		char *line;
		size_t len;
		if (source_line(fw, &line, &len)) {
			uint64_t seq;
			struct log_line ln;
			if (source_record(fw, line, len, &ln, &seq)) {
				if (fw->src_active && !fw->src_saw_record) {
					fw->src_saw_record = true;
					fw->src_first_seq = seq;
				}
				if (seq >= fw->next_seq) {
					if (!send_record(fw, &ln, line, len, seq))
						continue;
					fw->next_seq = seq + 1;
				}
			}
			if (now - last_ack >= 200) {
				update_acks(fw, false);
				last_ack = now;
			}
			continue;
		}
		if (!fw->src_active || fw->src_rotated) {
			exhausted(fw);
			continue;
		}
		struct stat st;
		if (fstatat(fw->dirfd, log_active_name(fw->fmt), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino != fw->ino) {
			/* rotated: read what we hold to its end (the writer flushed
			 * before renaming), then go on with the next segment */
			fw->src_rotated = true;
			continue;
		}
		/* caught up */
		if (fw->stop) {
			update_acks(fw, false);
			int outq = 0;
			if (ioctl(fw->sock, SIOCOUTQ, &outq) == 0 && outq == 0) {
				update_acks(fw, true);
				break;
			}
		}
		if (!connection_alive(fw, IDLE_POLL_MS))
			continue;
		update_acks(fw, false);
		last_ack = now_mono_ms();
	}
	cursor_save(fw);
	return NULL;
}

static void copy_printable(char *out, size_t size, const char *s)
{
	size_t n = 0;
	for (; s && *s && n + 1 < size; s++)
		if (*s > 32 && *s < 127)
			out[n++] = *s;
	out[n] = '\0';
}

struct forwarder *forwarder_start(const char *dir, int dirfd, enum log_format format,
				  const char *hostport, const struct jsonl_host *host,
				  uint64_t next_seq)
{
	const char *colon = strrchr(hostport, ':');
	if (!colon || colon == hostport)
		return NULL;
	struct forwarder *fw = calloc(1, sizeof(*fw));
	if (!fw)
		fatal("out of memory");
	size_t hl = (size_t)(colon - hostport);
	const char *h = hostport;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	snprintf(fw->host, sizeof(fw->host), "%.*s", (int)hl, h);
	snprintf(fw->port, sizeof(fw->port), "%s", colon + 1);
	fw->dir = strdup(dir);
	fw->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (!fw->dir || fw->dirfd < 0) {
		log_warn("syslog: cannot open %s", dir);
		free(fw->dir);
		free(fw);
		return NULL;
	}
	fw->fmt = format;
	fw->sock = fw->fd = -1;
	fw->pid = (int)getpid();
	copy_printable(fw->hostname, sizeof(fw->hostname), host ? host->name : NULL);
	snprintf(fw->jhost[0], sizeof(fw->jhost[0]), "%s", host && host->name ? host->name : "");
	snprintf(fw->jhost[1], sizeof(fw->jhost[1]), "%s", host && host->id ? host->id : "");
	snprintf(fw->jhost[2], sizeof(fw->jhost[2]), "%s",
		 host && host->boot_id ? host->boot_id : "");
	fw->jh = (struct jsonl_host){fw->jhost[0], fw->jhost[1], fw->jhost[2]};
	char safe[300];
	snprintf(safe, sizeof(safe), "%s-%s", fw->host, fw->port);
	for (char *p = safe; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
	snprintf(fw->cursor_name, sizeof(fw->cursor_name), "syslog-%s.cursor", safe);
	fw->confirmed_next = next_seq;
	cursor_load(fw); /* where the last run left off, if it did */
	fw->next_seq = fw->confirmed_next;
	if (pthread_create(&fw->th, NULL, forwarder_main, fw) != 0) {
		log_warnx("syslog: cannot start the forwarder thread");
		close(fw->dirfd);
		free(fw->dir);
		free(fw);
		return NULL;
	}
	return fw;
}

void forwarder_stop(struct forwarder *fw, int drain_ms)
{
	if (!fw)
		return;
	fw->drain_ms = drain_ms;
	fw->stop = 1;
	pthread_join(fw->th, NULL);
	close_source(fw);
	if (fw->sock >= 0)
		close(fw->sock);
	log_info("syslog: %" PRIu64 " records sent to %s:%s", fw->sent, fw->host, fw->port);
	close(fw->dirfd);
	free(fw->dir);
	free(fw->pend);
	sb_free(&fw->tb);
	sb_free(&fw->frame);
	sb_free(&fw->json);
	log_line_parser_free(&fw->parser);
	free(fw);
}
