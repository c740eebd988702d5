#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of the configuration file and its filter rules (issue 12,
docs/CONFIG.md): excluded events (by uid, port, CIDR of a namespace's
address, executable) never reach the log and are counted per rule in STOP;
a process excluded at exec keeps its FORK and EXIT; an include rule keeps
only what it matches; SIGHUP under a connect and exec storm loses nothing
(every connect and exec present, seq gap-free, a CONFIG record); a bad file
at start exits 2 naming FILE:LINE; a bad file on reload is refused and the
old rules still apply.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_config.py [NAME-SUBSTRING]
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import run as e2e  # noqa: E402
from harness import ONMITSU, PROBE, check_eq, one  # noqa: E402

# a /28 of TEST-NET-1 of its own
HOST4, PEER_A, PEER_B = "192.0.2.33", "192.0.2.34", "192.0.2.35"
OPEN_PORT, EXCLUDED_PORT = 8080, 9999
NET = harness.Netns("cfg", HOST4, [PEER_A, PEER_B], 28)
NOBODY = 65534

SERVER = r"""
import socket, threading, time
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(4096); s.settimeout(1)
    end = time.time() + 600
    while time.time() < end:
        try:
            c, _ = s.accept(); c.close()
        except socket.timeout:
            pass
for p in (%d, %d):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("ready", flush=True)
time.sleep(600)
""" % (OPEN_PORT, EXCLUDED_PORT)


def write_config(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o600)
    os.rename(path + ".tmp", path)


def stop_detail(log):
    stop = one(log.find(event="STOP"), "STOP")
    return dict(kv.split("=", 1) for kv in stop["detail"].split())


def probe(*args, user=None, exe=PROBE):
    cmd = [exe, *map(str, args)]
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30)
    infos = e2e.parse_probe(p.stdout)
    if len(infos) != 1:
        raise AssertionError("probe %r: %r %r" % (args, p.stdout, p.stderr))
    return infos[0]


def recorder(d, conf, *extra):
    return e2e.Recorder(d, "--config", conf, *extra)


