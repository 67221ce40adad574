# SPDX-License-Identifier: MIT
"""Structured logging: every session start, refusal (with the rule), cap, stop (with the
reason), lockout and policy load carries KNEED_SESSION=, KNEED_DEVICE= and KNEED_REASON=, as
"[KEY=value ...]" on stderr and as journal fields when stderr is the journal."""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    ALL_CLEAR,
    MANAGER_IFACE,
    MANAGER_PATH,
    PERMISSIVE_POLICY,
    SESSION_IFACE,
    KneedTestCase,
    main,
    wait_for,
)

CAPTURE = os.path.join(os.path.dirname(__file__), "journal_capture.py")
# Screening on, so that a refusal has a rule to name; a day's pain lockout to record.
POLICY = PERMISSIVE_POLICY.replace("Required=no", "Required=yes")


class LoggingTest(KneedTestCase):
    def exercise(self, k):
        """One of each event: policy load (at start), start, cap, refusal, stop, lockout."""
        s1 = self.start_routine("pfps-massage-gun", "virtual0", detach=True,
                                screening=ALL_CLEAR)
        self.client.call(s1, SESSION_IFACE, "AdjustIntensity", "i", (60,))
        wait_for(lambda: self.client.get(s1, SESSION_IFACE, "Capped"), what="the cap")
        self.assertDBusError("org.kneed.Kneed1.Error.Contraindicated", self.start_routine,
                             "calf-release", "virtual1", detach=True,
                             screening=dict(ALL_CLEAR, **{"open-wound": True}))
        self.client.call(s1, SESSION_IFACE, "Stop")
        s2 = self.start_routine("calf-release", "virtual1", detach=True, screening=ALL_CLEAR)
        self.client.call(s2, SESSION_IFACE, "ReportPain")
        return s1, s2

    def test_events_on_stderr(self):
        k = self.start_kneed(virtual="2", policy=POLICY)
        self.exercise(k)
        log = k.log()
        for line in (
            r"Policy loaded: .* \[KNEED_REASON=policy-load\]",
            r"Session 1: pfps-massage-gun on virtual0 for uid \d+ \(detached\) "
            r"\[KNEED_SESSION=1 KNEED_DEVICE=virtual0 KNEED_REASON=start\]",
            r"Session 1: capped by the start cap: 20%, heat 0 C \(the routine asks \d+%, heat 0 "
            r"C\) \[KNEED_SESSION=1 KNEED_DEVICE=virtual0 KNEED_REASON=start\]",
            r"StartRoutine from :[\d.]+ refused: No session: you answered yes to open-wound .* "
            r"\[KNEED_DEVICE=virtual1 KNEED_REASON=contraindicated\]",
            r"Session 1: stopped \(session-stop\) \[KNEED_SESSION=1 KNEED_DEVICE=virtual0 "
            r"KNEED_REASON=session-stop\]",
            r"Session 2: aborted \(pain\) \[KNEED_SESSION=2 KNEED_DEVICE=virtual1 "
            r"KNEED_REASON=pain\]",
            r"Locked out on every device after pain until .* \[KNEED_REASON=pain\]",
        ):
            self.assertRegex(log, line)
        # A broken policy on reload is an event too.
        k.write_policy("[Limits]\nMaxIntensity=900\n")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")
        self.assertRegex(k.log(), r"Invalid policy, keeping the last good one: .* "
                                  r"\[KNEED_REASON=policy-invalid\]")

    def test_events_in_the_journal(self):
        out, pidfile = os.path.join(self.tmpdir, "journal.json"), os.path.join(self.tmpdir, "pid")
        k = self.start_kneed(virtual="2", policy=POLICY,
                             prefix=["unshare", "-m", "/usr/bin/python3", CAPTURE, out, pidfile,
                                     "--"])
        self.exercise(k)
        with open(pidfile) as f:
            os.kill(int(f.read()), signal.SIGTERM)
        self.assertEqual(k.wait_exit(), 0, k.log())
        with open(out) as f:
            captured = json.load(f)
        self.assertEqual(captured["status"], 0)
        # Everything went to the journal, nothing to the stream.
        self.assertEqual(captured["stderr"], "")
        records = captured["records"]
        self.assertTrue(all(r["SYSLOG_IDENTIFIER"] == "kneed" for r in records))

        def find(prefix):
            found = [r for r in records if r["MESSAGE"].startswith(prefix)]
            self.assertTrue(found, f"no journal record starting with {prefix!r}")
            return found[0]

        r = find("Session 1: pfps-massage-gun on virtual0")
        self.assertEqual((r["KNEED_SESSION"], r["KNEED_DEVICE"], r["KNEED_REASON"], r["PRIORITY"]),
                         ("1", "virtual0", "start", "6"))
        r = find("StartRoutine from")
        self.assertEqual((r["KNEED_DEVICE"], r["KNEED_REASON"], r["PRIORITY"]),
                         ("virtual1", "contraindicated", "5"))
        self.assertNotIn("KNEED_SESSION", r)
        r = find("Session 2: aborted (pain)")
        self.assertEqual((r["KNEED_SESSION"], r["KNEED_REASON"]), ("2", "pain"))
        r = find("Locked out on every device after pain")
        self.assertEqual((r["KNEED_REASON"], r["PRIORITY"]), ("pain", "4"))
        self.assertEqual(find("Policy loaded")["KNEED_REASON"], "policy-load")
        # Plain records are there too, without fields.
        self.assertNotIn("KNEED_REASON", find("Loaded plugin 'virtual'"))


if __name__ == "__main__":
    main()
