/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one header both compilers see: the records the BPF programs hand to
 * user space through the ring buffer, their limits and kinds.
 *
 * Every record starts with struct om_hdr. Fixed-width fields, explicit
 * padding, and static assertions on sizes and offsets, so that a layout
 * change cannot pass silently. Variable-length text (paths, argv) follows
 * the fixed part; its lengths are in the fixed part and user space checks
 * every length against the sample's size before it trusts it.
 */
#ifndef ONMITSU_EVENT_H
#define ONMITSU_EVENT_H

#ifdef __bpf__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

/*
 * Limits. Documented in docs/FORMAT.md ("Limits"); the runtime settings
 * (record --cmdline-max) may lower but never raise them.
 */
#define OM_PATH_MAX 4096	 /* bytes of a resolved path, without NUL */
#define OM_PATH_DEPTH 64	 /* directory levels walked for one path */
#define OM_CMDLINE_MAX 32768	 /* bytes of argv (NUL-separated) read at exec */
#define OM_CMDLINE_DEFAULT 32768 /* default runtime cmdline limit */
#define OM_NAME_MAX 255		 /* bytes of one path component */
#define OM_USER_HZ 100		 /* /proc clock ticks per second (USER_HZ) */
#define OM_CGROUP_DEPTH 32	 /* cgroup levels walked for one cgroup path */

/*
 * Masks that bound offsets and lengths for the verifier: `x & MASK` is
 * provably below MASK + 1 whatever x is. Each is a power of two minus one,
 * tied to the limit it stands for by the assertions, so that changing a
 * limit cannot leave a mask behind that lets the verifier accept an access
 * past a buffer, or cuts a value that the limit allows.
 */
#define OM_PATH_MASK (OM_PATH_MAX - 1)	       /* an offset inside a path buffer */
#define OM_PATH_LEN_MASK (2 * OM_PATH_MAX - 1) /* a path's length, OM_PATH_MAX itself included */
#define OM_NAME_MASK OM_NAME_MAX	       /* one path component's length */
#define OM_CMDLINE_MASK (OM_CMDLINE_MAX - 1)
_Static_assert((OM_PATH_MAX & OM_PATH_MASK) == 0, "OM_PATH_MAX must be a power of two");
_Static_assert(OM_PATH_LEN_MASK == 2 * OM_PATH_MAX - 1 &&
		   (OM_PATH_LEN_MASK & (OM_PATH_LEN_MASK + 1)) == 0,
	       "OM_PATH_LEN_MASK: a power of two minus one, just above OM_PATH_MAX");
_Static_assert(((OM_NAME_MAX + 1) & OM_NAME_MASK) == 0,
	       "OM_NAME_MAX + 1 must be a power of two (OM_NAME_MAX is its own mask)");
_Static_assert((OM_CMDLINE_MAX & OM_CMDLINE_MASK) == 0, "OM_CMDLINE_MAX must be a power of two");

enum om_kind {
	OM_K_FORK = 1,
	OM_K_EXEC = 2,
	OM_K_EXIT = 3,
	OM_K_MODLOAD = 4,
	OM_K_NET = 5,
	OM_K_DNS = 6,
	OM_K_INJECT = 7,
	OM_K_MAX
};

/* Counters kept per CPU in the kernel (map "counters"), indexed by: */
enum om_counter {
	OM_C_EVENTS = 0, /* records handed to the ring buffer */
	OM_C_LOST_FORK,	 /* ring buffer full: records of that kind lost */
	OM_C_LOST_EXEC,
	OM_C_LOST_EXIT,
	OM_C_LOST_MODLOAD,
	OM_C_LOST_NET,
	OM_C_TRUNC_ARGS,      /* argv cut at the cmdline limit */
	OM_C_TRUNC_PATH,      /* a path cut at OM_PATH_MAX or OM_PATH_DEPTH */
	OM_C_READ_FAIL,	      /* a kernel or user memory read (or a mapping's look-up) failed */
	OM_C_NO_SCRATCH,      /* EXEC or MODLOAD records not built: no per-CPU scratch slot */
	OM_C_OVERSIZE,	      /* EXEC records longer than the scratch space holds: not sent */
	OM_C_PENDING_EVICTED, /* TCP connects at SYN_SENT whose pending_connects entry was gone */
	OM_C_FLOWS_NEW,	      /* datagram flows entered into the flows map (evictions follow
				 from this and the map's entries: loader_flows_evicted) */
	OM_C_LOST_DNS,	      /* DNS packets the ring buffer had no room for */
	OM_C_LOST_INJECT,     /* ring buffer full: INJECT records lost */
	OM_C_TRUNC_ENV,	      /* an environment longer than OM_ENV_MAX: its end not scanned */
	OM_C_MAX
};

