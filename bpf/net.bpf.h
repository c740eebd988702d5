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
 * A TCP connect() in progress, in its thread's task storage: set by the
 * cgroup connect hook, marked by the state hook, read and retired at the
 * syscall's exit. The thread is the key because connect() is synchronous for
 * it. Task storage rather than a hash map keyed by tid: a look-up is an index
 * into the task's own storage (no hashing, no bucket lock), and the entry is
 * retired by clearing `active`, not deleted, so a thread that connects again
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
	__u8 _pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_connect);
} pending_connects SEC(".maps") __weak;

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
