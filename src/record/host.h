/* SPDX-License-Identifier: BSD-2-Clause */
/* What names this host in START: hostname, machine id, boot id. */
#ifndef ONMITSU_HOST_H
#define ONMITSU_HOST_H

#include <stdint.h>

#include "util/strbuf.h"

struct host_info {
	char hostname[256];
	char machine_id[64]; /* "" when /etc/machine-id is missing */
	char boot_id[37];
	uint8_t boot_id_bytes[16];
};

int host_info_read(struct host_info *h);
/* Append "host=NAME machine_id=ID boot_id=ID" (values escaped by the encoder). */
void host_info_detail(const struct host_info *h, struct strbuf *out);

#endif
