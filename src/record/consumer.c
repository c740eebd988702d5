/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/consumer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record/cgroup.h"
#include "record/guid.h"
#include "util/community_id.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/time.h"

void consumer_init(struct consumer *c, const uint8_t boot_id[16], consumer_out_fn out, void *ctx)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->boot_id, boot_id, 16);
	c->out = out;
	c->out_ctx = ctx;
	c->pending_tail = &c->pending;
	proctable_init(&c->procs);
	c->dns_tcp = calloc(1, sizeof(*c->dns_tcp));
	if (!c->dns_tcp)
		fatal("out of memory");
	dns_msg_init(&c->dns);
	consumer_sync_clock(c);
}

/* A record held for its hash: a copy of it, all its text in mem. */
struct pending_record {
	struct om_record r;
	struct hash_wait *w;
	char *mem;
	char sha[HASH_SHA_HEX];
	struct pending_record *next;
};

static void pending_free(struct consumer *c, struct pending_record *p)
{
	if (p->w && c->hasher)
		hasher_release(c->hasher, p->w);
	free(p->mem);
	free(p);
}

void consumer_free(struct consumer *c)
{
	while (c->pending) {
		struct pending_record *p = c->pending;
		c->pending = p->next;
		pending_free(c, p);
	}
	c->pending_tail = &c->pending;
	c->npending = 0;
	proctable_free(&c->procs);
	free(c->dns_tcp);
	c->dns_tcp = NULL;
	dns_msg_free(&c->dns);
	inject_table_free(&c->inject);
}

void consumer_set_inject_source(struct consumer *c, const struct inject_source *src)
{
	c->inject.src = *src;
}

void consumer_evidence(struct consumer *c, enum ev_rule rule, uint32_t pid, uint64_t start_ns,
		       const char *guid, int64_t uid, const char *trigger)
{
	consumer_evidence_ticks(c, rule, pid, guid_ticks_from_ns(start_ns), guid, uid, trigger);
}

void consumer_evidence_ticks(struct consumer *c, enum ev_rule rule, uint32_t pid, uint64_t ticks,
			     const char *guid, int64_t uid, const char *trigger)
{
	if (!c->evidence || !guid)
		return;
	struct proc_entry *p = proctable_lookup(&c->procs, pid);
	if (p && p->start_ticks == ticks) {
		if (p->evidence_fired)
			return;
		p->evidence_fired = true;
	}
	evidence_fire(c->evidence, rule, pid, ticks, guid, uid, trigger);
}

void hash_error_detail(struct strbuf *d, enum hash_err err)
{
	const char *name = hash_err_name(err);
	if (name)
		sb_addf(d, " hash_error=%s", name);
}

/* A copy of r whose text lives in one block (*mem). -1: out of memory. */
static int record_copy(struct om_record *dst, const struct om_record *r, char **mem)
{
	*dst = *r;
	const char **texts[] = {
	    &dst->guid,		&dst->parent_guid,  &dst->proto,    &dst->direction,
	    &dst->result,	&dst->community_id, &dst->detail,   &dst->sha256,
	    &dst->container_id, &dst->target_guid,  &dst->dns_name, &dst->dns_type,
	    &dst->dns_answers,
	};
	struct {
		const char **p;
		size_t len;
	} bytes[] = {
	    {&dst->exe, r->exe_len},
	    {&dst->args, r->args_len},
	    {&dst->path, r->path_len},
	    {&dst->cgroup, r->cgroup_len},
	};
	size_t nt = sizeof(texts) / sizeof(texts[0]), nb = sizeof(bytes) / sizeof(bytes[0]);
	size_t n = 1;
	for (size_t i = 0; i < nt; i++)
		n += *texts[i] ? strlen(*texts[i]) + 1 : 0;
	for (size_t i = 0; i < nb; i++)
		n += *bytes[i].p ? bytes[i].len + 1 : 0;
	char *m = malloc(n), *p = m;
	if (!m)
		return -1;
	for (size_t i = 0; i < nt; i++)
		if (*texts[i]) {
			size_t l = strlen(*texts[i]) + 1;
			memcpy(p, *texts[i], l);
			*texts[i] = p;
			p += l;
		}
	for (size_t i = 0; i < nb; i++)
		if (*bytes[i].p) {
			memcpy(p, *bytes[i].p, bytes[i].len);
			p[bytes[i].len] = '\0';
			*bytes[i].p = p;
			p += bytes[i].len + 1;
		}
	*mem = m;
	return 0;
}

