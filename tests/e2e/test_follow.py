#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
End-to-end test of `onmitsu cat --follow` (issue 12): a follower started on a
live recorder with small segments (--rotate-size 4096, so that it rotates
and compresses many times under an exec storm) prints every record once, in
seq order, with no gap, exactly as `onmitsu cat` reads the whole log once the
recorder has stopped; it ends quietly on SIGINT, and when its reader goes
away.

`who --dst ADDR --follow` on a live recorder prints the flow to ADDR as it is
recorded, with the process that made it and its ancestry (JSON Lines and the
table), and not a flow to another address; it ends with 0 on SIGINT.

Needs root. Outside CI a non-root run skips with a message; with CI=true a
test that cannot run is a failure. Ends with "N passed, N failed".
Usage: tests/e2e/test_follow.py [NAME-SUBSTRING]
"""
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import run as e2e  # noqa: E402
import test_lifecycle as life  # noqa: E402

ONMITSU = e2e.ONMITSU
check_eq = e2e.check_eq


def seqs_of(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check_eq("header", rows[0], e2e.COLUMNS)
    return [int(r[1]) for r in rows[1:]], rows


def test_follow_across_rotations():
    tmp = tempfile.mkdtemp(prefix="onm-follow-")
    d = os.path.join(tmp, "log")
    follower = None
    try:
        rec = harness.Recorder(d, "--rotate-size", "4096")
        follower = subprocess.Popen([ONMITSU, "cat", "--follow", "--log-dir", d],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # read as it comes, as a pipe's reader does (a full pipe would block it)
        chunks = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(
            lambda: follower.stdout.read1(65536), b"")), daemon=True)
        reader.start()
        # an exec storm: each exec is a few records, 4 KiB a few dozen
        deadline = time.time() + 20
        for i in range(400):
            subprocess.run(["/bin/true", "follow-%d" % i], check=True)
            if time.time() > deadline:
                break
        time.sleep(1.5)  # the recorder flushes at least once a second
        rec.stop()
        time.sleep(1.0)  # the follower looks every 100 ms
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
        reader.join(timeout=30)
        out, err = b"".join(chunks), follower.stderr.read()
        check_eq("follower's exit status on SIGINT (%s)" % err.decode(), follower.returncode, 0)
        follower = None
        segs = [n for n in os.listdir(d) if n.startswith("onmitsu-")]
        if len(segs) < 3:
            raise AssertionError("the log did not rotate: %r" % sorted(os.listdir(d)))
        if not any(n.endswith(".zst") for n in segs):
            raise AssertionError("no segment was compressed: %r" % sorted(segs))
        got, rows = seqs_of(out.decode("utf-8"))
        whole = subprocess.run([ONMITSU, "cat", "--log-dir", d], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        check_eq("cat of the whole log (%s)" % whole.stderr, whole.returncode, 0)
        want, wrows = seqs_of(whole.stdout)
        check_eq("the first seq followed", got[:1], [0])
        check_eq("seqs followed twice", len(got) - len(set(got)), 0)
        check_eq("seqs in order", got, sorted(got))
        missing = sorted(set(want) - set(got))
        check_eq("seqs never followed", missing[:10], [])
        check_eq("records followed", len(got), len(want))
        # the lines themselves, as the log holds them
        check_eq("the followed records are the log's", rows[1:], wrows[1:])
        if rows[-1][2] != "STOP":
            raise AssertionError("the follower did not reach the STOP: %r" % rows[-1])
        # --seq starts there; a reader that goes away ends it quietly
        p = subprocess.Popen([ONMITSU, "cat", "--follow", "--seq", str(want[-5]), "--log-dir", d],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = [p.stdout.readline() for _ in range(2)]
        check_eq("--seq N starts at N", int(first[1].decode().split(",")[1]), want[-5])
        p.stdout.close()  # the reader goes away: its next write fails (EPIPE)
        try:
            rc = p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            # nothing new to write yet: a new run of the recorder writes some
            harness.Recorder(d, "--rotate-size", "4096").stop()
            rc = p.wait(timeout=10)
        check_eq("exit status after the reader went away (%s)" % p.stderr.read().decode(),
                 rc, 0)
    finally:
        if follower is not None and follower.poll() is None:
            follower.kill()
            follower.wait()
        life.kill_leftovers()
        life.clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


HOST4, PEER4, OTHER4, PORT = "198.51.100.209", "198.51.100.210", "198.51.100.211", 8470
NET = harness.Netns("follow", HOST4, [PEER4, OTHER4], 28)

# the namespace's listener: accepts on both addresses; bounded 60 s
LISTENER = r"""
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d)); s.listen(16); s.settimeout(1)
print("listening", flush=True)
end = time.time() + 60
while time.time() < end:
    try:
        s.accept()[0].close()
    except socket.timeout:
        pass
