/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet captures for `correlate`: read a pcap or pcapng file with libpcap,
 * decode each packet down to its transport header, and find each flow's first
 * packet.
 *
 * Link types: Ethernet (with any number of 802.1Q / 802.1ad VLAN tags), Linux
 * cooked capture v1 and v2 (tcpdump -i any), raw IP (LINKTYPE_RAW, IPV4,
 * IPV6) and BSD loopback (NULL, LOOP). IPv4 and IPv6 (extension headers are
 * skipped; later fragments carry no transport header and start no flow).
 *
 * A flow starts with:
 * - TCP: a SYN without ACK. Retransmissions (same initial sequence number) are
 *   the same flow; a SYN with another sequence number on the same 5-tuple,
 *   after a FIN/RST or an idle time, starts a new one. A connection whose
 *   handshake the capture missed is a flow too, marked mid_stream: its first
 *   packet's sender need not be who opened it.
 * - UDP: the first datagram of a 5-tuple, or the first after CAPTURE_IDLE_S
 *   of silence.
 * - ICMP / ICMPv6: an echo request (per identifier); other ICMP messages
 *   answer or report on other traffic and start none.
 */
#ifndef ONMITSU_QUERY_CAPTURE_H
#define ONMITSU_QUERY_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/ipaddr.h"
#include "util/community_id.h"

/* Seconds of silence after which a UDP/ICMP tuple's next packet, or a TCP
 * tuple's next SYN, starts a new flow. */
#define CAPTURE_IDLE_S 60

struct pkt_tuple {
	uint8_t proto; /* IP protocol number; 0 when not IP */
	struct ipaddr src, dst;
	bool has_ports;	       /* TCP, UDP, SCTP, and ICMP (type/code) */
	uint16_t sport, dport; /* ICMP: type, code */
	uint16_t icmp_id;      /* echo identifier */
	uint8_t tcp_flags;
	uint32_t tcp_seq;
	bool fragment; /* a later fragment: no transport header */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*
 * Decode one captured packet. Returns 0 with t filled (t->proto 0 for a
 * packet that is not IP, e.g. ARP), or -1 when the packet is cut short
 * before the headers end (snap length) or malformed; why says which.
 */
int capture_decode(int linktype, const uint8_t *data, size_t caplen, struct pkt_tuple *t,
		   const char **why);

/* Whether libpcap's link type is one capture_decode reads. */
bool capture_linktype_supported(int linktype);

struct capture_flow {
	uint64_t time_ns; /* the first packet */
	uint64_t last_ns;
	struct pkt_tuple first;
	char community_id[COMMUNITY_ID_LEN];
	uint32_t packets;
	bool mid_stream; /* TCP without a SYN in the capture */
	bool closed;	 /* TCP FIN or RST seen */
};

struct capture {
	struct capture_flow *flows;
	size_t nflows, cap;
	uint64_t packets, not_ip, undecodable;
	uint64_t first_ns, last_ns;
	int linktype;
	char linktype_name[64];
};

/*
 * Read path into c. Returns 0; -1 when the file cannot be read as a capture
 * at all (err says why); or 1 when it is cut short or corrupt part-way (err
 * says where): the flows before that point are in c.
 */
int capture_read(const char *path, struct capture *c, char *err, size_t errsize);
void capture_free(struct capture *c);

#endif
