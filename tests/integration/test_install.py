# SPDX-License-Identifier: MIT
"""
The packaging check: `meson install --destdir` into a temporary directory, then the installed
tree is listed and checked file by file (every file there, nothing else, sane modes); the
systemd unit verifies and scores ≤ 1.5 in `systemd-analyze security`; sysusers creates the user
and group the unit and the udev rules name; and a plugin built out of tree against the
installed kneed-plugin.pc is loaded by the installed kneed and drives a device.

Install paths come from meson (KNEED_INSTALL_*, tests/meson.build), so the test follows
whatever prefix and pkg-config answers this build was configured with.
"""

import configparser
import glob
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from kneedtest import (DATA_DIR, KneedTestCase, SOURCE_DIR, BUILD_DIR, main, timeout,
                       wait_for)

EXPOSURE_TARGET = 1.5


def install_dir(name):
    return os.environ["KNEED_INSTALL_" + name.upper()]


def expected_files():
    """{installed path: mode} for everything meson install must put down."""
    x, r = 0o755, 0o644
    files = {
        os.path.join(install_dir("sbindir"), "kneed"): x,
        os.path.join(install_dir("bindir"), "kneectl"): x,
        os.path.join(install_dir("includedir"), "kneed", "plugin.h"): r,
        os.path.join(install_dir("libdir"), "pkgconfig", "kneed-plugin.pc"): r,
        os.path.join(install_dir("systemdsystemunitdir"), "kneed.service"): r,
        os.path.join(install_dir("sysusersdir"), "kneed.conf"): r,
        os.path.join(install_dir("udevdir"), "rules.d", "70-kneed.rules"): r,
        os.path.join(install_dir("udevdir"), "kneed-hid-probe"): x,
        os.path.join(install_dir("dbussystemservicedir"), "org.kneed.Kneed1.service"): r,
        os.path.join(install_dir("dbussystempolicydir"), "org.kneed.Kneed1.conf"): r,
        os.path.join(install_dir("dbusinterfacesdir"), "org.kneed.Kneed1.xml"): r,
        os.path.join(install_dir("polkitactiondir"), "org.kneed.Kneed1.policy"): r,
        os.path.join(install_dir("bashcompletiondir"), "kneectl"): r,
        os.path.join(install_dir("docdir"), "policy.conf.example"): r,
    }
    for page in ("man8/kneed.8", "man1/kneectl.1", "man5/kneed-policy.conf.5",
                 "man5/kneed.routine.5", "man5/kneed.device.5"):
        files[os.path.join(install_dir("mandir"), page)] = r
    for plugin in ("virtual", "okmp", "hid-haptics", "rez-trancevibrator"):
        files[os.path.join(install_dir("pluginsdir"), plugin + ".so")] = x
    # Every shipped routine and device file, as in the source tree.
    for kind in ("routines", "devices"):
        for path in glob.glob(os.path.join(SOURCE_DIR, "data", kind, "*")):
            files[os.path.join(install_dir("datadir"), kind, os.path.basename(path))] = r
    return files


