# SPDX-License-Identifier: MIT
"""Devices that fail: faults inside and outside plugin hooks, failed commands, failed stops,
lost keepalives. Whatever fails, the device ends stopped or marked faulted, never idle."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    DEVICE_IFACE,
    DEVICE_PREFIX,
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    KneedTestCase,
    main,
    wait_for,
)

SCALE = "--time-scale=60"


class DeviceFaultTest(KneedTestCase):
    def start(self, models, virtual, **kwargs):
        data = self.make_data_dir(models)
        return self.start_kneed(virtual=virtual, data_dir=data, args=[SCALE], **kwargs)

    def device_state(self, dev):
        return self.client.get(DEVICE_PREFIX + dev, DEVICE_IFACE, "State")

    def test_fault_reported_inside_set_output(self):
        # The plugin reports a fault from inside set_output() and returns success.
        k = self.start({"flaky": "FaultInSetOutput=1\n"}, "flaky,virtual")
        e = self.assertDBusError("org.kneed.Kneed1.Error.DeviceFaulted", self.client.call,
                                 DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Identify")
        self.assertIn("simulated motor fault", e.message)
        self.assertEqual(self.device_state("virtual0"), "faulted")
        # It was stopped right after the command, and no keepalive ever followed.
        self.assertEqual([e["op"] for e in k.trace.lines() if e["dev"] == "virtual0"],
                         ["stop", "set", "stop"])
        # Faulted is final: no identify, no routine, even after the buzz time has passed.
        self.client.pump(0.6)
        self.assertEqual(self.device_state("virtual0"), "faulted")
        self.assertDBusError("org.kneed.Kneed1.Error.DeviceFaulted", self.client.call,
                             DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Identify")
        self.assertDBusError("org.kneed.Kneed1.Error.DeviceFaulted", self.start_routine,
                             "calf-release")
        # Stopping it still works, and the other device carries on.
        self.client.call(DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Stop")
        path = self.start_routine("calf-release", "virtual1", detach=True)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")
        self.assertRegex(k.log(), r"Device virtual0: simulated motor fault, stopping it")

    def test_failed_command_aborts_the_session(self):
        k = self.start({"flaky": "FailSetOutput=2\n"}, "flaky")
        path = self.start_routine("calf-release", detach=True)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "device-fault"))
        self.assertEqual(self.device_state("virtual0"), "faulted")
        self.assertEqual(k.trace.commands("virtual0")[-1]["op"], "stop")
        self.assertIn("output command failed", k.log())

    def test_fault_reported_later_aborts_the_session(self):
        k = self.start({"flaky": "FaultAfterMs=300\n"}, "flaky")
        path = self.start_routine("calf-release", detach=True)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "device-fault"))
        self.assertEqual(self.device_state("virtual0"), "faulted")
        self.assertEqual(k.trace.commands("virtual0")[-1]["op"], "stop")
        self.assertIn("the device reported a fault (bits 0x01)", k.log())

    def test_failed_stop_is_a_fault_not_idle(self):
        k = self.start({"stuck": "FailStop=1\n"}, "stuck,virtual", expect_failure=True)
        path = self.start_routine("calf-release", detach=True)
        # Stop never fails for the caller...
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "stopped")
        # ...but the device that didn't stop is faulted, loudly.
        self.assertEqual(self.device_state("virtual0"), "faulted")
        self.assertEqual(self.device_state("virtual1"), "idle")
        self.assertIn("Device virtual0: the stop command failed, marking it faulted", k.log())
        # And the daemon's exit says not every device confirmed the stop.
        k.signal(signal.SIGTERM)
        self.assertNotEqual(k.wait_exit(), 0)
        self.assertIn("Not every device confirmed the stop", k.log())

    def test_lost_keepalives_trip_the_dead_man_switch(self):
        k = self.start({"lossy": "DropKeepalivesAfterMs=500\n"}, "lossy")
        path = self.start_routine("runners-knee-full", detach=True)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "keepalive"))
        lines = [e for e in k.trace.lines() if e["dev"] == "virtual0"]
        stop = next(i for i, e in enumerate(lines) if e.get("reason") == "keepalive")
        first = next(e for e in lines if e["op"] == "set")
        # Keepalives stop arriving 0.5 s in...
        self.assertFalse([e for e in lines[:stop] if e["op"] == "keepalive"
                          and e["t_us"] - first["t_us"] > 500_000])
        # ...and the firmware, for which any command is a sign of life, waits KeepaliveMs
        # (1 s) after the last one before it stops by itself.
        quiet = lines[stop]["t_us"] - lines[stop - 1]["t_us"]
        self.assertGreater(quiet, 950_000)
        self.assertLess(quiet, 1_100_000)
        self.assertEqual(self.device_state("virtual0"), "idle")
        self.assertIn("Device virtual0 stopped on its own (keepalive)", k.log())

    def test_keepalives_only_while_running(self):
        k = self.start({}, "virtual")
        path = self.start_routine("pfps-massage-gun", detach=True)
        self.client.wait_signal("Finished", seconds=10, path=path)
        lines = [e for e in k.trace.lines() if e["dev"] == "virtual0"]
        ops = [e["op"] for e in lines]
        self.assertIn("keepalive", ops)
        # None before the first command or after the final stop.
        self.assertLess(ops.index("set"), ops.index("keepalive"))
        self.assertEqual(ops[-1], "stop")
        self.client.pump(1.0)
        self.assertEqual([e["op"] for e in k.trace.lines() if e["dev"] == "virtual0"][-1], "stop")
        self.assertTrue(wait_for(lambda: True))


if __name__ == "__main__":
    main()
