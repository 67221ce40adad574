# SPDX-License-Identifier: MIT
"""Real device paths with emulated hardware: the real kneed runs under umockdev, so sd-device
enumeration and monitoring, hidraw ioctls, reads and writes, and libusb's usbfs URBs all really
run; this test plays the firmware (emulated.py). For each hardware plugin: coldplug, hotplug,
the exact reports or transfers a routine produces, StopAll, unplug mid-session, replug, and
devices that fail in the ways real ones do."""

import errno
import os
import re
import shutil
import signal
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from emulated import HidrawDevice, Testbed, UsbDevice  # noqa: E402
from kneedtest import (  # noqa: E402
    DATA_DIR,
    DEVICE_IFACE,
    DEVICE_PREFIX,
    MANAGER_IFACE,
    MANAGER_PATH,
    PERMISSIVE_POLICY,
    SESSION_IFACE,
    SOURCE_DIR,
    WRAPPER,
    KneedTestCase,
    cpu_ticks,
    main,
    mapped_files,
    wait_for,
)

# Keepalives every 100 ms, so a test sees many in a short routine.
KEEPALIVE_MS = 300
POLICY = PERMISSIVE_POLICY.replace("[Limits]\n", f"[Limits]\nKeepaliveMs={KEEPALIVE_MS}\n")

# plugins/okmp/README.md: the report descriptor, and a device with three motors (quadriceps,
# hamstrings, calves), levels 0..10, a heater up to 45 C and every sensor.
OKMP_DESCRIPTOR = bytes.fromhex(
    "064BFF 0901 A101 1500 26FF00 7508"
    "8501 950F 0910 B102"
    "8502 950D 0920 9102"
    "8503 9502 0930 9102"
    "8504 950D 0940 8102"
    "C0".replace(" ", ""))
OKMP_CAPABILITIES = bytes([1, 1, 3, 1, 5, 6, 0, 0, 0, 0, 0, 10, 45, 7, 0, 0])
OKMP_ZONES = ["quadriceps", "hamstrings", "calves"]
OKMP_STOP = (2, (0,) * 8, 0, 0, 0)



def load_descriptor(name):
    """A report descriptor from plugins/hid-haptics/test-descriptors, whose .txt names its
    source."""
    with open(os.path.join(SOURCE_DIR, "plugins", "hid-haptics", "test-descriptors", name),
              "rb") as f:
        return f.read()


# A HID keyboard (HID 1.11 appendix B.1): no plugin drives it.
KEYBOARD_DESCRIPTOR = load_descriptor("hid-1.11-boot-keyboard.bin")
# The Surface Dial: a real haptic controller, but without Intensity, so not one kneed drives.
SURFACE_DIAL_DESCRIPTOR = load_descriptor("microsoft-surface-dial.bin")

# A game pad with a Simple Haptic Controller: gamepad_haptics in
# plugins/hid-haptics/test-hid-descriptor.c (hand-written; no published descriptor has all of
# Manual Trigger, Intensity and a continuous waveform). Output report 1: Intensity (16 bits,
# 0..65535), Manual Trigger (8 bits, 1..4), Repeat Count (8), Retrigger Period (16, 10..1000).
HAPTIC_GAMEPAD_DESCRIPTOR = bytes.fromhex(
    "05010905a101850105091901290815002501750195088102050e0901a1020910a1040b03000a000b04000a00"
    "7510950227ffff0000b142c00911a1040b03000a000b04000a00b142c00923950191020921150125047508"
    "910209241500250191020925150a26e80375109102c0c0")
# Its Waveform List (feature report 1): ordinal 3 is Rumble Continuous, 4 Buzz Continuous.
HAPTIC_GAMEPAD_WAVEFORMS = bytes([1, 0x05, 0x10, 0x04, 0x10, 0, 0, 0, 0])


def haptic_play(percent, ordinal=4):
    """The output report for the game pad: intensity scaled onto 0..65535, rounded."""
    intensity = (percent * 65535 + 50) // 100
    return struct.pack("<BHBBH", 1, intensity, ordinal, 0, 10)


HAPTIC_STOP = haptic_play(0, ordinal=2)

REZ_VID, REZ_PID = 0x0B49, 0x064F
REZ_SPEED = (0x41, 1)  # bmRequestType, bRequest of the speed transfer

# Two short steps: a heated one on the calves and a pulsing one on the hamstrings, at the
# start intensity cap, so no ramp shapes the levels.
HW_ROUTINES = {
    "hw-heat": """[Routine]
Id=hw-heat
Name=Hardware test with heat
Condition=Test
Summary=Two short steps.
Source=tests/integration/test_devices.py
[Step 1]
Zone=calves
Pattern=continuous
Intensity=20
Duration=1s
Heat=38
Cue=Calves.
[Step 2]
Zone=hamstrings
Pattern=pulse
Intensity=20
Duration=1s
Cue=Hamstrings.
""",
    "hw-plain": """[Routine]
Id=hw-plain
Name=Hardware test
Condition=Test
Summary=Two short steps.
Source=tests/integration/test_devices.py
[Step 1]
Zone=calves
Pattern=continuous
Intensity=20
Duration=1s
Cue=Calves.
[Step 2]
Zone=hamstrings
Pattern=knead
Intensity=10
Duration=1s
Cue=Hamstrings.
""",
    "hw-long": """[Routine]
Id=hw-long
Name=Long hardware test
Condition=Test
Summary=One long step.
Source=tests/integration/test_devices.py
[Step 1]
Zone=calves
Pattern=continuous
Intensity=20
Duration=5m
Cue=Calves.
""",
}