/* a held record's hash is ready (or given up): write it */
static void pending_out(struct consumer *c, struct pending_record *p, enum hash_err err)
{
	struct strbuf d = STRBUF_INIT;
	if (err == HASH_OK) {
		p->r.sha256 = p->sha;
	} else {
		c->hash_errors++;
		if (p->r.detail)
			sb_adds(&d, p->r.detail);
		hash_error_detail(&d, err); /* " hash_error=NAME" */
		p->r.detail = p->r.detail ? d.data : d.data + 1;
	}
	c->out(c->out_ctx, &p->r);
	sb_free(&d);
}

void consumer_drain(struct consumer *c)
{
	while (c->pending) {
		struct pending_record *p = c->pending;
		enum hash_err err = HASH_OK;
		if (p->w) {
			if (!hasher_result(c->hasher, p->w, p->sha, &err))
				return;
			p->w = NULL;
			pending_out(c, p, err);
		} else {
			c->out(c->out_ctx, &p->r);
		}
		c->pending = p->next;
		if (!c->pending)
			c->pending_tail = &c->pending;
		c->npending--;
		pending_free(c, p);
	}
}

void consumer_emit(struct consumer *c, struct om_record *r, struct hash_wait *w)
{
	consumer_drain(c);
	if (!w && !c->pending) {
		c->out(c->out_ctx, r);
		return;
	}
	/* bounded: wait for the first held record (a hash ends: --hash-max), at
	 * most 30 s; then hold more rather than lose any */
	for (int i = 0; c->npending >= CONSUMER_PENDING_MAX && i < 3000; i++) {
		hasher_sleep(c->hasher, 10);
		consumer_drain(c);
	}
	struct pending_record *p = calloc(1, sizeof(*p));
	if (!p || record_copy(&p->r, r, &p->mem) != 0)
		fatal("out of memory");
	p->w = w;
	*c->pending_tail = p;
	c->pending_tail = &p->next;
	c->npending++;
}

void consumer_finish(struct consumer *c, int timeout_ms)
{
	for (int waited = 0; c->pending && waited < timeout_ms; waited += 10) {
		consumer_drain(c);
		if (c->pending)
			hasher_sleep(c->hasher, 10);
	}
	consumer_drain(c);
	while (c->pending) {
		struct pending_record *p = c->pending;
		c->pending = p->next;
		if (p->w) {
			hasher_release(c->hasher, p->w);
			p->w = NULL;
			pending_out(c, p, HASH_E_STOPPED);
		} else {
			c->out(c->out_ctx, &p->r);
		}
		pending_free(c, p);
	}
	c->pending_tail = &c->pending;
	c->npending = 0;
}

/* The hash of the file an EXEC or MODLOAD names: into r->sha256 (sha, the
 * caller's) or d's hash_error= when known now; else the wait. */
static struct hash_wait *ask_hash(struct consumer *c, struct hash_req *q, struct om_record *r,
				  char sha[HASH_SHA_HEX], struct strbuf *d)
{
	if (!c->hasher || !(q->id.flags & OM_FID_VALID))
		return NULL;
	enum hash_err err = HASH_OK;
	struct hash_wait *w = hasher_request(c->hasher, q, sha, &err);
	if (w)
		return w;
	if (err == HASH_OK) {
		r->sha256 = sha;
	} else {
		c->hash_errors++;
		hash_error_detail(d, err);
	}
	return NULL;
}

void consumer_sync_clock(struct consumer *c)
{
	/* bracket the realtime read by two boottime reads to halve the error */
	int64_t b1 = (int64_t)clock_ns(CLOCK_BOOTTIME);
	int64_t r = (int64_t)clock_ns(CLOCK_REALTIME);
	int64_t b2 = (int64_t)clock_ns(CLOCK_BOOTTIME);
	c->boot_to_unix_ns = r - (b1 + (b2 - b1) / 2);
}

