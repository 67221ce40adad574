# SPDX-License-Identifier: MIT
"""The safety policy, screening, persistent limits and lockouts, on the real daemon."""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    ALL_CLEAR,
    DEVICE_IFACE,
    DEVICE_PREFIX,
    KNEECTL,
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    Client,
    KneedTestCase,
    main,
    make_policy,
    timeout,
    wait_for,
)

SCALE = "--time-scale=60"

MANY = {"MaxSessionsPerDay": 1000, "MinRestMinutes": 0}


def policy(limits=None, screening=True, **sections):
    """The defaults, except that tests may start many sessions in a row, with changes."""
    s = {"Limits": dict(MANY, **(limits or {}))}
    if not screening:
        s["Screening"] = {"Required": "no"}
    for name, keys in sections.items():
        s.setdefault(name, {}).update(keys)
    return make_policy(**s)


MANY_SESSIONS = policy()
NO_SCREENING = policy(screening=False)


def levels(trace, dev, start=0):
    return [int(e["level"]) for e in trace.commands(dev, start=start) if e["op"] == "set"]


class PolicyTest(KneedTestCase):
    def manager(self, prop):
        return self.client.get(MANAGER_PATH, MANAGER_IFACE, prop)

    def test_missing_policy_means_the_defaults(self):
        k = self.start_kneed(virtual="1", policy=None)
        limits = self.manager("Limits")
        self.assertEqual(limits["MaxIntensity"], 70)
        self.assertEqual(limits["MaxSessionMinutes"], 15)
        self.assertEqual(limits["MaxSessionsPerDay"], 3)
        self.assertEqual(limits["MinRestMinutes"], 60)
        self.assertEqual(limits["MaxZoneMinutes"], 10)
        self.assertEqual(limits["MaxHeatCelsius"], 41)
        self.assertEqual(limits["StartIntensityMax"], 20)
        self.assertEqual(limits["ForbiddenZones"], ["kneecap"])
        self.assertEqual(limits["ZoneCaps"]["peripatellar"], 20)
        self.assertTrue(limits["ScreeningRequired"])
        self.assertIn("dvt-suspected", limits["ScreeningRefuse"])
        self.assertIn("varicose-veins", limits["ScreeningLower"])
        self.assertEqual(self.manager("PolicyError"), "")
        self.assertIn("No policy file at", k.log())
        self.assertEqual(self.client.get(DEVICE_PREFIX + "virtual0", DEVICE_IFACE,
                                         "MaxIntensity"), 70)

    def test_policy_values_and_model_caps_are_published(self):
        self.start_kneed(virtual="virtual,virtual-heat", policy=(
            "[Limits]\nMaxIntensity=60\nMaxRampPercentPerSecond=1.5\n"
            "[Zones]\nForbidden=adductors\ncalves=45\n"
            "[Device virtual:virtual-heat]\nMaxIntensity=35\n"))
        limits = self.manager("Limits")
        self.assertEqual(limits["MaxIntensity"], 60)
        self.assertEqual(limits["MaxRampPercentPerSecond"], 1.5)
        self.assertEqual(sorted(limits["ForbiddenZones"]), ["adductors", "kneecap"])
        self.assertEqual(limits["ZoneCaps"]["calves"], 45)
        self.assertNotIn("adductors", limits["ZoneCaps"])
        self.assertEqual(self.client.get(DEVICE_PREFIX + "virtual0", DEVICE_IFACE,
                                         "MaxIntensity"), 60)
        self.assertEqual(self.client.get(DEVICE_PREFIX + "virtual1", DEVICE_IFACE,
                                         "MaxIntensity"), 35)
        out = self.kneectl("limits").stdout
        self.assertRegex(out, r"MaxIntensity\s+60\n")
        self.assertEqual(json.loads(self.kneectl("--json", "limits").stdout)["ZoneCaps"]["calves"],
                         45)

    def test_invalid_policy_at_start_refuses_everything(self):
        k = self.start_kneed(virtual="1", policy="[Limits]\nMaxIntensity=50\nMaxSessionMinutes=45\n")
        expected = (f"{k.policy_path}:3: [Limits] MaxSessionMinutes: 45 is outside the hard "
                    "bounds 1..30 minutes")
        self.assertEqual(self.manager("PolicyError"), expected)
        e = self.assertDBusError("org.kneed.Kneed1.Error.PolicyInvalid", self.start_routine,
                                 "calf-release", detach=True, screening=ALL_CLEAR)
        self.assertIn(expected, e.message)
        # No output at all: not even an identify buzz.
        self.assertDBusError("org.kneed.Kneed1.Error.PolicyInvalid", self.client.call,
                             DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Identify")
        self.assertEqual([e["op"] for e in k.trace.lines()], ["stop"])
        self.assertIn("Policy: INVALID, " + expected, self.kneectl("status").stdout)
        self.assertIn("refusing every session until it is fixed", k.log())
        # Fixing the file and reloading lets sessions start.
        k.write_policy(NO_SCREENING)
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        self.assertEqual(self.manager("PolicyError"), "")
        self.start_routine("calf-release", detach=True)

    def test_invalid_reload_keeps_the_last_good_policy(self):
        k = self.start_kneed(virtual="1", policy=policy(screening=False, Zones={"calves": 50}))
        k.write_policy("[Zones]\ncalves=50\nshin=10\n")
        k.signal(signal.SIGHUP)
        wait_for(lambda: self.manager("PolicyError"), what="PolicyError after SIGHUP")
        self.assertIn(":3: [Zones] unknown key 'shin'", self.manager("PolicyError"))
        self.assertIn("Invalid policy, keeping the last good one", k.log())
        self.assertEqual(self.manager("Limits")["ZoneCaps"]["calves"], 50)
        self.start_routine("calf-release", detach=True)

    def test_reload_that_tightens_lowers_a_running_session_at_once(self):
        k = self.start_kneed(virtual="1", args=[SCALE], policy=NO_SCREENING)
        c = self.client
        path = self.start_routine("post-activity-recovery", detach=True)
        c.call(path, SESSION_IFACE, "AdjustIntensity", "i", (30,))
        wait_for(lambda: max(levels(k.trace, "virtual0"), default=0) >= 12,
                 what="the session to run high")
        k.write_policy(policy({"MaxIntensity": 30}, screening=False))
        mark = len(k.trace.lines())
        t0 = time.monotonic()
        c.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        reply = time.monotonic()
        after = [e for e in k.trace.commands("virtual0", start=mark) if e["op"] == "set"]
        # Brought down within the Reload call itself, not at the next step.
        self.assertTrue(after, "no command followed the reload")
        self.assertLessEqual(int(after[0]["level"]), 6)
        self.assertLess(reply - t0, timeout(0.5))
        self.assertEqual(c.get(path, SESSION_IFACE, "Capped"), True)
        c.wait_signal("Finished", seconds=30, path=path)
        self.assertTrue(all(x <= 6 for x in levels(k.trace, "virtual0", start=mark)))


class DocumentationTest(KneedTestCase):
    """kneed-policy.conf(5) states each key's default and hard bounds: they must be the
    daemon's, and the example file must be the defaults."""

    LIMITS_NAME = {"PainMinutes": "PainLockoutMinutes",
                   "OverheatMinutes": "OverheatLockoutMinutes",
                   "FaultMinutes": "FaultLockoutMinutes"}

    def documented(self):
        with open(os.path.join(os.environ["KNEED_SOURCE_DIR"], "docs",
                               "kneed-policy.conf.5")) as f:
            roff = f.read()
        section = None
        keys = {}
        for line in roff.splitlines():
            m = re.match(r"\.SH \[(\w+)", line)
            if m:
                section = m.group(1)
            m = re.match(r"\.BI (\w+)= ", line)
            if m:
                key = (section, m.group(1))
            m = re.match(r"Default: ([\d.]+)[^.]*\. Hard bounds: ([\d.]+) to ([\d.]+)(, or 0)?",
                         line)
            if m:
                keys[key] = (float(m.group(1)), float(m.group(2)), float(m.group(3)),
                             bool(m.group(4)))
        return keys

    def test_man_page_defaults_and_bounds_are_the_daemons(self):
        keys = self.documented()
        self.assertEqual(len(keys), 14)
        k = self.start_kneed(virtual="1", policy=None)
        limits = self.client.get(MANAGER_PATH, MANAGER_IFACE, "Limits")
        for (section, key), (default, low, high, zero_ok) in keys.items():
            with self.subTest(key=key):
                self.assertEqual(limits[self.LIMITS_NAME.get(key, key)], default)
                ok = [low, high] + ([0] if zero_ok else [])
                step = 0.1 if key == "MaxRampPercentPerSecond" else 1
                bad = [high + step] + ([low - step] if low - step >= 0 and not
                                       (zero_ok and low - step == 0) else [])
                for value, valid in [(v, True) for v in ok] + [(v, False) for v in bad]:
                    text = f"{value:g}"
                    k.write_policy(f"[{section}]\n{key}={text}\n")
                    self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
                    error = self.client.get(MANAGER_PATH, MANAGER_IFACE, "PolicyError")
                    self.assertEqual(error == "", valid, f"{key}={text}: {error!r}")

    def test_example_file_is_the_defaults(self):
        self.start_kneed(virtual="1", policy=None)
        defaults = self.client.get(MANAGER_PATH, MANAGER_IFACE, "Limits")
        example = os.path.join(os.environ["KNEED_SOURCE_DIR"], "data", "policy.conf.example")
        with open(example) as f:
            self.daemons[0].write_policy(f.read())
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "PolicyError"), "")
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "Limits"), defaults)


