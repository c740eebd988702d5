/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Socket ownership and flow records, shared by net.bpf.c and syscall.bpf.c. */
#ifndef ONMITSU_NET_BPF_H
#define ONMITSU_NET_BPF_H

#include "onmitsu.bpf.h"

/* sk_owner.flags */
#define SKO_REPORTED (1u << 0) /* the TCP attempt's NET record was emitted */
#define SKO_PEER_SLOT                                                                              \
	(1u << 1) /* made at the socket's creation: no datagram passed before, so                  \
		     its first flow can be kept in peer_* (net.bpf.c, datagram) */

/* sk_owner.peer_flags: the flow of the socket's first peer */
#define PEER_CLAIMED (1ull << 30) /* a program is writing peer_* */
#define PEER_SET (1ull << 31)	  /* peer_* hold the first peer; the low bits are its FLOW_* */

/*
 * Who owns a socket: the process that last created, connected, sent or
 * received through it, taken in process context. Records emitted later in
 * softirq context (TCP handshake outcome, received datagrams) use it, so a
 * flow is attributed right even after its process exited and its pid was
 * reused.
 */
struct sk_owner {
	__u32 tgid;
	__u32 uid;
	__u64 start_ns;
	__u32 flags;
	__u32 _pad0;
	__u64 peer_flags; /* PEER_*, FLOW_*; 64 bits: the atomic operations on it */
	/* a datagram socket's first flow: most talk to one peer (a connected
	 * socket, a client), so their every later datagram is checked here,
	 * in storage the socket already has, without the flows map */
	__u8 peer_addr[16];
	__u16 peer_port;
	__u8 peer_proto;
	__u8 _pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_owner);
} sk_owners SEC(".maps") __weak;

/*
 * A TCP connect() in progress (and a datagram send's owner, send_*), in its thread's task storage:
 * set by the cgroup connect hook, marked by the state hook, read and retired at the syscall's exit.
 * The thread is the key because connect() is synchronous for it. Task storage rather than a hash
 * map keyed by tid: a look-up is an index into the task's own storage (no hashing, no bucket lock),
 * and the entry is retired by clearing `active`, not deleted, so a thread that connects again
 * reuses it. A connect without a system call exit (io_uring's, TCP Fast
 * Open's) leaves it active until the thread's next connect overwrites it; the
 * storage goes with the thread.
 */
struct pending_connect {
	__u8 daddr[16];
	__u16 dport;
	__u8 family;
	__u8 syn_seen;	   /* reached SYN_SENT: the state hook reports the outcome */
	__u8 needs_report; /* failed inside connect() with no error on the socket */
	__u8 active;	   /* set by the connect hook, cleared at the syscall's exit */
	__u8 deferred;	   /* a local connect(2): no socket storage, see tcp_handoffs */
	__u8 reported;	   /* deferred: its outcome was written in this thread */
	__u64 cookie;	   /* deferred: the socket's cookie */
	/* The datagram socket this thread sends on now without storage
	 * (net.bpf.c, own_send): the send's own egress, next and in this
	 * thread, finds its owner here. sends: how many in a row on it;
	 * send_peer, send_port: the first one's destination (the form of the
	 * flows map's key). */
	__u64 send_cookie;
	__u32 send_tgid;
	__u32 send_uid;
	__u64 send_start_ns;
	__u32 sends;
	__u16 send_port;
	__u16 _pad1;
	__u8 send_peer[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_connect);
} pending_connects SEC(".maps") __weak;

/*
 * A local TCP connect (to a loopback address, by connect(2)) gets no socket
 * storage: creating it was the largest part of the connect hook's cost, and
 * such a handshake nearly always ends inside connect() itself, in the
 * connecting thread, where the owner is the current task. When it ends
 * elsewhere (a softirq run by ksoftirqd, another CPU) before connect()
 * returns, the two halves of the record meet here, keyed by the socket's
 * cookie: the outcome (from the state hook, with the socket's tuple) and the
 * owner (from the connect's system call exit). Each side writes its half and
 * then sets its bit; the side that finds the other's bit set writes the
 * record and deletes the entry, so it is written once. LRU: an entry whose
 * other half never comes (the kernel skipped a run, counted as
 * hook_skipped) is pushed out in time.
 */
#define HO_OUTCOME (1u << 0)
#define HO_OWNER (1u << 1)