/* flags in om_hdr.flags */
#define OM_F_ARGS_TRUNC (1u << 0) /* argv cut at the limit */
#define OM_F_PATH_TRUNC (1u << 1) /* path cut at the limit */
#define OM_F_DELETED (1u << 2)	  /* the file had no links (deleted) */
#define OM_F_MEMFD (1u << 3)	  /* the file is a memfd */
#define OM_F_ARGS_FAULT (1u << 4) /* argv could not be read */
#define OM_F_SETUID (1u << 5)	  /* euid differs from uid at exec */
#define OM_F_SCRIPT_CWD_TRUNC                                                                      \
	(1u << 7) /* EXEC: the cwd a relative script is named from was cut                         \
		   */
#define OM_F_VALUE_TRUNC                                                                           \
	(1u << 8) /* INJECT: the variable's value was cut at OM_INJECT_VALUE_MAX                   \
		   */
#define OM_F_NO_SERIES                                                                             \
	(1u << 9) /* INJECT: the series table was full: this one is written, not counted */
#define OM_F_CGROUP_TRUNC (1u << 10) /* EXEC: the cgroup path was cut */
#define OM_F_STDIO (1u << 11)	     /* EXEC: struct om_stdio follows the cgroup path */
#define OM_F_LATE                                                                                  \
	(1u << 6) /* NET: written when the connection left ESTABLISHED, its                        \
		     handshake's record having been skipped by the kernel */

struct om_hdr {
	__u32 kind;	/* enum om_kind */
	__u32 size;	/* bytes of the whole record */
	__u64 ts_ns;	/* CLOCK_BOOTTIME of the event */
	__u32 pid;	/* process (tgid) */
	__u32 tid;	/* thread that did it */
	__u64 start_ns; /* process start, boot-time ns (task->group_leader->start_boottime) */
	__u32 flags;	/* OM_F_* */
	__u32 uid;
};
_Static_assert(sizeof(struct om_hdr) == 40, "om_hdr layout");

/*
 * A file's identity as the kernel held it when the file was executed or
 * mapped: what user space checks the file it hashes against, and the key
 * of its hash cache (docs/DESIGN.md, "What a process was").
 */
struct om_file_id {
	__u64 ino;
	__u64 size;
	__s64 ctime_sec;
	__u32 ctime_nsec; /* the multigrain flags (bits 30, 31) masked out */
	__u32 dev;	  /* super_block s_dev, kernel encoding (major << 20 | minor) */
	__u32 generation; /* i_generation */
	__u32 nlink;
	__u32 magic; /* super_block s_magic */
	__u32 flags; /* OM_FID_* */
};
_Static_assert(sizeof(struct om_file_id) == 48, "om_file_id layout");

#define OM_FID_VALID (1u << 0) /* filled in */
/* the ctime had been read (stat) since its last change: on a file system with
 * multigrain timestamps any later change then gets a later ctime */
#define OM_FID_CTIME_QUERIED (1u << 1)

/* The key of the map "known_files" and of user space's hash cache: the
 * parts of om_file_id that name one version of one file. */
struct om_file_key {
	__u64 ino;
	__u64 size;
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__u32 dev;
	__u32 generation;
	__u32 _pad0;
};
_Static_assert(sizeof(struct om_file_key) == 40, "om_file_key layout");

