// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Network flows. Nothing here ever decides a packet's fate: every cgroup
 * program returns 1 (allow), whatever happens inside it.
 *
 * TCP out: the owner is taken by the connect hook (process context,
 *   connect()); the record is emitted when the handshake ends (ESTABLISHED or CLOSE, in
 *   softirq context), when the source port and the outcome are known. Four
 *   programs share this; the table below is the whole of it.
 * TCP in: at accept() (syscall.bpf.c).
 * UDP, ICMP: the first datagram of each flow each way, seen by cgroup skb
 *   programs; the owner comes from the socket's storage, set in process
 *   context by the cgroup sock hooks (create for ICMP and raw sockets; bind,
 *   connect, sendmsg, recvmsg). A socket's first flow is remembered in that
 *   storage too, so a datagram of it costs one look-up into storage the
 *   socket has; its other flows go to the flows map (an LRU hash). A UDP
 *   socket that is neither bound nor connected gets storage only once it
 *   lives (its third send): a one-shot one (a query, a report) is seen
 *   through the sending thread's storage and its slot in dgram_slots
 *   (own_send).
 *
 * The TCP connect, state by state. "pending" is the thread's entry in
 * pending_connects (task storage, net.bpf.h), live while its `active` is set, "owner" the socket's
 * sk_owners storage, REPORTED its SKO_REPORTED flag: set once the attempt's NET is emitted, so that
 * exactly one program writes it.
 *
 *  transition / event            program (file)         context   what it does
 *  ----------------------------  ---------------------  --------  ------------------------------
 *  connect() enters, before any  om_connect4/6 (net)    process   pending = destination asked
 *    state change                                                 for; owner = this process,
 *                                                                 clear REPORTED (no record)
 *  CLOSE -> SYN_SENT             om_inet_state:         process   pending.syn_seen = 1; no
 *                                inet_syn_sent (net)    (connect) pending (no connect hook ran):
 *                                                                 count OM_C_PENDING_EVICTED;
 *                                                                 no owner: owner = this
 *                                                                 process, clear REPORTED
 *  SYN_SENT -> ESTABLISHED       om_inet_state (net)    softirq   NET result=established,
 *    (SYN-ACK received)                                           set REPORTED
 *  SYN_SENT -> CLOSE, sk_err set om_inet_state (net)    softirq   NET result=errno (refused,
 *    (RST, timeout, ICMP error)                                   timeout, unreachable)
 *  SYN_SENT -> CLOSE, no error,  om_inet_state (net)    process   NET error:ECONNABORTED
 *    shut both ways (close())                           (close)
 *  SYN_SENT -> CLOSE, no error,  om_inet_state (net)    process   pending.needs_report = 1 (no
 *    pending (connect() failed                          (connect) record: sys_exit has the error)
 *    after SYN_SENT)
 *  SYN_SENT -> CLOSE, no error,  om_inet_state (net)    process   NET result=reset (connect
 *    no pending                                         (connect  (AF_UNSPEC) gives up;
 *                                                       AF_UNSPEC) tcp_disconnect sets ECONNRESET
 *                                                                 just after)
 *  connect() returns             om_sys_exit ->         process   error other than EINPROGRESS
 *                                connect_done                     and (no syn_seen or
 *                                (syscall)                        needs_report): NET with the
 *                                                                 error, no source; retire pending
 *  ESTABLISHED -> any, not       om_inet_state:         either    NET result=established late=1
 *    REPORTED                    inet_late (net)                  (the outcome's run was skipped
 *                                                                 by the kernel), set REPORTED
 *
 * Each of these transitions happens once per attempt, and a row that writes
 * a NET sets REPORTED or retires pending, so an attempt is written once; a
 * run the kernel skips is counted (LOST hook_skipped), and inet_late
 * catches the one that matters. A pending entry lives from connect()'s hook
 * to its return, in one thread's own storage, so nothing else can push it
 * out; one missing at SYN_SENT means no connect hook ran for that connect in
 * that thread (the storage could not be allocated, or the hooks were being
 * attached), and that connect, if it then fails inside connect(), is written
 * as reset instead of with its error: counted (LOST pending_evicted).
 *
 * A connect(2) to a loopback address makes no owner storage ("deferred" in
 * pending): the outcome, written in the connecting thread, takes the current
 * task as owner, and one written elsewhere meets its owner from the system
 * call exit in tcp_handoffs (net.bpf.h). Without storage there is no
 * REPORTED flag: the thread's pending.reported, or the exit itself, stands
 * for it, and a skipped outcome is written late by the exit (connect_late).
 */