def outputs(report):
    """Report 2 without its sequence number: (id, levels, pattern, heat, dead-man ms)."""
    return (report[0], tuple(report[1:9]), report[9], report[10], report[11] | report[12] << 8)


def okmp_status(temperature_dc=250, contact=1, faults=0, levels=(0,) * 8, heat=0):
    return struct.pack("<BhBB8BB", 4, temperature_dc, contact, faults, *levels, heat)


class OkmpFirmware:
    """What an okmp microcontroller does with the reports (plugins/okmp/README.md): runs what
    report 2 says and stops by itself when neither report 2 nor 3 arrives within the dead-man
    timeout, which it then says in every status report until the next report 2."""

    def __init__(self, dev):
        self.dev, self.lock = dev, threading.Lock()
        self.levels, self.heat, self.deadman_ms = (0,) * 8, 0, 0
        self.deadman_stopped = False
        self.drop_keepalives = False  # a lossy link: report 3 never arrives
        self.timer = None
        dev.on_write = self.on_write

    def on_write(self, data):
        with self.lock:
            if data[0] == 2:
                _, self.levels, _, self.heat, self.deadman_ms = outputs(data)
                self.deadman_stopped = False
            elif data[0] != 3 or self.drop_keepalives:
                return
            self._rearm()

    def _rearm(self):
        if self.timer:
            self.timer.cancel()
        self.timer = None
        if self.deadman_ms and (any(self.levels) or self.heat):
            self.timer = threading.Timer(self.deadman_ms / 1000, self._deadman)
            self.timer.start()

    def _deadman(self):
        with self.lock:
            self.levels, self.heat, self.deadman_stopped = (0,) * 8, 0, True
            report = okmp_status(faults=0x10, levels=self.levels)
        self.dev.push_input(report)

    def close(self):
        with self.lock:
            if self.timer:
                self.timer.cancel()


class EmulatedTestCase(KneedTestCase):
    def setUp(self):
        super().setUp()
        self.bed = Testbed()
        self.firmware = []
        routines = os.path.join(self.tmpdir, "routines.d")
        os.mkdir(routines)
        for name, text in HW_ROUTINES.items():
            with open(os.path.join(routines, name + ".routine"), "w") as f:
                f.write(text)

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            for fw in self.firmware:
                fw.close()
            self.bed.close()

    def start(self, args=(), **kwargs):
        kwargs.setdefault("policy", POLICY)
        k = self.start_kneed(virtual=None, hardware=True, env=self.bed.env(), args=args,
                             **kwargs)
        # Subscribe now, before any hotplug, so that no InterfacesAdded is missed: a call
        # after the subscription returns once the bus has its match rule.
        self.device_names()
        return k

    def okmp(self, minor=0, firmware=True, **kwargs):
        kwargs.setdefault("features", {1: OKMP_CAPABILITIES})
        dev = HidrawDevice(self.bed, minor, 0x1209, 0x0001, OKMP_DESCRIPTOR,
                           product="Knee wrap", **kwargs)
        if firmware:
            self.firmware.append(OkmpFirmware(dev))
        return dev

    def rez(self, devnum=5):
        return UsbDevice(self.bed, devnum, REZ_VID, REZ_PID, product="TranceVibrator")

    def device_path(self, dev):
        if isinstance(dev, UsbDevice):
            return f"{DEVICE_PREFIX}usb_{dev.busnum}_{dev.devnum}"
        return f"{DEVICE_PREFIX}hidraw{dev.minor}"

    def device_names(self):
        paths = self.client.get(MANAGER_PATH, MANAGER_IFACE, "Devices")
        return sorted(p[len(DEVICE_PREFIX):] for p in paths)

    def state(self, dev):
        return self.client.get(self.device_path(dev), DEVICE_IFACE, "State")

    def start_on(self, dev, routine, **options):
        return self.start_routine(routine, self.device_path(dev)[len(DEVICE_PREFIX):],
                                  detach=True, **options)

    def wait_added(self, dev, start=0):
        """Waits for the ObjectManager to announce the device, from signal index start on."""
        def find():
            self.client.pump()
            for i, s in enumerate(self.client.signals[start:], start):
                if s[2] == "InterfacesAdded" and s[3][0] == self.device_path(dev):
                    return (i, s)
            return None

        return wait_for(find, 10, what=f"{self.device_path(dev)} to appear")

    def assert_no_writes_for(self, seconds, *devices):
        counts = [(len(d.writes) if isinstance(d, HidrawDevice) else len(d.submitted))
                  for d in devices]
        time.sleep(seconds)
        after = [(len(d.writes) if isinstance(d, HidrawDevice) else len(d.submitted))
                 for d in devices]
        self.assertEqual(after, counts, "a device was written to when nothing should run")