void exit_result(char *buf, size_t size, uint32_t status)
{
	uint32_t sig = status & 0x7f;
	if (sig == 0) {
		snprintf(buf, size, "exit:%u", (status >> 8) & 0xff);
		return;
	}
	const char *name = sigabbrev_np((int)sig);
	if (name)
		snprintf(buf, size, "signal:SIG%s", name);
	else
		snprintf(buf, size, "signal:%u", sig);
}

void connect_result(char *buf, size_t size, uint32_t err)
{
	const char *r = NULL;
	switch (err) {
	case 0:
		r = "established";
		break;
	case ECONNREFUSED:
		r = "refused";
		break;
	case ETIMEDOUT:
		r = "timeout";
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
		r = "unreachable";
		break;
	case ECONNRESET:
		r = "reset";
		break;
	}
	if (r) {
		/* every TCP NET passes here: a copy, not a printf */
		size_t n = strnlen(r, size - 1);
		memcpy(buf, r, n);
		buf[n] = '\0';
		return;
	}
	const char *name = strerrorname_np((int)err);
	if (name)
		snprintf(buf, size, "error:%s", name);
	else
		snprintf(buf, size, "error:%u", err);
}

/*
 * A process's guid: taken from the process table when it knows this very
 * process (same pid and start), computed (a SHA-256) otherwise. Most
 * records are of processes the table knows, so this saves a hash a record.
 */
static void make_guid(struct consumer *c, char out[GUID_STR_LEN], uint32_t pid, uint64_t start_ns)
{
	uint64_t ticks = guid_ticks_from_ns(start_ns);
	struct proc_entry *e = proctable_lookup(&c->procs, pid);
	if (e && e->start_ticks == ticks && e->guid[0]) {
		memcpy(out, e->guid, GUID_STR_LEN);
		return;
	}
	guid_format(out, c->boot_id, pid, ticks);
}

static void flags_detail(struct strbuf *d, uint32_t flags)
{
	if (flags & OM_F_ARGS_TRUNC)
		sb_adds(d, " truncated=1");
	if (flags & OM_F_ARGS_FAULT)
		sb_adds(d, " args_unreadable=1");
	if (flags & OM_F_PATH_TRUNC)
		sb_adds(d, " path_truncated=1");
	if (flags & OM_F_DELETED)
		sb_adds(d, " deleted=1");
	if (flags & OM_F_MEMFD)
		sb_adds(d, " memfd=1");
}

static const char *detail_str(struct strbuf *d)
{
	/* drop the leading space of " k=v k=v" */
	return d->len ? d->data + 1 : NULL;
}

static void base_record(struct consumer *c, struct om_record *r, enum om_event ev,
			const struct om_hdr *h, char guid[GUID_STR_LEN])
{
	om_record_init(r, ev);
	r->time_ns = (uint64_t)((int64_t)h->ts_ns + c->boot_to_unix_ns);
	r->pid = h->pid;
	r->uid = h->uid;
	make_guid(c, guid, h->pid, h->start_ns);
	r->guid = guid;
}

/* FORK: the child gets its guid; its table entry takes the image it
 * inherits from the parent's entry. The record leaves exe and cmdline out
 * (docs/FORMAT.md): the parent's EXEC or EXISTING holds them, and the query
 * tools join them from there (src/query/history.c). */
static void on_fork(struct consumer *c, const struct om_ev_proc *e)
{
	char guid[GUID_STR_LEN], pguid[GUID_STR_LEN];
	struct om_record r;
	base_record(c, &r, OM_EVENT_FORK, &e->h, guid);
	make_guid(c, pguid, e->ppid, e->parent_start_ns);
	struct proc_entry *p = proctable_lookup(&c->procs, e->ppid);
	if (p && strcmp(p->guid, pguid) != 0)
		p = NULL; /* a stale entry for a reused pid */
	struct proc_entry *ch = proctable_put(&c->procs, e->h.pid);
	ch->ppid = e->ppid;
	ch->start_ticks = guid_ticks_from_ns(e->h.start_ns);
	memcpy(ch->guid, guid, GUID_STR_LEN);
	memcpy(ch->parent_guid, pguid, GUID_STR_LEN);
	if (p) {
		proc_entry_set_image(ch, p->exe, p->exe_len, p->args, p->args_len,
				     p->args_truncated);
		ch->exe_truncated = p->exe_truncated;
		/* it runs its parent's image: a suspicious one is snapshot too */
		ch->exe_suspicious = p->exe_suspicious;
		if (ch->exe_suspicious && c->evidence)
			evidence_snapshot(c->evidence, e->h.pid, ch->start_ticks, guid, NULL, 0,
					  NULL, 0, 0);
	}
	r.ppid = e->ppid;
	r.parent_guid = pguid;
	consumer_emit(c, &r, NULL);
}