#include "net.bpf.h"
#include "dns.bpf.h"

static __always_inline void tcp_fill(struct om_ev_net *e, const struct sock *sk,
				     const struct sk_owner *o, __u32 result, __u32 flags)
{
	net_hdr_from_owner(e, o);
	e->h.flags = flags;
	e->proto = IPPROTO_TCP;
	e->direction = OM_DIR_OUT;
	e->result = result;
	sk_tuple(sk, e->saddr, e->daddr, &e->sport, &e->dport, &e->family);
	e->sock_cookie = bpf_get_socket_cookie((void *)sk);
}

static __always_inline void tcp_emit(const struct sock *sk, const struct sk_owner *o, __u32 result,
				     __u32 flags)
{
	struct om_ev_net e = {};
	tcp_fill(&e, sk, o, result, flags);
	emit(&e, sizeof(e), OM_K_NET);
}

/* the socket's remote address is a loopback one (127/8, ::1, ::ffff:127/104) */
static __always_inline int sk_remote_loopback(const struct sock *sk)
{
	const struct sock_common *c = &sk->__sk_common;
	if (c->skc_family == AF_INET)
		return (c->skc_daddr & 0xff) == 127;
	const __u32 *a = (const __u32 *)&c->skc_v6_daddr;
	if (a[0] || a[1])
		return 0;
	if (a[2] == bpf_htonl(0xffff))
		return (a[3] & 0xff) == 127;
	return !a[2] && a[3] == bpf_htonl(1);
}

/* the connect hook's destination is a loopback address */
static __always_inline int addr_loopback(struct bpf_sock_addr *ctx, int v6)
{
	if (!v6)
		return (ctx->user_ip4 & 0xff) == 127;
	if (ctx->user_ip6[0] || ctx->user_ip6[1])
		return 0;
	if (ctx->user_ip6[2] == bpf_htonl(0xffff))
		return (ctx->user_ip6[3] & 0xff) == 127;
	return !ctx->user_ip6[2] && ctx->user_ip6[3] == bpf_htonl(1);
}

/* this connect hook runs inside connect(2), whose system call exit
 * (syscall.bpf.c, connect_done) will hand over the owner if need be */
static __always_inline int in_connect_syscall(void)
{
	if (!cfg_defer_local)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!r)
		return 0;
	long nr = BPF_CORE_READ(r, orig_ax);
	if (t->thread_info.status & TS_COMPAT)
		return nr == NR32_CONNECT;
	return nr == NR_CONNECT;
}

/*
 * One program on the tracepoint for all three transitions (it fires some ten
 * times per connection, both ends: each program attached there is a run of
 * its own, so one program rather than three). The kernel skips a tracing
 * program that fires while the same program already runs on that CPU
 * (counted: LOST kind=hook_skipped): a softirq that completes a handshake
 * while the program runs in process context (SYN_SENT, or ESTABLISHED -> any
 * at close) is skipped. Its outcome, when established, is written late at the
 * socket's next transition (inet_late); the window is the few dozen
 * instructions of a process-context run.
 */
static __always_inline void inet_syn_sent(const struct sock *sk)
{
	/* connect() in process context: its connect hook, just before, took
	 * the owner and made the thread's pending entry; both look-ups are
	 * into storage the thread and the socket already have */
	struct pending_connect *pc =
	    bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, 0);
	if (pc && pc->active) {
		pc->syn_seen = 1;
		if (pc->deferred) /* a local connect(2): no storage (tcp_handoffs) */
			return;
		if (bpf_sk_storage_get(&sk_owners, (void *)sk, 0, 0))
			return;
	} else {
		count(OM_C_PENDING_EVICTED); /* no connect hook ran for it */
	}
	/* no owner yet: take it now, from the process that connects */
	struct sk_owner *o =
	    bpf_sk_storage_get(&sk_owners, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return;
	struct task_struct *t = bpf_get_current_task_btf();
	o->tgid = t->tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->start_ns = t->group_leader->start_boottime;
	o->flags &= ~SKO_REPORTED;
}

