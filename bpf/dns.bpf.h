/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DNS: the packets a client socket exchanges with port 53, copied to user
 * space (src/record/dns.c parses them). Called by the cgroup skb programs of
 * net.bpf.c for every packet, so the test that lets everything else go is
 * the first thing here and costs two loads from the socket:
 *
 * - a connected socket (TCP, or UDP after connect()) whose remote port is 53;
 * - an unconnected UDP socket (sendto with an address) whose datagram goes
 *   to, or comes from, port 53: its UDP header is read, 4 bytes.
 *
 * Only the client's side: a socket with the local port 53 is a server's
 * (resolver, stub), and its packets are left alone, so a query to a stub on
 * this host (127.0.0.53) is written once, from the asking process's socket:
 * the query as it leaves, the answer as it arrives. The owner is the
 * socket's (sk_owners, net.bpf.h), as for its NET records.
 *
 * No parsing here: the first OM_DNS_CAP bytes after the UDP or TCP header are
 * copied into a ring-buffer record reserved at one of three sizes (reserved,
 * not built in a scratch buffer, so that a softirq interrupting a send on
 * this CPU cannot share one with it).
 */
#ifndef ONMITSU_DNS_BPF_H
#define ONMITSU_DNS_BPF_H

#include "net.bpf.h"

#define DNS_PORT 53

/* Where the UDP/TCP header starts and which transport, from the IP header;
 * -1 for a packet that is neither (or an IPv6 extension header chain). */
static __always_inline int dns_l4(struct __sk_buff *skb, __u8 *proto)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 vihl;
		if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
			return -1;
		if (bpf_skb_load_bytes(skb, 9, proto, 1))
			return -1;
		return (vihl & 0xf) * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 6, proto, 1))
			return -1;
		return 40;
	}
	return -1;
}

/* The record, with a data area of cap bytes (a constant in each call). */
static __always_inline int dns_emit(struct __sk_buff *skb, struct bpf_sock *bsk, int egress,
				    __u8 proto, __u32 l4, __u32 off, __u32 seq, __u32 len,
				    const __u32 cap)
{
	struct om_ev_dns *e = bpf_ringbuf_reserve(&events, sizeof(*e) + cap, 0);
	if (!e) {
		count(OM_C_LOST_DNS);
		return 0;
	}
	struct sk_owner *o = bpf_sk_storage_get(&sk_owners, bsk, 0, 0);
	struct om_ev_net hdr = {};
	net_hdr_from_owner(&hdr, o);
	e->h = hdr.h;
	e->h.kind = OM_K_DNS;
	e->h.size = sizeof(*e) + cap;
	e->family = skb->protocol == bpf_htons(ETH_P_IP) ? AF_INET : AF_INET6;
	e->proto = proto;
	e->egress = egress;
	e->_pad0 = 0;
	e->len = len;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (e->family == AF_INET) {
		bpf_skb_load_bytes(skb, 12, e->saddr, 4);
		bpf_skb_load_bytes(skb, 16, e->daddr, 4);
	} else {
		bpf_skb_load_bytes(skb, 8, e->saddr, 16);
		bpf_skb_load_bytes(skb, 24, e->daddr, 16);
	}
	__be16 ports[2] = {};
	bpf_skb_load_bytes(skb, l4 & 0x3f, ports, sizeof(ports));
	e->sport = bpf_ntohs(ports[0]);
	e->dport = bpf_ntohs(ports[1]);
	e->tcp_seq = seq;
	e->sock_cookie = bpf_get_socket_cookie(skb);
	e->_pad1 = 0;
	e->_pad2 = 0;
	/* 64 bits and checked again after the barrier: clang 14 would pass a
	 * register whose bound the verifier only knows in its low half */
	__u64 n = len;
	if (n > cap)
		n = cap;
	barrier_var(n);
	if (n > cap || n == 0 || bpf_skb_load_bytes(skb, off, (void *)(e + 1), n)) {
		n = 0;
		count(OM_C_READ_FAIL);
	}
	e->cap_len = (__u16)n;
	bpf_ringbuf_submit(e, ring_flags());
	count(OM_C_EVENTS);
	return 0;
}

static __noinline int dns_capture(struct __sk_buff *skb, struct bpf_sock *bsk, int egress)
{
	__u8 proto = 0;
	int l4 = dns_l4(skb, &proto);
	if (l4 < 20 || l4 > 60 || (proto != IPPROTO_UDP && proto != IPPROTO_TCP))
		return 0;
	__u32 off = (__u32)l4;
	__u32 seq = 0;
	if (proto == IPPROTO_UDP) {
		off += 8;
	} else {
		__u8 th[13];
		if (bpf_skb_load_bytes(skb, off, th, sizeof(th)))
			return 0;
		seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
		off += (th[12] >> 4) * 4;
	}
	if (skb->len <= off)
		return 0; /* no payload: a bare ACK, SYN or FIN */
	__u32 len = skb->len - off;
	/* the smallest area that holds it: the ring holds more records */
	if (len <= OM_DNS_CAP_SMALL)
		return dns_emit(skb, bsk, egress, proto, l4, off, seq, len, OM_DNS_CAP_SMALL);
	if (len <= OM_DNS_CAP_MEDIUM)
		return dns_emit(skb, bsk, egress, proto, l4, off, seq, len, OM_DNS_CAP_MEDIUM);
	return dns_emit(skb, bsk, egress, proto, l4, off, seq, len, OM_DNS_CAP);
}

/*
 * The check every packet pays: is this a client socket talking to port 53?
 * bsk is the packet's full socket.
 */
static __always_inline void dns_tap(struct __sk_buff *skb, struct bpf_sock *bsk, int egress)
{
	__u16 rport = bsk->dst_port;
	if (rport == bpf_htons(DNS_PORT)) {
		dns_capture(skb, bsk, egress);
		return;
	}
	if (rport != 0 || bsk->protocol != IPPROTO_UDP)
		return;
	/* unconnected UDP: the datagram's remote port */
	__u8 vihl = 0;
	__u32 l4 = 40;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
			return;
		l4 = (vihl & 0xf) * 4;
	}
	__be16 port = 0;
	if (bpf_skb_load_bytes(skb, (l4 & 0x3f) + (egress ? 2 : 0), &port, 2) == 0 &&
	    port == bpf_htons(DNS_PORT))
		dns_capture(skb, bsk, egress);
}

#endif
