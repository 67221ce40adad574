# SPDX-License-Identifier: MIT
"""--exit-idle-time: with no devices and no sessions kneed exits after the idle period (D-Bus
activation and udev start it again), and never while it has a device or a session."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import BUS_NAME, KneedTestCase, main, timeout  # noqa: E402


class IdleExitTest(KneedTestCase):
    def test_exits_when_idle(self):
        start = time.monotonic()
        k = self.start_kneed(virtual=None, args=["--exit-idle-time=1"])
        self.assertEqual(k.wait_exit(seconds=10), 0, k.log())
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        self.assertIn("No devices and no sessions for 1 s, exiting", k.log())
        # It gave its name up before going.
        self.assertNotEqual(self.busctl("status", BUS_NAME, check=False).returncode, 0)

    def test_stays_with_a_device(self):
        k = self.start_kneed(virtual="1", args=["--exit-idle-time=1"])
        time.sleep(timeout(2.5))
        self.assertIsNone(k.process.poll(), k.log())
        self.assertNotIn("exiting", k.log())

    def test_never_without_the_option(self):
        k = self.start_kneed(virtual=None)
        time.sleep(timeout(1.5))
        self.assertIsNone(k.process.poll(), k.log())


if __name__ == "__main__":
    main()