static __always_inline void inet_outcome(const struct sock *sk, const int newstate)
{
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, (void *)sk, 0, 0);
	if (o && (o->flags & SKO_REPORTED))
		return;
	struct pending_connect *pc;
	__u32 result;
	if (newstate == TCP_ESTABLISHED) {
		result = OM_RES_ESTABLISHED;
	} else if (newstate == TCP_CLOSE) {
		result = sk->sk_err;
		if (result == 0) {
			pc = bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0,
						  0);
			if (sk->sk_shutdown == SHUTDOWN_MASK /* closed by its process */) {
				result = ECONNABORTED;
			} else if (pc && pc->active) {
				/* connect() itself failed, in this thread:
				 * syscall.bpf.c reports it with the syscall's error */
				pc->needs_report = 1;
				return;
			} else {
				/* given up with connect(AF_UNSPEC): tcp_disconnect()
				 * sets ECONNRESET just after this transition */
				result = ECONNRESET;
			}
		}
	} else {
		return;
	}
	if (o) {
		o->flags |= SKO_REPORTED;
		tcp_emit(sk, o, result, 0);
		return;
	}
	/* No storage: a local connect(2) (its owner is the current task when
	 * this runs in its own thread), or a socket older than the recorder
	 * (owner unknown). */
	if (!sk_remote_loopback(sk)) {
		tcp_emit(sk, NULL, result, 0);
		return;
	}
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	pc = bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, 0);
	if (pc && pc->active && pc->deferred && pc->cookie == cookie) {
		pc->reported = 1;
		struct task_struct *t = bpf_get_current_task_btf();
		struct sk_owner cur = {};
		cur.tgid = t->tgid;
		cur.uid = (__u32)bpf_get_current_uid_gid();
		cur.start_ns = t->group_leader->start_boottime;
		tcp_emit(sk, &cur, result, 0);
		return;
	}
	/* elsewhere, before connect() returned: its exit brings the owner */
	struct om_ev_net e = {};
	tcp_fill(&e, sk, NULL, result, 0);
	handoff_outcome(cookie, &e);
}

/*
 * An outgoing connection leaving ESTABLISHED unreported: the kernel skipped
 * the run at its handshake's end. Write it now, marked late, rather than
 * never.
 */
static __always_inline void inet_late(const struct sock *sk)
{
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, (void *)sk, 0, 0);
	if (o && !(o->flags & SKO_REPORTED)) {
		o->flags |= SKO_REPORTED;
		tcp_emit(sk, o, OM_RES_ESTABLISHED, OM_F_LATE);
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(om_inet_state, const struct sock *sk, const int oldstate, const int newstate)
{
	/* the states first (registers), the protocol (a load) only for the
	 * three transitions of interest */
	if (newstate == TCP_SYN_SENT) {
		if (sk->sk_protocol == IPPROTO_TCP)
			inet_syn_sent(sk);
	} else if (oldstate == TCP_SYN_SENT) {
		if (sk->sk_protocol == IPPROTO_TCP)
			inet_outcome(sk, newstate);
	} else if (oldstate == TCP_ESTABLISHED) {
		if (sk->sk_protocol == IPPROTO_TCP)
			inet_late(sk);
	}
	return 0;
}

/* --- cgroup socket hooks: ownership, in process context --- */

/* The flows map's key, for a send's destination (the form datagram() makes
 * from the packet: an IPv4 address in the first 4 bytes) */
struct flow_key {
	__u64 cookie; /* the socket */
	__u8 raddr[16];
	__u16 rport; /* ICMP: echo id */
	__u8 proto;
	__u8 _pad[5];
};

/* A socket's flow in the flows map: its FLOW_* and, for a socket without
 * storage, the owner its first datagram out had */
struct flow_val {
	__u64 flags; /* 64 bits: the atomic operations on it */
	__u32 tgid;
	__u32 uid;
	__u64 start_ns;
};

#define FLOW_SENT (1u << 0)
#define FLOW_RECEIVED (1u << 1)
#define FLOW_REMOTE_INITIATED (1u << 2)

/* Every flow but a socket's first (first_peer). LRU: entries are never
 * deleted (a socket's end is not seen here), so the oldest make room. A flow pushed out while its
 * socket still talks is written again at its next datagram each way. The programs count the keys
 * they add (OM_C_FLOWS_NEW, with BPF_NOEXIST: each key once); what was pushed
 * out is that count minus the entries left, which user space reads
 * (loader_flows_evicted). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

/*
 * A UDP socket without storage (own_send): its owner and its first flow, in
 * the slot its cookie picks. Socket cookies are handed out in order, so a
 * slot is taken over only by a socket made about DGRAM_SLOTS sockets later: a
 * direct-mapped cache, whose look-up is an index (an insert into the flows
 * map cost some 300 ns, most of a one-shot socket's egress). A socket that
 * lost its slot goes to the flows map, as any other flow.
 */
struct dgram_slot {
	__u64 cookie;
	struct sk_owner o; /* SKO_PEER_SLOT: first_peer keeps the first flow here */
};

#define DGRAM_SLOTS 16384

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DGRAM_SLOTS);
	__type(key, __u32);
	__type(value, struct dgram_slot);
} dgram_slots SEC(".maps");