class ScreeningTest(KneedTestCase):
    def start(self, **kwargs):
        return self.start_kneed(virtual="virtual,virtual-heat", args=[SCALE],
                                policy=MANY_SESSIONS, **kwargs)

    def test_a_start_without_answers_is_refused(self):
        self.start()
        e = self.assertDBusError("org.kneed.Kneed1.Error.ScreeningRequired",
                                 self.start_routine, "calf-release", detach=True)
        self.assertIn("Screening is required before a session; answer: recent-injury, "
                      "swelling-redness-heat, dvt-suspected", e.message)
        partial = dict(ALL_CLEAR)
        del partial["blood-thinners"]
        e = self.assertDBusError("org.kneed.Kneed1.Error.ScreeningRequired",
                                 self.start_routine, "calf-release", detach=True,
                                 screening=partial)
        self.assertEqual(e.message, "Screening answers missing: blood-thinners")
        e = self.assertDBusError("org.freedesktop.DBus.Error.InvalidArgs", self.start_routine,
                                 "calf-release", detach=True, screening={"sore-toe": True})
        self.assertIn("Unknown screening answer 'sore-toe'", e.message)

    def test_contraindications_refuse_with_the_reason(self):
        self.start()
        for answer in ("recent-injury", "swelling-redness-heat", "dvt-suspected",
                       "infection-fever", "recent-surgery", "open-wound"):
            with self.subTest(answer=answer):
                e = self.assertDBusError("org.kneed.Kneed1.Error.Contraindicated",
                                         self.start_routine, "calf-release", detach=True,
                                         screening=dict(ALL_CLEAR, **{answer: True}))
                self.assertIn(f"you answered yes to {answer}", e.message)
                self.assertIn("see a clinician first", e.message)
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "SessionsToday"), 0)

    def test_cautions_lower_the_caps(self):
        k = self.start()
        c = self.client
        p0 = self.start_routine("post-activity-recovery", "virtual0", detach=True,
                                screening=dict(ALL_CLEAR, **{"varicose-veins": True}))
        p1 = self.start_routine("knee-oa-comfort", "virtual1", detach=True,
                                screening=dict(ALL_CLEAR, **{"blood-thinners": True}))
        c.call(p0, SESSION_IFACE, "AdjustIntensity", "i", (60,))
        for p in (p0, p1):
            c.wait_signal("Finished", seconds=30, path=p)
        # LoweredMaxIntensity 40 % (8 of 20 steps), and no heat (LoweredMaxHeatCelsius 0).
        self.assertLessEqual(max(levels(k.trace, "virtual0")), 8)
        self.assertEqual({e["heat"] for e in k.trace.commands("virtual1") if e["op"] == "set"},
                         {"0"})
        self.assertIn("caps lowered by screening", k.log())

    def test_kneectl_screening(self):
        k = self.start()
        answers = ",".join(f"{q}=no" for q in ALL_CLEAR)
        r = self.kneectl("start", "calf-release", "--screening",
                         answers.replace("dvt-suspected=no", "dvt-suspected=yes"), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Failed to start the routine: No session: you answered yes to "
                      "dvt-suspected", r.stderr)
        r = self.kneectl("start", "calf-release", "--screening", "dvt=no", check=False)
        self.assertIn("unknown screening question 'dvt'", r.stderr)
        r = self.kneectl("start", "calf-release", "--screening", answers)
        self.assertIn("Started calf-release on virtual0", r.stdout)

        # On a terminal, kneectl asks.
        asked = 0

        def answer(output, fd):
            nonlocal asked
            while output.count(b"[y/n]") > asked:
                # Yes to varicose veins, no to everything else.
                os.write(fd, b"y\n" if b"varicose" in output.split(b"[y/n]")[asked] else b"n\n")
                asked += 1

        code, output = self.kneectl_on_terminal("start", "calf-release", "--device", "virtual1",
                                                respond=answer)
        self.assertEqual(code, 0, output)
        self.assertEqual(asked, 11)
        self.assertIn(b"Could you have a blood clot", output)
        self.assertIn(b"Started calf-release on virtual1", output)
        wait_for(lambda: "caps lowered by screening" in k.log(), what="the lowered session")


