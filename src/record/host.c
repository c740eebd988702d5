/* SPDX-License-Identifier: BSD-2-Clause */
#include "record/host.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "record/guid.h"
#include "util/log.h"

static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, (int)size, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int host_info_read(struct host_info *h)
{
	memset(h, 0, sizeof(*h));
	char id[64];
	if (read_line("/proc/sys/kernel/random/boot_id", id, sizeof(id)) != 0 ||
	    uuid_parse(id, h->boot_id_bytes) != 0) {
		log_warn("cannot read the boot id from /proc/sys/kernel/random/boot_id");
		return -1;
	}
	memcpy(h->boot_id, id, sizeof(h->boot_id) - 1);
	h->boot_id[sizeof(h->boot_id) - 1] = '\0';
	if (gethostname(h->hostname, sizeof(h->hostname) - 1) != 0)
		snprintf(h->hostname, sizeof(h->hostname), "unknown");
	if (read_line("/etc/machine-id", h->machine_id, sizeof(h->machine_id)) != 0)
		h->machine_id[0] = '\0';
	return 0;
}

void host_info_detail(const struct host_info *h, struct strbuf *out)
{
	/* a space in a hostname would break key=value splitting */
	sb_adds(out, "host=");
	for (const char *p = h->hostname; *p; p++)
		sb_addc(out, *p == ' ' ? '_' : *p);
	if (h->machine_id[0])
		sb_addf(out, " machine_id=%s", h->machine_id);
	sb_addf(out, " boot_id=%s", h->boot_id);
}
