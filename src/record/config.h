/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration file of `onmitsu record` (docs/CONFIG.md): INI-like,
 * one "key = value" a line under [record] (the options of record, by their
 * long names) and one [exclude NAME] or [include NAME] section per filter
 * rule. The parser is bounded (file size, line length, rules, values) and
 * strict: an unknown key, a bad value, a duplicate, a NUL byte, a key
 * outside a section are refused with "FILE:LINE: reason".
 */
#ifndef ONMITSU_CONFIG_H
#define ONMITSU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/options.h"
#include "log/record.h"
#include "util/strbuf.h"

#define CFG_DEFAULT_FILE "/etc/onmitsu/onmitsu.conf"
#define CFG_FILE_MAX (1u << 20) /* bytes of a configuration file */
#define CFG_LINE_MAX 4096	/* bytes of one line, without its newline */
#define CFG_MAX_RULES 64	/* filter rules: one bit each in the kernel's masks */
#define CFG_MAX_VALUES 256	/* values of one key (a comma-separated list) */
#define CFG_NAME_MAX 32		/* bytes of a rule's name */

/* The settings of `record`: the command line's, or the file's. */
enum cfg_setting {
	CFG_S_LOG_DIR,
	CFG_S_FORMAT,
	CFG_S_ROTATE_SIZE,
	CFG_S_ROTATE_AGE,
	CFG_S_KEEP_SIZE,
	CFG_S_KEEP_AGE,
	CFG_S_COMPRESS,
	CFG_S_SEAL_KEY,
	CFG_S_SEAL_INTERVAL,
	CFG_S_SYSLOG,
	CFG_S_RING_SIZE,
	CFG_S_CMDLINE_MAX,
	CFG_S_HASH_MAX,
	CFG_S_EVIDENCE_MAX,
	CFG_S_EVIDENCE_EXE_MAX,
	CFG_S_EVIDENCE_RULES,
	CFG_S_EVIDENCE_ENVIRON,
	CFG_S_COUNT
};

/* Its name in the file and on the command line (without "--"). */
const char *cfg_setting_name(enum cfg_setting s);
/* Whether a reload may change it (the others need a restart). */
bool cfg_setting_reloadable(enum cfg_setting s);

#define RECORD_DEFAULT_LOG_DIR "/var/log/onmitsu"
#define RECORD_DEFAULT_RING_BYTES (4u << 20) /* mapped twice: 8 MiB of RSS */

/* The values the settings give record (defaults, then the file, then the
 * command line). Strings point into what they were parsed from. */
struct record_settings {
	const char *dir;
	struct log_settings ls;
	uint64_t ring, cmdline_max;
	uint64_t hash_max; /* bytes of the largest file hashed; 0: none */
	/* evidence preservation (record/evidence.h): bytes under LOG_DIR/evidence
	 * (0: none kept), bytes of one executable or mapping copied, the rules
	 * (1 << EV_RULE_*), what of the environment is kept (enum ev_environ) */
	uint64_t evidence_max, evidence_exe_max;
	unsigned evidence_rules;
	int evidence_environ;
};

void record_settings_init(struct record_settings *r);
/* Apply one setting: 0, or -1 with err saying what would be right ("want ...").
 * Keeps a pointer to value. */
int record_setting_set(struct record_settings *r, enum cfg_setting s, const char *value, char *err,
		       size_t errsize);

/* A rule's conditions. */
enum cfg_field {
	CFG_F_EVENT,
	CFG_F_UID,
	CFG_F_EXE,
	CFG_F_EXE_PREFIX,
	CFG_F_PARENT_EXE,
	CFG_F_PARENT_EXE_PREFIX,
	CFG_F_CGROUP,
	CFG_F_DST,
	CFG_F_PORT,
	CFG_F_DIRECTION,
	CFG_F_PROTO,
	CFG_F_COUNT
};
const char *cfg_field_name(enum cfg_field f);