class OkmpTest(EmulatedTestCase):
    def test_coldplug_and_the_reports_of_a_routine(self):
        dev = self.okmp()
        dev.plug()
        k = self.start()
        self.assertEqual(self.device_names(), ["hidraw0"])
        props = self.client.get_all(self.device_path(dev), DEVICE_IFACE)
        self.assertEqual(props["Name"], "Open knee massager (okmp)")
        self.assertEqual(props["Plugin"], "okmp")
        self.assertEqual(props["Transport"], "hidraw")
        # The device says what it has, within what the database allows.
        self.assertEqual(props["Zones"], OKMP_ZONES)
        self.assertEqual(props["Levels"], 10)
        self.assertTrue(props["HasHeat"])
        self.assertEqual(props["State"], "idle")
        # The first thing kneed sends a device is a stop.
        wait_for(lambda: dev.reports(2), what="the stop at bind")
        self.assertEqual([outputs(r) for r in dev.reports(2)], [OKMP_STOP])

        path = self.start_on(dev, "hw-heat")
        _, fin = self.client.wait_signal("Finished", seconds=15, path=path)
        self.assertEqual(fin[3], ("completed", "completed"))

        # Each step exactly as the README encodes it: one motor at level 2 of 10 (20 %), its
        # pattern, the heater in step 1 only, the dead-man timeout; stops around it.
        self.assertEqual([outputs(r) for r in dev.reports(2)], [
            OKMP_STOP,
            (2, (0, 0, 2, 0, 0, 0, 0, 0), 0, 38, KEEPALIVE_MS),
            (2, (0, 2, 0, 0, 0, 0, 0, 0), 1, 0, KEEPALIVE_MS),
            OKMP_STOP,
        ])
        # Reports 2 and 3 share one sequence that counts up by one.
        with dev.lock:
            writes, times = list(dev.writes), list(dev.write_times)
        self.assertEqual({w[0] for w in writes}, {2, 3})
        sequence = [w[13] if w[0] == 2 else w[1] for w in writes]
        self.assertEqual(sequence, [(sequence[0] + i) % 256 for i in range(len(sequence))])
        self.assertTrue(all(w == bytes([3, w[1], 0]) for w in writes if w[0] == 3))
        # Keepalives only while running, often enough that the firmware never stops by itself.
        running = [i for i, w in enumerate(writes) if w[0] == 2 and any(w[1:9])]
        first, last = running[0], len(writes) - 1
        self.assertEqual([w[0] for w in writes[:first]], [2])
        self.assertGreaterEqual(sum(1 for w in writes if w[0] == 3), 10)
        if not WRAPPER:
            gaps = [b - a for a, b in zip(times[first:last], times[first + 1:last + 1])]
            self.assertLess(max(gaps), KEEPALIVE_MS / 1000 * 0.6, "keepalive gap")
        self.assertNotIn("stopped on its own", k.log())

    def test_the_device_file_bounds_what_the_firmware_claims(self):
        # The firmware says quadriceps, hamstrings and calves, 10 levels, heat to 45 C; this
        # device file allows less of each.
        data = os.path.join(self.tmpdir, "data")
        shutil.copytree(DATA_DIR, data)
        path = os.path.join(data, "devices", "okmp.device")
        with open(path) as f:
            text = f.read()
        text = re.sub(r"(?m)^Zones=.*$", "Zones=quadriceps;calves;adductors", text)
        text = re.sub(r"(?m)^Levels=.*$", "Levels=5", text)
        text = re.sub(r"(?m)^MaxHeatCelsius=.*$", "MaxHeatCelsius=35", text)
        with open(path, "w") as f:
            f.write(text)
        dev = self.okmp()
        dev.plug()
        k = self.start(data_dir=data)
        props = self.client.get_all(self.device_path(dev), DEVICE_IFACE)
        self.assertEqual(props["Zones"], ["quadriceps", "calves"])
        self.assertEqual(props["Levels"], 5)
        self.assertIn("the firmware offers the hamstrings, which its device file doesn't list",
                      k.log())
        # hw-heat wants 38 C and the hamstrings in step 2: the device can't reach them now.
        self.assertDBusError("org.kneed.Kneed1.Error.Unsupported", self.start_on, dev,
                             "hw-heat")
        # A calves-only routine with heat: 20 % of 5 levels is 1, and the heater stops at 35.
        routine = HW_ROUTINES["hw-heat"].split("[Step 2]")[0].replace("Id=hw-heat",
                                                                       "Id=hw-calves-heat")
        with open(os.path.join(self.tmpdir, "routines.d", "hw-calves-heat.routine"), "w") as f:
            f.write(routine)
        k.signal(signal.SIGHUP)
        k.wait_log("policy-reload")
        path = self.start_on(dev, "hw-calves-heat")
        self.client.wait_signal("Finished", seconds=15, path=path)
        self.assertIn((2, (0, 1, 0, 0, 0, 0, 0, 0), 0, 35, KEEPALIVE_MS),
                      [outputs(r) for r in dev.reports(2)])

    def test_hotplug_stopall_unplug_and_replug(self):
        k = self.start()
        self.assertEqual(self.device_names(), [])
        dev = self.okmp()
        # A HID device no plugin drives is left alone.
        keyboard = HidrawDevice(self.bed, 1, 0x046D, 0xC31C, KEYBOARD_DESCRIPTOR,
                                product="Keyboard")
        keyboard.plug()
        dev.plug()
        self.wait_added(dev)
        self.assertEqual(self.device_names(), ["hidraw0"])
        self.assertEqual(keyboard.writes, [])

        # StopAll: the device is told to stop at once.
        path = self.start_on(dev, "hw-long")
        wait_for(lambda: len(dev.reports(2)) >= 2, what="the first command")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        self.assertEqual(outputs(dev.reports(2)[-1]), OKMP_STOP)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "StopReason"), "stop-all")
        self.assertEqual(self.state(dev), "idle")

        # Unplugged mid-session: the session ends, the object goes, nothing is written again.
        path = self.start_on(dev, "hw-long")
        wait_for(lambda: outputs(dev.reports(2)[-1]) != OKMP_STOP, what="the session to run")
        mark = len(self.client.signals)
        dev.unplug()
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path, start=mark)
        self.assertEqual(fin[3], ("aborted", "unplugged"))
        self.client.wait_signal("InterfacesRemoved", seconds=10, start=mark)
        self.assertEqual(self.device_names(), [])
        time.sleep(0.5)
        self.assertEqual(dev.late_writes, [])
        self.assertRegex(k.log(), r"hidraw0.*unplugged|unplugged.*hidraw0")

        # Replugged: a new, idle device, stopped once and never resumed.
        written = len(dev.writes)
        mark = len(self.client.signals)
        dev.plug()
        self.wait_added(dev, start=mark)
        self.assertEqual(self.state(dev), "idle")
        wait_for(lambda: len(dev.writes) > written, what="the stop at bind")
        self.assert_no_writes_for(0.5, dev)
        self.assertEqual([outputs(r) for r in dev.writes[written:]], [OKMP_STOP])
        path = self.start_on(dev, "hw-long")
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")

    def test_keepalive_gap_stops_the_session(self):
        dev = self.okmp()
        dev.plug()
        k = self.start()
        path = self.start_on(dev, "hw-long")
        wait_for(lambda: len(dev.reports(3)) >= 3, what="keepalives")
        # The link starts losing keepalives: the firmware's dead-man switch stops the motors,
        # it says so, and kneed ends the session instead of believing the device still runs.
        self.firmware[0].drop_keepalives = True
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "keepalive"))
        self.assertEqual(outputs(dev.reports(2)[-1]), OKMP_STOP)
        self.assertEqual(self.state(dev), "idle")
        self.assertIn("stopped on its own (keepalive)", k.log())
        # Nothing broke: the next session runs.
        self.firmware[0].drop_keepalives = False
        path = self.start_on(dev, "hw-long")
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")

    def test_over_temperature_stops_everything(self):
        dev = self.okmp()
        dev.plug()
        k = self.start()
        path = self.start_on(dev, "hw-heat")
        wait_for(lambda: len(dev.reports(2)) >= 2, what="the first command")
        # 45.0 C at the skin: above the 43 C hard maximum.
        dev.push_input(okmp_status(temperature_dc=450, levels=(0, 0, 2, 0, 0, 0, 0, 0), heat=38))
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "overheat"))
        self.assertEqual(outputs(dev.reports(2)[-1]), OKMP_STOP)
        self.assertIn("above the hard maximum of 43 C", k.log())
        e = self.assertDBusError("org.kneed.Kneed1.Error.LockedOut", self.start_on, dev,
                                 "hw-long")
        self.assertIn("overheated", e.message)

    def test_firmware_running_above_the_command_is_a_fault(self):
        dev = self.okmp()
        dev.plug()
        k = self.start()
        path = self.start_on(dev, "hw-long")
        wait_for(lambda: len(dev.reports(2)) >= 2, what="the first command")
        dev.push_input(okmp_status(levels=(0, 0, 9, 0, 0, 0, 0, 0)))
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "device-fault"))
        self.assertEqual(self.state(dev), "faulted")
        self.assertEqual(outputs(dev.reports(2)[-1]), OKMP_STOP)
        self.assertIn("runs a motor above what kneed asked for", k.log())

    def test_garbage_input_faults_only_that_device(self):
        noisy, quiet = self.okmp(0), self.okmp(1)
        noisy.plug()
        quiet.plug()
        k = self.start()
        self.assertEqual(self.device_names(), ["hidraw0", "hidraw1"])
        noisy_session = self.start_on(noisy, "hw-long")
        quiet_session = self.start_on(quiet, "hw-long")
        # Now and then a malformed report is only ignored...
        for junk in (b"", b"\x04", b"\x09" * 14, bytes([4]) + b"\xff" * 13):
            noisy.push_input(junk)
        noisy.push_input(okmp_status(temperature_dc=300, levels=(0, 0, 2, 0, 0, 0, 0, 0)))
        wait_for(lambda: self.client.get(self.device_path(noisy), DEVICE_IFACE, "State") ==
                 "running" and not noisy.inq, what="the reports to be read")
        self.assertEqual(self.client.get(noisy_session, SESSION_IFACE, "State"), "running")
        # ...but a device that sends nothing else is broken.
        for i in range(80):
            noisy.push_input(bytes([4, i]) + b"\xee" * 12)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=noisy_session)
        self.assertEqual(fin[3], ("aborted", "device-fault"))
        self.assertIn("only malformed status reports", k.log())
        self.assertEqual(outputs(noisy.reports(2)[-1]), OKMP_STOP)
        # The other device never noticed.
        self.assertEqual(self.client.get(quiet_session, SESSION_IFACE, "State"), "running")
        ka = len(quiet.reports(3))
        wait_for(lambda: len(quiet.reports(3)) > ka + 2, what="keepalives to go on")

    def test_a_device_that_floods_input_is_faulted(self):
        flooding, quiet = self.okmp(0), self.okmp(1)
        flooding.plug()
        quiet.plug()
        k = self.start()
        flood_session = self.start_on(flooding, "hw-long")
        quiet_session = self.start_on(quiet, "hw-long")
        wait_for(lambda: len(flooding.reports(2)) >= 2, what="the first command")
        # Each report is a good one (what kneed asked for); there are just far too many.
        status = okmp_status(levels=(0, 0, 2, 0, 0, 0, 0, 0))
        stop = threading.Event()

        def flood():
            # As fast as kneed reads, with a few hundred always waiting (not more: each one
            # is a byte in the emulator's wake-up pipe, which must not fill).
            while not stop.is_set():
                while len(flooding.inq) < 256:
                    flooding.push_input(status)
                time.sleep(0.0005)

        flooder = threading.Thread(target=flood)
        flooder.start()
        try:
            _, fin = self.client.wait_signal("Finished", seconds=20, path=flood_session)
        finally:
            stop.set()
            flooder.join()
        self.assertEqual(fin[3], ("aborted", "device-fault"))
        self.assertEqual(self.state(flooding), "faulted")
        self.assertRegex(k.log(), r"floods kneed with input reports \(more than \d+ in one second\)")
        self.assertEqual(outputs(flooding.reports(2)[-1]), OKMP_STOP)
        # The other device never noticed...
        self.assertEqual(self.client.get(quiet_session, SESSION_IFACE, "State"), "running")
        ka = len(quiet.reports(3))
        wait_for(lambda: len(quiet.reports(3)) > ka + 2, what="keepalives to go on")
        # ...and kneed, no longer reading the flooding device, is idle again: no busy loop.
        before = cpu_ticks(k.process.pid)
        time.sleep(1.0)
        self.assertLess(cpu_ticks(k.process.pid) - before, 10)  # under a tenth of a core

    def test_write_errors(self):
        devs = [self.okmp(i) for i in range(4)]
        for d in devs:
            d.plug()
        # One model, four devices: a fault must not lock the model out for the others here.
        k = self.start(policy=POLICY + "[Lockout]\nFaultMinutes=0\n")
        # 0: the kernel says EAGAIN a few times; the report waits and then goes out.
        # 1: EAGAIN for longer than 500 ms: faulted. 2: a short write. 3: EIO.
        devs[0].eagain_writes = 3
        devs[1].eagain_writes = 10 ** 6
        devs[2].short_write = True
        devs[3].write_errno = errno.EIO
        sessions = []
        for d in devs:
            try:
                sessions.append(self.start_on(d, "hw-long"))
            except Exception as e:  # noqa: BLE001 - checked below
                sessions.append(e)
        wait_for(lambda: len(devs[0].reports(2)) >= 2, what="the delayed command")
        self.assertEqual(outputs(devs[0].reports(2)[1]),
                         (2, (0, 0, 2, 0, 0, 0, 0, 0), 0, 0, KEEPALIVE_MS))
        for d, s in zip(devs[1:], sessions[1:]):
            wait_for(lambda: self.state(d) == "faulted", what=f"hidraw{d.minor} to fault")
            if isinstance(s, str):
                self.assertIn(self.client.get(s, SESSION_IFACE, "State"), ("aborted",))
                self.assertEqual(self.client.get(s, SESSION_IFACE, "StopReason"),
                                 "device-fault")
        self.assertEqual(self.client.get(sessions[0], SESSION_IFACE, "State"), "running")
        self.assertEqual(self.state(devs[0]), "running")
        log = k.log()
        self.assertIn("Device hidraw1: the device accepted no output for 500 ms", log)
        self.assertIn("Device hidraw2: output command failed, stopping it: Input/output error",
                      log)
        self.assertIn("Device hidraw3: output command failed, stopping it: Input/output error",
                      log)
        # At exit the stop to hidraw3 fails again, and kneed's exit status says so.
        k.expect_failure = True
        self.assertNotEqual(k.stop(), 0)
        self.assertIn("Not every device confirmed the stop", k.log())
        self.assertEqual(outputs(devs[0].reports(2)[-1]), OKMP_STOP)

    def test_device_that_fails_at_bind(self):
        # No capabilities report (the firmware stalls it), and a malformed one.
        silent = self.okmp(0, features={})
        broken = self.okmp(1, features={1: bytes([1, 1, 1, 12]) + bytes(12)})
        good = self.okmp(2)
        for d in (silent, broken, good):
            d.plug()
        k = self.start()
        self.assertEqual(self.device_names(), ["hidraw2"])
        log = k.log()
        self.assertRegex(log, r"Plugin okmp could not set up /dev/hidraw0, skipping it")
        self.assertRegex(log, r"Plugin okmp could not set up /dev/hidraw1, skipping it")
        self.assertEqual(silent.writes + broken.writes, [])


    def test_a_plugin_is_loaded_when_a_device_needs_it(self):
        hardware = {"okmp.so", "hid-haptics.so", "rez-trancevibrator.so"}
        k = self.start()
        self.assertEqual(mapped_files(k.process.pid) & hardware, set())
        self.assertRegex(k.log(), r"Found plugin 'okmp' in .*/okmp\.so")

        # The device database names okmp for this one: only okmp is loaded.
        dev = self.okmp()
        dev.plug()
        self.wait_added(dev)
        self.assertEqual(mapped_files(k.process.pid) & hardware, {"okmp.so"})
        self.assertRegex(k.log(), r"Loaded plugin 'okmp' from .*/okmp\.so")

        # A HID node the database doesn't know is offered to every plugin, which loads them.
        keyboard = HidrawDevice(self.bed, 1, 0x046D, 0xC31C, KEYBOARD_DESCRIPTOR,
                                product="Keyboard")
        keyboard.plug()
        wait_for(lambda: mapped_files(k.process.pid) & hardware == hardware,
                 what="every plugin to be loaded")
        self.assertEqual(self.device_names(), ["hidraw0"])
        self.assertEqual(k.log().count("Loaded plugin 'okmp'"), 1)