/*
 * The script behind an EXEC through #! (or binfmt_misc), absolute: the name
 * execve was given, after the cwd it was named from when it is relative
 * ("./" steps dropped; ".." kept: the name's components are not resolved).
 */
void exec_script_path(struct strbuf *out, const char *script, size_t script_len, const char *cwd,
		      size_t cwd_len)
{
	sb_reset(out);
	if (cwd_len) {
		while (script_len >= 2 && script[0] == '.' && script[1] == '/') {
			script += 2;
			script_len -= 2;
			while (script_len && *script == '/') {
				script++;
				script_len--;
			}
		}
		sb_add(out, cwd, cwd_len);
		if (!(cwd_len && cwd[cwd_len - 1] == '/'))
			sb_addc(out, '/');
	}
	sb_add(out, script, script_len);
}

static void set_ip(struct om_ip *ip, int family, const uint8_t *a);

static const char *fd_type_name(const struct om_stdio_fd *f)
{
	switch (f->type) {
	case OM_FD_CLOSED:
		return "closed";
	case OM_FD_FILE:
		return "file";
	case OM_FD_DIR:
		return "dir";
	case OM_FD_PIPE:
		return "pipe";
	case OM_FD_TTY:
		return "tty";
	case OM_FD_CHAR:
		return "chardev";
	case OM_FD_BLOCK:
		return "blockdev";
	case OM_FD_SOCKET:
		if (f->family == AF_UNIX)
			return "unix";
		if (f->family == AF_INET || f->family == AF_INET6) {
			if (f->protocol == IPPROTO_TCP)
				return "tcp";
			if (f->protocol == IPPROTO_UDP)
				return "udp";
		}
		return "socket";
	default:
		return "other";
	}
}

/* "IP:PORT", "[IPv6]:PORT"; an IPv4-mapped address as IPv4 */
static void add_endpoint(struct strbuf *d, const char *key, int family, const uint8_t *addr,
			 uint16_t port)
{
	struct om_ip ip;
	set_ip(&ip, family, addr);
	char buf[INET6_ADDRSTRLEN];
	if (!inet_ntop(ip.family, ip.addr, buf, sizeof(buf)))
		return;
	if (ip.family == AF_INET6)
		sb_addf(d, " %s=[%s]:%u", key, buf, port);
	else
		sb_addf(d, " %s=%s:%u", key, buf, port);
}

void stdio_detail(struct strbuf *d, const struct om_stdio *st)
{
	static const char *const key[3] = {"stdin", "stdout", "stderr"};
	for (int i = 0; i < 3; i++)
		sb_addf(d, " %s=%s", key[i], fd_type_name(&st->fd[i]));
	if (st->inet_fd > 2 || (st->family != AF_INET && st->family != AF_INET6) ||
	    (st->protocol != IPPROTO_TCP && st->protocol != IPPROTO_UDP))
		return;
	sb_addf(d, " stdio_proto=%s", st->protocol == IPPROTO_TCP ? "tcp" : "udp");
	if (st->rport)
		add_endpoint(d, "stdio_peer", st->family, st->raddr, st->rport);
	if (st->lport)
		add_endpoint(d, "stdio_local", st->family, st->laddr, st->lport);
}