/* FORK, EXEC, EXIT */
struct om_ev_proc {
	struct om_hdr h;
	__u32 ppid; /* real parent's tgid now */
	__u32 euid;
	__u64 parent_start_ns; /* real parent's start, boot-time ns */
	__u32 exit_code;       /* EXIT: wait status (code << 8 | signal) */
	__u16 exe_len;	       /* EXEC: bytes of exe that follow */
	__u16 script_len;      /* EXEC through #! or binfmt_misc: the name execve was given */
	__u32 args_len;	       /* EXEC: bytes of argv (NUL-separated) after exe */
	__u32 cwd_len;	       /* EXEC: the cwd, resolved, when that name is relative */
	__u16 cgroup_len;      /* EXEC: the process's cgroup v2 path */
	__u16 _pad0;
	__u32 _pad1;
	__u64 exec_gen;		  /* EXEC: this image's value in the map proc_gen (0: none) */
	struct om_file_id exe_id; /* EXEC: the file executed (bprm->file) */
	/* then: char exe[exe_len]; char args[args_len]; char script[script_len];
	 * char cwd[cwd_len]; char cgroup[cgroup_len];
	 * with OM_F_STDIO: struct om_stdio (unaligned: copy it out) */
};
_Static_assert(sizeof(struct om_ev_proc) == 136, "om_ev_proc layout");
_Static_assert(__builtin_offsetof(struct om_ev_proc, exit_code) == 56, "om_ev_proc layout");
_Static_assert(__builtin_offsetof(struct om_ev_proc, exe_id) == 88, "om_ev_proc layout");

/*
 * EXEC: what the new image's standard input, output and error are, taken at
 * exec (a reverse shell is a shell whose stdin or stdout is a network
 * socket). Sent only when stdin is a socket, or stdout or stderr a socket
 * that is not AF_UNIX (a service's output to the journal is an AF_UNIX socket
 * and ordinary), so that ordinary EXEC records keep their size.
 */
enum om_fd_type {
	OM_FD_CLOSED = 0, /* not open */
	OM_FD_FILE,	  /* a regular file */
	OM_FD_DIR,
	OM_FD_PIPE, /* a pipe or FIFO */
	OM_FD_TTY,  /* a terminal: virtual console, ttyS, /dev/tty, pseudo-terminal */
	OM_FD_CHAR, /* another character device (/dev/null) */
	OM_FD_BLOCK,
	OM_FD_SOCKET, /* see family, protocol */
	OM_FD_OTHER,  /* anything else (an anonymous inode, an O_PATH descriptor) */
	OM_FD_MAX
};

struct om_stdio_fd {
	__u8 type;	/* enum om_fd_type */
	__u8 family;	/* OM_FD_SOCKET: AF_* */
	__u16 protocol; /* OM_FD_SOCKET: sk_protocol (IPPROTO_TCP, _UDP, ...) */
};

#define OM_STDIO_NO_INET 0xff /* om_stdio.inet_fd: none of them is a TCP or UDP socket */

struct om_stdio {
	struct om_stdio_fd fd[3]; /* 0, 1, 2 */
	__u8 inet_fd;	/* the first of them that is a TCP or UDP socket, or OM_STDIO_NO_INET */
	__u8 family;	/* its family: AF_INET or AF_INET6 */
	__u16 protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 lport;	/* its local port, host order */
	__u16 rport;	/* its peer's port, host order (0: not connected) */
	__u32 _pad0;
	__u8 laddr[16]; /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
};
_Static_assert(sizeof(struct om_stdio) == 56, "om_stdio layout");
_Static_assert(__builtin_offsetof(struct om_stdio, laddr) == 24, "om_stdio layout");

/* MODLOAD */
struct om_ev_mod {
	struct om_hdr h;
	struct om_file_id id; /* the file mapped */
	__u16 path_len;
	__u16 _pad0;
	__u32 _pad1;
	/* then: char path[path_len]; */
};
_Static_assert(sizeof(struct om_ev_mod) == 96, "om_ev_mod layout");
_Static_assert(__builtin_offsetof(struct om_ev_mod, path_len) == 88, "om_ev_mod layout");

/* NET direction */
#define OM_DIR_OUT 0
#define OM_DIR_IN 1

/* NET result: >= 0 is an errno of a failed TCP connect (0: established),
 * or one of these. */