static __always_inline struct dgram_slot *dgram_slot_of(__u64 cookie)
{
	__u32 i = (__u32)cookie & (DGRAM_SLOTS - 1);
	return bpf_map_lookup_elem(&dgram_slots, &i);
}

/* Sends without socket storage after this many in a row, from one thread on
 * one socket, make it: a socket that lives gets the cheaper path for its
 * later datagrams (first_peer), a one-shot one (a query, a report) never
 * pays for storage it would free at once. */
#define SENDS_BEFORE_STORAGE 3

/*
 * Storage made for a UDP socket that sent without it (own_send): its first
 * flow moves in from its slot, or, where the slot was taken over, from the
 * flows map (k: that flow's key, when known), so that it is not written
 * again as a new one.
 */
static __always_inline void first_flow_move(struct sk_owner *o, __u64 cookie, struct flow_key *k,
					    int k_known)
{
	__u64 fl;
	struct dgram_slot *ds = dgram_slot_of(cookie);
	if (ds && ds->cookie == cookie && (ds->o.peer_flags & PEER_SET)) {
		__builtin_memcpy(k->raddr, ds->o.peer_addr, 16);
		k->rport = ds->o.peer_port;
		k->proto = ds->o.peer_proto;
		fl = ds->o.peer_flags;
	} else if (k_known) {
		struct flow_val *fv = bpf_map_lookup_elem(&flows, k);
		if (!fv)
			return;
		fl = fv->flags;
	} else {
		return;
	}
	/* a datagram of it may be under way in another thread: its record
	 * was written either way, at worst twice */
	if (__sync_val_compare_and_swap(&o->peer_flags, 0, PEER_CLAIMED) != 0)
		return;
	__builtin_memcpy(o->peer_addr, k->raddr, 16);
	o->peer_port = k->rport;
	o->peer_proto = k->proto;
	__sync_fetch_and_or(&o->peer_flags,
			    PEER_SET | (fl & (FLOW_SENT | FLOW_RECEIVED | FLOW_REMOTE_INITIATED)));
}

/* Storage for a socket that has none, owned by the current task. A socket
 * with no local port yet has passed no datagram, so its first flow can be
 * kept in the storage (SKO_PEER_SLOT, first_peer). */
static __always_inline struct sk_owner *own_new(struct bpf_sock_addr *ctx, struct bpf_sock *bsk)
{
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return NULL;
	if (!o->start_ns) {
		owner_set_current(o);
		if (bsk->src_port == 0) {
			o->flags |= SKO_PEER_SLOT;
		} else if (cfg_lazy_dgram && bsk->protocol == IPPROTO_UDP) {
			struct flow_key k = {};
			first_flow_move(o, bpf_get_socket_cookie(ctx), &k, 0);
		}
	}
	return o;
}

/* the owner is the current task (storage the socket has) */
static __always_inline void own_update(struct sk_owner *o)
{
	/* every datagram passes here: most often its owner is already right */
	if (o->start_ns && o->tgid == (__u32)(bpf_get_current_pid_tgid() >> 32))
		return;
	owner_set_current(o);
}

static __always_inline void own(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *bsk = ctx->sk;
	if (!bsk)
		return;
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, 0);
	if (o)
		own_update(o);
	else
		own_new(ctx, bsk);
}

SEC("cgroup/sock_create")
int om_sock_create(struct bpf_sock *ctx)
{
	/* TCP sockets get their owner at connect, UDP ones at bind, connect,
	 * their sends (own_send) and receives; the others (ICMP, raw: no such
	 * hook runs for them) now */
	if (ctx->protocol == IPPROTO_TCP || (cfg_lazy_dgram && ctx->protocol == IPPROTO_UDP))
		return 1;
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, ctx, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return 1;
	owner_set_current(o);
	o->flags |= SKO_PEER_SLOT;
	return 1;
}

