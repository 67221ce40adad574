# SPDX-License-Identifier: MIT
"""A bounded soak: kneed with 32 devices (24 virtual, 8 emulated okmp hidraw devices) for a
fixed time while clients start, adjust, pause, resume and stop sessions at random, clients
vanish, devices are unplugged and replugged, and the policy is reloaded. At the end it prints
RSS and fds at start and end, the sessions run, the commands sent and every limit violation
found in what the devices were told; it fails on RSS or fd growth beyond a small bound, on
any violation, on any error kneed should not give, or on a crash.

  tools/soak [SECONDS]          by hand (600 s by default)
  meson test -C build soak      in CI: 60 s (the plain run; sanitizers make RSS meaningless)

The seed is printed; KNEED_TEST_SEED replays the same choices."""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import test_devices as devices  # noqa: E402
from gi.repository import GLib  # noqa: E402
from kneedtest import (  # noqa: E402
    DEVICE_PREFIX,
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    Client,
    DBusCallError,
    expected_level,
    main,
    make_policy,
    rss_kib,
    wait_for,
)

SECONDS = 600.0
N_VIRTUAL, N_HEAT, N_OKMP = 16, 8, 8
LEVELS = {"virtual": 20, "virtual-heat": 5, "okmp": 10}
# Both policies allow many sessions and lock nothing out, so that the soak keeps going; the
# second is tighter, and reloads switch between them.
BASE = {"Limits": {"MaxSessionsPerDay": 1000, "MinRestMinutes": 0,
                   "KeepaliveMs": devices.KEEPALIVE_MS},
        "Screening": {"Required": "no"},
        "Lockout": {"PainMinutes": 0, "OverheatMinutes": 0, "FaultMinutes": 0}}
POLICIES = [make_policy(**BASE),
            make_policy(**dict(BASE, Limits=dict(BASE["Limits"], MaxIntensity=50,
                                                 MaxHeatCelsius=38)))]