class RezTest(EmulatedTestCase):
    def speeds(self, dev):
        setups = dev.control_setups()
        self.assertTrue(all(s[:2] == REZ_SPEED and s[3:] == (0, 0) for s in setups), setups)
        return [s[2] for s in setups]

    def test_libusb_is_loaded_only_for_a_usb_device(self):
        def libusb_mapped(k):
            return any(n.startswith("libusb-1.0.so") for n in mapped_files(k.process.pid))

        okmp = self.okmp()
        okmp.plug()
        k = self.start()
        self.assertEqual(self.device_names(), ["hidraw0"])
        self.assertFalse(libusb_mapped(k), "libusb loaded with no USB device")
        dev = self.rez()
        dev.plug()
        self.wait_added(dev)
        self.assertTrue(libusb_mapped(k))
        path = self.start_on(dev, "hw-plain")
        _, fin = self.client.wait_signal("Finished", seconds=15, path=path)
        self.assertEqual(fin[3], ("completed", "completed"))

    def test_coldplug_and_the_transfers_of_a_routine(self):
        dev = self.rez()
        dev.plug()
        self.start()
        self.assertEqual(self.device_names(), ["usb_2_5"])
        props = self.client.get_all(self.device_path(dev), DEVICE_IFACE)
        self.assertEqual(props["Name"], "Rez TranceVibrator")
        self.assertEqual(props["Transport"], "usb")
        self.assertEqual(props["Levels"], 255)
        self.assertFalse(props["HasHeat"])
        # Interface 0 claimed; no kernel driver detached, as the plugin doesn't ask for it.
        self.assertEqual(dev.claimed, {0})
        self.assertEqual(dev.driver_requests, [])
        wait_for(lambda: self.speeds(dev), what="the stop at bind")
        path = self.start_on(dev, "hw-plain")
        _, fin = self.client.wait_signal("Finished", seconds=15, path=path)
        self.assertEqual(fin[3], ("completed", "completed"))
        # 20 % and 10 % of 255: speeds 51 and 26 (rounded), then 0.
        self.assertEqual(self.speeds(dev), [0, 51, 26, 0])

    def test_hotplug_stopall_unplug_and_replug(self):
        k = self.start()
        dev = self.rez()
        dev.plug()
        self.wait_added(dev)
        path = self.start_on(dev, "hw-long")
        wait_for(lambda: len(self.speeds(dev)) >= 2, what="the first transfer")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        wait_for(lambda: self.speeds(dev)[-1] == 0, what="the stop transfer")
        self.assertEqual(self.speeds(dev), [0, 51, 0])
        self.assertEqual(self.client.get(path, SESSION_IFACE, "StopReason"), "stop-all")

        path = self.start_on(dev, "hw-long")
        mark = len(self.client.signals)
        dev.unplug()
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path, start=mark)
        self.assertEqual(fin[3], ("aborted", "unplugged"))
        self.client.wait_signal("InterfacesRemoved", seconds=10, start=mark)
        time.sleep(0.5)
        self.assertEqual(dev.late_urbs, [])

        submitted = len(dev.submitted)
        mark = len(self.client.signals)
        dev.plug()
        self.wait_added(dev, start=mark)
        self.assertEqual(self.state(dev), "idle")
        wait_for(lambda: len(dev.submitted) > submitted, what="the stop at bind")
        self.assert_no_writes_for(0.5, dev)
        self.assertEqual(self.speeds(dev)[-1], 0)
        self.assertEqual(len(dev.submitted), submitted + 1)
        self.assertNotIn("ERROR", k.log())

    def test_stalls_and_silence_fault_only_that_device(self):
        stalls, silent, good = self.rez(5), self.rez(6), self.okmp(0)
        for d in (stalls, silent, good):
            d.plug()
        k = self.start()
        self.assertEqual(self.device_names(), ["hidraw0", "usb_2_5", "usb_2_6"])
        ok = self.start_on(good, "hw-long")
        sessions = [self.start_on(d, "hw-long") for d in (stalls, silent)]
        wait_for(lambda: len(stalls.submitted) >= 2 and len(silent.submitted) >= 2,
                 what="both to run")
        # Now one stalls every transfer (EPIPE) and the other completes none (libusb times it
        # out after the plugin's second). A change of intensity makes kneed send one.
        stalls.auto_status = -errno.EPIPE
        silent.auto_status = None
        for s in sessions:
            self.client.call(s, SESSION_IFACE, "AdjustIntensity", "i", (-10,))
        for d, s in zip((stalls, silent), sessions):
            _, fin = self.client.wait_signal("Finished", seconds=10, path=s)
            self.assertEqual(fin[3], ("aborted", "device-fault"))
            self.assertEqual(self.state(d), "faulted")
        log = k.log()
        self.assertIn("Device usb_2_5: a control transfer failed: LIBUSB_ERROR_PIPE", log)
        self.assertIn("Device usb_2_6: a control transfer failed: LIBUSB_ERROR_TIMEOUT", log)
        # Each was sent one stop after its fault, and no more, although that failed too.
        time.sleep(1.5)
        for d in (stalls, silent):
            self.assertEqual(self.speeds(d)[-1], 0)
            self.assertEqual(self.speeds(d).count(0), 2, self.speeds(d))
        # The okmp device never noticed.
        self.assertEqual(self.client.get(ok, SESSION_IFACE, "State"), "running")
        self.assertEqual(self.state(good), "running")


    def test_unplugged_with_a_transfer_in_flight(self):
        # udev's remove event comes first and the device object goes, while a transfer is
        # still in flight; then the node hangs up and libusb completes it as NO_DEVICE, from
        # inside its disconnect handling. That must neither fault anything nor hang kneed.
        dev, other = self.rez(5), self.rez(6)
        dev.plug()
        other.plug()
        k = self.start()
        path = self.start_on(dev, "hw-long")
        wait_for(lambda: len(dev.submitted) >= 2, what="it to run")
        dev.auto_status = None
        self.client.call(path, SESSION_IFACE, "AdjustIntensity", "i", (-10,))
        wait_for(lambda: dev.pending, what="a transfer in flight")
        mark = len(self.client.signals)
        dev.unplug(uevent_first=True)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path, start=mark)
        self.assertEqual(fin[3], ("aborted", "unplugged"))
        time.sleep(0.3)
        # Still serving: the other device runs a routine.
        other_session = self.start_on(other, "hw-long")
        self.assertEqual(self.client.get(other_session, SESSION_IFACE, "State"), "running")
        self.assertEqual(k.stop(), 0)
        self.assertNotIn("fault", k.log())

    def test_silent_device_at_exit(self):
        silent = self.rez(6)
        silent.plug()
        k = self.start()
        self.start_on(silent, "hw-long")
        wait_for(lambda: len(silent.submitted) >= 2, what="it to run")
        silent.auto_status = None
        # The stop at exit never completes: kneed waits for libusb's timeout, not forever,
        # and its exit status says the stop may not have arrived.
        k.expect_failure = True
        self.assertNotEqual(k.stop(), 0)
        self.assertIn("Device usb_2_6: a control transfer failed: LIBUSB_ERROR_TIMEOUT, its stop "
                      "may not have arrived", k.log())
        self.assertEqual(self.speeds(silent)[-1], 0)