""" % PORT

CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], %d), 5).close()" % PORT


def test_who_follow_prints_the_flow_as_it_is_recorded():
    tmp = tempfile.mkdtemp(prefix="onm-whofollow-")
    d = os.path.join(tmp, "log")
    followers, listener = [], None
    python = os.path.realpath(sys.executable)
    try:
        # bad values are usage errors, named
        r = subprocess.run([ONMITSU, "who", "--dst", PEER4 + ":99999", "--follow", "--log-dir", d],
                           capture_output=True, text=True, timeout=10)
        check_eq("a bad port's exit status (%s)" % r.stderr, r.returncode, 2)
        if "99999" not in r.stderr:
            raise AssertionError("the message does not name the value: %r" % r.stderr)
        r = subprocess.run([ONMITSU, "who", "--follow", "--until", "now", "--log-dir", d],
                           capture_output=True, text=True, timeout=10)
        check_eq("--until with --follow (%s)" % r.stderr, r.returncode, 2)

        NET.up()
        listener = subprocess.Popen(NET.exec + [python, "-c", LISTENER], stdout=subprocess.PIPE,
                                    text=True)
        if listener.stdout.readline().strip() != "listening":
            raise AssertionError("the listener did not start")
        rec = harness.Recorder(d)
        outs = []
        for form in (["--json"], []):
            f = subprocess.Popen([ONMITSU, "who", "--dst", PEER4, "--follow", "--log-dir", d,
                                  *form], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            chunks = []
            threading.Thread(target=lambda f=f, c=chunks: c.extend(iter(
                lambda: f.stdout.read1(65536), b"")), daemon=True).start()
            followers.append(f)
            outs.append(chunks)
        # another address first, then the one followed
        other = subprocess.run([python, "-c", CONNECT, OTHER4], timeout=10)
        check_eq("the connection to %s" % OTHER4, other.returncode, 0)
        conn = subprocess.Popen([python, "-c", CONNECT, PEER4])
        conn.wait(timeout=10)
        check_eq("the connection to %s" % PEER4, conn.returncode, 0)
        deadline = time.time() + 15  # the recorder flushes at least once a second
        while time.time() < deadline and not all(b"".join(c) for c in outs):
            time.sleep(0.1)
        time.sleep(1.0)  # anything else it would print by now
        for f in followers:
            f.send_signal(signal.SIGINT)
        for f in followers:
            f.wait(timeout=10)
            check_eq("the follower's exit status on SIGINT (%s)" % f.stderr.read().decode(),
                     f.returncode, 0)
        rec.stop()
        # the connection's "out" record, and the listener's "in" record of
        # the same flow (it is a process of this host too); none to OTHER4
        got = [json.loads(x) for x in b"".join(outs[0]).decode().splitlines()]
        check_eq("flows printed (%r)" % got,
                 sorted((g["flow"]["dst_ip"], g["flow"]["dst_port"], g["process"]["pid"])
                        for g in got),
                 sorted([(PEER4, PORT, conn.pid), (PEER4, PORT, listener.pid)]))
        got = [g for g in got if g["process"]["pid"] == conn.pid][0]
        check_eq("its process", got["process"]["exe"], python)
        check_eq("its parent", got["ancestry"][0]["pid"], os.getpid())
        table = b"".join(outs[1]).decode()
        if not table.startswith("TIME ") or "%s:%d" % (PEER4, PORT) not in table or \
                " %d " % conn.pid not in table or "    ancestry" not in table or \
                OTHER4 in table:
            raise AssertionError("the table: %r" % table)
        # what `who` says afterwards about the same flow (its exit is known now)
        r = subprocess.run([ONMITSU, "who", "--dst", PEER4, "--json", "--log-dir", d],
                           capture_output=True, text=True, timeout=30)
        check_eq("who afterwards", [x for x in map(json.loads, r.stdout.splitlines())
                                    if x["process"]["pid"] == conn.pid], [got])
    finally:
        for f in followers:
            if f.poll() is None:
                f.kill()
                f.wait()
        if listener is not None:
            listener.kill()
            listener.wait()
        NET.down()
        life.kill_leftovers()
        life.clear_attrs(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_follow_across_rotations, test_who_follow_prints_the_flow_as_it_is_recorded]


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    rc = harness.needs_root("e2e-follow", "cat --follow")
    if rc is not None:
        return rc
    if not os.access(ONMITSU, os.X_OK):
        print("FAIL e2e-follow: %s is missing; run make setup all first" % ONMITSU)
        print("0 passed, 1 failed")
        return 1
    results = [harness.run_test(t.__name__, t) for t in TESTS if only in t.__name__]
    return harness.report("e2e-follow", results)


if __name__ == "__main__":
    sys.exit(main())