struct tcp_handoff {
	struct om_ev_net e; /* the outcome's half: all but the owner */
	__u64 start_ns;	    /* the owner's half */
	__u32 tgid;
	__u32 uid;
	__u64 flags; /* HO_*; 64 bits: the atomic operations on it */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct tcp_handoff);
} tcp_handoffs SEC(".maps") __weak;

/* the record, when the other half is there: once its second half is in */
static __always_inline void handoff_done(__u64 cookie, struct tcp_handoff *h, __u64 old, __u64 mine)
{
	if (!(old & (HO_OUTCOME | HO_OWNER) & ~mine))
		return;
	/* the other side set its bit: its half is written */
	struct om_ev_net e = h->e;
	e.h.pid = h->tgid;
	e.h.tid = h->tgid;
	e.h.start_ns = h->start_ns;
	e.h.uid = h->uid;
	emit(&e, sizeof(e), OM_K_NET);
	bpf_map_delete_elem(&tcp_handoffs, &cookie);
}

static __always_inline struct tcp_handoff *handoff_get(__u64 cookie)
{
	struct tcp_handoff *h = bpf_map_lookup_elem(&tcp_handoffs, &cookie);
	if (h)
		return h;
	struct tcp_handoff zero = {};
	bpf_map_update_elem(&tcp_handoffs, &cookie, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tcp_handoffs, &cookie);
}

/* the outcome's half (e: the record, owner unknown) */
static __always_inline void handoff_outcome(__u64 cookie, const struct om_ev_net *e)
{
	struct tcp_handoff *h = handoff_get(cookie);
	if (!h) {
		/* cannot happen with an LRU map; rather ownerless than never */
		emit((void *)e, sizeof(*e), OM_K_NET);
		return;
	}
	h->e = *e;
	handoff_done(cookie, h, __sync_fetch_and_or(&h->flags, (__u64)HO_OUTCOME), HO_OUTCOME);
}

/* the owner's half: the current task, at the connect's system call exit;
 * 1 when the outcome's half was there (the record is written) */
static __always_inline int handoff_owner(__u64 cookie, struct task_struct *task)
{
	struct tcp_handoff *h = handoff_get(cookie);
	if (!h)
		return 0;
	h->tgid = task->tgid;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->start_ns = task->group_leader->start_boottime;
	__u64 old = __sync_fetch_and_or(&h->flags, (__u64)HO_OWNER);
	handoff_done(cookie, h, old, HO_OWNER);
	return (old & HO_OUTCOME) != 0;
}

static __always_inline void owner_set_current(struct sk_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	o->tgid = id >> 32;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->start_ns = BPF_CORE_READ(t, group_leader, start_boottime);
}

static __always_inline void net_hdr_from_owner(struct om_ev_net *e, const struct sk_owner *o)
{
	e->h.kind = OM_K_NET;
	e->h.size = sizeof(*e);
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	if (o) {
		e->h.pid = o->tgid;
		e->h.tid = o->tgid;
		e->h.start_ns = o->start_ns;
		e->h.uid = o->uid;
	} else {
		e->h.uid = (__u32)-1; /* owner unknown: socket older than the recorder */
	}
}

/*
 * Fill the 4-tuple from a socket: local -> remote (the caller orients it).
 * sk is a BTF pointer (the tracepoint's, or one cast with bpf_rdonly_cast),
 * so its fields are plain loads, not a probe-read helper call each.
 */
static __always_inline void sk_tuple(const struct sock *sk, __u8 *laddr, __u8 *raddr, __u16 *lport,
				     __u16 *rport, __u8 *family)
{
	const struct sock_common *c = &sk->__sk_common;
	*family = c->skc_family;
	if (*family == AF_INET6) {
		__builtin_memcpy(laddr, &c->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(raddr, &c->skc_v6_daddr, 16);
	} else {
		*(__u32 *)laddr = c->skc_rcv_saddr;
		*(__u32 *)raddr = c->skc_daddr;
	}
	*lport = c->skc_num;
	*rport = bpf_ntohs(c->skc_dport);
	if (*lport == 0) {
		/* TCP_CLOSE releases the port (skc_num = 0) before the state
		 * tracepoint fires; inet_sport still holds it */
		const struct inet_sock *inet = (const struct inet_sock *)sk;
		*lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	}
}

#endif