#define OM_RES_ESTABLISHED 0
#define OM_RES_SENT 100000
#define OM_RES_RECEIVED 100001

struct om_ev_net {
	struct om_hdr h;
	__u8 family;	/* AF_INET (2) or AF_INET6 (10) */
	__u8 proto;	/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	__u8 direction; /* OM_DIR_* */
	__u8 _pad0;
	__u32 result;	/* OM_RES_* or errno */
	__u8 saddr[16]; /* initiator; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport; /* host order; ICMP: type */
	__u16 dport; /* host order; ICMP: code */
	__u32 _pad1;
	__u64 sock_cookie; /* the socket (not logged; one socket's records share it) */
};
_Static_assert(sizeof(struct om_ev_net) == 96, "om_ev_net layout");
_Static_assert(__builtin_offsetof(struct om_ev_net, saddr) == 48, "om_ev_net layout");

/*
 * DNS: a packet to or from port 53 on a client socket (bpf/dns.bpf.h), with
 * the first OM_DNS_CAP bytes of what follows the UDP or TCP header (TCP: the
 * segment's bytes, the 2-byte length prefix included). User space parses it
 * (src/record/dns.c). The fixed part is followed by a data area of one of
 * three sizes, the smallest that holds the payload (a ring-buffer record
 * must be reserved at a size known when the program is verified; most
 * queries fit in the small one): h.size is the fixed part plus that area,
 * and cap_len says how much of the area holds the payload.
 */
#define OM_DNS_CAP 1232	      /* DNS Flag Day 2020's safe UDP size; the parse stops there */
#define OM_DNS_CAP_SMALL 128  /* a query, most short answers */
#define OM_DNS_CAP_MEDIUM 512 /* classic DNS's UDP limit */

struct om_ev_dns {
	struct om_hdr h;
	__u8 family; /* of the packet: AF_INET or AF_INET6 */
	__u8 proto;  /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 egress; /* 1: sent by this socket (a query), 0: received (a response) */
	__u8 _pad0;
	__u32 len;	/* payload bytes in the packet */
	__u8 saddr[16]; /* the packet's source; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport, dport; /* the packet's, host order */
	__u32 tcp_seq;	    /* TCP: the segment's sequence number (host order) */
	__u64 sock_cookie;
	__u16 cap_len; /* bytes of the data area that hold the payload */
	__u16 _pad1;
	__u32 _pad2;
	/* then: __u8 data[OM_DNS_CAP_SMALL | OM_DNS_CAP_MEDIUM | OM_DNS_CAP]; */
};
_Static_assert(sizeof(struct om_ev_dns) == 104, "om_ev_dns layout");
_Static_assert(OM_DNS_CAP_SMALL < OM_DNS_CAP_MEDIUM && OM_DNS_CAP_MEDIUM < OM_DNS_CAP &&
		   OM_DNS_CAP % 8 == 0 && OM_DNS_CAP_MEDIUM % 8 == 0 && OM_DNS_CAP_SMALL % 8 == 0,
	       "om_ev_dns data areas: growing, each keeps the record 8-byte aligned");

/*
 * INJECT: one process acting on another's memory or loading (or on its own:
 * memory made executable, LD_* at exec). method is enum om_inject_method;
 * the target is the process acted on, 0 when it could not be found (then
 * target_vpid is the pid as the actor named it, in its own pid namespace).
 */
enum om_inject_method {
	OM_INJ_PTRACE_ATTACH = 1,
	OM_INJ_PTRACE_SEIZE,
	OM_INJ_PTRACE_POKETEXT,
	OM_INJ_PTRACE_POKEDATA,
	OM_INJ_PTRACE_POKEUSER,
	OM_INJ_PTRACE_SETREGS,
	OM_INJ_PTRACE_SETFPREGS,
	OM_INJ_PTRACE_SETREGSET,
	OM_INJ_PROCESS_VM_WRITEV,
	OM_INJ_PROC_MEM_WRITE,
	OM_INJ_WX_MEMORY,
	OM_INJ_ANON_EXEC,
	OM_INJ_LD_PRELOAD,
	OM_INJ_LD_AUDIT,
	OM_INJ_LD_LIBRARY_PATH,
	OM_INJ_LD_SO_PRELOAD,
	OM_INJ_MAX
};