class LimitsTest(KneedTestCase):
    def start(self, policy, virtual="1", **kwargs):
        return self.start_kneed(virtual=virtual, args=[SCALE], policy=policy, **kwargs)

    def run_session(self, routine="pfps-massage-gun", device="virtual0"):
        path = self.start_routine(routine, device, detach=True)
        self.client.call(path, SESSION_IFACE, "Stop")
        return path

    def restart(self, k, policy):
        k.kill()
        k.wait_exit()
        return self.start(policy)

    def test_daily_limit_survives_kill_and_restart(self):
        policy = make_policy(Limits={"MaxSessionsPerDay": 2, "MinRestMinutes": 0},
                             Screening={"Required": "no"})
        k = self.start(policy)
        self.run_session()
        self.run_session()
        e = self.assertDBusError("org.kneed.Kneed1.Error.SessionLimit", self.start_routine,
                                 "calf-release", detach=True)
        self.assertEqual(e.message, "2 of 2 sessions used today; the count starts again at "
                                    "midnight")
        k = self.restart(k, policy)
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "SessionsToday"), 2)
        self.assertDBusError("org.kneed.Kneed1.Error.SessionLimit", self.start_routine,
                             "calf-release", detach=True)
        history = self.client.call(MANAGER_PATH, MANAGER_IFACE, "GetHistory", "u", (10,),
                                   "(a(sstuss))")[0]
        self.assertEqual([h[0] for h in history], ["pfps-massage-gun"] * 2)
        self.assertEqual(history[0][4:], ("stopped", "session-stop"))

    def test_rest_period_survives_restart(self):
        policy = make_policy(Limits={"MinRestMinutes": 60}, Screening={"Required": "no"})
        k = self.start(policy)
        self.run_session()
        e = self.assertDBusError("org.kneed.Kneed1.Error.CoolingDown", self.start_routine,
                                 "calf-release", detach=True)
        self.assertRegex(e.message, r"^Rest first: the next session can start at \d\d:\d\d "
                                    r"\(60 minutes between sessions\)$")
        k = self.restart(k, policy)
        self.assertDBusError("org.kneed.Kneed1.Error.CoolingDown", self.start_routine,
                             "calf-release", detach=True)
        # A looser policy applies at once.
        k.write_policy(NO_SCREENING)
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        self.start_routine("calf-release", detach=True)

    def test_kill_mid_session(self):
        policy = make_policy(Limits={"MinRestMinutes": 30}, Screening={"Required": "no"})
        k = self.start(policy)
        self.start_routine("runners-knee-full", detach=True)
        time.sleep(0.3)
        k = self.restart(k, policy)
        mark = 0
        lines = k.trace.lines()
        # The restarted daemon's first command to the device is stop.
        starts = [i for i, e in enumerate(lines) if e["op"] == "stop" and i > 0]
        restart_line = next(i for i in starts if lines[i - 1]["op"] != "stop")
        self.assertEqual(lines[restart_line]["op"], "stop")
        self.assertTrue(mark == 0)
        # The killed session is on record, aborted at the restart, and the rest counts.
        history = self.client.call(MANAGER_PATH, MANAGER_IFACE, "GetHistory", "u", (1,),
                                   "(a(sstuss))")[0]
        self.assertEqual(history[0][4:], ("aborted", "daemon-restart"))
        self.assertDBusError("org.kneed.Kneed1.Error.CoolingDown", self.start_routine,
                             "calf-release", detach=True)

    def test_a_killed_client_stops_the_device_quickly(self):
        k = self.start(NO_SCREENING)
        proc = subprocess.Popen([KNEECTL, f"--address={self.bus.address}", "start",
                                 "runners-knee-full", "--watch"], stdout=subprocess.PIPE)
        wait_for(lambda: any(e["op"] == "set" for e in k.trace.commands("virtual0")),
                 what="the session to start")
        mark = len(k.trace.lines())
        t = time.monotonic()
        proc.kill()
        proc.wait()
        wait_for(lambda: any(e["op"] == "stop" for e in k.trace.commands("virtual0", start=mark)),
                 seconds=2, interval=0.002, what="the device to stop")
        self.assertLess(time.monotonic() - t, timeout(0.25))
        proc.stdout.close()

    def test_pain_stops_at_once_and_locks_out(self):
        policy = globals()["policy"](screening=False, Lockout={"PainMinutes": 120})
        k = self.start(policy, virtual="2")
        c = self.client
        path = self.start_routine("runners-knee-full", detach=True)
        mark = len(k.trace.lines())
        c.call(path, SESSION_IFACE, "ReportPain")
        self.assertEqual(k.trace.commands("virtual0", start=mark)[0]["op"], "stop")
        self.assertEqual(c.get(path, SESSION_IFACE, "State"), "aborted")
        self.assertEqual(c.get(path, SESSION_IFACE, "StopReason"), "pain")
        # A pain report is about the person: every device is locked out.
        for dev in ("virtual0", "virtual1"):
            e = self.assertDBusError("org.kneed.Kneed1.Error.LockedOut", self.start_routine,
                                     "calf-release", dev, detach=True)
        self.assertIn("Locked out after a pain report until", e.message)
        self.assertIn("If the pain persists, see a clinician", e.message)
        k = self.restart(k, policy)
        self.assertDBusError("org.kneed.Kneed1.Error.LockedOut", self.start_routine,
                             "calf-release", detach=True)
        self.assertEqual(self.kneectl("clear-lockout").stdout, "Lockouts cleared.\n")
        self.start_routine("calf-release", detach=True)
        out = self.kneectl("history").stdout
        self.assertRegex(out, r"runners-knee-full\s+virtual0\s+\d+:\d\d\s+aborted\s+pain")

    def test_kneectl_pain(self):
        self.start(NO_SCREENING)
        self.kneectl("start", "calf-release")
        self.assertEqual(self.kneectl("pain", "1").stdout, "Stopped session 1.\n")
        self.assertIn("Locked out after a pain report",
                      self.kneectl("start", "calf-release", check=False).stderr)

    def test_session_length_cap_ends_mid_step(self):
        self.start(policy({"MaxSessionMinutes": 1}, screening=False))
        path = self.start_routine("runners-knee-full", detach=True)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "session-limit"))
        elapsed = self.client.get(path, SESSION_IFACE, "ElapsedMs")
        self.assertAlmostEqual(elapsed, 60000, delta=600)
        # Step 2 runs from 45 s to 90 s: the cap fell in the middle of it.
        self.assertEqual(self.client.get(path, SESSION_IFACE, "StepIndex"), 1)

    def test_zone_time_cap(self):
        self.start(policy({"MaxZoneMinutes": 1}, screening=False))
        path = self.start_routine("calf-release", detach=True)
        _, fin = self.client.wait_signal("Finished", seconds=10, path=path)
        self.assertEqual(fin[3], ("aborted", "zone-limit"))
        self.assertAlmostEqual(self.client.get(path, SESSION_IFACE, "ElapsedMs"), 60000,
                               delta=600)

    def test_forbidden_zones(self):
        k = self.start(policy(screening=False, Zones={"Forbidden": "calves"}))
        e = self.assertDBusError("org.kneed.Kneed1.Error.ForbiddenZone", self.start_routine,
                                 "calf-release", detach=True)
        self.assertIn("works on the calves (step 1), which the safety policy forbids", e.message)
        # Forbidding a zone while a session works on it ends the session.
        k.write_policy(NO_SCREENING)
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        path = self.start_routine("calf-release", detach=True)
        k.write_policy(policy(screening=False, Zones={"Forbidden": "calves"}))
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        self.assertEqual(self.client.get(path, SESSION_IFACE, "StopReason"), "forbidden-zone")
        self.assertEqual(k.trace.commands("virtual0")[-1]["op"], "stop")

    def test_start_ceiling_and_ramp_limit(self):
        k = self.start(policy({"StartIntensityMax": 5, "MaxRampPercentPerSecond": 0.5},
                              screening=False))
        c = self.client
        path = self.start_routine("pfps-massage-gun", detach=True)
        # The first step asks 10 %; the start ceiling holds it at 5 % (one of 20 steps).
        self.assertEqual(levels(k.trace, "virtual0"), [1])
        self.assertTrue(c.get(path, SESSION_IFACE, "Capped"))
        c.wait_signal("Finished", seconds=30, path=path)
        # Later rises: never faster than 0.5 %/s of routine time (30 %/s at 60x), so at most
        # one 5 % step per 1/6 s, with 20 ms of scheduling slack.
        sets = [e for e in k.trace.commands("virtual0") if e["op"] == "set"]
        for a, b in zip(sets, sets[1:]):
            rise = (int(b["level"]) - int(a["level"])) * 5
            if rise > 0:
                dt = (b["t_us"] - a["t_us"]) / 1e6
                self.assertLessEqual(rise, max(30 * (dt + 0.02), 5), (a, b))

    def test_keepalive_interval_follows_the_policy(self):
        k = self.start(policy({"KeepaliveMs": 300}, screening=False))
        path = self.start_routine("runners-knee-full", detach=True)
        time.sleep(1.0)
        self.client.call(path, SESSION_IFACE, "Stop")
        t = [e["t_us"] for e in k.trace.lines() if e["op"] == "keepalive"]
        gaps = [(b - a) / 1000 for a, b in zip(t, t[1:])]
        self.assertGreater(len(gaps), 5)
        self.assertTrue(all(80 <= g <= 140 for g in gaps), gaps)

    def test_corrupt_ledger_fails_closed_until_midnight(self):
        k = self.start(NO_SCREENING)
        self.run_session()
        self.run_session()
        k.kill()
        k.wait_exit()
        ledger = os.path.join(self.tmpdir, "state", "ledger")
        with open(ledger, "r+b") as f:
            f.seek(5)
            f.write(b"X")
        k = self.start(NO_SCREENING)
        e = self.assertDBusError("org.kneed.Kneed1.Error.LockedOut", self.start_routine,
                                 "calf-release", detach=True)
        self.assertRegex(e.message, r"Sessions are locked until (00:00|\d{4}-\d\d-\d\d 00:00): "
                                    r"the session ledger was found damaged")
        self.assertRegex(k.log(), r"Session ledger: .*ledger:1: .*ledger.corrupt-")
        self.assertTrue(any(n.startswith("ledger.corrupt-")
                            for n in os.listdir(os.path.join(self.tmpdir, "state"))))
        self.kneectl("clear-lockout")
        self.start_routine("calf-release", detach=True)

    def test_no_ledger_no_session(self):
        blocker = os.path.join(self.tmpdir, "file")
        open(blocker, "w").close()
        k = self.start_kneed(virtual="1", policy=NO_SCREENING,
                             args=[f"--state-dir={blocker}/state"])
        e = self.assertDBusError("org.kneed.Kneed1.Error.LedgerUnavailable", self.start_routine,
                                 "calf-release", detach=True)
        self.assertIn("cannot create the state directory", e.message)
        self.assertIn("refusing sessions", k.log())

    def test_overheat(self):
        data = self.make_data_dir()
        with open(os.path.join(data, "devices", "virtual-heat.device")) as f:
            wrap = f.read()
        for model, overshoot in (("warm", 3), ("hot", 25)):
            text = wrap.replace("Match=virtual:virtual-heat", f"Match=virtual:{model}")
            text = re.sub(r"HeatTimeConstantSeconds=\d+", "HeatTimeConstantSeconds=0.3", text)
            text += f"HeaterOvershootCelsius={overshoot}\nStatusIntervalMs=100\n"
            with open(os.path.join(data, "devices", f"{model}.device"), "w") as f:
                f.write(text)
        k = self.start_kneed(virtual="warm,hot,virtual-heat", data_dir=data, args=[SCALE],
                             policy=NO_SCREENING)
        c = self.client
        # Above the 41 C cap: heater off for the rest of the session, motors go on.
        warm = self.start_routine("knee-oa-comfort", "virtual0", detach=True)
        wait_for(lambda: "heater off for this session" in k.log(), seconds=5,
                 what="the heater to be switched off")
        c.wait_signal("Finished", seconds=30, path=warm)
        sets = [e for e in k.trace.commands("virtual0") if e["op"] == "set"]
        first_off = next(i for i, e in enumerate(sets) if i > 0 and e["heat"] == "0")
        self.assertTrue(all(e["heat"] == "0" for e in sets[first_off:]))
        self.assertTrue(all(int(e["level"]) > 0 for e in sets[first_off:]))
        self.assertEqual(c.get(warm, SESSION_IFACE, "State"), "completed")
        # Past the 43 C hard bound: everything off, and that model is locked out.
        hot = self.start_routine("knee-oa-comfort", "virtual1", detach=True)
        _, fin = c.wait_signal("Finished", seconds=10, path=hot)
        self.assertEqual(fin[3], ("aborted", "overheat"))
        self.assertIn("above the hard maximum of 43 C", k.log())
        e = self.assertDBusError("org.kneed.Kneed1.Error.LockedOut", self.start_routine,
                                 "calf-release", "virtual1", detach=True)
        self.assertIn("the device overheated", e.message)
        # Other models carry on.
        self.start_routine("calf-release", "virtual2", detach=True)

    def test_device_fault_locks_out_that_model_only(self):
        data = self.make_data_dir({"flaky": "FaultAfterMs=200\n"})
        self.start_kneed(virtual="flaky,virtual", data_dir=data, args=[SCALE],
                         policy=NO_SCREENING)
        path = self.start_routine("calf-release", "virtual0", detach=True)
        self.client.wait_signal("Finished", seconds=10, path=path)
        e = self.assertDBusError("org.kneed.Kneed1.Error.DeviceFaulted", self.start_routine,
                                 "calf-release", "virtual0", detach=True)
        self.start_routine("calf-release", "virtual1", detach=True)
        self.assertTrue(e)

    def test_detached_sessions_obey_every_limit(self):
        self.start(make_policy(Limits={"MaxSessionsPerDay": 1, "MinRestMinutes": 0},
                               Screening={"Required": "no"}))
        self.busctl("call", "org.kneed.Kneed1", MANAGER_PATH, MANAGER_IFACE, "StartRoutine",
                    "osa{sv}", DEVICE_PREFIX + "virtual0", "calf-release", "1", "detach", "b",
                    "true")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        r = self.busctl("call", "org.kneed.Kneed1", MANAGER_PATH, MANAGER_IFACE, "StartRoutine",
                        "osa{sv}", DEVICE_PREFIX + "virtual0", "calf-release", "1", "detach", "b",
                        "true", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("1 of 1 sessions used today", r.stderr)

    def test_stops_need_no_authorization_and_survive_a_broken_policy(self):
        k = self.start(NO_SCREENING)
        other = Client(self.bus.address)
        path = self.start_routine("runners-knee-full", detach=True)
        k.write_policy("[Limits]\nMaxIntensity=500\n")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        other.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        other.close()
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "stopped")


if __name__ == "__main__":
    main()