/* A bound datagram socket is a server's, or lives long: it gets storage
 * now, so that the first datagram it receives (before any receive call of
 * its process) has its owner. */
static __always_inline void own_bind(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol == IPPROTO_TCP)
		return;
	own(ctx);
}

SEC("cgroup/bind4")
int om_bind4(struct bpf_sock_addr *ctx)
{
	own_bind(ctx);
	return 1;
}

SEC("cgroup/bind6")
int om_bind6(struct bpf_sock_addr *ctx)
{
	own_bind(ctx);
	return 1;
}

/*
 * A datagram send (sendto, sendmsg with an address: the hook runs in the
 * sending thread, before the datagram leaves). A socket with storage takes
 * the current task as owner. One without gets none yet: the owner goes in
 * the thread's own storage with the socket's cookie, where the send's
 * egress, which runs next in this thread, finds it (datagram()) and keeps
 * it, with the flow, in the socket's slot (dgram_slots; the flows map when
 * the slot was taken over), where a reply finds it. Egress elsewhere (a kernel
 * socket's, work deferred to another context) finds another task's storage
 * or another cookie there, never this owner. Port 53 gets storage at once:
 * the DNS tap reads the owner from it.
 */
static __always_inline void own_send(struct bpf_sock_addr *ctx, int v6)
{
	struct bpf_sock *bsk = ctx->sk;
	if (!bsk)
		return;
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, 0);
	if (o) {
		own_update(o);
		return;
	}
	struct pending_connect *pc = NULL;
	if (cfg_lazy_dgram && ctx->user_port != bpf_htons(53))
		pc = bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pc) {
		own_new(ctx, bsk);
		return;
	}
	__u64 cookie = bpf_get_socket_cookie(ctx);
	if (pc->send_cookie != cookie) {
		struct task_struct *t = bpf_get_current_task_btf();
		pc->send_cookie = cookie;
		pc->send_tgid = t->tgid;
		pc->send_uid = (__u32)bpf_get_current_uid_gid();
		pc->send_start_ns = t->group_leader->start_boottime;
		pc->sends = 1;
		pc->send_port = bpf_ntohs(ctx->user_port);
		__u32 *a = (__u32 *)pc->send_peer;
		if (!v6) {
			a[0] = ctx->user_ip4;
			a[1] = a[2] = a[3] = 0;
		} else if (!ctx->user_ip6[0] && !ctx->user_ip6[1] &&
			   ctx->user_ip6[2] == bpf_htonl(0xffff)) {
			a[0] = ctx->user_ip6[3]; /* v4-mapped: the datagram is IPv4 */
			a[1] = a[2] = a[3] = 0;
		} else {
			a[0] = ctx->user_ip6[0];
			a[1] = ctx->user_ip6[1];
			a[2] = ctx->user_ip6[2];
			a[3] = ctx->user_ip6[3];
		}
		return;
	}
	if (++pc->sends < SENDS_BEFORE_STORAGE)
		return;
	/* it lives: storage, with its first flow as its first peer, as if it
	 * had had storage from the start */
	pc->send_cookie = 0;
	o = own_new(ctx, bsk);
	if (!o || bsk->protocol != IPPROTO_UDP || (o->peer_flags & PEER_SET))
		return;
	struct flow_key k = {};
	k.cookie = cookie;
	k.proto = IPPROTO_UDP;
	k.rport = pc->send_port;
	__builtin_memcpy(k.raddr, pc->send_peer, 16);
	first_flow_move(o, cookie, &k, 1);
}

/* A receive: like a send, a socket without storage whose owner is this
 * process (it sent on it: its slot, or this thread's storage) gets none; any
 * other gets it, with its first flow. */
static __always_inline void own_recv(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *bsk = ctx->sk;
	if (!bsk)
		return;
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, 0);
	if (o) {
		own_update(o);
		return;
	}
	if (cfg_lazy_dgram) {
		/* its owner is known, and is this process: no storage */
		__u64 cookie = bpf_get_socket_cookie(ctx);
		struct dgram_slot *ds = dgram_slot_of(cookie);
		if (ds && ds->cookie == cookie &&
		    ds->o.tgid == (__u32)(bpf_get_current_pid_tgid() >> 32))
			return;
		struct pending_connect *pc =
		    bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, 0);
		if (pc && pc->send_cookie == cookie)
			return;
	}
	own_new(ctx, bsk);
}

