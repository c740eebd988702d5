#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end tests of the log's lifecycle and tamper evidence (issue 4):
rotation under load with small limits (every record read back, gap-free,
across plain and compressed segments), retention, kill -9 mid-storm and
restart (verify passes and reports the gap), seals with a key made by
`onmitsu keygen`, tampering found by `onmitsu verify`, JSON Lines, and
forwarding to a real rsyslogd started here on loopback.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_lifecycle.py [NAME-SUBSTRING]
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import run as e2e  # noqa: E402

ONMITSU = e2e.ONMITSU
IN_CI = e2e.IN_CI
check_eq = e2e.check_eq
SEGMENT = re.compile(r"^onmitsu-(\d{8}T\d{6}\.\d{6}Z)-(\d{12})\.(csv|jsonl)(\.zst)?$")


# ---------------------------------------------------------------- helpers

def start_recorder(d, *extra, active="onmitsu.csv"):
    """`onmitsu record` in the foreground; returns once it is ready (START and
    the snapshot written). active: kept for the callers, readiness does not
    depend on which file START went to."""
    return harness.Recorder(d, *extra)


def kill_leftovers():
    harness.kill_leftovers()


def stop_recorder(p):
    p.stop()


def segment_files(d):
    """closed segments in name order (a plain one wins over its .zst twin), then active"""
    names = sorted(n for n in os.listdir(d) if SEGMENT.match(n))
    closed, seen = [], set()
    for n in sorted(names, key=lambda n: (n[:-4] if n.endswith(".zst") else n, n.endswith(".zst"))):
        key = n[:-4] if n.endswith(".zst") else n
        if key in seen:
            continue
        seen.add(key)
        closed.append(n)
    active = [n for n in ("onmitsu.csv", "onmitsu.jsonl") if os.path.exists(os.path.join(d, n))]
    return closed + active


def read_text(path):
    if not path.endswith(".zst") and not os.path.exists(path) and os.path.exists(path + ".zst"):
        path += ".zst"  # compressed (and the plain one removed) since it was listed
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE,
                              timeout=60).stdout.decode("utf-8")
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def jget(o, path, default=None):
    """a member of a nested JSON Lines (ECS) object by its dotted path: jq's .a.b.c"""
    for k in path.split("."):
        if not isinstance(o, dict) or k not in o:
            return default
        o = o[k]
    return o


def all_records(d):
    """every record of every segment, read independently of onmitsu"""
    recs = []
    for n in segment_files(d):
        text = read_text(os.path.join(d, n))
        if n.endswith(".jsonl") or n.endswith(".jsonl.zst"):
            for line in text.splitlines():
                o = json.loads(line)
                recs.append({"seq": str(jget(o, "event.sequence")),
                             "event": jget(o, "event.action").upper(),
                             "pid": str(jget(o, "process.pid", "")), "_file": n, "_json": o})
            continue
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows and n == "onmitsu.csv":
            continue  # begun on a full disk: its header waits with its records
        check_eq("header of " + n, rows[0], e2e.COLUMNS)
        for r in rows[1:]:
            rec = dict(zip(rows[0], r))
            rec["_file"] = n
            recs.append(rec)
    return recs


def check_gap_free(recs, what):
    seqs = [int(r["seq"]) for r in recs]
    if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        bad = next(i for i in range(1, len(seqs)) if seqs[i] != seqs[i - 1] + 1)
        raise AssertionError("%s: seq not gap-free at %d: %r" % (what, bad, seqs[bad - 2:bad + 2]))


def storm(n, stop=None):
    """n short-lived processes; returns their pids"""
    pids = []
    for _ in range(n):
        if stop is not None and stop.is_set():
            break
        p = subprocess.Popen(["/bin/true", "lifecycle-storm"])
        p.wait()
        pids.append(p.pid)
    return pids