class HapticsTest(EmulatedTestCase):
    def gamepad(self, minor=0, **kwargs):
        kwargs.setdefault("features", {1: HAPTIC_GAMEPAD_WAVEFORMS})
        return HidrawDevice(self.bed, minor, 0x045E, 0x0B13, HAPTIC_GAMEPAD_DESCRIPTOR,
                            product="Haptic game pad", **kwargs)

    def test_a_haptic_controller_is_found_by_its_descriptor(self):
        pad = self.gamepad(0)
        dial = HidrawDevice(self.bed, 1, 0x045E, 0x091B, SURFACE_DIAL_DESCRIPTOR,
                            product="Surface Dial")
        keyboard = HidrawDevice(self.bed, 2, 0x046D, 0xC31C, KEYBOARD_DESCRIPTOR)
        # Garbage for a descriptor: refused without harm.
        junk = HidrawDevice(self.bed, 3, 0x1234, 0x5678, bytes(range(7, 250, 3)))
        for d in (pad, dial, keyboard, junk):
            d.plug()
        self.start()
        # Not in the device database: the plugin claimed it from its report descriptor.
        self.assertEqual(self.device_names(), ["hidraw0"])
        props = self.client.get_all(self.device_path(pad), DEVICE_IFACE)
        self.assertEqual(props["Plugin"], "hid-haptics")
        self.assertEqual(props["Name"], "Haptic game pad")
        self.assertEqual(props["Levels"], 100)
        self.assertFalse(props["HasHeat"])
        self.assertNotIn("kneecap", props["Zones"])
        self.assertNotIn("patellar-tendon", props["Zones"])
        self.assertEqual(dial.writes + keyboard.writes + junk.writes, [])

        wait_for(lambda: pad.writes, what="the stop at bind")
        path = self.start_on(pad, "hw-plain")
        _, fin = self.client.wait_signal("Finished", seconds=15, path=path)
        self.assertEqual(fin[3], ("completed", "completed"))
        # Buzz Continuous at 20 % and then 10 % (the knead pattern plays as continuous).
        self.assertEqual(pad.writes, [HAPTIC_STOP, haptic_play(20), haptic_play(10), HAPTIC_STOP])

    def test_hotplug_unplug_and_replug(self):
        self.start()
        pad = self.gamepad(4)
        pad.plug()
        self.wait_added(pad)
        path = self.start_on(pad, "hw-long")
        wait_for(lambda: len(pad.writes) >= 2, what="it to play")
        self.assertEqual(pad.writes[-1], haptic_play(20))
        mark = len(self.client.signals)
        pad.unplug()
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path, start=mark)
        self.assertEqual(fin[3], ("aborted", "unplugged"))
        time.sleep(0.3)
        self.assertEqual(pad.late_writes, [])
        written = len(pad.writes)
        mark = len(self.client.signals)
        pad.plug()
        self.wait_added(pad, start=mark)
        wait_for(lambda: len(pad.writes) > written, what="the stop at bind")
        self.assert_no_writes_for(0.3, pad)
        self.assertEqual(pad.writes[written:], [HAPTIC_STOP])
        self.assertEqual(self.state(pad), "idle")

    def test_no_continuous_waveform_is_refused(self):
        # The list names only Click (0x1003) and Stop: nothing to massage with.
        pad = self.gamepad(0, features={1: bytes([1, 0x03, 0x10, 0x02, 0x10, 0, 0, 0, 0])})
        pad.plug()
        self.start()
        self.assertEqual(self.device_names(), [])
        self.assertEqual(pad.writes, [])

    def test_descriptors_that_lie_about_sizes_are_declined(self):
        # The Waveform List comes back 3 bytes long where the descriptor says 9.
        short = self.gamepad(0, features={1: HAPTIC_GAMEPAD_WAVEFORMS[:3]})
        # The same game pad, but its output report claims 65,535 Manual Trigger fields: a
        # report far beyond any HID report (HID_MAX_REPORT_SIZE).
        lying = HAPTIC_GAMEPAD_DESCRIPTOR.hex().replace("09239501910209", "092396ffff910209")
        self.assertNotEqual(lying, HAPTIC_GAMEPAD_DESCRIPTOR.hex())
        huge = HidrawDevice(self.bed, 1, 0x045E, 0x0B14, bytes.fromhex(lying),
                            product="Huge report", features={1: HAPTIC_GAMEPAD_WAVEFORMS})
        good = HidrawDevice(self.bed, 2, 0x1209, 0x0001, OKMP_DESCRIPTOR, product="Knee wrap",
                            features={1: OKMP_CAPABILITIES})
        self.firmware.append(OkmpFirmware(good))
        for d in (short, huge, good):
            d.plug()
        self.start()
        self.assertEqual(self.device_names(), ["hidraw2"])
        self.assertEqual(short.writes + huge.writes, [])
        # Still serving the device that tells the truth.
        path = self.start_on(good, "hw-long")
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")