/* EXEC: the new image, exe and argv as the kernel took them at exec. */
static void on_exec(struct consumer *c, const struct om_ev_proc *e)
{
	const char *exe = (const char *)(e + 1);
	const char *args = exe + e->exe_len;
	uint64_t ticks = guid_ticks_from_ns(e->h.start_ns);
	char guid[GUID_STR_LEN];
	struct om_record r;
	struct strbuf d = STRBUF_INIT;
	base_record(c, &r, OM_EVENT_EXEC, &e->h, guid);
	struct proc_entry *p = proctable_lookup(&c->procs, e->h.pid);
	if (!p || p->start_ticks != ticks) {
		/* not seen before (its FORK was before the recorder started) */
		p = proctable_put(&c->procs, e->h.pid);
		p->start_ticks = ticks;
		memcpy(p->guid, guid, GUID_STR_LEN);
		p->ppid = e->ppid;
		make_guid(c, p->parent_guid, e->ppid, e->parent_start_ns);
	}
	proc_entry_set_image(p, exe, e->exe_len, args, e->args_len,
			     (e->h.flags & OM_F_ARGS_TRUNC) != 0);
	p->exe_truncated = (e->h.flags & OM_F_PATH_TRUNC) != 0;
	/* a flag test and three compares: near nothing for ordinary execs */
	p->exe_suspicious = ev_exe_suspicious(e->h.flags, exe, e->exe_len);
	if (p->exe_suspicious && c->evidence)
		evidence_snapshot(c->evidence, e->h.pid, ticks, guid, &e->exe_id, e->exec_gen,
				  (e->h.flags & OM_F_PATH_TRUNC) ? NULL : exe, e->exe_len,
				  (int64_t)r.time_ns);
	r.ppid = p->ppid;
	r.parent_guid = p->parent_guid;
	r.exe = exe;
	r.exe_len = e->exe_len;
	r.exe_truncated = p->exe_truncated;
	r.args = args;
	r.args_len = e->args_len;
	r.has_cmdline = true;
	struct strbuf script = STRBUF_INIT;
	if (e->script_len) {
		const char *name = args + e->args_len;
		exec_script_path(&script, name, e->script_len, name + e->script_len, e->cwd_len);
		/* path: the file this record is about besides exe */
		r.path = script.data;
		r.path_len = script.len;
		r.path_truncated = (e->h.flags & OM_F_SCRIPT_CWD_TRUNC) != 0;
	}
	flags_detail(&d, e->h.flags);
	if (e->h.flags & OM_F_SETUID)
		sb_addf(&d, " euid=%u", e->euid);
	char cid[CONTAINER_ID_LEN + 1];
	if (e->cgroup_len) {
		r.cgroup = args + e->args_len + e->script_len + e->cwd_len;
		r.cgroup_len = e->cgroup_len;
		if (container_id_from_cgroup(r.cgroup, r.cgroup_len, cid) == 0)
			r.container_id = cid;
		if (e->h.flags & OM_F_CGROUP_TRUNC)
			sb_adds(&d, " cgroup_truncated=1");
	}
	if (e->h.flags & OM_F_STDIO) {
		struct om_stdio st;
		memcpy(&st, args + e->args_len + e->script_len + e->cwd_len + e->cgroup_len,
		       sizeof(st));
		stdio_detail(&d, &st);
	}
	char sha[HASH_SHA_HEX];
	struct hash_req q = {
	    .kind = HASH_REQ_EXEC,
	    .pid = e->h.pid,
	    .gen = e->exec_gen,
	    .id = e->exe_id,
	    .event_unix_ns = (int64_t)r.time_ns,
	    .path = (e->h.flags & OM_F_PATH_TRUNC) ? NULL : exe,
	    .path_len = e->exe_len,
	    .fd = -1,
	};
	struct hash_wait *w = ask_hash(c, &q, &r, sha, &d);
	r.detail = detail_str(&d);
	consumer_emit(c, &r, w);
	/* the stdio keys are written only with OM_F_STDIO: no scan of an
	 * ordinary EXEC's detail */
	if (c->evidence && (e->h.flags & OM_F_STDIO) && ev_exec_reverse_shell(r.detail))
		consumer_evidence(c, EV_RULE_REVERSE_SHELL, e->h.pid, e->h.start_ns, guid, r.uid,
				  "exec");
	sb_free(&d);
	sb_free(&script);
}