def verify(d, *extra):
    return subprocess.run([ONMITSU, "verify", "--log-dir", d, *extra], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def keygen(tmp):
    key = os.path.join(tmp, "seal.key")
    p = subprocess.run([ONMITSU, "keygen", "--key", key], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    check_eq("keygen exit status", p.returncode, 0)
    vk = os.path.join(tmp, "verify.key")
    with open(vk, "w") as f:
        f.write(p.stdout)
    if not p.stdout.startswith("onmitsu-verify-v1:"):
        raise AssertionError("keygen printed %r" % p.stdout)
    return key, vk


def lsattr_append_only(path):
    out = subprocess.run(["lsattr", "-d", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True).stdout
    return out.split()[0].find("a") >= 0 if out else False


def clear_attrs(tmp):
    subprocess.run(["chattr", "-R", "-a", tmp], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- tests

def test_rotate_under_load():
    """small limits: many segments, compressed while recording, every record back gap-free"""
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    try:
        d = os.path.join(tmp, "log")
        p = start_recorder(d, "--rotate-size", "32K", "--compress-level", "3", "--keep-size", "0")
        active = os.path.join(d, "onmitsu.csv")
        start = next(l for n in segment_files(d) for l in read_text(os.path.join(d, n)).split("\n")
                     if ",START," in l)
        append_only = "append_only=1" in start
        if append_only:
            if not lsattr_append_only(active):
                raise AssertionError("START says append_only=1 but the flag is not set")
            # not O_APPEND: refused even to root. A rotation (32K segments fill
            # during the start-up snapshot) lifts the flag from the old file and
            # sets it on the new one just after creating it: an open in that
            # moment succeeds, so only an open that succeeds every time fails.
            refused = False
            for _ in range(20):
                try:
                    os.close(os.open(active, os.O_WRONLY))
                except PermissionError:
                    refused = True
                    break
                time.sleep(0.05)
            if not refused:
                raise AssertionError("the active segment could be opened for overwriting")
        elif "append_only=0" not in start:
            raise AssertionError("START does not say append_only=: %r" % start)
        check_eq("active segment mode", oct(os.stat(active).st_mode & 0o777), "0o600")
        check_eq("log dir mode", oct(os.stat(d).st_mode & 0o777), "0o700")
        check_eq("log dir owner", os.stat(d).st_uid, 0)
        pids = storm(400)
        time.sleep(1.5)
        stop_recorder(p)
        names = segment_files(d)
        if len(names) < 5:
            raise AssertionError("only %d segments at --rotate-size 32K: %r" % (len(names), names))
        if not any(n.endswith(".zst") for n in names):
            raise AssertionError("no segment was compressed while recording: %r" % names)
        for n in names[:-1]:
            size = os.path.getsize(os.path.join(d, n))
            if not n.endswith(".zst") and size > 48 * 1024:
                raise AssertionError("segment %s is %d bytes at --rotate-size 32K" % (n, size))
        recs = all_records(d)
        check_gap_free(recs, "all segments")
        check_eq("first record", recs[0]["event"], "START")
        check_eq("last record", recs[-1]["event"], "STOP")
        # each segment is named after its first record
        by_file = {}
        for r in recs:
            by_file.setdefault(r["_file"], r)
        for n, first in by_file.items():
            m = SEGMENT.match(n)
            if m:
                check_eq("seq in the name of " + n, int(m.group(2)), int(first["seq"]))
                check_eq("time in the name of " + n, m.group(1),
                         first["time"].replace("-", "").replace(":", ""))
        execs = {int(r["pid"]) for r in recs if r["event"] == "EXEC" and r["pid"]}
        missing = [x for x in pids if x not in execs]
        if missing:
            raise AssertionError("%d of %d storm EXECs missing, e.g. %r" %
                                 (len(missing), len(pids), missing[:5]))
        if not lsattr_append_only(active) is False:
            raise AssertionError("the append-only flag stays after a clean stop")
        v = verify(d)
        check_eq("verify exit status (%s)" % v.stdout, v.returncode, 0)
        # `cat` reads every segment, compressed or not, in order
        c = subprocess.run([ONMITSU, "cat", "--log-dir", d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        if c.returncode == 0:
            lines = c.stdout.splitlines()
            check_eq("cat: records", len(lines) - 1, len(recs))
            check_eq("cat: last seq", lines[-1].split(",")[1], recs[-1]["seq"])
        elif "unknown command" not in c.stderr:
            raise AssertionError("cat failed: %s" % c.stderr)
    finally:
        kill_leftovers()
        clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def test_retention_keeps_size():
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    try:
        d = os.path.join(tmp, "log")
        key, vk = keygen(tmp)
        p = start_recorder(d, "--rotate-size", "16K", "--keep-size", "96K", "--compress-level",
                           "0", "--seal-key", key)
        storm(500)
        time.sleep(1.5)
        stop_recorder(p)
        time.sleep(0.2)
        names = segment_files(d)
        total = sum(os.path.getsize(os.path.join(d, n)) for n in names)
        # bounded: the limit, plus the last segment closed since the last pass
        if total > 96 * 1024 + 24 * 1024:
            raise AssertionError("%d bytes kept at --keep-size 96K: %r" % (total, names))
        recs = all_records(d)
        if int(recs[0]["seq"]) == 0:
            raise AssertionError("nothing expired: the oldest segment is still there")
        check_gap_free(recs, "retained segments")
        check_eq("the oldest kept segment starts with its seal", recs[0]["event"], "SEAL")
        v = verify(d, "--key", vk)
        check_eq("verify after expiry (%s)" % v.stdout, v.returncode, 0)
        if "intact:" not in v.stdout:
            raise AssertionError(v.stdout)
    finally:
        kill_leftovers()
        clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def test_kill9_restart_verify():
    """kill -9 mid-storm: the restart continues seq and chain in a new segment, reports the
    gap, and verify (with the key) passes; then one edited byte is found"""
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    try:
        d = os.path.join(tmp, "log")
        key, vk = keygen(tmp)
        p = start_recorder(d, "--seal-key", key, "--seal-interval", "1s")
        stop = threading.Event()
        t = threading.Thread(target=storm, args=(100000, stop))
        t.start()
        time.sleep(2.5)
        p.kill()  # SIGKILL
        stop.set()
        t.join()
        time.sleep(0.5)
        p = start_recorder(d, "--seal-key", key, "--seal-interval", "1s")
        storm(20)
        stop_recorder(p)
        names = segment_files(d)
        check_eq("segments after a crash", len(names), 2)
        recs = all_records(d)
        check_gap_free(recs, "across the crash")
        starts = [r for r in recs if r["event"] == "START"]
        check_eq("two STARTs", len(starts), 2)
        if starts[1]["_file"] != "onmitsu.csv" or recs[0]["_file"] == "onmitsu.csv":
            raise AssertionError("the restart did not begin a new segment")
        if not re.search(r"gap_seconds=\d+\.\d{3}", starts[1]["detail"]) or \
                "previous_end=crash" not in starts[1]["detail"]:
            raise AssertionError("the second START does not report the gap: %r" %
                                 starts[1]["detail"])
        if not [r for r in recs if r["event"] == "SEAL" and "reason=interval" in r["detail"]]:
            raise AssertionError("no interval seal within 2.5 s at --seal-interval 1s")
        check_eq("last record", recs[-1]["event"], "SEAL")
        v = verify(d, "--key", vk)
        check_eq("verify exit status (%s)" % v.stdout, v.returncode, 0)
        if "gap: nothing was recorded for" not in v.stdout or "crash" not in v.stdout:
            raise AssertionError("verify does not report the gap: %s" % v.stdout)

        # one byte edited in the closed segment: named with the block of records that
        # holds it (the records since the chain value before; one segment or two)
        closed = os.path.join(d, names[0])
        text = read_text(closed)
        lines = text.split("\n")
        i = next(i for i, l in enumerate(lines) if ",EXEC," in l and "lifecycle-storm" in l)
        lines[i] = lines[i].replace("lifecycle-storm", "lifecycle-storX", 1)
        if closed.endswith(".zst"):
            os.unlink(closed)
            closed = closed[:-4]
        with open(closed, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines))
        v = verify(d, "--key", vk)
        check_eq("verify exit status after an edit", v.returncode, 1)
        name = os.path.basename(closed)
        m = re.search(re.escape(name) + r":(\d+)(?:\.\.(\S+:)?(\d+))? \(.*edited", v.stdout)
        if not m or not (int(m.group(1)) <= i + 1 and
                         (m.group(2) or int(m.group(3) or m.group(1)) >= i + 1)):
            raise AssertionError("verify does not name the block of %s:%d as edited: %s" %
                                 (name, i + 1, v.stdout))
    finally:
        kill_leftovers()
        clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def test_jsonl_format():
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    try:
        d = os.path.join(tmp, "log")
        p = start_recorder(d, "--format", "jsonl", active="onmitsu.jsonl")
        q = subprocess.Popen(["/bin/echo", "json \"lines\"\\ test"], stdout=subprocess.DEVNULL)
        q.wait()
        time.sleep(1.2)
        stop_recorder(p)
        recs = all_records(d)
        check_gap_free(recs, "jsonl")
        host = socket.gethostname()
        run = 0  # records since the last chain value
        for r in recs:
            o = r["_json"]
            check_eq("host.name", jget(o, "host.name"), host)
            check_eq("ecs.version", jget(o, "ecs.version"), "8.17.0")
            # the chain value on checkpoints only (START, STOP, SEAL, the first of a
            # segment, every 256th); the member is left out on the others
            chain = jget(o, "onmitsu.chain")
            if chain is not None:
                if not re.fullmatch(r"[0-9a-f]{64}", chain):
                    raise AssertionError("a bad chain value in %r" % o)
                run = 0
            elif r["event"] in ("START", "STOP", "SEAL") or r is recs[0]:
                raise AssertionError("no chain value on a checkpoint: %r" % o)
            else:
                run += 1
                if run >= 256:
                    raise AssertionError("256 records without a chain value, to %r" % o)
        ex = e2e.one([r["_json"] for r in recs if r["event"] == "EXEC" and r["pid"] == str(q.pid)],
                     "EXEC of echo in JSONL")
        check_eq("process.executable", jget(ex, "process.executable"), "/usr/bin/echo")
        check_eq("process.args", jget(ex, "process.args"), ["/bin/echo", 'json "lines"\\ test'])
        check_eq("process.args_count", jget(ex, "process.args_count"), 2)
        check_eq("event.category", jget(ex, "event.category"), ["process"])
        check_eq("event.sequence is a number", type(jget(ex, "event.sequence")), int)
        v = verify(d)
        check_eq("verify of a JSONL log (%s)" % v.stdout, v.returncode, 0)
        # cat converts either way without loss
        c = subprocess.run([ONMITSU, "cat", "--log-dir", d, "--format", "csv"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        check_eq("cat --format csv of a JSONL log (%s)" % c.stderr, c.returncode, 0)
        rows = list(csv.reader(io.StringIO(c.stdout, newline="")))
        check_eq("converted header", rows[0], e2e.COLUMNS)
        check_eq("converted records", len(rows) - 1, len(recs))
        row = dict(zip(rows[0], next(r for r in rows[1:] if r[2] == "EXEC" and r[3] == str(q.pid))))
        check_eq("converted exe", row["exe"], "/usr/bin/echo")
        check_eq("converted direction-free chain", row["chain"], jget(ex, "onmitsu.chain", ""))
        j = subprocess.run([ONMITSU, "cat", "--log-dir", d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        check_eq("cat of a JSONL log is the log", j.stdout, read_text(os.path.join(d, "onmitsu.jsonl")))
        # the investigation commands read it exactly as they read its CSV
        cd = os.path.join(tmp, "as-csv")
        os.mkdir(cd)
        with open(os.path.join(cd, "onmitsu.csv"), "w", newline="") as f:
            f.write(c.stdout)
        for args in (["who", "--json"], ["timeline", "--json", "--pid", str(q.pid)]):
            a, b = (subprocess.run([ONMITSU, *args, "--log-dir", x], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=60) for x in (d, cd))
            what = " ".join(args[:2])
            check_eq("%s of a JSONL log (%s)" % (what, a.stderr), a.returncode, 0)
            check_eq("%s of a JSONL log, as of its CSV" % what, (a.stdout, a.stderr),
                     (b.stdout, b.stderr))
        if "/usr/bin/echo" not in a.stdout:
            raise AssertionError("timeline of echo in the JSONL log: %r" % a.stdout)
        # a CSV recorder refuses a JSONL directory
        r = subprocess.run([ONMITSU, "record", "--log-dir", d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check_eq("csv record on a jsonl dir", r.returncode, 1)
        if "--format jsonl" not in r.stderr:
            raise AssertionError(r.stderr)
    finally:
        kill_leftovers()
        clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def test_bad_lifecycle_options():
    for args, word in ((["--rotate-size", "1K"], "1K"), (["--keep-age", "3w"], "3w"),
                       (["--format", "xml"], "xml"), (["--compress-level", "20"], "20"),
                       (["--syslog", "nohost"], "nohost"), (["--seal-interval", "0"], "0")):
        p = subprocess.run([ONMITSU, "record", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check_eq("exit status for %r" % args, p.returncode, 2)
        if word not in p.stderr:
            raise AssertionError("the error for %r does not name %r: %r" % (args, word, p.stderr))
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    try:
        p = subprocess.run([ONMITSU, "record", "--log-dir", os.path.join(tmp, "log"),
                            "--seal-key", os.path.join(tmp, "none.key")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        check_eq("a missing --seal-key", p.returncode, 1)
        if "none.key" not in p.stderr or "keygen" not in p.stderr:
            raise AssertionError(p.stderr)
        key, vk = keygen(tmp)
        p = subprocess.run([ONMITSU, "keygen", "--key", key], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check_eq("keygen over an existing key", p.returncode, 1)
        check_eq("key mode", oct(os.stat(key).st_mode & 0o777), "0o600")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Rsyslog:
    """A private rsyslogd on loopback: its own config, pid file and work directory."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "rsyslog")
        os.makedirs(os.path.join(self.dir, "work"), exist_ok=True)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.out = os.path.join(self.dir, "received.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write('global(workDirectory="%s" maxMessageSize="256k")\n'
                    'module(load="imtcp")\n'
                    'input(type="imtcp" port="%d" address="127.0.0.1")\n'
                    'template(name="msgonly" type="string" string="%%msg%%\\n")\n'
                    'action(type="omfile" file="%s" template="msgonly")\n'
                    % (os.path.join(self.dir, "work"), self.port, self.out))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", self.conf, "-i",
                                      os.path.join(self.dir, "rsyslogd.pid")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError("rsyslogd exited: %s" % self.proc.stderr.read())
                time.sleep(0.05)
        raise AssertionError("rsyslogd does not listen on port %d within 10 s" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def messages(self):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]


def test_syslog_forwarding_across_collector_restart():
    """a real rsyslogd receives every record, also across its restart while events flow"""
    if not shutil.which("rsyslogd"):
        raise harness.CannotRun("rsyslogd is missing (Debian package rsyslog; scripts/setup installs it)")
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    rs = Rsyslog(tmp)
    try:
        d = os.path.join(tmp, "log")
        rs.start()
        p = start_recorder(d, "--syslog", "127.0.0.1:%d" % rs.port, "--rotate-size", "64K")
        stop = threading.Event()
        t = threading.Thread(target=storm, args=(100000, stop))
        t.start()
        try:
            time.sleep(1.5)
            rs.stop()          # the collector goes away while events flow
            time.sleep(2.0)    # records wait on disk meanwhile
            rs.start()
            time.sleep(1.5)
        finally:
            stop.set()
            t.join()
        time.sleep(1.0)
        stop_recorder(p)       # drains what is left before it exits
        time.sleep(1.0)
        rs.stop()
        recs = all_records(d)
        check_gap_free(recs, "log")
        got = rs.messages()
        seen = {jget(m, "event.sequence") for m in got}
        missing = [int(r["seq"]) for r in recs if int(r["seq"]) not in seen]
        if missing:
            raise AssertionError("%d of %d records never reached rsyslog, e.g. seq %r" %
                                 (len(missing), len(recs), missing[:10]))
        # duplicates after the reconnect carry the same seq and the same content
        by_seq = {}
        for m in got:
            prev = by_seq.setdefault(jget(m, "event.sequence"), m)
            check_eq("duplicate of seq %d" % jget(m, "event.sequence"), m, prev)
        host = socket.gethostname()
        check_eq("host.name in forwarded records", {jget(m, "host.name") for m in got}, {host})
        ex = next(r for r in recs if r["event"] == "EXEC")
        m = by_seq[int(ex["seq"])]
        check_eq("forwarded EXEC exe", jget(m, "process.executable"), ex["exe"])
        check_eq("forwarded chain", jget(m, "onmitsu.chain", ""), ex["chain"])
    finally:
        rs.stop()
        kill_leftovers()
        clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def mount_tmpfs(d, size):
    os.makedirs(d, mode=0o700, exist_ok=True)
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", d],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    if m.returncode != 0:
        raise harness.CannotRun("cannot mount a tmpfs on %s: %s" % (d, m.stderr.strip()))


def umount(d):
    subprocess.run(["umount", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=30)


def storm_until(p, cond, what, limit=6000, seconds=90):
    """short-lived processes, 100 at a time, until cond(p) (bounded in count and time)"""
    deadline = time.time() + seconds
    n = 0
    while n < limit and time.time() < deadline:
        storm(100)
        n += 100
        time.sleep(0.2)
        if cond(p):
            return n
    raise AssertionError("%s: not after %d processes: %s" % (what, n, p.err()[-2000:]))


def detail_of(rec):
    return dict(kv.split("=", 1) for kv in rec["detail"].split() if "=" in kv)


def test_full_disk_counts_loss():
    """a 1 MiB tmpfs as log directory, filled by an exec storm: with retention on, the recorder
    makes room by expiring old segments and keeps recording; without it, the records the disk
    refuses at stop are counted, with their seqs, declared by the next START, and verify names
    them as counted loss (issue 8)"""
    tmp = tempfile.mkdtemp(prefix="onm-full-")
    mounted = []
    try:
        # 1. retention on (keep-size larger than the disk): space comes back by expiry
        d = os.path.join(tmp, "retained")
        mount_tmpfs(d, "1m")
        mounted.append(d)
        p = start_recorder(d, "--rotate-size", "64K", "--keep-size", "64M", "--compress-level",
                           "0")
        storm_until(p, lambda p: "to make room" in p.err(), "a segment expired for space")
        marker = subprocess.Popen(["/bin/true", "after-the-disk-filled"])
        marker.wait()
        time.sleep(2)
        stop_recorder(p)
        recs = all_records(d)
        stop = recs[-1]
        check_eq("the last record", stop["event"], "STOP")
        if int(detail_of(stop).get("segments_expired_for_space", "0")) < 1:
            raise AssertionError("STOP does not count the expiry: %r" % stop["detail"])
        if not any(r["event"] == "EXEC" and r["pid"] == str(marker.pid) for r in recs):
            raise AssertionError("the EXEC after the disk filled is not in the log: %s" % p.err())
        v = verify(d)
        check_eq("verify with room made (%s)" % v.stdout, v.returncode, 0)
        lost = int(detail_of(stop).get("dropped_unwritten", "0"))
        if lost and "lost by the recorder (" not in v.stdout:
            raise AssertionError("STOP says %d lost but verify does not: %s" % (lost, v.stdout))

        # 2. retention off: nothing is deleted; a stop on the full disk counts what it lost
        d = os.path.join(tmp, "full")
        mount_tmpfs(d, "1m")
        mounted.append(d)
        key, vk = keygen(tmp)
        p = start_recorder(d, "--rotate-size", "64K", "--keep-size", "0", "--keep-age", "0",
                           "--compress-level", "0", "--seal-key", key)
        storm_until(p, lambda p: "cannot write to the log" in p.err(), "the disk filled")
        storm(50)
        time.sleep(1.5)
        rc = p.stop(want_rc=None)
        err = p.err()
        check_eq("exit status of a stop that could not write (%s)" % err[-1000:], rc, 1)
        m = re.search(r"(\d+) records \(seq (\d+)\.\.(\d+)\) could not be written", err)
        if not m:
            raise AssertionError("the stop does not say what it lost: %s" % err[-2000:])
        n, first, last = int(m.group(1)), int(m.group(2)), int(m.group(3))
        check_eq("count of the seq range", n, last - first + 1)
        on_disk = all_records(d)
        check_eq("the log ends right before the lost records", int(on_disk[-1]["seq"]),
                 first - 1)
        # space comes back; the next run declares the loss in START
        subprocess.run(["mount", "-o", "remount,size=4m", d], check=True, timeout=30)
        p = start_recorder(d, "--rotate-size", "64K", "--keep-size", "0", "--keep-age", "0",
                           "--compress-level", "0", "--seal-key", key)
        stop_recorder(p)
        recs = all_records(d)
        start = [r for r in recs if r["event"] == "START"][-1]
        check_eq("seq of the next START", int(start["seq"]), last + 1)
        sd = detail_of(start)
        check_eq("START declares the loss", (sd.get("unwritten"), sd.get("unwritten_seqs"),
                                             sd.get("previous_end")),
                 (str(n), "%d..%d" % (first, last), "stop"))
        v = verify(d, "--key", vk)
        check_eq("verify after a lossy stop (%s)" % v.stdout, v.returncode, 0)
        want = "records seq %d..%d: lost by the recorder (%d records, counted)" % (first, last, n)
        if want not in v.stdout or "lost by the recorder (counted)" not in v.stdout:
            raise AssertionError("verify does not name the counted loss: %s" % v.stdout)
    finally:
        kill_leftovers()
        for d in mounted:
            umount(d)
        shutil.rmtree(tmp, ignore_errors=True)


def test_retention_expires_old_evidence():
    """Evidence lives as long as the log: once segments expire, evidence older than the oldest
    record left (less an hour) goes, with the kept files no manifest names; newer stays."""
    tmp = tempfile.mkdtemp(prefix="onm-life-")
    try:
        d = os.path.join(tmp, "log")
        ev = os.path.join(d, "evidence")
        os.makedirs(os.path.join(ev, "files"), mode=0o700)
        for x in (d, ev, os.path.join(ev, "files")):
            os.chmod(x, 0o700)
        old_dir = os.path.join(ev, "0b6e3f3a-1c2d-5e4f-8a9b-00000000000a")
        new_dir = os.path.join(ev, "0b6e3f3a-1c2d-5e4f-8a9b-00000000000b")
        old_file = os.path.join(ev, "files", "a" * 64)
        for x in (old_dir, new_dir):
            os.mkdir(x, 0o700)
            with open(os.path.join(x, "maps"), "w") as f:
                f.write("m\n")
        with open(old_file, "w") as f:
            f.write("an old copy")
        two_days = time.time() - 2 * 86400
        for x in (os.path.join(old_dir, "maps"), old_dir, old_file):
            os.utime(x, (two_days, two_days))
        p = start_recorder(d, "--rotate-size", "16K", "--keep-size", "96K", "--compress-level",
                           "0")
        storm(500)
        time.sleep(1.5)
        stop_recorder(p)
        recs = all_records(d)
        if int(recs[0]["seq"]) == 0:
            raise AssertionError("nothing expired: the oldest segment is still there")
        check_eq("old evidence removed", (os.path.exists(old_dir), os.path.exists(old_file)),
                 (False, False))
        check_eq("newer evidence kept", os.path.exists(os.path.join(new_dir, "maps")), True)
    finally:
        kill_leftovers()
        clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_bad_lifecycle_options, test_rotate_under_load, test_retention_keeps_size,
         test_retention_expires_old_evidence,
         test_kill9_restart_verify, test_jsonl_format,
         test_syslog_forwarding_across_collector_restart, test_full_disk_counts_loss]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-lifecycle", "lifecycle tests")
    if rc is not None:
        return rc
    if not os.access(ONMITSU, os.X_OK) or not shutil.which("zstd"):
        print("FAIL e2e-lifecycle: %s or zstd is missing; run make setup all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-lifecycle", results)


if __name__ == "__main__":
    sys.exit(main())
