/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The syslog forwarder (docs/FORWARDING.md): `record --syslog HOST:PORT`
 * sends every record as RFC 5424 over TCP with octet-counting framing
 * (RFC 6587) to a collector such as rsyslog. The log itself is the
 * disk-backed queue: a thread reads the records back from the segments
 * (closed ones, compressed or not, then the active one as it grows), and a
 * cursor file, DIR/syslog-HOST-PORT.cursor, remembers the last record the
 * collector surely has. While the collector is down, records wait on disk;
 * when it returns they go out in order from the cursor on. None is lost
 * (unless retention expires it first, which is reported); a record may be
 * sent twice after a reconnect, with the same seq.
 *
 * "Surely has": TCP acknowledged its bytes (SIOCOUTQ) and the connection
 * then stayed up for FORWARD_CONFIRM_MS, which covers a collector that
 * shuts down gracefully with records read but not yet written. Without
 * application-level acknowledgements (RELP) nothing stronger is possible.
 */
#ifndef ONMITSU_FORWARD_H
#define ONMITSU_FORWARD_H

#include <stdint.h>

#include "log/jsonl.h"
#include "log/segment.h"

#define FORWARD_CONFIRM_MS 2000
#define FORWARD_DRAIN_MS 5000 /* at stop: how long to try to send the rest */
#define SYSLOG_FACILITY 13    /* log audit (RFC 5424 table 1) */
#define SYSLOG_SEVERITY 6     /* informational */

struct forwarder;

/* Start the thread. dir names the log directory in messages; dirfd is the
 * writer's descriptor of it (the forwarder keeps a copy: the directory is
 * not looked up by name again). next_seq: where to begin when there is no
 * cursor yet (the first record of this run). NULL when HOST:PORT is malformed. */
struct forwarder *forwarder_start(const char *dir, int dirfd, enum log_format format,
				  const char *hostport, const struct jsonl_host *host,
				  uint64_t next_seq);
/* Try for up to drain_ms to send and confirm what the log holds, save the
 * cursor, stop. */
void forwarder_stop(struct forwarder *fw, int drain_ms);

/* One RFC 5424 message with its octet-count frame, for a record given as
 * its JSON Lines text (json, without "\n"). Exposed for the unit tests. */
void syslog_frame(struct strbuf *out, const char *time, const char *hostname, int pid,
		  const char *msgid, const char *json, size_t json_len);

#endif
