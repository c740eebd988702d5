/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef ONMITSU_NOTIFY_H
#define ONMITSU_NOTIFY_H

/* Tell systemd (Type=notify) a state such as "READY=1", if it is listening
 * ($NOTIFY_SOCKET); otherwise do nothing. 0, or -1 when sending failed. */
int service_notify(const char *state);

#endif