MAX_INTENSITY, MAX_HEAT, AROUND_KNEECAP = 70, 41, ("peripatellar", "patellar-tendon")
# What kneed may answer a random client, as a refusal, not a failure.
EXPECTED_ERRORS = {
    "org.kneed.Kneed1.Error.DeviceBusy",
    "org.kneed.Kneed1.Error.NoSuchDevice",
    "org.kneed.Kneed1.Error.SessionFinished",
    "org.kneed.Kneed1.Error.Unsupported",
    "org.kneed.Kneed1.Error.SessionLimit",
    "org.kneed.Kneed1.Error.ForbiddenZone",
    "org.freedesktop.DBus.Error.UnknownObject",
}
RSS_GROWTH_MAX_KIB = 512


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Soak(devices.EmulatedTestCase):
    def test_soak(self):
        seed = int(os.environ.get("KNEED_TEST_SEED", random.randrange(1 << 32)))
        rng = random.Random(seed)
        print(f"soak: seed {seed} (KNEED_TEST_SEED replays), {SECONDS:.0f} s", flush=True)

        okmps = [self.okmp(i) for i in range(N_OKMP)]
        for d in okmps:
            d.plug()
        k = self.start_kneed(virtual=f"virtual:{N_VIRTUAL},virtual-heat:{N_HEAT}", hardware=True,
                             env=self.bed.env(), policy=POLICIES[0])
        self.models = {f"virtual{i}": "virtual" for i in range(N_VIRTUAL)}
        self.models.update({f"virtual{N_VIRTUAL + i}": "virtual-heat" for i in range(N_HEAT)})
        self.models.update({f"hidraw{d.minor}": "okmp" for d in okmps})
        total = len(self.models)
        wait_for(lambda: len(self.client.get(MANAGER_PATH, MANAGER_IFACE, "Devices")) == total,
                 10, what=f"{total} devices")
        (routines,) = self.client.call(MANAGER_PATH, MANAGER_IFACE, "ListRoutines", None, (),
                                       "(a(sssu))")
        self.presets = [r[0] for r in routines if not r[0].startswith("hw-")]
        self.clients = [Client(self.bus.address) for _ in range(3)]
        self.sessions, self.refusals, self.unexpected = [], {}, []
        self.started = 0
        plugged = {d.minor: True for d in okmps}
        policy = 0

        actions = [
            (30, self.start_one), (15, self.adjust), (8, self.pause), (8, self.resume),
            (12, self.stop), (1, self.pain), (10, self.read), (3, "plug"), (2, "reload"),
            (1, self.stop_all), (2, self.vanish),
        ]
        weights = [w for w, _ in actions]
        deadline = time.monotonic() + SECONDS
        baseline_at = time.monotonic() + max(10.0, SECONDS / 5)
        baseline = None
        n_actions = 0
        while time.monotonic() < deadline:
            if baseline is None and time.monotonic() >= baseline_at:
                baseline = self.settle(k, okmps, plugged)
            _, action = rng.choices(actions, weights)[0]
            if action == "plug":
                d = rng.choice(okmps)
                if plugged[d.minor]:
                    d.unplug()
                else:
                    d.plug()
                plugged[d.minor] = not plugged[d.minor]
            elif action == "reload":
                policy = 1 - policy
                k.write_policy(POLICIES[policy])
                self.call(self.client, MANAGER_PATH, MANAGER_IFACE, "Reload")
            else:
                action(rng)
            n_actions += 1
            if n_actions % 50 == 0:
                for c in self.clients + [self.client]:
                    c.pump()
                    c.signals.clear()
            time.sleep(rng.uniform(0, 0.03))

        end = self.settle(k, okmps, plugged)
        violations = self.violations(k, okmps)

        virtual_cmds = len(k.trace.lines())
        okmp_cmds = sum(len(d.reports(2)) + len(d.reports(3)) for d in okmps)
        print(f"soak: {n_actions} actions, {self.started} sessions started "
              f"(SessionsToday {self.client.get(MANAGER_PATH, MANAGER_IFACE, 'SessionsToday')})",
              flush=True)
        print(f"soak: commands sent: {virtual_cmds} to virtual devices, {okmp_cmds} reports to "
              f"okmp devices", flush=True)
        print(f"soak: refusals: {dict(sorted(self.refusals.items()))}", flush=True)
        print(f"soak: RSS {baseline[0]} KiB after warm-up -> {end[0]} KiB at the end "
              f"(bound +{RSS_GROWTH_MAX_KIB}); fds {baseline[1]} -> {end[1]}", flush=True)
        print(f"soak: {len(violations)} limit violation(s)", flush=True)
        for v in violations[:20]:
            print(f"  {v}", flush=True)

        self.assertEqual(self.unexpected, [])
        self.assertEqual(violations, [])
        self.assertLessEqual(end[0] - baseline[0], RSS_GROWTH_MAX_KIB)
        self.assertLessEqual(end[1], baseline[1])
        self.assertGreater(self.started, 0)
        for c in self.clients:
            c.close()

    def settle(self, k, okmps, plugged):
        """Every device plugged in and nothing running, so that the two measurements (after
        the warm-up and at the end) compare like with like. Returns (RSS in KiB, fds)."""
        for d in okmps:
            if not plugged[d.minor]:
                d.plug()
                plugged[d.minor] = True
        total = len(self.models)
        wait_for(lambda: len(self.client.get(MANAGER_PATH, MANAGER_IFACE, "Devices")) == total,
                 10, what=f"all {total} devices")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        time.sleep(1.0)
        return rss_kib(k.process.pid), proc_fds(k.process.pid)

    # Actions. Each picks its target at random; kneed may refuse, but only as it should.

    def call(self, client, path, iface, method, signature=None, args=(), reply=None):
        try:
            return client.call(path, iface, method, signature, args, reply)
        except DBusCallError as e:
            if e.name in EXPECTED_ERRORS:
                self.refusals[e.name] = self.refusals.get(e.name, 0) + 1
            else:
                self.unexpected.append((method, e.name, e.message))
            return None

    def start_one(self, rng):
        dev = rng.choice(sorted(self.models))
        routine = rng.choice(sorted(devices.HW_ROUTINES) if self.models[dev] == "okmp"
                             else self.presets)
        detach = rng.random() < 0.5
        client = rng.choice(self.clients)
        r = self.call(client, MANAGER_PATH, MANAGER_IFACE, "StartRoutine", "osa{sv}",
                      (DEVICE_PREFIX + dev, routine,
                       {"detach": GLib.Variant("b", detach)}), "(o)")
        if r:
            self.started += 1
            self.sessions.append(r[0])
            del self.sessions[:-64]

    def session_call(self, rng, method, signature=None, args=()):
        if self.sessions:
            self.call(rng.choice(self.clients), rng.choice(self.sessions), SESSION_IFACE, method,
                      signature, args)

    def adjust(self, rng):
        self.session_call(rng, "AdjustIntensity", "i", (rng.randint(-20, 20),))

    def pause(self, rng):
        self.session_call(rng, "Pause")

    def resume(self, rng):
        self.session_call(rng, "Resume")

    def stop(self, rng):
        self.session_call(rng, "Stop")

    def pain(self, rng):
        self.session_call(rng, "ReportPain")

    def read(self, rng):
        if self.sessions and rng.random() < 0.5:
            self.call(self.client, rng.choice(self.sessions), "org.freedesktop.DBus.Properties",
                      "GetAll", "s", (SESSION_IFACE,))
        else:
            self.call(self.client, MANAGER_PATH, MANAGER_IFACE, "ListDevices")

    def stop_all(self, rng):
        self.call(self.client, MANAGER_PATH, MANAGER_IFACE, "StopAll")

    def vanish(self, rng):
        """A client leaves the bus: its sessions that aren't detached stop."""
        i = rng.randrange(len(self.clients))
        self.clients[i].close()
        self.clients[i] = Client(self.bus.address)

    # What the devices were told.

    def violations(self, k, okmps):
        found = []
        last = {}
        for e in k.trace.lines():
            last[e["dev"]] = e["op"] if e["op"] != "keepalive" else last.get(e["dev"], "stop")
            if e["op"] != "set":
                continue
            levels = LEVELS[self.models[e["dev"]]]
            cap = 20 if e["zone"] in AROUND_KNEECAP else MAX_INTENSITY
            if e["zone"] == "kneecap":
                found.append(f"{e['dev']}: the kneecap: {e}")
            if int(e["level"]) > expected_level(cap, levels):
                found.append(f"{e['dev']}: level {e['level']} above {cap}% of {levels}: {e}")
            if int(e["heat"]) > MAX_HEAT:
                found.append(f"{e['dev']}: heat {e['heat']} above {MAX_HEAT} C: {e}")
        found += [f"{dev}: left running (last command {op})" for dev, op in last.items()
                  if op != "stop"]
        for d in okmps:
            reports = d.reports(2)
            for r in reports:
                _, levels, _, heat, _ = devices.outputs(r)
                if max(levels) > expected_level(MAX_INTENSITY, LEVELS["okmp"]):
                    found.append(f"hidraw{d.minor}: levels {levels} above {MAX_INTENSITY}%")
                if heat > MAX_HEAT:
                    found.append(f"hidraw{d.minor}: heat {heat} above {MAX_HEAT} C")
            if reports and devices.outputs(reports[-1]) != devices.OKMP_STOP:
                found.append(f"hidraw{d.minor}: left running ({devices.outputs(reports[-1])})")
        return found


if __name__ == "__main__":
    args = [a for a in sys.argv if not a.startswith("--seconds=")]
    for a in sys.argv:
        if a.startswith("--seconds="):
            SECONDS = float(a.split("=", 1)[1])
    sys.argv = args
    main()
