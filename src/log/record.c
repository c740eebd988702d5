/* SPDX-License-Identifier: BSD-2-Clause */
#include "log/record.h"

#include <string.h>

static const char *const event_names[OM_EVENT_COUNT] = {
    [OM_EVENT_START] = "START",	      [OM_EVENT_STOP] = "STOP",
    [OM_EVENT_EXISTING] = "EXISTING", [OM_EVENT_FORK] = "FORK",
    [OM_EVENT_EXEC] = "EXEC",	      [OM_EVENT_EXIT] = "EXIT",
    [OM_EVENT_MODLOAD] = "MODLOAD",   [OM_EVENT_NET] = "NET",
    [OM_EVENT_LOST] = "LOST",	      [OM_EVENT_SEAL] = "SEAL",
    [OM_EVENT_INJECT] = "INJECT",     [OM_EVENT_DNS] = "DNS",
    [OM_EVENT_CONFIG] = "CONFIG",     [OM_EVENT_EVIDENCE] = "EVIDENCE",
};

const char *om_event_name(enum om_event e)
{
	if ((unsigned)e >= OM_EVENT_COUNT)
		return NULL;
	return event_names[e];
}

void om_record_init(struct om_record *r, enum om_event e)
{
	memset(r, 0, sizeof(*r));
	r->event = e;
	r->pid = r->ppid = r->uid = OM_NONE;
	r->src_port = r->dst_port = OM_NONE;
	r->target_pid = OM_NONE;
}
