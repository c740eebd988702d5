/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/inject.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/consumer.h"
#include "util/log.h"
#include "util/strbuf.h"

static const char *const method_names[OM_INJ_MAX] = {
    [OM_INJ_PTRACE_ATTACH] = "ptrace_attach",
    [OM_INJ_PTRACE_SEIZE] = "ptrace_seize",
    [OM_INJ_PTRACE_POKETEXT] = "ptrace_poketext",
    [OM_INJ_PTRACE_POKEDATA] = "ptrace_pokedata",
    [OM_INJ_PTRACE_POKEUSER] = "ptrace_pokeuser",
    [OM_INJ_PTRACE_SETREGS] = "ptrace_setregs",
    [OM_INJ_PTRACE_SETFPREGS] = "ptrace_setfpregs",
    [OM_INJ_PTRACE_SETREGSET] = "ptrace_setregset",
    [OM_INJ_PROCESS_VM_WRITEV] = "process_vm_writev",
    [OM_INJ_PROC_MEM_WRITE] = "proc_mem_write",
    [OM_INJ_WX_MEMORY] = "wx_memory",
    [OM_INJ_ANON_EXEC] = "anon_exec",
    [OM_INJ_LD_PRELOAD] = "ld_preload",
    [OM_INJ_LD_AUDIT] = "ld_audit",
    [OM_INJ_LD_LIBRARY_PATH] = "ld_library_path",
    [OM_INJ_LD_SO_PRELOAD] = "ld_so_preload",
};

const char *inject_method_name(uint32_t method)
{
	return method < OM_INJ_MAX ? method_names[method] : NULL;
}

bool inject_method_keeps_evidence(uint32_t method)
{
	switch (method) {
	case OM_INJ_WX_MEMORY:
	case OM_INJ_ANON_EXEC:
	case OM_INJ_LD_LIBRARY_PATH:
		return false;
	default:
		return inject_method_name(method) != NULL;
	}
}

/* the LD_* variables found at exec: one record each, no series */
static bool is_env_method(uint32_t method)
{
	return method == OM_INJ_LD_PRELOAD || method == OM_INJ_LD_AUDIT ||
	       method == OM_INJ_LD_LIBRARY_PATH;
}

void inject_table_free(struct inject_table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

static uint64_t unix_ns(struct consumer *c, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + c->boot_to_unix_ns);
}

/* The record of a series: `count` events, the latest at boot_ns. */
static void series_record(struct consumer *c, const struct inject_series *s, uint64_t count,
			  uint64_t boot_ns)
{
	struct om_record r;
	om_record_init(&r, OM_EVENT_INJECT);
	r.time_ns = unix_ns(c, boot_ns);
	r.pid = s->key.actor;
	r.uid = s->uid;
	r.guid = s->guid;
	if (s->key.target) {
		r.target_pid = s->key.target;
		r.target_guid = s->target_guid;
	}
	r.result = inject_method_name(s->key.method);
	char detail[64];
	if (!s->key.target && s->key.target_vpid)
		snprintf(detail, sizeof(detail), "count=%" PRIu64 " target_vpid=%u", count,
			 s->key.target_vpid);
	else
		snprintf(detail, sizeof(detail), "count=%" PRIu64, count);
	r.detail = detail;
	consumer_emit(c, &r, NULL);
}

/* Write what series i counted since its last record. */
static void series_flush(struct consumer *c, struct inject_series *s)
{
	struct inject_table *t = &c->inject;
	struct om_inject_val v;
	if (!t->src.read || t->src.read(t->src.ctx, &s->key, &v) != 0)
		return;
	if (v.hits > s->reported) {
		series_record(c, s, v.hits - s->reported, v.last_ns);
		s->reported = v.hits;
	}
}

static void series_add(struct consumer *c, const struct om_inject_key *k, uint32_t uid,
		       const char *guid, const char *target_guid)
{
	struct inject_table *t = &c->inject;
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(&t->v[i].key, k, sizeof(*k)) == 0) {
			/* written again: the kernel lost the first one's record
			 * and began the series anew */
			t->v[i].reported = 1;
			return;
		}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct inject_series *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			fatal("out of memory");
		t->v = v;
		t->cap = cap;
	}
	struct inject_series *s = &t->v[t->n++];
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->reported = 1;
	s->uid = uid;
	memcpy(s->guid, guid, GUID_STR_LEN);
	if (target_guid)
		memcpy(s->target_guid, target_guid, GUID_STR_LEN);
}