/* the conditions only a record's NET fields answer */
#define CFG_NET_FIELDS                                                                             \
	((1u << CFG_F_DST) | (1u << CFG_F_PORT) | (1u << CFG_F_DIRECTION) | (1u << CFG_F_PROTO))
/* the conditions the kernel cannot decide (compared as text in user space) */
#define CFG_USER_FIELDS ((1u << CFG_F_EXE_PREFIX) | (1u << CFG_F_PARENT_EXE_PREFIX))

/* The event kinds a filter may drop: FORK and EXIT never (the tree stays
 * whole), nor the recorder's own (START, STOP, LOST, SEAL, CONFIG). */
#define CFG_FILTERABLE                                                                             \
	((1u << OM_EVENT_EXISTING) | (1u << OM_EVENT_EXEC) | (1u << OM_EVENT_MODLOAD) |            \
	 (1u << OM_EVENT_NET) | (1u << OM_EVENT_INJECT) | (1u << OM_EVENT_DNS))

/* the protocols of proto = */
#define CFG_PROTO_TCP 0x1u
#define CFG_PROTO_UDP 0x2u
#define CFG_PROTO_ICMP 0x4u /* ICMP and ICMPv6 echo */

#define CFG_DIR_OUT 0x1u
#define CFG_DIR_IN 0x2u

struct cfg_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned len;
	uint8_t addr[16]; /* bits past len are zero */
};

struct cfg_strings {
	char **v;
	size_t n;
};

struct cfg_rule {
	char name[CFG_NAME_MAX + 1];
	bool include;
	unsigned line;	 /* of its [section] line */
	unsigned fields; /* 1 << CFG_F_* given */
	unsigned events; /* 1 << OM_EVENT_*: the kinds it applies to */
	uint32_t *uids;
	size_t nuids;
	struct cfg_strings exe, exe_prefix, parent_exe, parent_exe_prefix, cgroup;
	struct cfg_cidr *dst;
	size_t ndst;
	uint16_t *port_lo, *port_hi;
	size_t nports;
	unsigned dirs;	 /* CFG_DIR_* */
	unsigned protos; /* CFG_PROTO_* */
};

struct om_config {
	char *name;	    /* the file, as named in messages */
	uint8_t sha256[32]; /* of the file's bytes */
	bool loaded;	    /* a file was read */
	char *value[CFG_S_COUNT];
	unsigned value_line[CFG_S_COUNT]; /* 0: not set in the file */
	struct cfg_rule rules[CFG_MAX_RULES];
	size_t nrules;
};

void config_init(struct om_config *c);
void config_free(struct om_config *c);

/*
 * Parse buf (len bytes, named name in messages) into c (initialised). 0, or
 * -1 with err holding "NAME:LINE: reason". Checks values too (the settings
 * through record_setting_set), but does not touch the file system.
 */
int config_parse(struct om_config *c, const char *name, const char *buf, size_t len, char *err,
		 size_t errsize);

/*
 * Read and parse the file at path: opened without following a link, a
 * regular file owned by root (or the euid) that group and others cannot
 * write, at most CFG_FILE_MAX bytes. 1 when read, 0 when it does not exist
 * and !must_exist (c stays empty), -1 with err on any other failure.
 */
int config_load(struct om_config *c, const char *path, bool must_exist, char *err, size_t errsize);

/* Apply the file's [record] settings to r: 0, or -1 with err (NAME:LINE). */
int config_apply(const struct om_config *c, struct record_settings *r, char *err, size_t errsize);

/* "192.0.2.0/24", "2001:db8::/32", "198.51.100.7" (n bytes): 0; -1 not an
 * address or prefix; -2 bits set past the prefix length. */
int cfg_parse_cidr(const char *s, size_t n, struct cfg_cidr *out);

/* The rules in a canonical text, one line each (to tell whether a reload
 * changed them, and for tests). */
void config_rules_text(const struct om_config *c, struct strbuf *sb);

/* The file's sha256 as 64 hex digits + NUL. */
void config_hash_hex(const struct om_config *c, char out[65]);

#endif
