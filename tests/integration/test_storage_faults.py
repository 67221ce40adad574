# SPDX-License-Identifier: MIT
"""Storage faults on the real daemon: a read-only state directory, a full one (a small tmpfs)
filling up while sessions run, and a ledger cut off mid-record.
kneed fails closed, refusing sessions with an error that names what is wrong, stops whatever
runs, and never loses a record that was written.

The test runs in a mount namespace of its own (kneed, its child, shares it), so the mounts it
makes are seen by nobody else and go away with it."""

import ctypes
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    DBusCallError,
    KneedTestCase,
    main,
    make_policy,
)

CLONE_NEWNS = 0x00020000
POLICY = make_policy(Limits={"MaxSessionsPerDay": 1000, "MinRestMinutes": 0},
                     Screening={"Required": "no"})
LEDGER_UNAVAILABLE = "org.kneed.Kneed1.Error.LedgerUnavailable"


def setUpModule():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed: this test needs root")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)


def mount(*args):
    subprocess.run(["mount", *args], check=True)


class StorageFaultTest(KneedTestCase):
    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmpdir, "state")
        self.ledger = os.path.join(self.state, "ledger")
        os.makedirs(self.state)
        self.mounts = []

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            for m in reversed(self.mounts):
                subprocess.run(["umount", "-l", m], check=False)

    def start(self, **kwargs):
        return self.start_kneed(virtual="2", args=["--time-scale=60"], policy=POLICY, **kwargs)

    def run_session(self, device="virtual0"):
        path = self.start_routine("calf-release", device, detach=True)
        self.client.call(path, SESSION_IFACE, "Stop")

    def history(self):
        (h,) = self.client.call(MANAGER_PATH, MANAGER_IFACE, "GetHistory", "u", (0,),
                                "(a(sstuss))")
        return [(routine, device, state, reason) for routine, device, _, _, state, reason in h]

    def read_ledger(self):
        with open(self.ledger, "rb") as f:
            return f.read()

    def make_read_only(self):
        mount("--bind", self.state, self.state)
        self.mounts.append(self.state)
        mount("-o", "remount,ro,bind", self.state)

    def assert_devices_idle(self, k, since):
        """Nothing but stop was sent to any device since trace line since."""
        sent = [(e["dev"], e["op"]) for e in k.trace.commands(start=since)]
        self.assertTrue(all(op in ("stop", "keepalive") for _, op in sent), sent)
        for dev in ("virtual0", "virtual1"):
            self.assertEqual(self.client.get(f"/org/kneed/Kneed1/device/{dev}",
                                             "org.kneed.Kneed1.Device", "State"), "idle")

    def test_read_only_state_dir_at_start(self):
        k = self.start()
        self.run_session()
        self.run_session("virtual1")
        k.stop()
        before = self.read_ledger()

        self.make_read_only()
        k = self.start()
        since = len(k.trace.lines())
        e = self.assertDBusError(LEDGER_UNAVAILABLE, self.start_routine, "calf-release",
                                 detach=True)
        self.assertIn("Read-only file system", e.message)
        self.assertIn(self.ledger, e.message)
        self.assertRegex(k.log(), r"Session ledger unavailable, refusing sessions: .*"
                                  r"Read-only file system")
        self.assert_devices_idle(k, since)
        k.stop()
        self.assertEqual(self.read_ledger(), before)

        # Writable again: both sessions are still on record.
        subprocess.run(["umount", self.state], check=True)
        self.mounts.remove(self.state)
        self.start()
        self.assertEqual(self.history(), [("calf-release", "virtual1", "stopped", "session-stop"),
                                          ("calf-release", "virtual0", "stopped", "session-stop")])

    def test_read_only_state_dir_without_a_ledger(self):
        self.make_read_only()
        k = self.start()
        e = self.assertDBusError(LEDGER_UNAVAILABLE, self.start_routine, "calf-release",
                                 detach=True)
        self.assertIn("Read-only file system", e.message)
        self.assertIn("refusing sessions", k.log())
        self.assertEqual(os.listdir(self.state), [])

    def fill(self):
        """Fills the state directory's filesystem; returns the filler's path."""
        filler = os.path.join(self.state, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 512) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
        return filler

    def test_full_state_dir(self):
        """The filesystem fills while sessions run. The ledger's last page still has room, so
        the next few records fit; sessions go on until one can't be recorded, whether its
        start (refused) or its end (the device stops all the same)."""
        mount("-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", self.state)
        self.mounts.append(self.state)
        k = self.start()
        self.run_session()
        before = self.read_ledger()
        filler = self.fill()

        started, refusal = 1, None
        for _ in range(100):
            try:
                path = self.start_routine("calf-release", "virtual0", detach=True)
            except DBusCallError as e:
                refusal = e
                break
            started += 1
            since = len(k.trace.lines())
            self.client.call(path, SESSION_IFACE, "Stop")
            self.assertIn(("virtual0", "stop"),
                          [(e["dev"], e["op"]) for e in k.trace.commands(start=since)])
        self.assertIsNotNone(refusal, "the ledger never ran out of room")
        self.assertEqual(refusal.name, LEDGER_UNAVAILABLE)
        self.assertIn("No space left on device", refusal.message)
        self.assertRegex(k.log(), r"Failed to record (session|the end of session) \d+ in the "
                                  r"ledger.*: No space left on device")
        since = len(k.trace.lines())
        self.assert_devices_idle(k, since)

        # Room again: still refused until a restart, which may trust the ledger again.
        os.unlink(filler)
        e = self.assertDBusError(LEDGER_UNAVAILABLE, self.start_routine, "calf-release",
                                 detach=True)
        self.assertIn(f"The session ledger in {self.state} could not be written "
                      "(ledger-write-failed: No space left on device)", e.message)
        self.assert_devices_idle(k, since)
        k.stop()

        # Nothing written was lost: every session that started is on record.
        self.assertTrue(self.read_ledger().startswith(before))
        self.start()
        history = self.history()
        self.assertEqual(len(history), started)
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "SessionsToday"), started)
        self.assertTrue(all(h[2] in ("stopped", "aborted") for h in history), history)
        self.run_session()

    def test_ledger_cut_off_mid_record(self):
        k = self.start()
        for _ in range(3):
            self.run_session()
        k.stop()
        data = self.read_ledger()
        lines = data.splitlines(keepends=True)
        # Half of the last record (the third session's end) is gone, as after a torn write.
        cut = len(data) - len(lines[-1]) // 2
        os.truncate(self.ledger, cut)

        k = self.start()
        self.assertRegex(k.log(), r"Session ledger: .*ledger:%d: " % len(lines))
        self.assertEqual(self.history(),
                         [("calf-release", "virtual0", "aborted", "daemon-restart")]
                         + [("calf-release", "virtual0", "stopped", "session-stop")] * 2)
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "SessionsToday"), 3)
        # Every whole record is still there, and nothing was set aside as damaged.
        self.assertTrue(self.read_ledger().startswith(b"".join(lines[:-1])))
        self.assertEqual([n for n in os.listdir(self.state) if "corrupt" in n], [])
        self.run_session()


if __name__ == "__main__":
    main()