/* EXIT: the fork-time parent (kept across reparenting), then the entry goes. */
static void on_exit_event(struct consumer *c, const struct om_ev_proc *e)
{
	uint64_t ticks = guid_ticks_from_ns(e->h.start_ns);
	char guid[GUID_STR_LEN], pguid[GUID_STR_LEN];
	struct om_record r;
	struct strbuf d = STRBUF_INIT;
	/* the last counts of its INJECT series come before its end */
	inject_process_ended(c, e->h.pid, e->h.start_ns);
	base_record(c, &r, OM_EVENT_EXIT, &e->h, guid);
	struct proc_entry *p = proctable_lookup(&c->procs, e->h.pid);
	bool known = p && p->start_ticks == ticks;
	if (known) {
		r.ppid = p->ppid;
		r.parent_guid = p->parent_guid[0] ? p->parent_guid : NULL;
	} else {
		r.ppid = e->ppid;
		make_guid(c, pguid, e->ppid, e->parent_start_ns);
		r.parent_guid = pguid;
	}
	char res[48];
	exit_result(res, sizeof(res), e->exit_code);
	r.result = res;
	if (e->exit_code & 0x80 && (e->exit_code & 0x7f))
		sb_adds(&d, " core=1");
	r.detail = detail_str(&d);
	consumer_emit(c, &r, NULL);
	if (known)
		proctable_remove(&c->procs, e->h.pid);
	sb_free(&d);
}

/* The process samples share one layout; only EXEC carries exe and argv. */
static int on_proc(struct consumer *c, const struct om_ev_proc *e, size_t size)
{
	if (size < sizeof(*e))
		return -1;
	switch (e->h.kind) {
	case OM_K_FORK:
		if (size != sizeof(*e))
			return -1;
		on_fork(c, e);
		return 0;
	case OM_K_EXEC:
		if (e->exe_len > OM_PATH_MAX || e->args_len > OM_CMDLINE_MAX ||
		    e->script_len >= OM_PATH_MAX || e->cwd_len > OM_PATH_MAX ||
		    e->cgroup_len > OM_PATH_MAX || (e->cwd_len && !e->script_len) ||
		    sizeof(*e) + e->exe_len + e->args_len + e->script_len + e->cwd_len +
			    e->cgroup_len +
			    ((e->h.flags & OM_F_STDIO) ? sizeof(struct om_stdio) : 0) !=
			size)
			return -1;
		on_exec(c, e);
		return 0;
	case OM_K_EXIT:
		if (size != sizeof(*e))
			return -1;
		on_exit_event(c, e);
		return 0;
	default:
		return -1;
	}
}

static int on_mod(struct consumer *c, const struct om_ev_mod *e, size_t size)
{
	if (size < sizeof(*e) || e->path_len > OM_PATH_MAX || sizeof(*e) + e->path_len != size)
		return -1;
	char guid[GUID_STR_LEN];
	struct om_record r;
	struct strbuf d = STRBUF_INIT;
	base_record(c, &r, OM_EVENT_MODLOAD, &e->h, guid);
	r.path = (const char *)(e + 1);
	r.path_len = e->path_len;
	r.path_truncated = (e->h.flags & OM_F_PATH_TRUNC) != 0;
	flags_detail(&d, e->h.flags);
	char sha[HASH_SHA_HEX];
	struct hash_req q = {
	    .kind = HASH_REQ_MODULE,
	    .pid = e->h.pid,
	    .id = e->id,
	    .event_unix_ns = (int64_t)r.time_ns,
	    .path = r.path_truncated ? NULL : r.path,
	    .path_len = r.path_len,
	    .fd = -1,
	};
	struct hash_wait *w = ask_hash(c, &q, &r, sha, &d);
	r.detail = detail_str(&d);
	consumer_emit(c, &r, w);
	sb_free(&d);
	return 0;
}

void consumer_base_record(struct consumer *c, struct om_record *r, enum om_event ev,
			  const struct om_hdr *h, char guid[GUID_STR_LEN])
{
	base_record(c, r, ev, h, guid);
}

void consumer_make_guid(struct consumer *c, char out[GUID_STR_LEN], uint32_t pid, uint64_t start_ns)
{
	make_guid(c, out, pid, start_ns);
}

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_ip(struct om_ip *ip, int family, const uint8_t *a)
{
	memset(ip, 0, sizeof(*ip));
	if (family == AF_INET6 && memcmp(a, v4mapped_prefix, 12) == 0) {
		/* an IPv4 peer of an IPv6 socket: write it as IPv4 */
		ip->family = AF_INET;
		memcpy(ip->addr, a + 12, 4);
	} else if (family == AF_INET6) {
		ip->family = AF_INET6;
		memcpy(ip->addr, a, 16);
	} else {
		ip->family = AF_INET;
		memcpy(ip->addr, a, 4);
	}
}

