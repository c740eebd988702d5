# SPDX-License-Identifier: BSD-2-Clause
"""
The one end-to-end harness, shared by tests/e2e/*.py and bench/run: where the
binaries are, the recorder started and stopped as systemd would (readiness
through $NOTIFY_SOCKET, no sleeping), remote hosts as a network namespace on a
veth pair, and the layer's closing line "N passed, N failed[, N skipped]".

Two ways for a test not to run:
- Skip: this machine's kernel lacks the facility the test needs (e.g. the
  32-bit system call gate is closed): nothing to record, so it is reported as
  skipped with the reason, in CI too.
- CannotRun: the test's own means are missing (root, a tool): skipped with a
  message outside CI; under CI=true a failure, never a skip.
"""
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
ONMITSU = os.path.join(BUILD, "onmitsu")
PROBE = os.path.join(BUILD, "e2e", "netprobe")
IN_CI = os.environ.get("CI") == "true"


class Skip(Exception):
    """The kernel facility a test needs is missing here (reported as skipped)."""


class CannotRun(Exception):
    """Root or a tool is missing: skipped outside CI, a failure under CI=true."""


def sh(*cmd, check=True, timeout=60, **kw):
    return subprocess.run(list(cmd), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)


def check_eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def one(records, what):
    if len(records) != 1:
        raise AssertionError("%s: want exactly one record, found %d: %r" %
                             (what, len(records), records[:3]))
    return records[0]


# ---------------------------------------------------------------- the recorder

STARTED = []  # recorders started and not yet stopped: none outlives a failed test


def kill_leftovers():
    while STARTED:
        r = STARTED.pop()
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()