static __always_inline void own_connect(struct bpf_sock_addr *ctx, int v6)
{
	if (ctx->protocol != IPPROTO_TCP) {
		own(ctx);
		return;
	}
	/* TCP: the owner now (SYN_SENT, next, finds it), and what a connect()
	 * that fails before the handshake begins needs: the destination */
	struct pending_connect *pc = bpf_task_storage_get(
	    &pending_connects, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (pc) {
		pc->dport = bpf_ntohs(ctx->user_port);
		if (v6) {
			__u32 *d = (__u32 *)pc->daddr;
			d[0] = ctx->user_ip6[0];
			d[1] = ctx->user_ip6[1];
			d[2] = ctx->user_ip6[2];
			d[3] = ctx->user_ip6[3];
			pc->family = AF_INET6;
		} else {
			__builtin_memset(pc->daddr, 0, sizeof(pc->daddr));
			*(__u32 *)pc->daddr = ctx->user_ip4;
			pc->family = AF_INET;
		}
		pc->syn_seen = 0;
		pc->needs_report = 0;
		pc->deferred = 0;
		pc->reported = 0;
		pc->cookie = 0;
		pc->active = 1;
	}
	struct bpf_sock *bsk = ctx->sk;
	if (!bsk)
		return;
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, 0);
	/* a local connect(2) of a socket without storage: none is made (the
	 * largest part of this hook's cost), see tcp_handoffs. Port 53 keeps
	 * it: the DNS tap reads the owner from it. */
	if (!o && pc && ctx->user_port != bpf_htons(53) && addr_loopback(ctx, v6) &&
	    in_connect_syscall()) {
		pc->deferred = 1;
		pc->cookie = bpf_get_socket_cookie(ctx);
		return;
	}
	if (!o)
		o = bpf_sk_storage_get(&sk_owners, bsk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return;
	owner_set_current(o);
	o->flags &= ~SKO_REPORTED; /* a new attempt */
}

SEC("cgroup/connect4")
int om_connect4(struct bpf_sock_addr *ctx)
{
	own_connect(ctx, 0);
	return 1;
}

SEC("cgroup/connect6")
int om_connect6(struct bpf_sock_addr *ctx)
{
	own_connect(ctx, 1);
	return 1;
}

SEC("cgroup/sendmsg4")
int om_sendmsg4(struct bpf_sock_addr *ctx)
{
	own_send(ctx, 0);
	return 1;
}

SEC("cgroup/sendmsg6")
int om_sendmsg6(struct bpf_sock_addr *ctx)
{
	own_send(ctx, 1);
	return 1;
}

SEC("cgroup/recvmsg4")
int om_recvmsg4(struct bpf_sock_addr *ctx)
{
	own_recv(ctx);
	return 1;
}

SEC("cgroup/recvmsg6")
int om_recvmsg6(struct bpf_sock_addr *ctx)
{
	own_recv(ctx);
	return 1;
}

/* --- datagram flows: cgroup skb programs --- */

struct pkt {
	__u8 family, proto;
	__u8 saddr[16], daddr[16];
	__u16 sport, dport; /* ICMP: type, code */
	__u16 icmp_id;
};

static __always_inline int parse_pkt(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	void *l4;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;
		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->frag_off & bpf_htons(IP_OFFSET))
			return -1; /* a later fragment: no ports */
		p->family = AF_INET;
		p->proto = ip->protocol;
		*(__u32 *)p->saddr = ip->saddr;
		*(__u32 *)p->daddr = ip->daddr;
		l4 = data + ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;
		if ((void *)(ip6 + 1) > end)
			return -1;
		p->family = AF_INET6;
		p->proto = ip6->nexthdr;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (p->proto == IPPROTO_UDP) {
		struct udphdr *u = l4;
		if ((void *)(u + 1) > end)
			return -1;
		p->sport = bpf_ntohs(u->source);
		p->dport = bpf_ntohs(u->dest);
		return 0;
	}
	if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
		__u8 *ic = l4;
		if ((void *)(ic + 8) > end)
			return -1;
		p->sport = ic[0];
		p->dport = ic[1];
		p->icmp_id = *(__u16 *)(ic + 4);
		/* echo requests only (ping); replies and errors are not flows */
		if (p->proto == IPPROTO_ICMP && p->sport != ICMP_ECHO)
			return -1;
		if (p->proto == IPPROTO_ICMPV6 && p->sport != ICMPV6_ECHO_REQUEST)
			return -1;
		return 0;
	}
	return -1;
}