static int on_net(struct consumer *c, const struct om_ev_net *e, size_t size)
{
	if (size != sizeof(*e))
		return -1;
	if (e->family != AF_INET && e->family != AF_INET6)
		return -1;
	char guid[GUID_STR_LEN];
	struct om_record r;
	base_record(c, &r, OM_EVENT_NET, &e->h, guid);
	if (e->h.uid == (uint32_t)-1) {
		/* a socket older than the recorder: its owner is unknown */
		r.pid = r.uid = OM_NONE;
		r.guid = NULL;
		r.detail = "owner=unknown";
	}
	if (e->h.flags & OM_F_LATE)
		r.detail = r.detail ? "owner=unknown late=1" : "late=1";
	switch (e->proto) {
	case IPPROTO_TCP:
		r.proto = "tcp";
		break;
	case IPPROTO_UDP:
		r.proto = "udp";
		break;
	case IPPROTO_ICMP:
		r.proto = "icmp";
		break;
	case IPPROTO_ICMPV6:
		r.proto = "icmpv6";
		break;
	default:
		return -1;
	}
	set_ip(&r.src, e->family, e->saddr);
	set_ip(&r.dst, e->family, e->daddr);
	r.src_port = e->sport;
	r.dst_port = e->dport;
	static const uint8_t zero[16];
	if (e->proto == IPPROTO_TCP && e->direction == OM_DIR_OUT && e->sport == 0 &&
	    memcmp(e->saddr, zero, 16) == 0) {
		/* the connect failed before the kernel chose a source: leave it empty */
		r.src.family = 0;
		r.src_port = OM_NONE;
	}
	r.direction = e->direction == OM_DIR_IN ? "in" : "out";
	char res[48];
	if (e->result == OM_RES_SENT)
		r.result = "sent";
	else if (e->result == OM_RES_RECEIVED)
		r.result = "received";
	else {
		connect_result(res, sizeof(res), e->result);
		r.result = res;
	}
	char cid[COMMUNITY_ID_LEN];
	if (r.src.family == r.dst.family &&
	    community_id_v1(cid, 0, e->proto, r.src.family, r.src.addr, r.dst.addr, e->sport,
			    e->dport, true, true) == 0)
		r.community_id = cid;
	consumer_emit(c, &r, NULL);
	if (c->evidence && r.guid) {
		/* a NET of a process whose exe is suspicious */
		struct proc_entry *p = proctable_lookup(&c->procs, e->h.pid);
		if (p && p->exe_suspicious && !p->evidence_fired &&
		    p->start_ticks == guid_ticks_from_ns(e->h.start_ns))
			consumer_evidence(c, EV_RULE_SUSPICIOUS_NET, e->h.pid, e->h.start_ns, guid,
					  r.uid, e->direction == OM_DIR_IN ? "net_in" : "net_out");
	}
	return 0;
}

/*
 * One DNS message of a packet: a record, or counted as malformed. The record
 * is the flow's, as NET writes it: the client (this host's process, the
 * initiator) is the source, whichever way the packet went.
 */
