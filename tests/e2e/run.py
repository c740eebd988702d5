#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of `onmitsu record`: load the real BPF programs, do things
whose pids, ports and argv this test knows, stop the recorder, and check
every field of the records they must have produced.

Remote hosts are a network namespace made here, reached over a veth pair
with TEST-NET addresses (198.51.100.64/26, 2001:db8:1::/64); a blackholed
203.0.113.0/24 gives connect timeouts. No traffic leaves the machine.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/run.py [NAME-SUBSTRING]
"""
import base64
import csv
import hashlib
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (ROOT, ONMITSU, PROBE, IN_CI, Skip, sh, check_eq, one)  # noqa: E402,F401

# a /26 of TEST-NET-2, so that other test suites' /24 (bench) cannot collide with it
HOST4, PEER4 = "198.51.100.65", "198.51.100.66"
HOST6, PEER6 = "2001:db8:1::1", "2001:db8:1::2"
NOHOST4 = "198.51.100.99"       # on the link, answers nothing: unreachable
BLACKHOLE4 = "203.0.113.5"       # routed into the namespace, dropped: timeout
TCP_PORT, CLOSED_PORT, UDP_PORT, ACCEPT_PORT = 8080, 9, 5353, 8443



def documented_columns():
    """The header line docs/FORMAT.md gives users (the contract). The recorder
    takes its columns from src/log/schema.h; this is the independent oracle
    its header is checked against, so the list is not copied here."""
    with open(os.path.join(ROOT, "docs", "FORMAT.md")) as f:
        m = re.search(r"^\s*(time,seq,event,[a-z0-9_,]+)$", f.read(), re.M)
    if not m:
        raise RuntimeError("docs/FORMAT.md has no column line")
    return m.group(1).split(",")


COLUMNS = documented_columns()


# ---------------------------------------------------------------- helpers

def unescape(s):
    """Undo docs/DESIGN.md's text escaping: \\xHH -> byte."""
    out = bytearray()
    i = 0
    b = s.encode("utf-8")
    while i < len(b):
        if b[i:i + 2] == b"\\x":
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def decode_cmdline(s):
    """cmdline column -> list of argv byte strings."""
    args, cur, quoted, started = [], [], False, False
    for ch in s:
        if ch == '"':
            quoted = not quoted
            started = True
        elif ch == " " and not quoted:
            args.append("".join(cur))
            cur, started = [], False
        else:
            cur.append(ch)
            started = True
    if started or cur or s.endswith(" "):
        args.append("".join(cur))
    return [unescape(a) for a in args] if s != "" else []