enum { PEER_RECORDED, PEER_NEW, PEER_OTHER };

/*
 * The socket's first flow, in its own storage: PEER_RECORDED when this
 * direction of it was written before (nothing to do), PEER_NEW when not
 * (*flags: the flow's FLOW_* with this direction's bit), PEER_OTHER for any
 * other flow (the flows map has it). The first program to see a datagram of
 * a socket made since the recorder started claims the slot for that flow;
 * flags change only by atomic or, so two CPUs write a direction once.
 */
static __always_inline int first_peer(struct sk_owner *o, const __u8 *raddr, __u16 rport,
				      __u8 proto, __u32 bit, int egress, __u32 *flags)
{
	__u64 pf = *(volatile __u64 *)&o->peer_flags;
	if (pf & PEER_SET) {
		const __u64 *a = (const __u64 *)o->peer_addr, *b = (const __u64 *)raddr;
		if (a[0] != b[0] || a[1] != b[1] || o->peer_port != rport || o->peer_proto != proto)
			return PEER_OTHER;
		if (pf & bit)
			return PEER_RECORDED;
		__u64 old = __sync_fetch_and_or(&o->peer_flags, (__u64)bit);
		if (old & bit)
			return PEER_RECORDED;
		*flags = (__u32)(old | bit) & ~(__u32)(PEER_SET | PEER_CLAIMED);
		return PEER_NEW;
	}
	if (pf || !(o->flags & SKO_PEER_SLOT))
		return PEER_OTHER; /* being claimed, or the socket is older than its storage */
	if (__sync_val_compare_and_swap(&o->peer_flags, 0, PEER_CLAIMED) != 0)
		return PEER_OTHER;
	__builtin_memcpy(o->peer_addr, raddr, 16);
	o->peer_port = rport;
	o->peer_proto = proto;
	*flags = bit | (egress ? 0 : FLOW_REMOTE_INITIATED);
	__sync_fetch_and_or(&o->peer_flags, PEER_SET | *flags);
	return PEER_NEW;
}

/* Any other flow: in the flows map, by socket and peer. own: in, the owner
 * to keep with a new entry (a socket without storage, at egress), or none;
 * out, the entry's. */
static __always_inline int map_flow(struct flow_key *k, __u32 bit, int egress, __u32 *flags,
				    struct flow_val *own)
{
	struct flow_val *st = bpf_map_lookup_elem(&flows, k);
	if (st) {
		if (!own->start_ns) {
			own->tgid = st->tgid;
			own->uid = st->uid;
			own->start_ns = st->start_ns;
		}
		if (st->flags & bit)
			return PEER_RECORDED;
		__u32 old = (__u32)__sync_fetch_and_or(&st->flags, (__u64)bit);
		if (old & bit)
			return PEER_RECORDED; /* another CPU, just now */
		*flags = old | bit;
		return PEER_NEW;
	}
	struct flow_val v = *own;
	v.flags = bit | (egress ? 0 : FLOW_REMOTE_INITIATED);
	if (bpf_map_update_elem(&flows, k, &v, BPF_NOEXIST) == 0) {
		count(OM_C_FLOWS_NEW); /* a key added: loader_flows_evicted counts what was pushed
					  out */
		*flags = v.flags;
		return PEER_NEW;
	}
	/* another CPU added it just now: this direction's bit too */
	st = bpf_map_lookup_elem(&flows, k);
	if (!st) {
		*flags = v.flags;
		return PEER_NEW;
	}
	__u32 old = (__u32)__sync_fetch_and_or(&st->flags, (__u64)bit);
	if (old & bit)
		return PEER_RECORDED;
	*flags = old | bit;
	return PEER_NEW;
}

/* The owner of a send by a socket without storage: the current thread, when
 * it is in that send (own_send), else none */