/* how ld.so.preload was written: opened for writing, or given a file by a
 * new name (the name the process gave follows the event, as a value) */
enum om_inject_via { OM_VIA_OPEN = 0, OM_VIA_RENAME, OM_VIA_LINK, OM_VIA_SYMLINK, OM_VIA_MAX };

#define OM_INJECT_VALUE_MAX 255 /* bytes of an LD_* variable's value kept */
#define OM_INJECT_VALUE_MASK OM_INJECT_VALUE_MAX
#define OM_ENV_MAX 32768 /* bytes of the environment scanned for LD_* at exec */
#define OM_ENV_MASK (OM_ENV_MAX - 1)
_Static_assert(((OM_INJECT_VALUE_MAX + 1) & OM_INJECT_VALUE_MASK) == 0,
	       "OM_INJECT_VALUE_MAX + 1 must be a power of two (it is its own mask)");
_Static_assert((OM_ENV_MAX & OM_ENV_MASK) == 0, "OM_ENV_MAX must be a power of two");

struct om_ev_inject {
	struct om_hdr h;
	__u32 method;	       /* enum om_inject_method */
	__u32 target_pid;      /* tgid of the process acted on, 0: not found */
	__u64 target_start_ns; /* its start, boot-time ns */
	__u32 target_vpid;     /* the pid as the actor named it (its pid namespace) */
	__u16 value_len;       /* LD_*: bytes of the variable's value that follow;
				  ld_so_preload by a new name: of that name */
	__u16 via;	       /* ld_so_preload: enum om_inject_via */
			       /* then: char value[value_len]; */
};
_Static_assert(sizeof(struct om_ev_inject) == 64, "om_ev_inject layout");
_Static_assert(__builtin_offsetof(struct om_ev_inject, target_start_ns) == 48,
	       "om_ev_inject layout");

/*
 * A series of INJECT: the BPF map "inject_series" (syscall.bpf.c), keyed by
 * actor, target and method. The first of a series is written at once; the
 * kernel counts the rest in hits (never reset) and user space writes what
 * was added since its last record (docs/FORMAT.md, INJECT).
 */
struct om_inject_key {
	__u32 actor;  /* tgid */
	__u32 target; /* tgid, 0: not found */
	__u64 actor_start_ns;
	__u64 target_start_ns;
	__u32 method;
	__u32 target_vpid; /* tells apart targets that were not found */
};
_Static_assert(sizeof(struct om_inject_key) == 32, "om_inject_key layout");

struct om_inject_val {
	__u64 hits;    /* events of the series, the first included */
	__u64 last_ns; /* boot ns of the latest */
};
_Static_assert(sizeof(struct om_inject_val) == 16, "om_inject_val layout");

/*
 * Key of the BPF map "mods_seen" (syscall.bpf.c): one MODLOAD per process
 * image and file. User space writes it too, for the modules of processes
 * that ran before the recorder started (gen 0, loader_seed_module).
 */
struct om_mod_key {
	__u32 tgid;
	__u32 dev; /* the file's super_block s_dev (kernel encoding) */
	__u64 ino;
	__u64 gen; /* the image: boot ns of its exec, 0 before the recorder started */
};
_Static_assert(sizeof(struct om_mod_key) == 24, "om_mod_key layout");
_Static_assert(__builtin_offsetof(struct om_mod_key, dev) == 4, "om_mod_key layout");
_Static_assert(__builtin_offsetof(struct om_mod_key, ino) == 8, "om_mod_key layout");
_Static_assert(__builtin_offsetof(struct om_mod_key, gen) == 16, "om_mod_key layout");

/* The largest record: EXEC with a full path, full argv, script, cwd,
 * cgroup and stdio. */
#define OM_REC_MAX                                                                                 \
	(sizeof(struct om_ev_proc) + OM_PATH_MAX + OM_CMDLINE_MAX + OM_PATH_MAX +                  \
	 2 * OM_PATH_MAX + OM_PATH_MAX + sizeof(struct om_stdio))

#endif /* ONMITSU_EVENT_H */