def unit_file(path):
    """A systemd unit as {section: {key: [values]}}: keys repeat in units."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"), empty_lines_in_values=False,
                                       dict_type=_MultiDict)
    parser.optionxform = str
    with open(path) as f:
        parser.read_file(f)
    return {s: {k: v.split("\n") for k, v in parser[s].items()} for s in parser.sections()}


class _MultiDict(dict):
    """Keeps every value of a repeated key, newline-separated, as systemd reads them."""
    def __setitem__(self, key, value):
        if isinstance(value, list) and key in self:
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


class InstallTest(KneedTestCase):
    destdir = None

    @classmethod
    def setUpClass(cls):
        cls.destdir = tempfile.mkdtemp(prefix="kneed-install-")
        subprocess.run([shutil.which("meson"), "install", "-C", BUILD_DIR, "--destdir", cls.destdir,
                        "--no-rebuild", "--quiet"], check=True, timeout=timeout(300),
                       stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.destdir, ignore_errors=True)

    def installed(self, path):
        return self.destdir + path

    def test_installed_tree(self):
        want = expected_files()
        got = {}
        for root, dirs, files in os.walk(self.destdir):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                path = os.path.join(root, name)
                got[path[len(self.destdir):]] = os.lstat(path).st_mode
        print("installed:\n" + "\n".join(f"  {stat.filemode(m)} {p}" for p, m in sorted(got.items())))
        self.assertEqual(sorted(set(want) - set(got)), [], "missing from the install")
        self.assertEqual(sorted(set(got) - set(want)), [], "installed but not expected")
        for path, mode in want.items():
            self.assertTrue(stat.S_ISREG(got[path]), f"{path} is not a regular file")
            self.assertEqual(stat.S_IMODE(got[path]), mode,
                             f"{path} has mode {stat.S_IMODE(got[path]):o}, expected {mode:o}")

    def test_unit_verifies(self):
        unit = self.installed(os.path.join(install_dir("systemdsystemunitdir"), "kneed.service"))
        u = unit_file(unit)
        service = u["Service"]
        self.assertEqual(service["Type"], ["dbus"])
        self.assertEqual(service["BusName"], ["org.kneed.Kneed1"])
        self.assertEqual(service["User"], ["kneed"])
        self.assertEqual(service["StateDirectory"], ["kneed"])
        self.assertIn("WatchdogSec", service)
        # What the issue names, exactly; the exposure test below scores the rest.
        self.assertEqual(service["CapabilityBoundingSet"], [""])
        for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "MemoryDenyWriteExecute"):
            self.assertEqual(service[key], ["yes"], key)
        self.assertEqual(service["ProtectSystem"], ["strict"])
        self.assertEqual(service["DevicePolicy"], ["closed"])
        self.assertEqual(sorted(service["DeviceAllow"]), ["char-hidraw rw", "char-usb_device rw"])
        self.assertEqual(service["RestrictAddressFamilies"], ["AF_UNIX AF_NETLINK"])
        self.assertIn("@system-service", service["SystemCallFilter"])
        self.assertEqual(service["UMask"], ["0077"])
        self.assertNotIn("PrivateNetwork", service)
        self.assertNotIn("PrivateDevices", service)

        # ExecStart names the installed daemon, with idle exit on.
        exec_start = service["ExecStart"][0].split()
        self.assertEqual(exec_start[0], os.path.join(install_dir("sbindir"), "kneed"))
        self.assertTrue(os.access(self.installed(exec_start[0]), os.X_OK))
        self.assertIn("--system", exec_start)
        self.assertTrue(any(re.fullmatch(r"--exit-idle-time=[1-9]\d*", a) for a in exec_start))
        # The man pages the unit points at are installed.
        for doc in u["Unit"]["Documentation"][0].split():
            page, section = re.fullmatch(r"man:([\w.-]+)\((\d)\)", doc).groups()
            self.assertTrue(os.path.exists(self.installed(os.path.join(
                install_dir("mandir"), f"man{section}", f"{page}.{section}"))), doc)

        # systemd-analyze verify, against this machine's systemd (dbus.socket and all), with
        # ExecStart pointed into the destdir where the daemon really is. man is not
        # installed here; the man pages were checked above.
        verify_dir = tempfile.mkdtemp(dir=self.tmpdir)
        with open(unit) as f:
            text = f.read().replace("ExecStart=" + exec_start[0],
                                    "ExecStart=" + self.installed(exec_start[0]))
        with open(os.path.join(verify_dir, "kneed.service"), "w") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(verify_dir, "kneed.service")],
                           capture_output=True, text=True, timeout=timeout(60))
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_unit_exposure(self):
        unit = self.installed(os.path.join(install_dir("systemdsystemunitdir"), "kneed.service"))
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit],
                           capture_output=True, text=True, timeout=timeout(60))
        print(r.stdout)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"Overall exposure level for kneed\.service: (\d+\.\d)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        exposure = float(m.group(1))
        print(f"exposure {exposure} (target ≤ {EXPOSURE_TARGET})")
        self.assertLessEqual(exposure, EXPOSURE_TARGET)

    def test_user_group_and_device_access_agree(self):
        # systemd-sysusers, on a root holding only our sysusers.d file, creates the user.
        root = os.path.join(self.tmpdir, "root")
        sysusers = os.path.join(root, install_dir("sysusersdir").lstrip("/"))
        os.makedirs(sysusers)
        os.makedirs(os.path.join(root, "etc"))
        shutil.copy(self.installed(os.path.join(install_dir("sysusersdir"), "kneed.conf")),
                    sysusers)
        subprocess.run(["systemd-sysusers", f"--root={root}"], check=True, capture_output=True,
                       timeout=timeout(60))
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = {line.split(":")[0]: line.split(":") for line in f}
        with open(os.path.join(root, "etc", "group")) as f:
            groups = {line.split(":")[0] for line in f}
        self.assertIn("kneed", users)
        self.assertIn("kneed", groups)
        self.assertIn(users["kneed"][6].strip(), ("/usr/sbin/nologin", "/sbin/nologin"))

        # The unit runs as that user and group; the udev rules give the group the nodes and
        # start the unit; the rules run the probe helper at the path it is installed at.
        u = unit_file(self.installed(os.path.join(install_dir("systemdsystemunitdir"),
                                                  "kneed.service")))
        self.assertEqual(u["Service"]["Group"], ["kneed"])
        with open(self.installed(os.path.join(install_dir("udevdir"), "rules.d",
                                              "70-kneed.rules"))) as f:
            rules = f.read()
        device_rules = [line for line in rules.splitlines() if 'GROUP="' in line]
        self.assertTrue(device_rules)
        for line in device_rules:
            self.assertIn('GROUP="kneed", MODE="0660"', line)
            self.assertIn('ENV{SYSTEMD_WANTS}+="kneed.service"', line)
            self.assertNotIn("uaccess", line)
        probes = re.findall(r'IMPORT\{program\}="(\S+)', rules)
        self.assertTrue(probes)
        for probe in probes:
            self.assertTrue(os.access(self.installed(probe), os.X_OK), probe)

        # D-Bus activation hands over to the unit that owns the name.
        activation = configparser.ConfigParser(interpolation=None)
        activation.optionxform = str
        activation.read(self.installed(os.path.join(install_dir("dbussystemservicedir"),
                                                    "org.kneed.Kneed1.service")))
        self.assertEqual(activation["D-BUS Service"]["Name"], u["Service"]["BusName"][0])
        self.assertEqual(activation["D-BUS Service"]["SystemdService"], "kneed.service")

    def test_out_of_tree_plugin(self):
        # Build it the way a third party would: the compiler, pkg-config and the installed tree.
        pc_env = dict(os.environ,
                      PKG_CONFIG_PATH=self.installed(os.path.join(install_dir("libdir"),
                                                                  "pkgconfig")),
                      PKG_CONFIG_SYSROOT_DIR=self.destdir)
        cflags = subprocess.run(["pkg-config", "--cflags", "kneed-plugin"], env=pc_env,
                                check=True, capture_output=True, text=True).stdout.split()
        self.assertIn("-I" + self.installed(install_dir("includedir")), cflags)
        plugins = subprocess.run(["pkg-config", "--variable=pluginsdir", "kneed-plugin"],
                                 env=pc_env, check=True, capture_output=True,
                                 text=True).stdout.strip()
        # pkg-config leaves variables alone; the plugin dir is the one kneed reads.
        self.assertEqual(plugins.removeprefix(self.destdir), install_dir("pluginsdir"))
        plugin = self.installed(os.path.join(install_dir("pluginsdir"), "oot-example.so"))
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-shared", "-fPIC", "-Wall", "-Werror", *cflags, "-o", plugin,
                        os.path.join(SOURCE_DIR, "tests", "out-of-tree-plugin", "oot-example.c")],
                       check=True, timeout=timeout(120))

        try:
            self._run_installed_kneed_with(plugin)
        finally:
            os.unlink(plugin)

    def _run_installed_kneed_with(self, plugin):
        data = os.path.join(self.tmpdir, "data")
        shutil.copytree(self.installed(install_dir("datadir")), data)
        record = os.path.join(self.tmpdir, "record")
        with open(os.path.join(DATA_DIR, "devices", "virtual.device")) as f:
            device = (f.read().replace("Match=virtual:virtual", "Match=virtual:oot")
                      .replace("Plugin=virtual", "Plugin=oot-example")
                      .replace("Keepalive=yes", "Keepalive=no"))
        with open(os.path.join(data, "devices", "oot.device"), "w") as f:
            f.write(device + f"\n[Plugin oot-example]\nRecord={record}\n")

        k = self.start_kneed(binary=self.installed(os.path.join(install_dir("sbindir"), "kneed")),
                             plugin_dir=os.path.dirname(plugin), data_dir=data, virtual="oot",
                             trace=False)
        self.assertRegex(k.log(), r"Loaded plugin 'oot-example' from " + re.escape(plugin))
        kneectl = self.installed(os.path.join(install_dir("bindir"), "kneectl"))
        devices = subprocess.run([kneectl, f"--address={self.bus.address}", "devices"],
                                 check=True, capture_output=True, text=True,
                                 timeout=timeout(30)).stdout
        self.assertRegex(devices, r"virtual0\s.*\soot-example\s")
        subprocess.run([kneectl, f"--address={self.bus.address}", "start", "calf-release",
                        "--device", "virtual0"], check=True, capture_output=True,
                       timeout=timeout(30))

        def lines():
            with open(record) as f:
                return f.read().splitlines()

        wait_for(lambda: any(" output zone=calves level=" in line for line in lines()),
                 what="the out-of-tree plugin to drive the calves")
        subprocess.run([kneectl, f"--address={self.bus.address}", "stop", "virtual0"],
                       check=True, capture_output=True, timeout=timeout(30))
        wait_for(lambda: lines()[-1] == "virtual0 stop", what="the plugin's stop")
        self.assertEqual(k.stop(), 0)
        self.assertEqual(lines()[0], "virtual0 probe")
        self.assertEqual(lines()[-1], "virtual0 remove")


if __name__ == "__main__":
    main()