static __always_inline int send_owner(__u64 cookie, struct flow_val *own)
{
	struct pending_connect *pc =
	    bpf_task_storage_get(&pending_connects, bpf_get_current_task_btf(), 0, 0);
	if (!pc || pc->send_cookie != cookie)
		return 0;
	own->tgid = pc->send_tgid;
	own->uid = pc->send_uid;
	own->start_ns = pc->send_start_ns;
	return 1;
}

static __always_inline void datagram(struct __sk_buff *skb, int egress)
{
	struct bpf_sock *bsk = skb->sk;
	if (!bsk)
		return;
	bsk = bpf_sk_fullsock(bsk);
	if (!bsk)
		return;
	dns_tap(skb, bsk, egress); /* port 53 only (dns.bpf.h) */
	if (bsk->protocol == IPPROTO_TCP)
		return;

	struct pkt p = {};
	if (parse_pkt(skb, &p) < 0)
		return;
	if (!egress && p.proto != IPPROTO_UDP)
		return;

	struct flow_key k = {};
	k.proto = p.proto;
	if (egress) {
		__builtin_memcpy(k.raddr, p.daddr, 16);
		k.rport = p.proto == IPPROTO_UDP ? p.dport : p.icmp_id;
	} else {
		__builtin_memcpy(k.raddr, p.saddr, 16);
		k.rport = p.sport;
	}
	__u32 bit = egress ? FLOW_SENT : FLOW_RECEIVED;
	__u32 flags = 0;
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, 0);
	int r = PEER_OTHER;
	if (o)
		r = first_peer(o, k.raddr, k.rport, k.proto, bit, egress, &flags);
	if (r == PEER_RECORDED)
		return;
	k.cookie = bpf_get_socket_cookie(skb);
	struct flow_val own = {};
	if (!o && cfg_lazy_dgram) {
		/* a UDP socket without storage (own_send): its slot, when it
		 * has it, stands for the storage; one sending for the first
		 * time takes it */
		struct dgram_slot *ds = dgram_slot_of(k.cookie);
		if (ds && ds->cookie != k.cookie && egress && send_owner(k.cookie, &own)) {
			ds->cookie = k.cookie;
			ds->o.tgid = own.tgid;
			ds->o.uid = own.uid;
			ds->o.start_ns = own.start_ns;
			ds->o.flags = SKO_PEER_SLOT;
			ds->o.peer_flags = 0;
		}
		if (ds && ds->cookie == k.cookie) {
			o = &ds->o;
			r = first_peer(o, k.raddr, k.rport, k.proto, bit, egress, &flags);
			if (r == PEER_RECORDED)
				return;
			own.tgid = o->tgid;
			own.uid = o->uid;
			own.start_ns = o->start_ns;
		} else if (egress) {
			send_owner(k.cookie, &own);
		}
	}
	if (r == PEER_OTHER && map_flow(&k, bit, egress, &flags, &own) == PEER_RECORDED)
		return;

	struct om_ev_net e = {};
	if (o) {
		net_hdr_from_owner(&e, o);
	} else {
		struct sk_owner so = {};
		so.tgid = own.tgid;
		so.uid = own.uid;
		so.start_ns = own.start_ns;
		net_hdr_from_owner(&e, own.start_ns ? &so : NULL);
	}
	e.family = p.family;
	e.proto = p.proto;
	e.result = egress ? OM_RES_SENT : OM_RES_RECEIVED;
	e.sock_cookie = k.cookie;
	/* src is the initiator: the packet's source unless it answers the other side */
	int swap = (flags & FLOW_REMOTE_INITIATED) ? egress : !egress;
	e.direction = (flags & FLOW_REMOTE_INITIATED) ? OM_DIR_IN : OM_DIR_OUT;
	if (swap) {
		__builtin_memcpy(e.saddr, p.daddr, 16);
		__builtin_memcpy(e.daddr, p.saddr, 16);
		e.sport = p.dport;
		e.dport = p.sport;
	} else {
		__builtin_memcpy(e.saddr, p.saddr, 16);
		__builtin_memcpy(e.daddr, p.daddr, 16);
		e.sport = p.sport;
		e.dport = p.dport;
	}
	emit(&e, sizeof(e), OM_K_NET);
}

SEC("cgroup_skb/egress")
int om_egress(struct __sk_buff *skb)
{
	datagram(skb, 1);
	return 1;
}

SEC("cgroup_skb/ingress")
int om_ingress(struct __sk_buff *skb)
{
	datagram(skb, 0);
	return 1;
}
