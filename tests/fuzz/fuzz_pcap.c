/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet capture path of `correlate` (query/capture.c): the input is a
 * capture file, pcap or pcapng, read through libpcap by capture_read as the
 * command reads one. Its bytes are also decoded as one packet of every
 * link type capture_decode reads. The flows found must be consistent with
 * the packets counted.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "query/capture.h"

static const int linktypes[] = {
    DLT_EN10MB,	    DLT_LINUX_SLL,
#ifdef DLT_LINUX_SLL2
    DLT_LINUX_SLL2,
#endif
    DLT_RAW,
#ifdef DLT_IPV4
    DLT_IPV4,	    DLT_IPV6,
#endif
    DLT_NULL,	    DLT_LOOP,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++) {
		struct pkt_tuple t;
		const char *why = NULL;
		FUZZ_CHECK(capture_linktype_supported(linktypes[i]), "link type %d", linktypes[i]);
		if (capture_decode(linktypes[i], data, size, &t, &why) < 0) {
			FUZZ_CHECK(why && *why, "a failure without a reason");
			continue;
		}
		FUZZ_CHECK(!t.proto || t.src.family == AF_INET || t.src.family == AF_INET6,
			   "proto %u without addresses", t.proto);
		FUZZ_CHECK(t.src.family == t.dst.family, "families %u, %u", t.src.family,
			   t.dst.family);
	}

	const char *dir = fuzz_dir_fresh();
	fuzz_write_file(dir, "capture", data, size);
	char path[512], err[1024];
	snprintf(path, sizeof(path), "%s/capture", dir);
	struct capture c;
	int rc = capture_read(path, &c, err, sizeof(err));
	FUZZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(*err, "a failure without a reason");
		FUZZ_CHECK(c.nflows == 0, "flows from an unreadable capture");
	} else {
		FUZZ_CHECK(c.nflows <= c.packets, "%zu flows from %llu packets", c.nflows,
			   (unsigned long long)c.packets);
		FUZZ_CHECK(c.not_ip + c.undecodable <= c.packets, "counts");
		uint64_t in_flows = 0;
		for (size_t i = 0; i < c.nflows; i++) {
			const struct capture_flow *f = &c.flows[i];
			FUZZ_CHECK(f->packets >= 1 && f->time_ns <= f->last_ns, "flow %zu", i);
			FUZZ_CHECK(f->time_ns >= c.first_ns && f->last_ns <= c.last_ns,
				   "flow %zu outside the capture's time", i);
			FUZZ_CHECK(memchr(f->community_id, '\0', sizeof(f->community_id)),
				   "community id not terminated");
			in_flows += f->packets;
		}
		FUZZ_CHECK(in_flows <= c.packets, "%llu packets in flows, %llu read",
			   (unsigned long long)in_flows, (unsigned long long)c.packets);
	}
	capture_free(&c);
	return 0;
}