/* ld.so.preload given a file by a new name: one record each, no series */
static bool is_new_name(const struct om_ev_inject *e)
{
	return e->method == OM_INJ_LD_SO_PRELOAD && e->via != OM_VIA_OPEN;
}

static const char *const via_names[OM_VIA_MAX] = {
    [OM_VIA_RENAME] = "rename",
    [OM_VIA_LINK] = "link",
    [OM_VIA_SYMLINK] = "symlink",
};

int inject_sample(struct consumer *c, const struct om_ev_inject *e, size_t size)
{
	if (size < sizeof(*e) || e->value_len > OM_INJECT_VALUE_MAX ||
	    sizeof(*e) + e->value_len != size || !inject_method_name(e->method) ||
	    e->via >= OM_VIA_MAX || (e->via && e->method != OM_INJ_LD_SO_PRELOAD) ||
	    (is_new_name(e) && !e->value_len) ||
	    (e->value_len && !is_env_method(e->method) && !is_new_name(e)))
		return -1;
	char guid[GUID_STR_LEN], tguid[GUID_STR_LEN];
	struct om_record r;
	consumer_base_record(c, &r, OM_EVENT_INJECT, &e->h, guid);
	r.result = inject_method_name(e->method);
	if (e->target_pid) {
		consumer_make_guid(c, tguid, e->target_pid, e->target_start_ns);
		r.target_pid = e->target_pid;
		r.target_guid = tguid;
	}
	struct strbuf d = STRBUF_INIT;
	if (is_env_method(e->method)) {
		if (e->h.flags & OM_F_VALUE_TRUNC)
			sb_adds(&d, "value_truncated=1 ");
		/* the value runs to the end of the field: it may hold spaces */
		sb_adds(&d, "value=");
		sb_add(&d, e + 1, e->value_len);
		r.detail = sb_str(&d);
	} else if (is_new_name(e)) {
		/* the name as the process gave it, in the path column */
		r.path = (const char *)(e + 1);
		r.path_len = e->value_len;
		sb_addf(&d, "via=%s", via_names[e->via]);
		if (e->h.flags & OM_F_VALUE_TRUNC)
			sb_adds(&d, " name_truncated=1");
		r.detail = sb_str(&d);
	} else {
		sb_adds(&d, "count=1");
		if (!e->target_pid && e->target_vpid)
			sb_addf(&d, " target_vpid=%u", e->target_vpid);
		if (e->h.flags & OM_F_NO_SERIES)
			sb_adds(&d, " uncounted=1");
		r.detail = sb_str(&d);
	}
	consumer_emit(c, &r, NULL);
	if (c->evidence && inject_method_keeps_evidence(e->method)) {
		/* the actor's evidence, and the target's (its memory was acted on) */
		char trig[48];
		snprintf(trig, sizeof(trig), "inject:%s", r.result);
		consumer_evidence(c, EV_RULE_INJECT, e->h.pid, e->h.start_ns, guid, r.uid, trig);
		if (e->target_pid && e->target_pid != e->h.pid) {
			snprintf(trig, sizeof(trig), "inject_target:%s", r.result);
			consumer_evidence(c, EV_RULE_INJECT, e->target_pid, e->target_start_ns,
					  tguid, OM_NONE, trig);
		}
	}
	if (!is_env_method(e->method) && !is_new_name(e) && !(e->h.flags & OM_F_NO_SERIES)) {
		struct om_inject_key k = {
		    .actor = e->h.pid,
		    .target = e->target_pid,
		    .actor_start_ns = e->h.start_ns,
		    .target_start_ns = e->target_start_ns,
		    .method = e->method,
		    .target_vpid = e->target_pid ? 0 : e->target_vpid,
		};
		series_add(c, &k, e->h.uid, guid, e->target_pid ? tguid : NULL);
	}
	sb_free(&d);
	return 0;
}

void inject_tick(struct consumer *c)
{
	struct inject_table *t = &c->inject;
	for (size_t i = 0; i < t->n; i++)
		series_flush(c, &t->v[i]);
}

void inject_process_ended(struct consumer *c, uint32_t tgid, uint64_t start_ns)
{
	struct inject_table *t = &c->inject;
	for (size_t i = 0; i < t->n;) {
		struct inject_series *s = &t->v[i];
		bool actor = s->key.actor == tgid && s->key.actor_start_ns == start_ns;
		bool target = s->key.target == tgid && s->key.target_start_ns == start_ns;
		if (!actor && !target) {
			i++;
			continue;
		}
		series_flush(c, s);
		if (t->src.forget)
			t->src.forget(t->src.ctx, &s->key);
		t->v[i] = t->v[--t->n];
	}
}
