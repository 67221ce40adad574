# SPDX-License-Identifier: MIT
"""The generated udev rules, evaluated by udev itself (`udevadm test`) against emulated devices:
supported devices go to the kneed group, start kneed and are not given to the seat's user;
standard haptic controllers are found by kneed-hid-probe reading their report descriptor; other
devices are left alone.

udevadm reads /sys and the rules directories: each run is in a mount namespace of its own with
the emulated sysfs (a umockdev testbed) on /sys, only kneed's rules and probe in udev's
directory, and a kneed group in /etc/group. Nothing of the machine's udev is touched."""

import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from emulated import HidrawDevice, Testbed, UsbDevice  # noqa: E402
from kneedtest import BUILD_DIR  # noqa: E402
from test_devices import (  # noqa: E402
    HAPTIC_GAMEPAD_DESCRIPTOR,
    KEYBOARD_DESCRIPTOR,
    OKMP_DESCRIPTOR,
    SURFACE_DIAL_DESCRIPTOR,
)

RULES = os.path.join(BUILD_DIR, "udev", "70-kneed.rules")
PROBE = os.path.join(BUILD_DIR, "udev", "kneed-hid-probe")
KNEED_GID = 990


def probe_path():
    """Where the rules run the probe from: the udev directory the build was configured for."""
    with open(RULES) as f:
        return re.search(r'IMPORT\{program\}="(\S+) ', f.read()).group(1)


class UdevRulesTest(unittest.TestCase):
    def setUp(self):
        self.bed = Testbed()
        self.tmp = tempfile.mkdtemp(prefix="kneed-udev-")

    def tearDown(self):
        self.bed.close()
        subprocess.run(["rm", "-rf", self.tmp], check=True)

    def udevadm_test(self, dev):
        """udevadm test on the device's node; returns (properties, rule actions)."""
        udevdir = os.path.dirname(probe_path())
        with open("/etc/group") as f:
            group = f.read()
        with open(os.path.join(self.tmp, "group"), "w") as f:
            f.write(group + f"kneed:x:{KNEED_GID}:\n")
        script = f"""set -e
mount --make-rprivate /
mount --bind '{self.bed.root}/sys' /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/udev
mount -t tmpfs tmpfs '{udevdir}'
mkdir '{udevdir}/rules.d'
cp '{RULES}' '{udevdir}/rules.d/'
cp '{PROBE}' '{probe_path()}'
mount --bind '{self.tmp}/group' /etc/group
SYSTEMD_DEVICE_VERIFY_SYSFS=0 exec udevadm test --action=add '{dev.syspath}'
"""
        r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        properties = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        actions = re.findall(r"70-kneed\.rules:\d+ (\w+ \S+)", r.stdout + r.stderr)
        self.assertIn("Reading rules file", r.stdout + r.stderr)
        return properties, actions

    def assert_kneeds(self, dev, plugin):
        props, actions = self.udevadm_test(dev)
        self.assertEqual(props.get("ID_KNEED_PLUGIN"), plugin, props)
        self.assertIn(f"GROUP {KNEED_GID}", actions)
        self.assertIn("MODE 0660", actions)
        self.assertEqual(props.get("SYSTEMD_WANTS"), "kneed.service")
        self.assertIn(":systemd:", props.get("TAGS", ""))
        # Only the daemon opens the node: nothing gives it to the seat's user.
        self.assertNotIn("uaccess", props.get("TAGS", ""))

    def assert_left_alone(self, dev):
        props, actions = self.udevadm_test(dev)
        self.assertNotIn("ID_KNEED_PLUGIN", props)
        self.assertNotIn("SYSTEMD_WANTS", props)
        self.assertEqual([a for a in actions if a.startswith(("GROUP", "MODE"))], [])

    def test_devices_from_the_database(self):
        okmp = HidrawDevice(self.bed, 0, 0x1209, 0x0001, OKMP_DESCRIPTOR)
        rez = UsbDevice(self.bed, 5, 0x0B49, 0x064F)
        okmp.plug()
        rez.plug()
        self.assert_kneeds(okmp, "okmp")
        self.assert_kneeds(rez, "rez-trancevibrator")

    def test_haptic_controllers_by_their_descriptor(self):
        pad = HidrawDevice(self.bed, 0, 0x045E, 0x0B13, HAPTIC_GAMEPAD_DESCRIPTOR)
        pad.plug()
        self.assert_kneeds(pad, "hid-haptics")

    def test_other_devices_are_left_alone(self):
        devices = [
            HidrawDevice(self.bed, 1, 0x046D, 0xC31C, KEYBOARD_DESCRIPTOR),
            # A haptic controller without Intensity: not one kneed drives.
            HidrawDevice(self.bed, 2, 0x045E, 0x091B, SURFACE_DIAL_DESCRIPTOR),
            # Garbage for a descriptor.
            HidrawDevice(self.bed, 3, 0x1234, 0x5678, bytes(range(7, 250, 3))),
            UsbDevice(self.bed, 7, 0x1234, 0x5678),
        ]
        for d in devices:
            d.plug()
        for d in devices:
            self.assert_left_alone(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
