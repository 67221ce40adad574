# SPDX-License-Identifier: MIT
"""Routines and sessions on the real daemon: schedules, signals, controls, errors, kneectl."""

import json
import os
import pty
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    DATA_DIR,
    DEVICE_IFACE,
    DEVICE_PREFIX,
    KNEECTL,
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    TIMING_TOLERANCE_US,
    WRAPPER,
    Client,
    GLib,
    KneedTestCase,
    duration_ms,
    expected_level,
    main,
    read_routine,
    timeout,
    wait_for,
)

ROUTINES = os.path.join(DATA_DIR, "routines")
SCALE = "60"  # routines run 60 times faster on virtual devices in these tests


def collapse(entries):
    """Consecutive identical commands collapsed, as the daemon only sends changes."""
    out = []
    for e in entries:
        key = (e["zone"], e["level"], e["pattern"], e["heat"])
        if not out or out[-1] != key:
            out.append(key)
    return out


class RoutineListTest(KneedTestCase):
    def test_list_and_get_match_the_files(self):
        self.start_kneed(virtual="1")
        (routines,) = self.client.call(MANAGER_PATH, MANAGER_IFACE, "ListRoutines",
                                       reply="(a(sssu))")
        files = sorted(f for f in os.listdir(ROUTINES) if f.endswith(".routine"))
        self.assertEqual(len(routines), len(files))
        self.assertGreaterEqual(len(routines), 10)

        for rid, name, condition, seconds in routines:
            header, steps = read_routine(os.path.join(ROUTINES, rid + ".routine"))
            self.assertEqual((name, condition), (header["Name"], header["Condition"]))
            self.assertEqual(seconds, sum(duration_ms(s["Duration"]) for s in steps) // 1000)

            got = self.client.call(MANAGER_PATH, MANAGER_IFACE, "GetRoutine", "s", (rid,),
                                   "(sssua(ssuuus))")
            self.assertEqual(got[0:3], (header["Name"], header["Condition"], header["Summary"]))
            self.assertEqual(len(got[4]), len(steps))
            for (zone, pattern, a, b, ms, cue), s in zip(got[4], steps):
                self.assertEqual((zone, pattern, a, ms, cue),
                                 (s["Zone"], s["Pattern"], int(s["Intensity"]),
                                  duration_ms(s["Duration"]), s["Cue"]))
                self.assertEqual(b, int(s.get("IntensityEnd", s["Intensity"])))

    def test_get_unknown_routine(self):
        self.start_kneed(virtual="1")
        e = self.assertDBusError("org.kneed.Kneed1.Error.UnknownRoutine", self.client.call,
                                 MANAGER_PATH, MANAGER_IFACE, "GetRoutine", "s", ("nope",))
        self.assertIn("No routine 'nope'", e.message)

    def test_bad_local_routine_is_reported_and_others_load(self):
        local = os.path.join(self.tmpdir, "routines.d")
        os.mkdir(local)
        with open(os.path.join(local, "broken.routine"), "w") as f:
            f.write("[Routine]\nId=broken\nName=B\n[Step 1]\nZone=shin\n")
        with open(os.path.join(local, "dup.routine"), "w") as f:
            with open(os.path.join(ROUTINES, "calf-release.routine")) as src:
                f.write(src.read())
        k = self.start_kneed(virtual="1")
        self.assertRegex(k.log(), r"Ignoring routine: .*/broken.routine:5: unknown zone 'shin'")
        self.assertRegex(k.log(), r"Ignoring routine: .*/dup.routine: duplicate routine Id "
                                  r"'calf-release', already defined by .*data/routines/")
        (routines,) = self.client.call(MANAGER_PATH, MANAGER_IFACE, "ListRoutines",
                                       reply="(a(sssu))")
        self.assertEqual(len(routines), len(os.listdir(ROUTINES)))

    def test_reload_picks_up_new_routines(self):
        local = os.path.join(self.tmpdir, "routines.d")
        os.mkdir(local)
        k = self.start_kneed(virtual="1", args=["--time-scale=" + SCALE])
        # A running session keeps its routine across the reload.
        path = self.start_routine("calf-release", detach=True)
        with open(os.path.join(local, "mine.routine"), "w") as f:
            f.write("[Routine]\nId=mine\nName=Mine\nCondition=C\nSummary=S\nSource=S\n"
                    "[Step 1]\nZone=calves\nPattern=knead\nIntensity=10\nDuration=30s\n"
                    "Cue=Rest it on the calf.\n")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        (routines,) = self.client.call(MANAGER_PATH, MANAGER_IFACE, "ListRoutines",
                                       reply="(a(sssu))")
        self.assertIn("mine", [r[0] for r in routines])
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")
        # And SIGHUP reloads too.
        os.unlink(os.path.join(local, "mine.routine"))
        k.signal(signal.SIGHUP)
        wait_for(lambda: "mine" not in [r[0] for r in self.client.call(
            MANAGER_PATH, MANAGER_IFACE, "ListRoutines", reply="(a(sssu))")[0]],
            what="the routine to go after SIGHUP")
        self.client.wait_signal("Finished", seconds=20, path=path)


class SessionTest(KneedTestCase):
    def start(self, virtual="1", extra=(), scale=SCALE):
        return self.start_kneed(virtual=virtual, args=["--time-scale=" + scale, *extra])

    def test_routine_runs_as_written(self):
        # At 20x no preset asks for more than one native step per 20 Hz tick, so the ramp
        # limit (which never lets a command rise faster than it allows) doesn't show.
        k = self.start(scale="20")
        c = self.client
        _, steps = read_routine(os.path.join(ROUTINES, "pfps-massage-gun.routine"))
        mark = len(k.trace.lines())
        path = self.start_routine("pfps-massage-gun")
        self.assertEqual(self.client.get(DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "State"),
                         "running")
        _, fin = c.wait_signal("Finished", seconds=60, path=path)
        self.assertEqual(fin[3], ("completed", "completed"))

        # StepStarted, in order, with each step's zone, pattern and cue.
        started = [s[3] for s in c.signals if s[2] == "StepStarted" and s[0] == path]
        self.assertEqual([s[0] for s in started], list(range(len(steps))))
        for (index, zone, pattern, intensity, cue), step in zip(started, steps):
            self.assertEqual((zone, pattern, cue), (step["Zone"], step["Pattern"], step["Cue"]))
            self.assertEqual(intensity, round(expected_level(int(step["Intensity"]), 20) * 5))

        # The device was told exactly the routine: constant steps at their level, ramps
        # rising step by step from the start level to the end level, then stop.
        cmds = k.trace.commands("virtual0", start=mark)
        self.assertEqual(cmds[-1]["op"], "stop")
        sets = [e for e in cmds if e["op"] == "set"]
        self.assertTrue(all(e["heat"] == "0" for e in sets))
        seq = collapse(sets)
        i = 0
        for step in steps:
            a = expected_level(int(step["Intensity"]), 20)
            b = expected_level(int(step.get("IntensityEnd", step["Intensity"])), 20)
            key = (step["Zone"], step["Pattern"])
            levels = []
            while i < len(seq) and (seq[i][0], seq[i][2]) == key:
                levels.append(int(seq[i][1]))
                i += 1
            if not levels:  # same command as the step before: nothing new to send
                self.assertEqual(seq[i - 1][:3:2], key)
                levels = [int(seq[i - 1][1])]
            self.assertEqual(levels[0], a, step)
            self.assertEqual(levels[-1], b, step)
            self.assertEqual(levels, sorted(levels) if b >= a else sorted(levels, reverse=True))
        self.assertEqual(i, len(seq))

        self.assertEqual(c.get(path, SESSION_IFACE, "State"), "completed")
        self.assertEqual(c.get(path, SESSION_IFACE, "StopReason"), "completed")
        self.assertEqual(c.get(path, SESSION_IFACE, "ElapsedMs"), 130000)
        self.assertEqual(c.get(DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "State"), "idle")

    def test_step_timing_is_on_schedule(self):
        # Under valgrind wakeups come so late that at 60x the engine rightly skips whole
        # steps to stay on schedule; a slower scale keeps every step visible there.
        scale = 10 if WRAPPER else 60
        k = self.start(scale=str(scale))
        _, steps = read_routine(os.path.join(ROUTINES, "quadriceps-release.routine"))
        mark = len(k.trace.lines())
        path = self.start_routine("quadriceps-release", detach=True)
        self.client.wait_signal("Finished", seconds=60, path=path)
        cmds = k.trace.commands("virtual0", start=mark)
        t0 = cmds[0]["t_us"]
        # Each change of zone happens at its step's scheduled start, in order.
        expected, offset, prev = [], 0, None
        for step in steps:
            if step["Zone"] != prev:
                expected.append((step["Zone"], t0 + offset * 1000 // scale))
            prev = step["Zone"]
            offset += duration_ms(step["Duration"])
        actual, prev = [], None
        for e in cmds:
            if e["op"] == "set" and e["zone"] != prev:
                actual.append((e["zone"], e["t_us"]))
                prev = e["zone"]
        self.assertEqual([z for z, _ in actual], [z for z, _ in expected])
        for (zone, t), (_, want) in zip(actual, expected):
            self.assertLess(abs(t - want), TIMING_TOLERANCE_US, zone)
        self.assertLess(abs(cmds[-1]["t_us"] - (t0 + offset * 1000 // scale)),
                        TIMING_TOLERANCE_US)

    def test_session_object_properties_and_object_manager(self):
        self.start(extra=["--session-linger=1"])
        c = self.client
        c.pump()
        mark = len(c.signals)
        path = self.start_routine("calf-release", detach=True)
        props = c.get_all(path, SESSION_IFACE)
        self.assertEqual(props["Routine"], "calf-release")
        self.assertEqual(props["Device"], DEVICE_PREFIX + "virtual0")
        self.assertEqual(props["Owner"], os.getuid())
        self.assertEqual(props["State"], "running")
        self.assertEqual(props["StepCount"], 5)
        self.assertEqual(props["DurationMs"], 240000)
        self.assertEqual(props["StopReason"], "")
        self.assertEqual(props["Zone"], "calves")
        self.assertIn(path, c.managed_objects())

        _, added = c.wait_signal("InterfacesAdded", start=mark)
        self.assertEqual(added[3][0], path)
        self.assertIn(SESSION_IFACE, added[3][1])
        c.wait_signal("Finished", seconds=20, path=path)
        # Finished sessions stay readable for the linger time, then go.
        self.assertEqual(c.get(path, SESSION_IFACE, "State"), "completed")
        _, removed = c.wait_signal("InterfacesRemoved", seconds=10, start=mark)
        self.assertEqual(removed[3][0], path)
        self.assertNotIn(path, c.managed_objects())

    def test_client_disconnect_stops_the_device(self):
        k = self.start()
        other = Client(self.bus.address)
        path = self.start_routine("runners-knee-full", client=other)
        time.sleep(0.2)
        mark = len(k.trace.lines())
        t = time.monotonic()
        other.close()
        wait_for(lambda: any(e["op"] == "stop" for e in k.trace.commands("virtual0", start=mark)),
                 seconds=2, what="the device to stop")
        self.assertLess(time.monotonic() - t, timeout(0.5))
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "stopped")
        self.assertEqual(self.client.get(path, SESSION_IFACE, "StopReason"), "client-vanished")

    def test_detached_session_outlives_busctl(self):
        k = self.start()
        out = self.busctl("call", "org.kneed.Kneed1", MANAGER_PATH, MANAGER_IFACE,
                          "StartRoutine", "osa{sv}", DEVICE_PREFIX + "virtual0",
                          "pfps-massage-gun", "1", "detach", "b", "true").stdout
        path = out.split('"')[1]
        self.client.wait_signal("Finished", seconds=30, path=path)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "completed")
        self.assertEqual(k.trace.commands("virtual0")[-1]["op"], "stop")

    def test_pause_and_resume_keep_the_remaining_time(self):
        k = self.start()
        c = self.client
        path = self.start_routine("pfps-massage-gun", detach=True)
        time.sleep(0.5)
        mark = len(k.trace.lines())
        t_pause = time.monotonic()
        c.call(path, SESSION_IFACE, "Pause")
        self.assertEqual(c.get(path, SESSION_IFACE, "State"), "paused")
        # The ramp may still have sent a level before the pause arrived (under valgrind it
        # often does): the pause's own command is the last one, and it is stop.
        self.assertEqual(k.trace.commands("virtual0", start=mark)[-1]["op"], "stop")
        paused_at = len(k.trace.lines())
        elapsed = c.get(path, SESSION_IFACE, "ElapsedMs")
        time.sleep(1.0)
        self.assertEqual(c.get(path, SESSION_IFACE, "ElapsedMs"), elapsed)
        self.assertEqual(k.trace.commands("virtual0", start=paused_at), [])  # silent while paused
        c.call(path, SESSION_IFACE, "Pause")  # idempotent
        c.call(path, SESSION_IFACE, "Resume")
        self.assertEqual(c.get(path, SESSION_IFACE, "State"), "running")
        self.assertEqual(k.trace.commands("virtual0", start=paused_at)[0]["op"], "set")
        c.wait_signal("Finished", seconds=30, path=path)
        # 130 s of routine at 60x is 2.17 s, plus the pause.
        total = time.monotonic() - t_pause + 0.5
        self.assertGreater(total, 2.17 + 1.0 - 0.1)
        self.assertEqual(c.get(path, SESSION_IFACE, "ElapsedMs"), 130000)

    def test_stop_paths_end_the_session(self):
        k = self.start(virtual="3")
        c = self.client
        s0 = self.start_routine("calf-release", "virtual0", detach=True)
        s1 = self.start_routine("calf-release", "virtual1", detach=True)
        s2 = self.start_routine("calf-release", "virtual2", detach=True)
        c.call(s0, SESSION_IFACE, "Stop")
        c.call(DEVICE_PREFIX + "virtual1", DEVICE_IFACE, "Stop")
        c.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        for path, reason in ((s0, "session-stop"), (s1, "device-stop"), (s2, "stop-all")):
            self.assertEqual(c.get(path, SESSION_IFACE, "State"), "stopped")
            self.assertEqual(c.get(path, SESSION_IFACE, "StopReason"), reason)
        for dev in ("virtual0", "virtual1", "virtual2"):
            self.assertEqual(k.trace.commands(dev)[-1]["op"], "stop")
        # Stop never fails, even when the session is over; the other controls say why.
        c.call(s0, SESSION_IFACE, "Stop")
        e = self.assertDBusError("org.kneed.Kneed1.Error.SessionFinished", c.call, s0,
                                 SESSION_IFACE, "Resume")
        self.assertIn("has already stopped (session-stop)", e.message)

    def test_sigterm_stops_running_sessions(self):
        k = self.start()
        path = self.start_routine("calf-release", detach=True)
        self.client.pump(0.2)
        k.signal(signal.SIGTERM)
        self.assertEqual(k.wait_exit(), 0)
        self.assertEqual(k.trace.commands("virtual0")[-1]["op"], "stop")
        self.assertIn("Session 1: stopped (shutdown)", k.log())
        self.assertTrue(path)

    def test_adjust_intensity(self):
        k = self.start()
        c = self.client
        path = self.start_routine("peripatellar-gentle", detach=True)
        mark = len(k.trace.lines())
        c.call(path, SESSION_IFACE, "AdjustIntensity", "i", (10,))
        self.assertEqual(c.get(path, SESSION_IFACE, "Intensity"), 20)  # 10 % + 10
        self.assertEqual(k.trace.commands("virtual0", start=mark)[0]["level"], "4")
        c.call(path, SESSION_IFACE, "AdjustIntensity", "i", (-100,))
        self.assertEqual(c.get(path, SESSION_IFACE, "Intensity"), 0)
        for bad in (101, -101):
            e = self.assertDBusError("org.freedesktop.DBus.Error.InvalidArgs", c.call, path,
                                     SESSION_IFACE, "AdjustIntensity", "i", (bad,))
            self.assertIn("out of range", e.message)
        c.call(path, SESSION_IFACE, "Stop")

    def test_start_errors(self):
        self.start(virtual="virtual,virtual-heat")
        c = self.client
        local_routine = os.path.join(self.tmpdir, "routines.d")
        self.start_routine("calf-release", detach=True)
        e = self.assertDBusError("org.kneed.Kneed1.Error.DeviceBusy", self.start_routine,
                                 "calf-release")
        self.assertIn("already running session 1", e.message)
        e = self.assertDBusError("org.kneed.Kneed1.Error.DeviceBusy", c.call,
                                 DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Identify")
        e = self.assertDBusError("org.kneed.Kneed1.Error.UnknownRoutine", self.start_routine,
                                 "nope", "virtual1")
        e = self.assertDBusError("org.kneed.Kneed1.Error.NoSuchDevice", self.start_routine,
                                 "calf-release", "virtual9")
        self.assertIn("No device at /org/kneed/Kneed1/device/virtual9", e.message)
        # The wrap has no IT band motor.
        e = self.assertDBusError("org.kneed.Kneed1.Error.Unsupported", self.start_routine,
                                 "it-band-release", "virtual1")
        self.assertIn("works on the tfl-glutes (step 1), which device virtual1 cannot reach",
                      e.message)
        e = self.assertDBusError("org.freedesktop.DBus.Error.InvalidArgs", self.start_routine,
                                 "calf-release", "virtual1", colour=True)
        self.assertIn("Unknown option 'colour'", e.message)
        e = self.assertDBusError("org.freedesktop.DBus.Error.InvalidArgs", self.start_routine,
                                 "calf-release", "virtual1", detach=GLib.Variant("s", "yes"))
        self.assertIn("Option 'detach' must be a boolean", e.message)
        self.assertTrue(local_routine)

    def test_routine_needing_heat(self):
        local = os.path.join(self.tmpdir, "routines.d")
        os.mkdir(local)
        with open(os.path.join(local, "warm.routine"), "w") as f:
            f.write("[Routine]\nId=warm\nName=Warm\nCondition=C\nSummary=S\nSource=S\n"
                    "Requires=heat\n[Step 1]\nZone=calves\nPattern=knead\nIntensity=10\n"
                    "Duration=10s\nHeat=40\nCue=Rest it on the calf.\n")
        k = self.start(virtual="virtual,virtual-heat")
        e = self.assertDBusError("org.kneed.Kneed1.Error.Unsupported", self.start_routine,
                                 "warm", "virtual0")
        self.assertIn("needs heat, and device virtual0 has no heater", e.message)
        path = self.start_routine("warm", "virtual1", detach=True)
        self.client.wait_signal("Finished", seconds=10, path=path)
        sets = [e for e in k.trace.commands("virtual1") if e["op"] == "set"]
        self.assertEqual(sets[0]["heat"], "40")

    def test_heat_only_where_the_device_has_it(self):
        k = self.start(virtual="virtual,virtual-heat")
        p0 = self.start_routine("knee-oa-comfort", "virtual0", detach=True)
        p1 = self.start_routine("knee-oa-comfort", "virtual1", detach=True)
        for p in (p0, p1):
            self.client.wait_signal("Finished", seconds=30, path=p)
        self.assertEqual({e["heat"] for e in k.trace.commands("virtual0") if e["op"] == "set"},
                         {"0"})
        self.assertIn("40", {e["heat"] for e in k.trace.commands("virtual1") if e["op"] == "set"})


class KneectlRoutineTest(KneedTestCase):
    def test_routines_and_show(self):
        self.start_kneed(virtual="1")
        out = self.kneectl("routines").stdout.splitlines()
        self.assertRegex(out[0], r"^ID\s+NAME\s+LENGTH$")
        self.assertIn("pfps-massage-gun", out[7])
        self.assertRegex(out[7], r"Runner's knee: massage gun\s+2:10$")
        listed = json.loads(self.kneectl("--json", "routines").stdout)
        self.assertEqual(len(listed), len(out) - 1)

        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        r = subprocess.run([KNEECTL, f"--address={self.bus.address}", "show", "runners-knee-full"],
                           capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "Runner's knee: full routine (runners-knee-full), 10:15")
        self.assertIn(" 5. it-band, sweep, 35%, 1:00", lines)
        # The plot: one lane per zone, everything within 80 columns.
        for lane in ("quadriceps", "vastus-lateralis", "it-band", "tfl-glutes", "hamstrings",
                     "calves"):
            self.assertTrue(any(line.strip().startswith(lane + " │") for line in lines), lane)
        self.assertTrue(all(len(line) <= 80 for line in lines))
        self.assertIn("10:15", lines[-1])
        # ASCII where the terminal isn't UTF-8.
        r = subprocess.run([KNEECTL, f"--address={self.bus.address}", "show", "calf-release"],
                           capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"),
                           timeout=30)
        self.assertIn("calves |", r.stdout)
        self.assertTrue(r.stdout.isascii())

        shown = json.loads(self.kneectl("--json", "show", "calf-release").stdout)
        self.assertEqual(len(shown["steps"]), 5)
        r = self.kneectl("show", "nope", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("No routine 'nope'", r.stderr)

    def test_start_pause_resume_stop(self):
        k = self.start_kneed(virtual="2", args=["--time-scale=" + SCALE])
        r = self.kneectl("start", "calf-release", "--device", "virtual1")
        self.assertRegex(r.stdout, r"^Started calf-release on virtual1: /org/kneed/Kneed1/session/1\n$")
        self.assertEqual(self.kneectl("pause", "1").stdout, "Paused session 1.\n")
        self.assertEqual(self.kneectl("resume", "/org/kneed/Kneed1/session/1").stdout,
                         "Resumed session 1.\n")
        status = self.kneectl("status").stdout
        self.assertRegex(status, r"Session 1: calf-release on virtual1, running, step \d/5")
        self.assertEqual(self.kneectl("stop", "1").stdout, "Stopped session 1.\n")
        status = json.loads(self.kneectl("--json", "status").stdout)
        self.assertEqual(status["sessions"][0]["state"], "stopped")
        self.assertEqual(status["sessions"][0]["stop_reason"], "session-stop")
        r = self.kneectl("pause", "9", check=False)
        self.assertEqual((r.returncode, r.stderr), (1, "kneectl: no session '9'\n"))
        # Without --device, the first idle device that can do it.
        r = self.kneectl("--json", "start", "calf-release")
        self.assertEqual(json.loads(r.stdout)["device"], DEVICE_PREFIX + "virtual0")
        self.assertTrue(k)

    def test_watch_plain_lines(self):
        self.start_kneed(virtual="1", args=["--time-scale=" + SCALE])
        r = self.kneectl("start", "pfps-massage-gun", "--watch")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "Runner's knee: massage gun on virtual0 (1). Ctrl-C stops it.")
        self.assertEqual(lines[1], "Step 1/5: quadriceps, sweep, 10%")
        self.assertEqual(lines[2], "  Lowest setting. Sweep lightly over the front of your thigh, "
                                   "staying above the knee.")
        self.assertEqual([line for line in lines if line.startswith("Step ")][-1],
                         "Step 5/5: hamstrings, percussion, 40%")
        self.assertEqual(lines[-1], "Finished: the routine is complete.")
        self.assertNotIn("\r", r.stdout)  # no redrawing when not on a terminal

    def test_watch_exits_1_when_the_session_is_aborted(self):
        k = self.start_kneed(virtual="1")
        proc = subprocess.Popen([KNEECTL, f"--address={self.bus.address}", "start",
                                 "runners-knee-full", "--watch"], stdout=subprocess.PIPE,
                                text=True)
        wait_for(lambda: any(e["op"] == "set" for e in k.trace.commands("virtual0")),
                 what="the session to start")
        self.client.call("/org/kneed/Kneed1/session/1", SESSION_IFACE, "ReportPain")
        out, _ = proc.communicate(timeout=timeout(10))
        self.assertEqual(out.splitlines()[-1], "Finished: aborted (pain).")
        self.assertEqual(proc.returncode, 1)

    def test_watch_on_a_terminal_and_ctrl_c(self):
        k = self.start_kneed(virtual="1", args=["--time-scale=2"])
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(KNEECTL, [KNEECTL, f"--address={self.bus.address}", "start",
                                "runners-knee-full", "--watch"],
                      dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8"))
        output = b""

        def read_until(text, seconds=10):
            nonlocal output
            deadline = time.monotonic() + timeout(seconds)
            while text not in output:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {text!r} in {output!r}")
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    break

        # The progress line is redrawn in place (carriage return, clear line) with a bar.
        read_until(b"Step 1/9")
        read_until("█".encode() if False else b"left")
        read_until(b"\r\x1b[K")
        os.kill(pid, signal.SIGINT)
        read_until(b"Finished: stopped (session-stop).")
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(k.trace.commands("virtual0")[-1]["op"], "stop")


if __name__ == "__main__":
    main()
