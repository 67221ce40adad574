# SPDX-License-Identifier: MIT
"""
The sandbox of kneed.service, held against what the real daemon does. There is no systemd to
run the unit under here, so the test runs kneed the way the unit does where it can (an
unprivileged uid and gid, no capabilities, no new privileges, device nodes reachable only
through the group, as the udev rules set them) and under strace for the rest: through a whole
life (coldplug of an emulated hidraw and an emulated usbfs device, routines on them and on
virtual devices, pause, resume, a reload, StopAll, unplug, SIGTERM) every system call must be
one the unit's SystemCallFilter= allows, every socket one RestrictAddressFamilies= allows, no
mapping writable and executable (MemoryDenyWriteExecute=), no write outside the state directory
and device nodes (ProtectSystem=strict), and nothing read in /proc beyond the process's own
(ProcSubset=pid, ProtectProc=invisible). A daemon change that would fail under the unit fails
here first.
"""

import functools
import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import MANAGER_IFACE, MANAGER_PATH, SESSION_IFACE, main, wait_for  # noqa: E402
from test_devices import EmulatedTestCase  # noqa: E402
from test_install import unit_file  # noqa: E402

UNIT = os.path.join(os.environ["KNEED_BUILD_DIR"], "systemd", "kneed.service")
# The uid and gid of "kneed" here: nobody and nogroup.
UID = GID = 65534


def unit_values(key):
    """Every value the unit's [Service] section gives key, in order."""
    return unit_file(UNIT)["Service"].get(key, [])