static void dns_record(struct consumer *c, const struct om_ev_dns *e, const uint8_t *msg,
		       size_t avail, size_t total)
{
	struct dns_msg *m = &c->dns;
	if (dns_parse(msg, avail, total, m) != DNS_OK) {
		c->dns_malformed++;
		return;
	}
	char guid[GUID_STR_LEN];
	struct om_record r;
	base_record(c, &r, OM_EVENT_DNS, &e->h, guid);
	if (e->h.uid == (uint32_t)-1) {
		r.pid = r.uid = OM_NONE;
		r.guid = NULL;
	}
	r.proto = e->proto == IPPROTO_TCP ? "tcp" : "udp";
	const uint8_t *client = e->egress ? e->saddr : e->daddr;
	const uint8_t *server = e->egress ? e->daddr : e->saddr;
	set_ip(&r.src, e->family, client);
	set_ip(&r.dst, e->family, server);
	r.src_port = e->egress ? e->sport : e->dport;
	r.dst_port = e->egress ? e->dport : e->sport;
	r.direction = "out";
	char rc[16], tb[16];
	if (m->qr)
		r.result = dns_rcode_name(m->rcode, rc, sizeof(rc));
	if (m->has_question) {
		r.dns_name = m->qname;
		r.dns_type = dns_type_name(m->qtype, tb, sizeof(tb));
	}
	if (m->answers.len)
		r.dns_answers = m->answers.data;
	struct strbuf d = STRBUF_INIT;
	sb_addf(&d, "msg=%s id=%u", m->qr ? "response" : "query", m->id);
	if (m->opcode)
		sb_addf(&d, " opcode=%u", m->opcode);
	if (m->qdcount != 1)
		sb_addf(&d, " questions=%u", m->qdcount);
	if (m->has_question && m->qclass != 1)
		sb_addf(&d, " qclass=%u", m->qclass);
	if (m->qr)
		sb_addf(&d, " answers=%u", m->ancount);
	if (m->tc)
		sb_adds(&d, " tc=1");
	if (m->cut)
		sb_addf(&d, " cut=1 answers_read=%u", m->answers_read);
	if (m->answers_shown < m->answers_read)
		sb_addf(&d, " answers_omitted=%u", m->answers_read - m->answers_shown);
	if (e->h.uid == (uint32_t)-1)
		sb_adds(&d, " owner=unknown");
	r.detail = d.data;
	char cid[COMMUNITY_ID_LEN];
	if (r.src.family == r.dst.family &&
	    community_id_v1(cid, 0, e->proto, r.src.family, r.src.addr, r.dst.addr,
			    (uint16_t)r.src_port, (uint16_t)r.dst_port, true, true) == 0)
		r.community_id = cid;
	consumer_emit(c, &r, NULL);
	sb_free(&d);
}

/* A DNS packet: UDP holds one message; a TCP segment holds messages after
 * their 2-byte lengths, maybe none (a message's continuation). */
static int on_dns(struct consumer *c, const struct om_ev_dns *e, size_t size)
{
	if (size < sizeof(*e))
		return -1;
	size_t area = size - sizeof(*e);
	if ((area != OM_DNS_CAP_SMALL && area != OM_DNS_CAP_MEDIUM && area != OM_DNS_CAP) ||
	    e->cap_len > area || e->cap_len > e->len ||
	    (e->family != AF_INET && e->family != AF_INET6) ||
	    (e->proto != IPPROTO_UDP && e->proto != IPPROTO_TCP) || e->egress > 1)
		return -1;
	const uint8_t *data = (const uint8_t *)(e + 1);
	if (e->proto == IPPROTO_UDP) {
		dns_record(c, e, data, e->cap_len, e->len);
		return 0;
	}
	struct dns_span spans[DNS_TCP_SPANS];
	int n = dns_tcp_spans(c->dns_tcp, e->sock_cookie, e->egress, e->tcp_seq, e->len, data,
			      e->cap_len, spans);
	for (int i = 0; i < n; i++)
		dns_record(c, e, data + spans[i].off, spans[i].avail, spans[i].total);
	return 0;
}

int consumer_sample(struct consumer *c, const void *data, size_t size)
{
	const struct om_hdr *h = data;
	int rc = -1;
	if (size >= sizeof(*h) && h->size == size && h->kind > 0 && h->kind < OM_K_MAX) {
		switch (h->kind) {
		case OM_K_FORK:
		case OM_K_EXEC:
		case OM_K_EXIT:
			rc = on_proc(c, data, size);
			break;
		case OM_K_MODLOAD:
			rc = on_mod(c, data, size);
			break;
		case OM_K_NET:
			rc = on_net(c, data, size);
			break;
		case OM_K_DNS:
			rc = on_dns(c, data, size);
			break;
		case OM_K_INJECT:
			rc = inject_sample(c, data, size);
			break;
		}
	}
	if (rc != 0) {
		if (c->bad_samples++ == 0)
			log_warnx("a malformed record came from the kernel side (%zu bytes); "
				  "it is counted in STOP as bad_samples",
				  size);
		return -1;
	}
	c->by_kind[h->kind]++;
	return 0;
}