def wait_for(path, pred, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with open(path, encoding="utf-8", errors="replace") as f:
            if pred(f.read()):
                return
        time.sleep(0.05)
    raise AssertionError("%s not seen within %d s" % (what, timeout))


def check_connect(log, info, dst, dport, what):
    """the probe's connect is in the log, whole: its NET with ports, result and guid"""
    r = one(log.find(event="NET", pid=info["pid"], proto="tcp", direction="out"), what)
    check_eq(what + " dst", (r["dst_ip"], r["dst_port"]), (dst, str(dport)))
    check_eq(what + " src", (r["src_ip"], r["src_port"]), (HOST4, str(info["sport"])))
    check_eq(what + " result", r["result"], "established")
    ex = one(log.find(event="EXEC", pid=info["pid"], exe=PROBE), what + " EXEC")
    check_eq(what + " guid", r["guid"], ex["guid"])


def gap_free(log):
    seqs = [int(r["seq"]) for r in log.records]
    check_eq("seqs", seqs, list(range(seqs[0], seqs[0] + len(seqs))))


# ---------------------------------------------------------------- tests

def excluded_by_uid_port_cidr_exe(work):
    """uid, port, CIDR and exe rules: nothing of theirs in the log, counted in STOP,
    FORK and EXIT of the excluded process kept"""
    conf = os.path.join(work, "onmitsu.conf")
    hidden = os.path.join(work, "hidden-probe")
    shutil.copy(PROBE, hidden)  # a file of its own: the exe rule takes its inode
    write_config(conf, """
[record]
rotate-size = 64M

[exclude nobody]
uid = %d

[exclude port]
port = %d

[exclude peer-b]
dst = %s/32

[exclude hidden]
exe = %s
""" % (NOBODY, EXCLUDED_PORT, PEER_B, hidden))
    d = os.path.join(work, "log")
    r = recorder(d, conf)
    as_nobody = probe("tcp", PEER_A, OPEN_PORT, user=NOBODY)
    to_port = probe("tcp", PEER_A, EXCLUDED_PORT)
    to_b = probe("tcp", PEER_B, OPEN_PORT)
    control = probe("tcp", PEER_A, OPEN_PORT)
    by_exe = probe("tcp", PEER_A, OPEN_PORT, exe=hidden)
    log = r.stop()
    gap_free(log)

    # the control: everything present
    check_connect(log, control, PEER_A, OPEN_PORT, "control")
    # uid: its EXEC, MODLOAD and NET are gone, its FORK and EXIT stay
    pid = as_nobody["pid"]
    check_eq("nobody's NET", log.find(event="NET", pid=pid), [])
    check_eq("nobody's EXEC", [x for x in log.find(event="EXEC", pid=pid)
                               if x["uid"] == str(NOBODY)], [])
    check_eq("nobody's MODLOAD", [x for x in log.find(event="MODLOAD", pid=pid)
                                  if x["uid"] == str(NOBODY)], [])
    one(log.find(event="FORK", pid=pid), "FORK of the process excluded by uid")
    one(log.find(event="EXIT", pid=pid), "EXIT of the process excluded by uid")
    # port and CIDR: the connects are gone, their processes are not
    check_eq("NET to the excluded port", log.find(event="NET", pid=to_port["pid"]), [])
    one(log.find(event="EXEC", pid=to_port["pid"], exe=PROBE), "EXEC of the port's probe")
    check_eq("NET to the excluded address", log.find(event="NET", pid=to_b["pid"]), [])
    check_eq("any NET to the excluded address", log.find(event="NET", dst_ip=PEER_B), [])
    one(log.find(event="EXEC", pid=to_b["pid"]), "EXEC of the address's probe")
    # exe: EXEC, MODLOAD and NET gone; FORK and EXIT kept, the tree whole
    pid = by_exe["pid"]
    check_eq("hidden exe's EXEC", log.find(event="EXEC", pid=pid), [])
    check_eq("hidden exe's MODLOAD", log.find(event="MODLOAD", pid=pid), [])
    check_eq("hidden exe's NET", log.find(event="NET", pid=pid), [])
    check_eq("any record naming the hidden exe", [x for x in log.records
                                                  if x["exe"] == hidden], [])
    fork = one(log.find(event="FORK", pid=pid), "FORK of the process excluded by exe")
    ex = one(log.find(event="EXIT", pid=pid), "EXIT of the process excluded by exe")
    check_eq("EXIT's guid", ex["guid"], fork["guid"])
    check_eq("EXIT's result", ex["result"], "exit:0")

    st = stop_detail(log)
    for rule, least in (("nobody", 2), ("port", 1), ("peer-b", 1), ("hidden", 2)):
        n = int(st.get("excluded_" + rule, "-1"))
        if n < least:
            raise AssertionError("STOP excluded_%s=%d, want >= %d: %r" % (rule, n, least, st))
    total = sum(int(v) for k, v in st.items() if k.startswith("excluded_"))
    check_eq("STOP excluded", int(st["excluded"]), total + int(st["not_included"]))
    start = one(log.find(event="START"), "START")
    if "config=%s " % conf not in start["detail"] or "filter_rules=4" not in start["detail"]:
        raise AssertionError("START does not name the configuration: %r" % start["detail"])


def include_rule(work):
    """an include rule for NET keeps only what it matches; other kinds are untouched"""
    conf = os.path.join(work, "onmitsu.conf")
    write_config(conf, "[include web]\nevent = NET\nport = %d\n" % OPEN_PORT)
    d = os.path.join(work, "log")
    r = recorder(d, conf)
    kept = probe("tcp", PEER_A, OPEN_PORT)
    dropped = probe("tcp", PEER_A, EXCLUDED_PORT)
    log = r.stop()
    check_connect(log, kept, PEER_A, OPEN_PORT, "included")
    check_eq("NET not included", log.find(event="NET", pid=dropped["pid"]), [])
    one(log.find(event="EXEC", pid=dropped["pid"]), "EXEC (no include rule for EXEC)")
    if int(stop_detail(log)["not_included"]) < 1:
        raise AssertionError("STOP not_included: %r" % stop_detail(log))


def reload_under_storm(work):
    """SIGHUP several times during a connect storm and an exec storm: every connect and
    every exec is in the log, seq gap-free, a CONFIG record per reload"""
    conf = os.path.join(work, "onmitsu.conf")
    a = "[record]\nrotate-size = 64M\n[exclude port]\nport = %d\n" % EXCLUDED_PORT
    b = ("[record]\nrotate-size = 32M\n[exclude port]\nport = %d\n"
         "[exclude nobody]\nuid = %d\n" % (EXCLUDED_PORT, NOBODY))
    write_config(conf, a)
    d = os.path.join(work, "log")
    r = recorder(d, conf)
    sports, pids, errors = [], [], []
    stop = threading.Event()

    def connects():
        try:
            for _ in range(3000):
                s = socket.socket()
                s.settimeout(5)
                s.connect((PEER_A, OPEN_PORT))
                sports.append(s.getsockname()[1])
                s.close()
                if stop.is_set() and len(sports) >= 500:
                    return
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def execs():
        try:
            for _ in range(400):
                p = subprocess.Popen(["/bin/true"])
                p.wait(timeout=10)
                pids.append(p.pid)
                if stop.is_set() and len(pids) >= 100:
                    return
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=connects), threading.Thread(target=execs)]
    for t in threads:
        t.start()
    reloads = 6
    active = os.path.join(d, "onmitsu.csv")
    for i in range(reloads):
        time.sleep(0.15)
        write_config(conf, b if i % 2 == 0 else a)
        r.proc.send_signal(signal.SIGHUP)
        wait_for(active, lambda t, n=i + 1: t.count(",CONFIG,") >= n, "CONFIG %d" % (i + 1))
    stop.set()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise AssertionError("storm failed: %r" % errors[:3])
    log = r.stop()
    gap_free(log)
    configs = log.find(event="CONFIG")
    check_eq("CONFIG records", len(configs), reloads)
    for i, c in enumerate(configs):
        want = "changed=rotate-size,rules"
        if want not in c["detail"] or "rules=%d" % (2 if i % 2 == 0 else 1) not in c["detail"] \
                or "sha256=" not in c["detail"] or c["result"] != "applied":
            raise AssertionError("CONFIG %d: %r %r" % (i, c["result"], c["detail"]))
    me = str(os.getpid())
    seen = {int(x["src_port"]) for x in log.find(event="NET", pid=me, dst_ip=PEER_A,
                                                  dst_port=OPEN_PORT)}
    missing = [p for p in sports if p not in seen]
    if missing:
        raise AssertionError("%d of %d storm connects missing, e.g. %r" %
                             (len(missing), len(sports), missing[:5]))
    execd = {int(x["pid"]) for x in log.find(event="EXEC", exe="/usr/bin/true")}
    lost = [p for p in pids if p not in execd]
    if lost:
        raise AssertionError("%d of %d storm execs missing" % (len(lost), len(pids)))
    if len(sports) < 500 or len(pids) < 100:
        raise AssertionError("storm too small: %d connects, %d execs" % (len(sports), len(pids)))
    check_eq("STOP config_records", stop_detail(log)["config_records"], str(reloads))