class Recorder:
    """`onmitsu record` in the foreground, as its Type=notify systemd unit runs
    it: the constructor returns when the recorder says READY=1 (every hook
    attached, START and the /proc snapshot written and flushed)."""

    _n = 0

    def __init__(self, log_dir, *args, binary=None, timeout=30, env=None):
        self.log_dir = log_dir
        self.stderr = tempfile.TemporaryFile(mode="w+")
        Recorder._n += 1
        name = "\0onmitsu-test-%d-%d" % (os.getpid(), Recorder._n)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(name)
        child_env = dict(os.environ if env is None else env)
        child_env["NOTIFY_SOCKET"] = "@" + name[1:]
        self.proc = subprocess.Popen([binary or ONMITSU, "record", "--log-dir", log_dir, *args],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     env=child_env)
        STARTED.append(self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ready, _, _ = select.select([self.sock], [], [], 0.1)
            if ready:
                msg = self.sock.recv(4096).decode("utf-8", "replace")
                if "READY=1" in msg.split("\n"):
                    return
            if self.proc.poll() is not None:
                raise AssertionError("recorder exited with %d before it was ready: %s" %
                                     (self.proc.returncode, self.err()))
        raise AssertionError("recorder not ready within %d s: %s" % (timeout, self.err()))

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in STARTED:
            STARTED.remove(self)
        self.sock.close()

    def stop(self, timeout=30, want_rc=0):
        """SIGTERM, as systemctl stop; returns the exit status (checked)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("recorder did not stop within %d s of SIGTERM" % timeout)
        self.kill()
        if want_rc is not None and rc != want_rc:
            raise AssertionError("recorder exited with %d: %s" % (rc, self.err()))
        return rc


# ---------------------------------------------------------------- remote hosts

class Netns:
    """A network namespace reached over a veth pair: the test's remote hosts.
    host4/host6: this host's end; peers4/peers6: addresses inside; prefix
    lengths as given; routes: (prefix, via) added on the host side."""

    def __init__(self, tag, host4, peers4, len4, host6=None, peers6=(), len6=64, routes=()):
        pid = os.getpid()
        self.name = "onm-%s-%d" % (tag, pid)
        self.veth_h = "%sh%d" % (tag[:4], pid % 100000)
        self.veth_n = "%sn%d" % (tag[:4], pid % 100000)
        self.host4, self.peers4, self.len4 = host4, list(peers4), len4
        self.host6, self.peers6, self.len6 = host6, list(peers6), len6
        self.routes = list(routes)
        self.exec = ["ip", "netns", "exec", self.name]

    @staticmethod
    def reap_stale():
        """Deletes the namespaces a killed test or benchmark left behind
        (onm-TAG-PID whose PID is gone): their veth pairs would hold the
        TEST-NET addresses this one needs. Returns the names deleted."""
        gone = []
        for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            tail = name.rsplit("-", 1)
            if not name.startswith("onm-") or len(tail) != 2 or not tail[1].isdigit():
                continue
            if os.path.exists("/proc/%s" % tail[1]):
                continue
            sh("ip", "netns", "del", name, check=False)
            gone.append(name)
        return gone

    def up(self):
        Netns.reap_stale()
        sh("ip", "netns", "add", self.name)
        sh("ip", "link", "add", self.veth_h, "type", "veth", "peer", "name", self.veth_n,
           "netns", self.name)
        sh("ip", "addr", "add", "%s/%d" % (self.host4, self.len4), "dev", self.veth_h)
        if self.host6:
            sh("ip", "-6", "addr", "add", "%s/%d" % (self.host6, self.len6), "dev", self.veth_h,
               "nodad")
        sh("ip", "link", "set", self.veth_h, "up")
        n = self.exec
        sh(*n, "ip", "link", "set", "lo", "up")
        for a in self.peers4:
            sh(*n, "ip", "addr", "add", "%s/%d" % (a, self.len4), "dev", self.veth_n)
        for a in self.peers6:
            sh(*n, "ip", "-6", "addr", "add", "%s/%d" % (a, self.len6), "dev", self.veth_n,
               "nodad")
        sh(*n, "ip", "link", "set", self.veth_n, "up")
        for prefix, via in self.routes:
            sh("ip", "route", "add", prefix, "via", via)
        # the link is up when the first peer answers (bounded)
        for addr in self.peers4[:1] + self.peers6[:1]:
            for _ in range(100):
                if sh("ping", "-c1", "-W1", addr, check=False).returncode == 0:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the namespace's %s does not answer" % addr)

    def down(self):
        for prefix, _ in self.routes:
            sh("ip", "route", "del", prefix, check=False)
        sh("ip", "link", "del", self.veth_h, check=False)
        sh("ip", "netns", "del", self.name, check=False)


# ---------------------------------------------------------------- a layer

def needs_root(layer, what):
    """None when root; else prints the layer's verdict and returns its exit
    status (a failure under CI=true, a skip outside)."""
    if os.geteuid() == 0:
        return None
    msg = "%s need root (they load eBPF programs)" % what
    if IN_CI:
        print("FAIL %s: %s" % (layer, msg))
        print("0 passed, 1 failed")
        return 1
    print("SKIP %s: %s; run as root, e.g. sudo make test" % (layer, msg))
    print("0 passed, 0 failed, 1 skipped")
    return 0


def run_test(name, fn, *args):
    """(name, None) when fn passed, (name, Skip) when skipped, else (name, why)."""
    try:
        fn(*args)
        return (name, None)
    except Skip as e:
        return (name, e)
    except CannotRun as e:
        return (name, Skip("cannot run: %s" % e) if not IN_CI else "cannot run: %s" % e)
    except Exception:
        return (name, traceback.format_exc())
    finally:
        kill_leftovers()


def report(layer, results):
    """Prints each result and the closing line; returns the exit status."""
    passed = sum(1 for _, e in results if not e)
    skipped = sum(1 for _, e in results if isinstance(e, Skip))
    failed = len(results) - passed - skipped
    for name, err in results:
        if not err:
            print("ok   %s %s" % (layer, name))
        elif isinstance(err, Skip):
            print("SKIP %s %s: %s" % (layer, name, err))
        else:
            print("FAIL %s %s\n%s" % (layer, name, err))
    if skipped:
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    else:
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
