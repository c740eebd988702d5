/* SPDX-License-Identifier: BSD-2-Clause */
/* Community ID flow hashing, version 1 (corelight/community-id-spec). */
#ifndef ONMITSU_COMMUNITY_ID_H
#define ONMITSU_COMMUNITY_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMMUNITY_ID_LEN 64 /* enough for "1:" + hex SHA-1 + NUL */

/*
 * family: AF_INET or AF_INET6; addresses in network order (4 or 16 bytes);
 * ports in host order. For ICMP/ICMPv6, sport is the type and dport the code
 * (the spec's mapping to one-way/two-way is applied here). For protocols
 * without ports pass has_ports = false.
 * Writes "1:..." into out. Returns 0, or -1 on a bad family.
 */
int community_id_v1(char out[COMMUNITY_ID_LEN], uint16_t seed, uint8_t proto, int family,
		    const uint8_t *saddr, const uint8_t *daddr, uint16_t sport, uint16_t dport,
		    bool has_ports, bool base64);

#endif