class DiscoveryTest(EmulatedTestCase):
    def test_a_node_kneed_may_not_open_is_reported_once(self):
        dev = self.okmp()
        dev.plug()
        node = os.ttyname(dev.slave)
        os.chmod(node, 0)
        # As root, kneed would open it anyway: take away the capability that lets it.
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.fail("setpriv (util-linux) is needed to run kneed without "
                          "CAP_DAC_OVERRIDE")
            prefix = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                      "--bounding-set=-dac_override,-dac_read_search", "--"]
        k = self.start(prefix=prefix)
        self.assertEqual(self.device_names(), [])
        # Repeated events for the same node don't repeat the warning.
        for _ in range(3):
            self.bed.uevent(dev.syspath, "add")
        time.sleep(0.3)
        log = k.log()
        self.assertEqual(log.count("Cannot open /dev/hidraw0"), 1, log)
        self.assertRegex(log, r"Cannot open /dev/hidraw0 \(1209:0001\): Permission denied\. "
                              r"Install kneed's udev rules")
        # udev gives access and says so with a change event: the device appears.
        os.chmod(node, 0o600)
        self.bed.uevent(dev.syspath, "change")
        self.wait_added(dev)
        self.assertEqual(self.state(dev), "idle")

    def test_time_scale_refuses_real_devices(self):
        okmp, rez = self.okmp(), self.rez()
        okmp.plug()
        rez.plug()
        k = self.start(args=["--time-scale=10"])
        self.assertEqual(self.device_names(), [])
        self.assertRegex(k.log(), r"Not using /dev/hidraw0 \(1209:0001\): kneed runs routines "
                                  r"faster than real time")
        self.assertIn("Not using /dev/bus/usb/002/005", k.log())
        self.assertEqual(okmp.writes + rez.submitted, [])

    def test_idle_exit_waits_for_devices_and_sessions(self):
        dev = self.okmp()
        dev.plug()
        k = self.start(args=["--exit-idle-time=1", "--session-linger=2"])
        path = self.start_on(dev, "hw-long")
        time.sleep(1.5)
        self.assertIsNone(k.process.poll(), "kneed exited with a device and a session")
        # Unplugged: no device, but the finished session stays readable for 2 s; then idle.
        mark = len(self.client.signals)
        dev.unplug()
        self.client.wait_signal("Finished", seconds=10, path=path, start=mark)
        gone = time.monotonic()
        self.assertEqual(k.wait_exit(seconds=15), 0, k.log())
        self.assertGreaterEqual(time.monotonic() - gone, 2.5)
        self.assertIn("No devices and no sessions for 1 s, exiting", k.log())

    def test_shutdown_stops_running_devices(self):
        okmp, rez = self.okmp(), self.rez()
        okmp.plug()
        rez.plug()
        k = self.start()
        self.start_on(okmp, "hw-long")
        self.start_on(rez, "hw-long")
        wait_for(lambda: len(rez.control_setups()) >= 2, what="the rez to run")
        self.assertEqual(k.stop(), 0)
        self.assertEqual(outputs(okmp.reports(2)[-1]), OKMP_STOP)
        self.assertEqual(rez.control_setups()[-1], (0x41, 1, 0, 0, 0))
        self.assertEqual(rez.claimed, set())


if __name__ == "__main__":
    main()