def bad_reload_refused(work):
    """a bad file on reload (and one that changes the format) is refused with FILE:LINE and
    the reason; the old rules still apply; no CONFIG record"""
    conf = os.path.join(work, "onmitsu.conf")
    write_config(conf, "[exclude port]\nport = %d\n" % EXCLUDED_PORT)
    d = os.path.join(work, "log")
    r = recorder(d, conf)
    write_config(conf, "[exclude port]\nport = %d\n\n[exclude x]\nexecutable = /bin/x\n" %
                 EXCLUDED_PORT)
    r.proc.send_signal(signal.SIGHUP)
    want = "%s:5: unknown key \"executable\" in a rule" % conf
    end = time.time() + 10
    while want not in r.err() and time.time() < end:
        time.sleep(0.05)
    if want not in r.err() or "reload refused" not in r.err():
        raise AssertionError("stderr: %r" % r.err())
    write_config(conf, "[record]\nformat = jsonl\n[exclude port]\nport = %d\n" % EXCLUDED_PORT)
    r.proc.send_signal(signal.SIGHUP)
    end = time.time() + 10
    while "format cannot change while recording" not in r.err() and time.time() < end:
        time.sleep(0.05)
    if "format cannot change while recording" not in r.err():
        raise AssertionError("stderr: %r" % r.err())
    still = probe("tcp", PEER_A, EXCLUDED_PORT)
    log = r.stop()
    check_eq("NET to the port still excluded", log.find(event="NET", pid=still["pid"]), [])
    check_eq("CONFIG records", log.find(event="CONFIG"), [])
    # the probe's connect, and the namespace's server accepting it (in)
    check_eq("STOP excluded_port", stop_detail(log)["excluded_port"], "2")


def bad_file_at_start(work):
    """a bad file at start: exit 2, FILE:LINE and the reason; a missing --config too"""
    conf = os.path.join(work, "onmitsu.conf")
    write_config(conf, "[record]\nrotate-size = 64M\n[exclude a]\ndst = 192.0.2.1/24\n")
    d = os.path.join(work, "log")
    p = subprocess.run([ONMITSU, "record", "--config", conf, "--log-dir", d],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    check_eq("exit status", p.returncode, 2)
    if "%s:4: dst: \"192.0.2.1/24\" has bits set past its prefix length" % conf not in p.stderr:
        raise AssertionError("stderr: %r" % p.stderr)
    if os.path.exists(d):
        raise AssertionError("the log directory was made")
    p = subprocess.run([ONMITSU, "record", "--config", conf + ".missing", "--log-dir", d],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    check_eq("exit status (missing)", p.returncode, 2)
    if conf + ".missing" not in p.stderr:
        raise AssertionError("stderr: %r" % p.stderr)
    # the command line overrides the file
    write_config(conf, "[record]\nformat = jsonl\n")
    r = recorder(d, conf, "--format", "csv")
    log = r.stop()
    one(log.find(event="START"), "START in the CSV log")


TESTS = [excluded_by_uid_port_cidr_exe, include_rule, reload_under_storm, bad_reload_refused,
         bad_file_at_start]


def main():
    rc = harness.needs_root("e2e-config", "configuration tests")
    if rc is not None:
        return rc
    want = sys.argv[1] if len(sys.argv) > 1 else ""
    tests = [t for t in TESTS if want in t.__name__]
    results = []
    server = None
    try:
        NET.up()
        server = subprocess.Popen(NET.exec + [sys.executable, "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        if server.stdout.readline().strip() != "ready":
            raise AssertionError("the namespace's server did not start")
        for t in tests:
            work = tempfile.mkdtemp(prefix="onmitsu-cfg-")
            try:
                results.append(harness.run_test(t.__name__, t, work))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if server:
            server.kill()
            server.wait()
        NET.down()
    return harness.report("e2e-config", results)


if __name__ == "__main__":
    sys.exit(main())