@functools.lru_cache(maxsize=None)
def syscall_group(name):
    """The system calls in a systemd syscall group, nested groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                         capture_output=True, text=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        calls |= syscall_group(word) if word.startswith("@") else {word}
    return frozenset(calls)


def allowed_syscalls():
    """What the unit's SystemCallFilter= lines allow: the first is an allow list, and lines
    starting with ~ take away."""
    allowed = set()
    for value in unit_values("SystemCallFilter"):
        deny = value.startswith("~")
        names = set()
        for word in value.lstrip("~").split():
            names |= syscall_group(word) if word.startswith("@") else {word}
        allowed = allowed - names if deny else allowed | names
    return allowed


CALL = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
# A path strace -y shows for an fd: 3</tmp/x>.
FD_PATH = re.compile(r"^-?\d+<(.*)>$")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")
PATH_CHANGES = {"mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
                "link", "linkat", "symlink", "symlinkat", "truncate", "chmod", "fchmodat",
                "chown", "fchownat", "mknod", "mknodat", "rmdir", "utimensat"}


class SandboxTest(EmulatedTestCase):
    def run_traced(self, live, **kwargs):
        """Runs kneed as the unit would run it, under strace, through live(k, pid); returns
        the calls it made as (name, the rest of strace's line)."""
        if not shutil.which("strace"):
            self.fail("strace is needed (tools/install-deps installs it)")
        os.chmod(self.tmpdir, 0o755)  # the uid reaches the bus socket
        self.state = os.path.join(self.tmpdir, "state")  # where Kneed points --state-dir
        os.mkdir(self.state, 0o700)  # StateDirectory=kneed, StateDirectoryMode=0700
        os.chown(self.state, UID, GID)
        # The virtual devices' trace and strace's output, written by that uid.
        strace_out = os.path.join(self.tmpdir, "strace")
        for path in (os.path.join(self.tmpdir, "trace"), strace_out):
            open(path, "w").close()
            os.chown(path, UID, GID)

        prefix = ["setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups",
                  "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--",
                  "strace", "-f", "-qq", "-y", "-s", "256", "-o", strace_out]
        # LeakSanitizer can't work under ptrace; every other test looks for leaks.
        env = dict(kwargs.pop("env", {}))
        asan = env.get("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", ""))
        env["ASAN_OPTIONS"] = ":".join(filter(None, [asan, "detect_leaks=0"]))
        # The daemon alone: a valgrind wrapper would add its own system calls.
        k = self.start_kneed(hardware=True, prefix=prefix, wrapper=(), env=env, **kwargs)
        # Signals go to kneed itself, strace's child; strace exits with kneed's status.
        with open(f"/proc/{k.process.pid}/task/{k.process.pid}/children") as f:
            pid = int(f.read().split()[0])
        try:
            live(k, pid)
        finally:
            if k.process.poll() is None:
                os.kill(pid, signal.SIGTERM)
        self.assertEqual(k.wait_exit(), 0, k.log())

        with open(strace_out) as f:
            lines = f.read().splitlines()
        self.assertGreater(len(lines), 100)
        calls = []
        for line in lines:
            m = CALL.match(line)
            if m:
                calls.append((m.group(2) or m.group(3), m.group(4)))
        return calls

    def test_emulated_devices_within_the_sandbox(self):
        okmp = self.okmp()
        okmp.plug()
        rez = self.rez()
        rez.plug()
        # udev's rules: root:kneed, 0660; kneed gets at them only through its group.
        for dev in (okmp, rez):
            node = os.ttyname(dev.slave)
            os.chown(node, 0, GID)
            os.chmod(node, 0o660)
        # The testbed stands in for the kernel, whose uevent and ioctl plumbing any uid may
        # use: the preload binds its uevent sockets in the testbed and connects to its ioctl
        # sockets there.
        for root, dirs, files in os.walk(self.bed.root):
            for name in [root] + [os.path.join(root, f) for f in files]:
                if not os.path.islink(name):
                    os.chmod(name, 0o777 if os.path.isdir(name) else 0o666)

        def live(k, pid):
            self.assertEqual(self.device_names(),
                             ["hidraw0", self.device_path(rez).rsplit("/")[-1], "virtual0",
                              "virtual1"])
            # Sessions on every kind of device, pause and resume, a reload, StopAll, unplug.
            sessions = [self.start_on(okmp, "hw-long"), self.start_on(rez, "hw-long"),
                        self.start_routine("calf-release", "virtual0", detach=True)]
            wait_for(lambda: okmp.reports(2)[1:], what="the okmp session to run")
            wait_for(lambda: rez.control_setups()[1:], what="the rez session to run")
            self.client.call(sessions[2], SESSION_IFACE, "Pause")
            self.client.call(sessions[2], SESSION_IFACE, "Resume")
            os.kill(pid, signal.SIGHUP)
            k.wait_log("policy-reload")
            self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
            okmp.unplug()
            wait_for(lambda: "hidraw0" not in self.device_names(), what="the unplug")

        calls = self.run_traced(live, virtual="2", env=self.bed.env())
        # umockdev's preload turns the uevent socket into an AF_UNIX one: the test below sees
        # the real netlink socket.
        self.check_sandbox(calls, writable=[self.bed.root + "/"])

    def test_real_uevent_monitor_within_the_sandbox(self):
        # This machine's own sysfs and uevents; as that uid kneed can open none of its
        # device nodes, so none is touched.
        def live(k, pid):
            path = self.start_routine("calf-release", "virtual0", detach=True)
            self.client.call(path, SESSION_IFACE, "Stop")

        calls = self.run_traced(live, virtual="1")
        families = self.check_sandbox(calls)
        self.assertIn("AF_NETLINK", families)

    def check_sandbox(self, calls, writable=()):
        """Fails on anything the unit's sandbox would refuse; returns the socket families."""
        used = {name for name, _ in calls}

        # SystemCallFilter=
        allowed = allowed_syscalls()
        self.assertIn("ioctl", allowed)
        self.assertNotIn("setuid", allowed)
        self.assertEqual(sorted(used - allowed), [], "system calls SystemCallFilter= refuses")

        # RestrictAddressFamilies=
        families = {m.group(1) for name, rest in calls if name == "socket"
                    for m in [re.match(r"(AF_\w+)", rest)] if m}
        self.assertIn("AF_UNIX", families)
        self.assertLessEqual(families, set(unit_values("RestrictAddressFamilies")[0].split()))

        # MemoryDenyWriteExecute=
        wx = [rest for name, rest in calls if name in ("mmap", "mprotect", "pkey_mprotect")
              and "PROT_WRITE" in rest and "PROT_EXEC" in rest]
        self.assertEqual(wx, [])

        # ProtectSystem=strict: writes go to the state directory and device nodes only (and
        # to the test's own trace file, which the unit doesn't have).
        writable = [os.path.realpath(self.state) + "/", "/dev/",
                    os.path.join(self.tmpdir, "trace")] + list(writable)
        wrote = []
        for name, rest in calls:
            path = self.path_of(rest)
            if path is None or " = -1 " in rest:
                continue
            if ((name in ("open", "openat", "openat2", "creat") and
                 (name == "creat" or WRITE_FLAGS.search(rest))) or name in PATH_CHANGES):
                wrote.append(path)
        self.assertTrue(any(p.startswith(writable[0]) for p in wrote), "no ledger write seen")
        outside = [p for p in wrote if not any(p == w.rstrip("/") or p.startswith(w)
                                               for w in writable)]
        self.assertEqual(outside, [], "writes outside the state directory and device nodes")

        # ProcSubset=pid and ProtectProc=invisible: only the process's own /proc entries.
        # sd-event reads the boot id to spread its timer wakeups over the minute, differently
        # on each machine; hidden, it uses 0 (initialize_perturb() in sd-event.c), harmless.
        looked = {self.path_of(rest) for name, rest in calls
                  if name in ("open", "openat", "openat2", "stat", "newfstatat", "statx",
                              "access", "faccessat", "faccessat2", "readlink", "readlinkat")}
        others = sorted(p for p in looked if p and p.startswith("/proc/") and
                        not re.match(r"/proc/(self|thread-self|\d+)(/|$)", p) and
                        p != "/proc/sys/kernel/random/boot_id")
        self.assertEqual(others, [], "/proc entries ProcSubset=pid hides")

        # ProtectHome=
        home = sorted(p for p in looked if p and re.match(r"/(home|root|run/user)(/|$)", p))
        self.assertEqual(home, [])
        return families

    @staticmethod
    def path_of(rest):
        """The path a call works on: its first string argument, joined to its directory fd
        when strace -y shows one."""
        m = re.match(r'(?:([^,]*), )?"([^"]*)"', rest)
        if not m:
            return None
        directory, path = m.groups()
        if not path.startswith("/") and directory:
            d = FD_PATH.match(directory.strip())
            if d:
                path = os.path.join(d.group(1), path)
        return os.path.normpath(path) if path else None


if __name__ == "__main__":
    main()