def community_id(proto, saddr, daddr, sport, dport):
    """Community ID v1, written independently of the C code."""
    sa, da = ipaddress.ip_address(saddr).packed, ipaddress.ip_address(daddr).packed
    pnum = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}[proto]
    if proto in ("icmp", "icmpv6"):
        pairs = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17, 10: 9, 9: 10} \
            if proto == "icmp" else {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135,
                                     130: 131, 131: 130, 144: 145, 145: 144}
        t, c = sport, dport
        if t in pairs:
            sport, dport = t, pairs[t]
            if (sa, sport) > (da, dport):
                sa, da, sport, dport = da, sa, dport, sport
        else:
            sport, dport = t, c
    elif (sa, sport) > (da, dport):
        sa, da, sport, dport = da, sa, dport, sport
    data = struct.pack("!H", 0) + sa + da + struct.pack("!BBHH", pnum, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return bytes.fromhex(f.read().strip().replace("-", ""))


def expected_guid(pid, start_ticks):
    h = hashlib.sha256(b"onmitsu-process-guid-v1" + boot_id() + struct.pack(">I", pid) +
                       struct.pack(">Q", start_ticks)).digest()
    b = bytearray(h[:16])
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    x = b.hex()
    return "%s-%s-%s-%s-%s" % (x[:8], x[8:12], x[12:16], x[16:20], x[20:])


def start_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return int(s[s.rindex(")") + 2:].split()[19])


def parse_probe(out):
    """'pid=P tid=T sport=S errno=E' lines -> list of dicts"""
    res = []
    for line in out.splitlines():
        if line.startswith("pid="):
            res.append({k: int(v) for k, v in (kv.split("=") for kv in line.split())})
    return res


class Log:
    def __init__(self, path):
        self.dir = os.path.dirname(path)
        with open(path, newline="", encoding="utf-8") as f:
            self.text = f.read()
        rows = list(csv.reader(io.StringIO(self.text, newline="")))
        self.header = rows[0]
        self.records = [dict(zip(self.header, r)) for r in rows[1:]]
        self.raw_lines = self.text.split("\n")

    def find(self, **kw):
        return [r for r in self.records if all(r.get(k) == str(v) for k, v in kw.items())]


class Recorder(harness.Recorder):
    """The harness's recorder without seals (a host key, /etc/onmitsu/seal.key,
    would add SEAL records these checks do not expect); stop() returns the log."""

    def __init__(self, log_dir, *extra):
        if "--seal-key" not in extra:
            extra = ("--seal-key", "none") + tuple(extra)
        super().__init__(log_dir, *extra, timeout=20)

    def stop(self):
        super().stop()
        return Log(os.path.join(self.log_dir, "onmitsu.csv"))


# ---------------------------------------------------------------- the network

NET = harness.Netns("e2e", HOST4, [PEER4], 26, HOST6, [PEER6], 64,
                    routes=[("203.0.113.0/24", PEER4)])
NS = NET.name


def netns_up():
    NET.up()


def netns_down():
    NET.down()


SERVER = r"""
import socket, sys, time, threading
def tcp(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, %d)); s.listen(1024); s.settimeout(1)
    end = time.time() + 600
    while time.time() < end:
        try:
            c, _ = s.accept(); c.close()
        except socket.timeout:
            pass
def udp(fam, addr):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((addr, %d)); s.settimeout(1)
    end = time.time() + 600
    while time.time() < end:
        try:
            d, a = s.recvfrom(100); s.sendto(d, a)
        except socket.timeout:
            pass
for f in (lambda: tcp(socket.AF_INET, "%s"), lambda: tcp(socket.AF_INET6, "%s"),
          lambda: udp(socket.AF_INET, "%s"), lambda: udp(socket.AF_INET6, "%s")):
    threading.Thread(target=f, daemon=True).start()
print("ready", flush=True)
time.sleep(600)
""" % (TCP_PORT, UDP_PORT, PEER4, PEER6, PEER4, PEER6)


# ---------------------------------------------------------------- scenarios
# Each scenario runs while one recorder records; its check runs on the log
# afterwards. Scenarios return what they need to check.

def probe(*args, ns=False, env=None):
    cmd = ([ "ip", "netns", "exec", NS] if ns else []) + [PROBE, *map(str, args)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30, env=env)
    return parse_probe(p.stdout), p


def check_tcp_out(log, info, dst, dport, result, what):
    r = one(log.find(event="NET", pid=info["pid"], proto="tcp", direction="out"), what)
    check_eq(what + " dst_ip", r["dst_ip"], dst)
    check_eq(what + " dst_port", r["dst_port"], str(dport))
    check_eq(what + " result", r["result"], result)
    if info["sport"]:
        check_eq(what + " src_port", r["src_port"], str(info["sport"]))
        src = HOST6 if ":" in dst else HOST4
        check_eq(what + " src_ip", r["src_ip"], src)
        check_eq(what + " community_id", r["community_id"],
                 community_id("tcp", src, dst, info["sport"], dport))
    check_eq(what + " uid", r["uid"], "0")
    ex = one(log.find(event="EXEC", pid=info["pid"], exe=PROBE), what + " EXEC")
    check_eq(what + " guid", r["guid"], ex["guid"])
    return r


TESTS = []


def scenario(fn):
    TESTS.append(fn)
    return fn


def compat_gate_open():
    """True when int $0x80 works in a 64-bit process (IA32 emulation on and
    allowed); a closed gate kills the caller with SIGSEGV."""
    p = subprocess.run([PROBE, "compat-gate"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    if p.returncode == -signal.SIGSEGV:
        return False
    if p.returncode != 0:
        raise AssertionError("netprobe compat-gate failed: status %d %r"
                             % (p.returncode, p.stderr))
    return True


@scenario
def tcp_established_v4():
    infos, _ = probe("tcp", PEER4, TCP_PORT)
    return lambda log: check_tcp_out(log, infos[0], PEER4, TCP_PORT, "established", "tcp v4")


@scenario
def tcp_established_v6():
    infos, _ = probe("tcp", PEER6, TCP_PORT)
    return lambda log: check_tcp_out(log, infos[0], PEER6, TCP_PORT, "established", "tcp v6")


@scenario
def tcp_refused():
    infos, _ = probe("tcp", PEER4, CLOSED_PORT)
    def check(log):
        check_eq("errno", infos[0]["errno"], 111)
        check_tcp_out(log, infos[0], PEER4, CLOSED_PORT, "refused", "refused")
    return check


@scenario
def tcp_nonblocking():
    infos, _ = probe("tcp-nb", PEER4, TCP_PORT)
    return lambda log: check_tcp_out(log, infos[0], PEER4, TCP_PORT, "established", "non-blocking")


@scenario
def tcp_timeout():
    infos, _ = probe("tcp", BLACKHOLE4, 80, 1)
    def check(log):
        check_eq("errno", infos[0]["errno"], 110)
        check_tcp_out(log, infos[0], BLACKHOLE4, 80, "timeout", "timeout")
    return check


@scenario
def tcp_unreachable():
    infos, _ = probe("tcp", NOHOST4, 80)
    def check(log):
        check_eq("errno", infos[0]["errno"], 113)
        check_tcp_out(log, infos[0], NOHOST4, 80, "unreachable", "unreachable")
    return check


@scenario
def tcp_reset_while_connecting():
    """a connect given up with connect(AF_UNSPEC) while in SYN_SENT: the kernel resets it"""
    infos, _ = probe("tcp-reset", BLACKHOLE4, 81)
    def check(log):
        check_eq("errno of the non-blocking connect", infos[0]["errno"], 115)
        check_tcp_out(log, infos[0], BLACKHOLE4, 81, "reset", "reset")
    return check


@scenario
def tcp_abandoned_while_connecting():
    """a connect given up by closing the socket while in SYN_SENT"""
    infos, _ = probe("tcp-abandon", BLACKHOLE4, 82)
    def check(log):
        check_eq("errno of the non-blocking connect", infos[0]["errno"], 115)
        check_tcp_out(log, infos[0], BLACKHOLE4, 82, "error:ECONNABORTED", "abandoned")
    return check


@scenario
def tcp_no_route():
    """connect() fails at once (no route, inside the namespace): no SYN, still a NET record"""
    infos, _ = probe("tcp", "203.0.113.9", 80, ns=True)
    def check(log):
        i = infos[0]
        check_eq("errno", i["errno"], 101)
        r = one(log.find(event="NET", pid=i["pid"], proto="tcp"), "no route")
        check_eq("no-route result", r["result"], "unreachable")
        check_eq("no-route dst", (r["dst_ip"], r["dst_port"]), ("203.0.113.9", "80"))
        check_eq("no-route src is empty", (r["src_ip"], r["src_port"], r["community_id"]),
                 ("", "", ""))
    return check


def local_listener(family, addr, backlog=4):
    """a TCP listener on a free port of a loopback address: (socket, port)"""
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind((addr, 0))
    srv.listen(backlog)
    srv.settimeout(5)
    return srv, srv.getsockname()[1]


@scenario
def tcp_loopback_both_ends():
    """both ends on this host: the client's out and the server's in, one Community ID
    (equal addresses: the spec orders the endpoints by port)"""
    srv, port = local_listener(socket.AF_INET, "127.0.0.1")
    infos, _ = probe("tcp", "127.0.0.1", port)
    conn, _ = srv.accept()
    conn.close()
    srv.close()
    def check(log):
        i = infos[0]
        out = one(log.find(event="NET", pid=i["pid"], proto="tcp"), "loopback client")
        check_eq("loopback out", (out["direction"], out["src_port"], out["dst_port"], out["result"]),
                 ("out", str(i["sport"]), str(port), "established"))
        cid = community_id("tcp", "127.0.0.1", "127.0.0.1", i["sport"], port)
        check_eq("loopback community id", out["community_id"], cid)
        inn = one([r for r in log.find(event="NET", pid=os.getpid(), proto="tcp", direction="in")
                   if r["src_port"] == str(i["sport"])], "loopback server (this test) accept")
        check_eq("accepting side: same flow", (inn["src_ip"], inn["dst_ip"], inn["dst_port"],
                                               inn["community_id"]),
                 ("127.0.0.1", "127.0.0.1", str(port), cid))
    return check


@scenario
def tcp_loopback_v6():
    """a local connect to ::1 (no socket storage: the outcome is written in the connecting
    thread), established and refused"""
    srv, port = local_listener(socket.AF_INET6, "::1")
    ok, _ = probe("tcp", "::1", port)
    srv.accept()[0].close()
    srv.close()
    refused, _ = probe("tcp", "::1", port)  # nothing listens there now
    def check(log):
        for info, result in ((ok[0], "established"), (refused[0], "refused")):
            r = one(log.find(event="NET", pid=info["pid"], proto="tcp", direction="out"),
                    "::1 " + result)
            check_eq("::1 " + result, (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"],
                                       r["result"], r["detail"]),
                     ("::1", str(info["sport"]), "::1", str(port), result, ""))
            ex = one(log.find(event="EXEC", pid=info["pid"], exe=PROBE), "::1 EXEC")
            check_eq("::1 guid", r["guid"], ex["guid"])
    return check


def fill_accept_queue(srv, port, n):
    """n connections the listener (listen(1)) has not accepted: its queue is full, so the
    kernel drops the next SYN, and the client's retransmission, from a timer, completes the
    handshake outside the connecting thread"""
    fillers = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(5)
        c.connect(("127.0.0.1", port))
        fillers.append(c)
    return fillers


def tcp_loopback_outcome_elsewhere(mode):
    srv, port = local_listener(socket.AF_INET, "127.0.0.1", 1)
    fillers = fill_accept_queue(srv, port, 2)
    p = subprocess.Popen([PROBE, mode, "127.0.0.1", str(port)], stdout=subprocess.PIPE,
                         text=True)
    time.sleep(0.3)  # its SYN was dropped: make room for the retransmission (~1 s)
    accepted = [srv.accept()[0] for _ in range(3)]
    out, _ = p.communicate(timeout=15)
    for c in fillers + accepted:
        c.close()
    srv.close()
    info = parse_probe(out)[0]
    if info["errno"] != 0:
        raise AssertionError("the probe's connect failed: errno %d" % info["errno"])
    def check(log):
        r = one(log.find(event="NET", pid=info["pid"], proto="tcp", direction="out"),
                mode + " to a full listener")
        check_eq(mode + " late handshake", (r["src_port"], r["dst_port"], r["result"],
                                            r["detail"]),
                 (str(info["sport"]), str(port), "established", ""))
        ex = one(log.find(event="EXEC", pid=info["pid"], exe=PROBE), mode + " EXEC")
        check_eq(mode + " guid", r["guid"], ex["guid"])
    return check


@scenario
def tcp_loopback_blocking_handshake_elsewhere():
    """a blocking local connect whose handshake ends in a timer, not in its thread: the
    outcome waits for connect()'s exit, which brings the owner"""
    return tcp_loopback_outcome_elsewhere("tcp")


@scenario
def tcp_loopback_nonblocking_handshake_elsewhere():
    """a non-blocking local connect (EINPROGRESS) whose handshake ends later, elsewhere: the
    owner, left at connect()'s exit, waits for the outcome"""
    return tcp_loopback_outcome_elsewhere("tcp-nb")


@scenario
def tcp_fast_open_loopback():
    """TCP Fast Open's connect (sendto with MSG_FASTOPEN) has no connect() exit to bring the
    owner: it keeps socket storage, so its flow is written with this process as owner even
    when its handshake ends outside its thread (a full listener, as above)"""
    srv, port = local_listener(socket.AF_INET, "127.0.0.1", 1)
    fillers = fill_accept_queue(srv, port, 2)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.sendto(b"hello", socket.MSG_FASTOPEN, ("127.0.0.1", port))
    except BlockingIOError:
        pass  # EINPROGRESS: its SYN was dropped, the handshake goes on in the kernel
    sport = c.getsockname()[1]
    time.sleep(0.3)
    accepted = [srv.accept()[0] for _ in range(3)]
    err = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    for x in fillers + accepted + [c, srv]:
        x.close()
    if err:
        raise AssertionError("the fast open connect failed: errno %d" % err)
    def check(log):
        r = one([x for x in log.find(event="NET", pid=os.getpid(), proto="tcp", direction="out")
                 if x["src_port"] == str(sport)], "fast open")
        check_eq("fast open", (r["dst_port"], r["result"], r["detail"]),
                 (str(port), "established", ""))
    return check


@scenario
def tcp_from_thread():
    infos, _ = probe("tcp-thread", PEER4, TCP_PORT)
    def check(log):
        i = infos[0]
        if i["tid"] == i["pid"]:
            raise AssertionError("the probe's thread has the process's id")
        check_tcp_out(log, i, PEER4, TCP_PORT, "established", "thread")
    return check


@scenario
def tcp_accepted():
    srv = subprocess.Popen(["ip", "netns", "exec", NS, PROBE, "tcp-accept", str(ACCEPT_PORT)],
                           stdout=subprocess.PIPE, text=True)
    line = srv.stdout.readline()
    sinfo = parse_probe(line)[0]
    cinfos, _ = probe("tcp", PEER4, ACCEPT_PORT)
    srv.wait(timeout=15)
    def check(log):
        c = cinfos[0]
        r = one(log.find(event="NET", pid=sinfo["pid"], proto="tcp", direction="in"), "accepted")
        check_eq("accepted src_ip", r["src_ip"], HOST4)
        check_eq("accepted src_port", r["src_port"], str(c["sport"]))
        check_eq("accepted dst_ip", r["dst_ip"], PEER4)
        check_eq("accepted dst_port", r["dst_port"], str(ACCEPT_PORT))
        check_eq("accepted result", r["result"], "established")
        out = check_tcp_out(log, c, PEER4, ACCEPT_PORT, "established", "client of accept")
        check_eq("both ends share the community id", r["community_id"], out["community_id"])
    return check


@scenario
def udp_unbound_and_reply():
    infos, _ = probe("udp", PEER4, UDP_PORT)
    def check(log):
        i = infos[0]
        recs = log.find(event="NET", pid=i["pid"], proto="udp")
        check_eq("udp records (sent + reply received)", sorted(r["result"] for r in recs),
                 ["received", "sent"])
        cid = community_id("udp", HOST4, PEER4, i["sport"], UDP_PORT)
        for r in recs:
            check_eq("udp direction", r["direction"], "out")
            check_eq("udp src", (r["src_ip"], r["src_port"]), (HOST4, str(i["sport"])))
            check_eq("udp dst", (r["dst_ip"], r["dst_port"]), (PEER4, str(UDP_PORT)))
            check_eq("udp community_id", r["community_id"], cid)
    return check


@scenario
def udp_connected_v6():
    infos, _ = probe("udp-connected", PEER6, UDP_PORT)
    def check(log):
        i = infos[0]
        r = one(log.find(event="NET", pid=i["pid"], proto="udp", result="sent"), "udp6 sent")
        check_eq("udp6 src", (r["src_ip"], r["src_port"]), (HOST6, str(i["sport"])))
        check_eq("udp6 dst", (r["dst_ip"], r["dst_port"]), (PEER6, str(UDP_PORT)))
        check_eq("udp6 community_id", r["community_id"],
                 community_id("udp", HOST6, PEER6, i["sport"], UDP_PORT))
    return check


@scenario
def udp_server_in():
    srv = subprocess.Popen(["ip", "netns", "exec", NS, PROBE, "udp-reply", "5454"],
                           stdout=subprocess.PIPE, text=True)
    sinfo = parse_probe(srv.stdout.readline())[0]
    cinfos, _ = probe("udp", PEER4, 5454)
    srv.wait(timeout=15)
    def check(log):
        c = cinfos[0]
        recs = log.find(event="NET", pid=sinfo["pid"], proto="udp")
        check_eq("udp server records", sorted(r["result"] for r in recs), ["received", "sent"])
        for r in recs:
            check_eq("udp server direction", r["direction"], "in")
            check_eq("udp server src (the client)", (r["src_ip"], r["src_port"]),
                     (HOST4, str(c["sport"])))
            check_eq("udp server dst", (r["dst_ip"], r["dst_port"]), (PEER4, "5454"))
    return check


@scenario
def udp_sockets_with_several_peers():
    """a socket's first peer is kept in the socket's storage, its others in
    the flows map: each flow is written once each way, with the right
    initiator, whichever holds it. A client talks to two servers, a server
    answers two clients; every datagram goes twice"""
    def sock():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        return s
    a, a2, srv, srv2 = sock(), sock(), sock(), sock()
    port = lambda s: s.getsockname()[1]
    pairs = [(a, srv), (a, srv2), (a2, srv)]  # (initiator, responder)
    try:
        for _ in range(2):
            for c, r in pairs:
                c.sendto(b"q", r.getsockname())
                _, peer = r.recvfrom(16)
                r.sendto(b"a", peer)
                c.recvfrom(16)
    finally:
        names = [(port(c), port(r)) for c, r in pairs]
        for s in (a, a2, srv, srv2):
            s.close()
    def check(log):
        for ip, rp in names:
            recs = [r for r in log.find(event="NET", pid=os.getpid(), proto="udp")
                    if (r["src_port"], r["dst_port"]) == (str(ip), str(rp))]
            check_eq("records of flow %d -> %d" % (ip, rp),
                     sorted((r["direction"], r["result"]) for r in recs),
                     [("in", "received"), ("in", "sent"), ("out", "received"), ("out", "sent")])
    return check


@scenario
def udp_unbound_socket_that_lives():
    """a socket that is neither bound nor connected gets no storage for its
    first sends (their owner rides with the send, then in the flows map) and
    gets it at its third send to a peer, that peer's flow moved into it: each
    flow is still written once each way, with its owner, whichever held it"""
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    srv, srv2 = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    for s in (srv, srv2):
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
    try:
        for _ in range(5):
            c.sendto(b"q", srv.getsockname())
            _, peer = srv.recvfrom(16)
            srv.sendto(b"a", peer)
            c.recvfrom(16)
        c.sendto(b"q", srv2.getsockname())
        srv2.recvfrom(16)
        cport = c.getsockname()[1]
        ports = [srv.getsockname()[1], srv2.getsockname()[1]]
    finally:
        for s in (c, srv, srv2):
            s.close()
    def check(log):
        me = str(os.getpid())
        # the client's records and the servers', all this process's
        want = {ports[0]: [("in", "received"), ("in", "sent"), ("out", "received"), ("out", "sent")],
                ports[1]: [("in", "received"), ("out", "sent")]}
        for rp in ports:
            recs = [r for r in log.find(event="NET", proto="udp")
                    if (r["src_port"], r["dst_port"]) == (str(cport), str(rp))]
            check_eq("records of flow %d -> %d" % (cport, rp),
                     sorted((r["direction"], r["result"]) for r in recs), want[rp])
            check_eq("owner of flow %d -> %d" % (cport, rp), {r["pid"] for r in recs}, {me})
    return check


@scenario
def udp_socket_used_by_another_process():
    """a UDP socket that sent without storage and is then used by another
    process (a child receives the reply and sends again): its storage is made
    then, with its first flow moved in, so that flow is not written again
    under the child"""
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(5)
    try:
        c.sendto(b"q", srv.getsockname())
        _, peer = srv.recvfrom(16)
        srv.sendto(b"a", peer)
        child = os.fork()
        if child == 0:
            code = 1
            try:
                c.recvfrom(16)
                c.sendto(b"q", srv.getsockname())
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        check_eq("the child's exit status", status, 0)
        srv.recvfrom(16)
        srv.sendto(b"a", peer)
        c.recvfrom(16)
        cport, sport = c.getsockname()[1], srv.getsockname()[1]
    finally:
        c.close()
        srv.close()
    def check(log):
        recs = [r for r in log.find(event="NET", proto="udp")
                if (r["src_port"], r["dst_port"]) == (str(cport), str(sport))]
        check_eq("records of flow %d -> %d" % (cport, sport),
                 sorted((r["direction"], r["result"], r["pid"]) for r in recs),
                 sorted([("out", "sent", str(os.getpid())), ("out", "received", str(os.getpid())),
                         ("in", "received", str(os.getpid())), ("in", "sent", str(os.getpid()))]))
    return check


@scenario
def icmp_ping():
    p = subprocess.Popen(["ping", "-c", "1", "-W", "2", PEER4], stdout=subprocess.DEVNULL)
    p.wait(timeout=10)
    def check(log):
        r = one(log.find(event="NET", pid=p.pid, proto="icmp"), "ping")
        check_eq("ping dst", r["dst_ip"], PEER4)
        check_eq("ping src", r["src_ip"], HOST4)
        check_eq("ping type/code", (r["src_port"], r["dst_port"]), ("8", "0"))
        check_eq("ping result", r["result"], "sent")
        check_eq("ping community_id", r["community_id"], community_id("icmp", HOST4, PEER4, 8, 0))
    return check


@scenario
def icmp_raw_socket():
    code = ("import socket,struct,os\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)\n"
            "h=struct.pack('!BBHHH',8,0,0,os.getpid()&0xffff,1)\n"
            "c=0\n"
            "for i in range(0,len(h),2): c+=(h[i]<<8)+h[i+1]\n"
            "c=(c>>16)+(c&0xffff); c=~c&0xffff\n"
            "s.sendto(struct.pack('!BBHHH',8,0,c,os.getpid()&0xffff,1),('%s',0))\n" % PEER4)
    p = subprocess.Popen(["/usr/bin/python3", "-c", code])
    p.wait(timeout=10)
    def check(log):
        r = one(log.find(event="NET", pid=p.pid, proto="icmp"), "raw icmp")
        check_eq("raw icmp dst", r["dst_ip"], PEER4)
    return check


@scenario
def fork_without_exec():
    infos, p = probe("fork-connect", PEER4, TCP_PORT)
    def check(log):
        child = infos[0]["pid"]
        f = one(log.find(event="FORK", pid=child), "FORK of child")
        parent_exec = one(log.find(event="EXEC", exe=PROBE, pid=f["ppid"]), "parent EXEC")
        check_eq("fork parent_guid", f["parent_guid"], parent_exec["guid"])
        # the FORK does not repeat the parent's image (0.3); the query commands join it
        check_eq("fork leaves exe out", f["exe"], "")
        check_eq("fork leaves cmdline out", f["cmdline"], "")
        t = subprocess.run([ONMITSU, "tree", "--log-dir", log.dir, "--guid", f["guid"], "--json",
                            "--no-modules"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        check_eq("tree of the forked child (%s)" % t.stderr, t.returncode, 0)
        target = one([json.loads(l) for l in t.stdout.splitlines()
                      if json.loads(l).get("role") == "target"], "tree target")
        check_eq("forked child's exe, joined from its parent", target["exe"], PROBE)
        check_eq("forked child's cmdline", target["cmdline"], parent_exec["cmdline"])
        r = one(log.find(event="NET", pid=child, proto="tcp"), "NET of forked child")
        check_eq("forked child's flow guid", r["guid"], f["guid"])
        if log.find(event="EXEC", pid=child):
            raise AssertionError("the forked child never exec'd, yet has an EXEC")
    return check


@scenario
def reparented_grandchild():
    infos, p = probe("orphan-connect", PEER4, TCP_PORT)
    gpid = int(re.search(r"grandchild=(\d+)", p.stdout).group(1))
    def check(log):
        g = one(log.find(event="FORK", pid=gpid), "FORK of grandchild")
        mid = one(log.find(event="FORK", guid=g["parent_guid"]), "FORK of the middle child")
        check_eq("grandchild ppid at fork time", g["ppid"], mid["pid"])
        r = one(log.find(event="NET", pid=gpid, proto="tcp"), "grandchild's flow")
        check_eq("grandchild flow guid", r["guid"], g["guid"])
        e = one(log.find(event="EXIT", pid=gpid), "grandchild EXIT")
        # after reparenting the kernel's parent is another process; the log keeps the real one
        check_eq("EXIT ppid stays the fork-time parent", e["ppid"], mid["pid"])
        check_eq("EXIT parent_guid stays", e["parent_guid"], mid["guid"])
    return check


@scenario
def storm_short_lived():
    """hundreds of processes that connect and exit at once: every flow attributed"""
    n = 300
    procs = []
    results = []
    for i in range(0, n, 30):
        batch = [subprocess.Popen([PROBE, "tcp", PEER4, str(TCP_PORT)], stdout=subprocess.PIPE,
                                  text=True) for _ in range(30)]
        for b in batch:
            out, _ = b.communicate(timeout=30)
            results.extend(parse_probe(out))
    def check(log):
        check_eq("storm processes that reported", len(results), n)
        missing = []
        for i in results:
            recs = log.find(event="NET", pid=i["pid"], src_port=i["sport"], result="established")
            if len(recs) != 1:
                missing.append(i)
        if missing:
            raise AssertionError("%d of %d storm flows not attributed, e.g. %r" %
                                 (len(missing), n, missing[:3]))
    return check


HOSTILE = [
    b"comma,separated", b'quote"inside', b"new\nline", b"", b"back\\slash", b"\\x41 literal",
    b"2026-11-25T00:00:00.000000Z,1,EXEC,1,0,,,0,/bin/evil,evil,,,,,,,,,,", b"\xff\xfe invalid utf8",
    b"tab\there", "ünïcødé ✓".encode(), b" leading space", b"trailing space ", b"\r\n",
    # code points that split lines or fool a terminal (FORMAT.md): C1 NEL and CSI, the line and
    # paragraph separators, a bidirectional override, the isolates and the direction marks
    "nel\u0085csi\u009b31m".encode(), "ls\u2028ps\u2029".encode(), "evil\u202egpj.exe".encode(),
    "\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d".encode(), "\u200e\u200f\u061c".encode(),
]
UNSAFE_CODE_POINTS = ([chr(c) for c in range(0x80, 0xa0)] + ["\u2028", "\u2029", "\u200e", "\u200f",
                      "\u061c"] + [chr(c) for c in range(0x202a, 0x202f)] +
                      [chr(c) for c in range(0x2066, 0x206a)])


@scenario
def hostile_cmdline():
    argv = [b"/bin/true"] + HOSTILE
    p = subprocess.Popen(argv)
    p.wait(timeout=10)
    # an executable whose name reverses what follows it on a terminal
    d = os.path.realpath(tempfile.mkdtemp(prefix="onm-bidi-"))
    exe = os.path.join(d, "invoice\u202efdp.exe\u2028x")
    shutil.copy("/bin/true", exe)
    q = subprocess.Popen([exe])
    q.wait(timeout=10)
    shutil.rmtree(d)
    def check(log):
        r = one(log.find(event="EXEC", pid=p.pid), "hostile EXEC")
        check_eq("hostile argv round trip", decode_cmdline(r["cmdline"]), argv)
        check_eq("hostile exe", r["exe"], os.path.realpath("/bin/true"))
        check_eq("no truncation flag", "truncated=1" in r["detail"], False)
        check_eq("records with the forged exe", log.find(exe="/bin/evil"), [])
        check_eq("one physical line per record", len(log.raw_lines), len(log.records) + 2)
        if "evil\\xe2\\x80\\xaegpj.exe" not in r["cmdline"]:
            raise AssertionError("U+202E not written \\xe2\\x80\\xae: %r" % r["cmdline"])
        e = one(log.find(event="EXEC", pid=q.pid), "EXEC of a file named with U+202E")
        check_eq("bidi exe escaped", e["exe"], d +
                 "/invoice\\xe2\\x80\\xaefdp.exe\\xe2\\x80\\xa8x")
        check_eq("bidi exe round trip", unescape(e["exe"]), exe.encode())
        found = sorted({"U+%04X" % ord(c) for c in UNSAFE_CODE_POINTS if c in log.text})
        check_eq("unsafe code points written raw anywhere in the log", found, [])
        snippet = format_md_snippet()
        check_eq("FORMAT.md's snippet: hostile argv", snippet["split_cmdline"](r["cmdline"]), argv)
        check_eq("FORMAT.md's snippet: bidi exe", snippet["unescape_path"](e["exe"]),
                 (exe.encode(), False))
    return check


@scenario
def huge_argument():
    big = b"A" * 100000
    p = subprocess.Popen([b"/bin/true", b"first", big, b"last"])
    p.wait(timeout=10)
    def check(log):
        r = one(log.find(event="EXEC", pid=p.pid), "huge EXEC")
        if "truncated=1" not in r["detail"].split():
            raise AssertionError("a cut argv is not marked truncated=1: %r" % r["detail"])
        args = decode_cmdline(r["cmdline"])
        check_eq("huge: first args kept", args[:2], [b"/bin/true", b"first"])
        if not big.startswith(args[2]) or len(b"\0".join(args)) > 32768:
            raise AssertionError("huge argument not a prefix within the limit")
    return check


def om_limit(name):
    """A limit of include/onmitsu/event.h, the one place that says it."""
    with open(os.path.join(ROOT, "include", "onmitsu", "event.h")) as f:
        return int(re.search(r"#define %s (\d+)" % name, f.read()).group(1))


@scenario
def path_cut_at_the_depth_limit():
    """exe and a dlopen'd library deeper than the kernel's path walk goes: the walk keeps the
    bottom OM_PATH_DEPTH names, and the field itself starts with the cut mark \\..."""
    depth = om_limit("OM_PATH_DEPTH")
    libz = [p for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
                        "/usr/lib64/libz.so.1", "/lib64/libz.so.1") if os.path.exists(p)]
    if not libz:
        raise AssertionError("no libz.so.1 to dlopen (modules_once_each needs it too)")
    top = os.path.realpath(tempfile.mkdtemp(prefix="onm-deep-"))
    deep = os.path.join(top, *["d%d" % i for i in range(depth + 6)])
    os.makedirs(deep)
    exe = os.path.join(deep, "true")
    shutil.copy("/bin/true", exe)
    lib = os.path.join(deep, "libdeep.so")
    shutil.copy(os.path.realpath(libz[0]), lib)
    p = subprocess.Popen([exe])
    p.wait(timeout=10)
    q = subprocess.Popen(["/usr/bin/python3", "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])",
                          lib])
    q.wait(timeout=20)
    shutil.rmtree(top)
    def cut(path):
        return "\\..." + "/" + "/".join(path.strip("/").split("/")[-depth:])
    def check(log):
        e = one(log.find(event="EXEC", pid=p.pid), "EXEC of a file %d directories deep" % (depth + 6))
        check_eq("cut exe marked in the field", e["exe"], cut(exe))
        check_eq("FORMAT.md's snippet: cut exe", format_md_snippet()["unescape_path"](e["exe"]),
                 (cut(exe)[4:].encode(), True))
        if "path_truncated=1" not in e["detail"].split():
            raise AssertionError("cut exe without path_truncated=1: %r" % e["detail"])
        m = one([r for r in log.find(event="MODLOAD", pid=q.pid) if r["path"].endswith("/libdeep.so")],
                "MODLOAD of a library %d directories deep" % (depth + 6))
        check_eq("cut path marked in the field", m["path"], cut(lib))
        if "path_truncated=1" not in m["detail"].split():
            raise AssertionError("cut path without path_truncated=1: %r" % m["detail"])
        # what a whole path looks like is never marked
        check_eq("records of whole paths marked cut",
                 [r["seq"] for r in log.records
                  if (r["exe"].startswith("\\...") or r["path"].startswith("\\..."))
                  and "path_truncated=1" not in r["detail"].split()], [])
    return check


def format_md_snippet():
    """The definitions of docs/FORMAT.md's Python decoding snippet: they must decode what the
    recorder writes."""
    with open(os.path.join(ROOT, "docs", "FORMAT.md"), encoding="utf-8") as f:
        code = re.search(r"## Reading a log in Python.*?```python\n(.*?)```", f.read(),
                         re.S).group(1)
    ns = {}
    exec(code.split("\n# Which process")[0], ns)
    return ns


@scenario
def renamed_and_overwritten():
    infos, _ = probe("rename", PEER4, TCP_PORT)
    def check(log):
        i = infos[0]
        r = one(log.find(event="EXEC", pid=i["pid"]), "rename EXEC")
        check_eq("argv as at exec", decode_cmdline(r["cmdline"]),
                 [PROBE.encode(), b"rename", PEER4.encode(), str(TCP_PORT).encode()])
        check_tcp_out(log, i, PEER4, TCP_PORT, "established", "renamed")
    return check


@scenario
def deleted_executable():
    d = tempfile.mkdtemp(prefix="onm-del-")
    copy = os.path.join(d, "dropper")
    shutil.copy(PROBE, copy)
    p = subprocess.run([copy, "selfdelete", PEER4, str(TCP_PORT)], stdout=subprocess.PIPE,
                       text=True, timeout=20)
    info = parse_probe(p.stdout)[0]
    shutil.rmtree(d)
    def check(log):
        e = one(log.find(event="EXEC", pid=info["pid"]), "dropper EXEC")
        check_eq("deleted exe path", e["exe"], copy)
        r = one(log.find(event="NET", pid=info["pid"], proto="tcp"), "dropper flow")
        check_eq("dropper flow guid", r["guid"], e["guid"])
        check_eq("dropper flow sport", r["src_port"], str(info["sport"]))
    return check


@scenario
def memfd_exec():
    code = ("import os\n"
            "fd=os.memfd_create('payload',0)\n"
            "os.write(fd,open('%s','rb').read())\n"
            "os.execve('/proc/self/fd/%%d'%%fd,['payload','sleep','1'],{})\n" % PROBE)
    p = subprocess.Popen(["/usr/bin/python3", "-c", code], stdout=subprocess.DEVNULL)
    p.wait(timeout=20)
    def check(log):
        e = [r for r in log.find(event="EXEC", pid=p.pid) if r["exe"].startswith("/memfd:")]
        r = one(e, "memfd EXEC")
        check_eq("memfd exe", r["exe"], "/memfd:payload")
        if "memfd=1" not in r["detail"].split():
            raise AssertionError("memfd EXEC not marked memfd=1: %r" % r["detail"])
    return check


@scenario
def exec_via_proc_self_exe_and_symlink():
    p = subprocess.Popen(["/bin/sh", "-c", "exec /proc/self/exe -c 'exit 3'"])
    p.wait(timeout=10)
    def check(log):
        execs = log.find(event="EXEC", pid=p.pid)
        check_eq("exec count", len(execs), 2)
        real = os.path.realpath("/bin/sh")
        check_eq("symlink /bin/sh logged as the real file", execs[0]["exe"], real)
        check_eq("/proc/self/exe logged as the real file", execs[1]["exe"], real)
        e = one(log.find(event="EXIT", pid=p.pid), "EXIT")
        check_eq("exit code", e["result"], "exit:3")
    return check


@scenario
def killed_by_signal():
    p = subprocess.Popen([PROBE, "sleep", "20000"], stdout=subprocess.PIPE)
    p.stdout.readline()
    ticks = start_ticks(p.pid)
    p.kill()
    p.wait(timeout=10)
    def check(log):
        e = one(log.find(event="EXIT", pid=p.pid), "EXIT")
        check_eq("signal exit", e["result"], "signal:SIGKILL")
        check_eq("guid from (boot id, pid, start ticks)", e["guid"], expected_guid(p.pid, ticks))
    return check


@scenario
def compat_int80_mmap():
    """a 32-bit system call (int $0x80) from a 64-bit process must not hide a mapping"""
    if not compat_gate_open():
        raise Skip("the kernel's 32-bit system call gate is closed here (int $0x80 raises "
                   "SIGSEGV): no process can make such a call, so there is nothing to record")
    d = tempfile.mkdtemp(prefix="onm-c32-")
    lib = os.path.join(d, "hidden.so")
    shutil.copy(PROBE, lib)
    infos, p = probe("compat-mmap", lib)
    shutil.rmtree(d)
    def check(log):
        if not infos:
            raise AssertionError("compat-mmap did not run: %r" % p.stderr)
        check_eq("int $0x80 mmap2 result", infos[0]["errno"], 0)
        r = one([m for m in log.find(event="MODLOAD", pid=infos[0]["pid"]) if m["path"] == lib],
                "MODLOAD of a file mapped by int $0x80 mmap2")
        check_eq("compat MODLOAD guid", r["guid"],
                 one(log.find(event="EXEC", pid=infos[0]["pid"]), "EXEC")["guid"])
    return check


@scenario
def script_through_shebang():
    """#!: exe is the interpreter actually run, path the script's absolute name, also when
    execve was given a relative name (resolved with the cwd the kernel held)"""
    d = os.path.realpath(tempfile.mkdtemp(prefix="onm-sh-"))
    script = os.path.join(d, "run me.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    rel = subprocess.Popen(["./run me.sh"], cwd=d)
    rel.wait(timeout=10)
    ab = subprocess.Popen([script])
    ab.wait(timeout=10)
    shutil.rmtree(d)
    real_sh = os.path.realpath("/bin/sh")

    def check(log):
        for p, what in ((rel, "relative name"), (ab, "absolute name")):
            r = one(log.find(event="EXEC", pid=p.pid), "EXEC of a script by " + what)
            check_eq(what + ": exe is the interpreter run", r["exe"], real_sh)
            check_eq(what + ": path is the script", unescape(r["path"]), script.encode())
        plain = one(log.find(event="EXEC", pid=rel.pid), "EXEC")
        check_eq("cmdline is the interpreter's argv", decode_cmdline(plain["cmdline"]),
                 [b"/bin/sh", b"./run me.sh"])
    return check


@scenario
def modules_once_each():
    code = "import ctypes; ctypes.CDLL('libz.so.1'); ctypes.CDLL('libz.so.1')"
    p = subprocess.Popen(["/usr/bin/python3", "-c", code])
    p.wait(timeout=10)
    def check(log):
        mods = [r["path"] for r in log.find(event="MODLOAD", pid=p.pid)]
        libz = [m for m in mods if "/libz.so" in m]
        check_eq("dlopen'd libz logged once", len(libz), 1)
        check_eq("libz path resolved", libz[0], os.path.realpath("/lib/x86_64-linux-gnu/libz.so.1")
                 if os.path.exists("/lib/x86_64-linux-gnu/libz.so.1") else libz[0])
        libc = [m for m in mods if re.search(r"/libc\.so\.6$", m)]
        check_eq("libc logged once", len(libc), 1)
        ld = [m for m in mods if "ld-linux" in m]
        check_eq("the loader (mapped by the kernel) logged once", len(ld), 1)
        dup = {m for m in mods if mods.count(m) > 1}
        check_eq("modules logged more than once", dup, set())
    return check


# ---------------------------------------------------------------- driver

def run_main_session(selected):
    """One recorder, every scenario, then the checks."""
    results = []
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    server = None
    # a process that runs before the recorder starts: it must be EXISTING
    early = subprocess.Popen([PROBE, "sleep", "60000"], stdout=subprocess.PIPE, text=True)
    early.stdout.readline()
    early_ticks = start_ticks(early.pid)
    try:
        netns_up()
        server = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        if server.stdout.readline().strip() != "ready":
            raise AssertionError("test server did not start")
        rec = Recorder(os.path.join(tmp, "log"))
        with open("/proc/%d/status" % rec.proc.pid) as f:
            caps = dict(l.split(":\t") for l in f.read().splitlines() if l.startswith("Cap"))
        checks = [("privileges_dropped_after_start",
                   lambda lg: check_eq("recorder capabilities after START",
                                       (caps["CapEff"], caps["CapPrm"], caps["CapBnd"]),
                                       ("0" * 16,) * 3))]
        for t in selected:
            try:
                checks.append((t.__name__, t()))
            except Skip as e:
                checks.append((t.__name__, Skip(str(e))))
            except Exception:
                checks.append((t.__name__, traceback.format_exc()))
        early.kill()
        early.wait()
        time.sleep(1.5)
        log = rec.stop()
        # session-wide checks
        checks.insert(0, ("existing_snapshot", lambda lg: check_existing(lg, early, early_ticks)))
        checks.insert(1, ("log_structure", check_structure))
        for name, c in checks:
            if isinstance(c, Skip):
                results.append((name, c))
                continue
            if isinstance(c, str):
                results.append((name, c))
                continue
            try:
                c(log)
                results.append((name, None))
            except Exception:
                results.append((name, traceback.format_exc()))
        if any(r[1] and not isinstance(r[1], Skip) for r in results):
            keep = os.path.join(ROOT, "build", "e2e-failed-log.csv")
            shutil.copy(os.path.join(tmp, "log", "onmitsu.csv"), keep)
            print("  (the log of the failed run is kept in %s)" % keep)
    finally:
        if early.poll() is None:
            early.kill()
        if server:
            server.kill()
        netns_down()
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def check_existing(log, early, ticks):
    r = one(log.find(event="EXISTING", pid=early.pid), "EXISTING of a process older than START")
    check_eq("EXISTING guid equals the live derivation", r["guid"], expected_guid(early.pid, ticks))
    check_eq("EXISTING exe", r["exe"], PROBE)
    check_eq("EXISTING cmdline", decode_cmdline(r["cmdline"]),
             [PROBE.encode(), b"sleep", b"60000"])
    check_eq("EXISTING ppid", r["ppid"], str(os.getpid()))
    mods = [m["path"] for m in log.find(event="MODLOAD", pid=early.pid)]
    if not any(re.search(r"/libc\.so\.6$", m) for m in mods):
        raise AssertionError("no MODLOAD of libc for the EXISTING process: %r" % mods)
    e = one(log.find(event="EXIT", pid=early.pid), "EXIT of the EXISTING process")
    check_eq("EXIT guid of EXISTING", e["guid"], r["guid"])


def check_structure(log):
    check_eq("header", log.header, COLUMNS)
    check_eq("first record", log.records[0]["event"], "START")
    check_eq("last record", log.records[-1]["event"], "STOP")
    seqs = [int(r["seq"]) for r in log.records]
    check_eq("seq gap-free from 0", seqs, list(range(len(seqs))))
    for r in log.records:
        if len(r) != len(COLUMNS):
            raise AssertionError("record with %d fields: %r" % (len(r), r))
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r["time"]):
            raise AssertionError("bad time %r" % r["time"])
    # a hook the kernel skipped (it fired in a softirq that interrupted the same
    # program on that CPU) is reported, and rare; the scenario checks above say
    # whether anything they need was missed. The ring must never overflow here.
    lost = [r for r in log.find(event="LOST") if "kind=hook_skipped" not in r["detail"]]
    if lost:
        raise AssertionError("LOST records at test rates: %r" % lost)
    stop = log.records[-1]["detail"]
    if "lost=0 " not in stop + " ":
        raise AssertionError("STOP counts losses: %r" % stop)
    hooks = re.search(r"hooks=(\S+)", log.records[0]["detail"]).group(1).split(",")
    for h in ("sched_process_fork", "sched_process_exec", "sched_process_exit", "sys_exit",
              "inet_sock_set_state", "cgroup/connect4", "cgroup_skb/egress"):
        if h not in hooks:
            raise AssertionError("START does not list hook %s: %r" % (h, hooks))


def test_bad_log_dir():
    p = sh(ONMITSU, "record", "--log-dir", "/proc/onmitsu-cannot-be-here", check=False)
    check_eq("exit status for an unusable log dir", p.returncode, 1)
    if "/proc/onmitsu-cannot-be-here" not in p.stderr:
        raise AssertionError("the error does not name the directory: %r" % p.stderr)


def test_bad_options():
    for args, word in ((["--ring-size", "3M"], "3M"), (["--cmdline-max", "0"], "0"),
                       (["--bogus"], "bogus"), (["extra"], "extra")):
        p = sh(ONMITSU, "record", *args, check=False)
        check_eq("exit status for %r" % args, p.returncode, 2)
        if word not in p.stderr:
            raise AssertionError("the error for %r does not name %r: %r" % (args, word, p.stderr))


def test_restart_continues_seq():
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    try:
        d = os.path.join(tmp, "log")
        Recorder(d).stop()
        log1 = Log(os.path.join(d, "onmitsu.csv"))
        # a crash leaves a torn line: the next start cuts it
        with open(os.path.join(d, "onmitsu.csv"), "a") as f:
            f.write("2026-11-25T00:00:00.000000Z,99999,EXE")
        log2 = Recorder(d).stop()
        seqs = [int(r["seq"]) for r in log2.records]
        check_eq("seq continues across a restart", seqs, list(range(len(seqs))))
        starts = log2.find(event="START")
        check_eq("two STARTs", len(starts), 2)
        check_eq("second START follows the first run's STOP", int(starts[1]["seq"]),
                 int(log1.records[-1]["seq"]) + 1)
        if "recovered_torn_bytes=37" not in starts[1]["detail"]:
            raise AssertionError("the torn line's cut is not recorded: %r" % starts[1]["detail"])
        st = os.stat(os.path.join(d, "onmitsu.csv"))
        check_eq("log mode", oct(st.st_mode & 0o777), "0o600")
        check_eq("dir mode", oct(os.stat(d).st_mode & 0o777), "0o700")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_one_recorder_per_log_dir():
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    try:
        d = os.path.join(tmp, "log")
        first = Recorder(d)
        try:
            p = sh(ONMITSU, "record", "--log-dir", d, check=False)
            check_eq("exit status of a second recorder on the same log", p.returncode, 1)
            if "already recording" not in p.stderr:
                raise AssertionError("the error does not say why: %r" % p.stderr)
        finally:
            log = first.stop()
        check_eq("the first recorder's log is intact", [r["event"] for r in log.records][-1],
                 "STOP")
        check_eq("only one START", len(log.find(event="START")), 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_make_install():
    """the binary, its docs and a systemd unit that starts it at boot and restarts it"""
    tmp = tempfile.mkdtemp(prefix="onm-inst-")
    try:
        sh("make", "-C", ROOT, "install", "DESTDIR=" + tmp, "PREFIX=/usr")
        for f in ("usr/bin/onmitsu", "usr/share/man/man8/onmitsu.8",
                  "usr/share/doc/onmitsu/docs/FORMAT.md", "etc/systemd/system/onmitsu.service"):
            if not os.path.exists(os.path.join(tmp, f)):
                raise AssertionError("make install did not install " + f)
        with open(os.path.join(tmp, "etc/systemd/system/onmitsu.service")) as f:
            unit = f.read()
        for line in ("ExecStart=/usr/bin/onmitsu record", "Restart=always",
                     "DefaultDependencies=no", "WantedBy=sysinit.target", "Type=notify"):
            if line not in unit:
                raise AssertionError("the unit lacks %r" % line)
        p = sh(os.path.join(tmp, "usr/bin/onmitsu"), "version")
        check_eq("installed binary runs", p.stdout.startswith("onmitsu "), True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_lost_counted_when_ring_overflows():
    """a consumer that cannot keep up: losses are counted in LOST records, seq stays gap-free"""
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    try:
        d = os.path.join(tmp, "log")
        rec = Recorder(d, "--ring-size", "64K")
        rec.proc.send_signal(signal.SIGSTOP)  # the consumer stops reading
        pids = []
        try:
            arg = "A" * 30000
            for _ in range(20):
                p = subprocess.Popen(["/bin/true", arg])
                p.wait(timeout=10)
                pids.append(p.pid)
        finally:
            rec.proc.send_signal(signal.SIGCONT)
        time.sleep(1.5)  # LOST is reported once a second
        log = rec.stop()
        lost = [r for r in log.find(event="LOST")]
        exec_lost = sum(int(re.search(r"lost=(\d+)", r["detail"]).group(1))
                        for r in lost if "kind=exec" in r["detail"])
        if exec_lost == 0:
            raise AssertionError("no LOST kind=exec although the ring overflowed: %r" % lost)
        seen = sum(1 for p in pids if log.find(event="EXEC", pid=p))
        if seen + exec_lost < len(pids):
            raise AssertionError("%d EXEC seen + %d counted lost < %d made" %
                                 (seen, exec_lost, len(pids)))
        # the kinds that are records lost (not skipped runs, forgotten state or bad samples)
        record_kinds = ("fork", "exec", "exit", "modload", "net", "no_scratch", "oversize")
        total = sum(int(re.search(r"lost=(\d+)", r["detail"]).group(1)) for r in lost
                    if re.search(r"kind=(\w+)", r["detail"]).group(1) in record_kinds)
        stop_lost = int(re.search(r"(?:^| )lost=(\d+)", log.records[-1]["detail"]).group(1))
        check_eq("STOP lost= equals the LOST records' sum", stop_lost, total)
        seqs = [int(r["seq"]) for r in log.records]
        check_eq("seq gap-free despite losses", seqs, list(range(len(seqs))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fill_ring_while_stopped(rec):
    """stop the recorder's consumer and fill its (64K) ring: big EXECs, then
    small ones into what room is left; the caller sends SIGCONT"""
    rec.proc.send_signal(signal.SIGSTOP)
    arg = "A" * 30000
    for _ in range(20):
        subprocess.run(["/bin/true", arg], timeout=10)
    for _ in range(200):
        subprocess.run(["/bin/true"], timeout=10)


MAP_EXEC_HELPER = """
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print("ready", flush=True)
for line in sys.stdin:
    m = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
    m.close()
    print("mapped", flush=True)
"""


def test_modload_lost_to_full_ring_is_retried():
    """a MODLOAD lost to a full ring is written at the file's next mapping
    (the kernel's once-per-image key was set before the record was handed over)"""
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    helper = None
    try:
        d = os.path.join(tmp, "log")
        lib = os.path.join(tmp, "mapped-twice.so")
        shutil.copy("/bin/true", lib)
        rec = Recorder(d, "--ring-size", "64K")
        helper = subprocess.Popen([sys.executable, "-c", MAP_EXEC_HELPER, lib],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        check_eq("helper started", helper.stdout.readline().strip(), "ready")
        try:
            fill_ring_while_stopped(rec)
            helper.stdin.write("1\n")
            helper.stdin.flush()
            check_eq("first mapping (ring full)", helper.stdout.readline().strip(), "mapped")
        finally:
            rec.proc.send_signal(signal.SIGCONT)
        time.sleep(1.5)  # drained, and LOST reported
        helper.stdin.write("2\n")
        helper.stdin.flush()
        check_eq("second mapping", helper.stdout.readline().strip(), "mapped")
        helper.stdin.close()
        helper.wait(timeout=10)
        time.sleep(0.3)
        log = rec.stop()
        mod_lost = sum(int(re.search(r"lost=(\d+)", r["detail"]).group(1))
                       for r in log.find(event="LOST") if "kind=modload" in r["detail"])
        if mod_lost == 0:
            raise AssertionError("no MODLOAD was lost: the ring was not full, nothing is shown")
        mods = log.find(event="MODLOAD", pid=helper.pid, path=os.path.realpath(lib))
        check_eq("MODLOAD of the file mapped while the ring was full, then again", len(mods), 1)
    finally:
        if helper and helper.poll() is None:
            helper.kill()
            helper.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def test_flows_pushed_out_are_counted():
    """more UDP flows than the kernel's flows map holds (65536): the ones pushed
    out are counted (LOST flows_evicted, STOP flows_evicted=), and a flow
    pushed out is written again at its next datagram. A socket's first flow
    is kept in the socket's own storage, not in the map: it is never pushed
    out, so it is written once however many flows follow"""
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    try:
        d = os.path.join(tmp, "log")
        rec = Recorder(d)
        flows = 70000  # into the map, after the socket's first
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b"x", ("127.0.0.2", 1))  # the socket's first flow
            s.sendto(b"x", ("127.0.0.2", 2))  # the first flow into the map
            for i in range(1, flows):
                s.sendto(b"x", ("127.0.0.%d" % (3 + i // 60000), 1 + i % 60000))
            s.sendto(b"x", ("127.0.0.2", 2))  # again, after 69999 newer flows
            s.sendto(b"x", ("127.0.0.2", 1))
            port = s.getsockname()[1]
        finally:
            s.close()
        time.sleep(1.5)  # LOST is reported once a second
        log = rec.stop()
        stop = log.records[-1]["detail"]
        m = re.search(r"(?:^| )flows_evicted=(\d+)", stop)
        if not m:
            raise AssertionError("STOP has no flows_evicted=: %r" % stop)
        evicted = int(m.group(1))
        if evicted < flows - 65536:
            raise AssertionError("flows_evicted=%d, but %d flows went into a map of 65536" %
                                 (evicted, flows))
        lost = sum(int(re.search(r"lost=(\d+)", r["detail"]).group(1))
                   for r in log.find(event="LOST") if "kind=flows_evicted" in r["detail"])
        check_eq("LOST flows_evicted sum equals STOP's", lost, evicted)
        lost_net = sum(int(re.search(r"lost=(\d+)", r["detail"]).group(1))
                       for r in log.find(event="LOST") if "kind=net" in r["detail"])
        again = log.find(event="NET", proto="udp", src_port=port, dst_ip="127.0.0.2", dst_port=2)
        if len(again) != 2 and not lost_net:
            raise AssertionError("the flow pushed out is not written again: %r" % again)
        first = log.find(event="NET", proto="udp", src_port=port, dst_ip="127.0.0.2", dst_port=1)
        if len(first) != 1 and not lost_net:
            raise AssertionError("the socket's first flow is not written once: %r" % first)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_missing_cgroup2_is_a_clear_error():
    """a kernel/host without what a hook needs: exit 1 and a message naming it"""
    tmp = tempfile.mkdtemp(prefix="onm-e2e-")
    try:
        script = ("for m in $(awk '$3==\"cgroup2\"{print $2}' /proc/self/mounts); do "
                  "umount -l \"$m\" || exit 9; done; exec \"$0\" record --log-dir \"$1\"")
        p = sh("unshare", "-m", "--propagation", "private", "sh", "-c", script, ONMITSU,
               os.path.join(tmp, "log"), check=False)
        check_eq("exit status without cgroup v2", p.returncode, 1)
        if "cgroup v2" not in p.stderr:
            raise AssertionError("the error does not say what is missing: %r" % p.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e", "end-to-end tests")
    if rc is not None:
        return rc
    for tool in (ONMITSU, PROBE):
        if not os.access(tool, os.X_OK):
            print("FAIL e2e: %s is missing; run make first" % tool)
            print("0 passed, 1 failed")
            return 1
    results = []
    for t in (test_bad_log_dir, test_bad_options, test_restart_continues_seq,
              test_one_recorder_per_log_dir, test_make_install,
              test_lost_counted_when_ring_overflows, test_modload_lost_to_full_ring_is_retried,
              test_flows_pushed_out_are_counted, test_missing_cgroup2_is_a_clear_error):
        if only in t.__name__:
            results.append(harness.run_test(t.__name__, t))
    selected = [t for t in TESTS if only in t.__name__]
    if selected or only in "existing_snapshot log_structure":
        results.extend(run_main_session(selected))
    return harness.report("e2e", results)


if __name__ == "__main__":
    sys.exit(main())
