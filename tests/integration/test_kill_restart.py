# SPDX-License-Identifier: MIT
"""
kill -9 at random points of running sessions, 20 times in a row, as a crash or an OOM kill
would (issue 7, process faults). After every restart the first thing each device is told is
stop, and at the end the ledger is whole: every session the killed daemons started is in the
history exactly once and ended ("aborted", "daemon-restart"), the day's count includes them
all, and nothing was set aside as damaged.
"""

import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    MANAGER_IFACE,
    MANAGER_PATH,
    PERMISSIVE_POLICY,
    SESSION_IFACE,
    KneedTestCase,
    main,
    wait_for,
)

ROUNDS = 20
DEVICES = ("virtual0", "virtual1")


class KillRestartTest(KneedTestCase):
    def test_kill_9_twenty_times(self):
        seed = int(os.environ.get("KNEED_TEST_SEED", time.time_ns() % 1_000_000))
        rng = random.Random(seed)
        print(f"seed {seed} (KNEED_TEST_SEED={seed} repeats this run)")
        started = 0
        k = None
        for round_ in range(ROUNDS):
            mark = len(self.trace_lines())
            k = self.start_kneed(virtual="2")
            # Whatever the last daemon left running, this one's first word to each is stop.
            for dev in DEVICES:
                first = wait_for(lambda: k.trace.commands(dev, start=mark), what=f"{dev} bound")
                self.assertEqual(first[0]["op"], "stop", f"round {round_}: {first[0]}")

            # Sessions on one or both devices, sometimes paused, killed at a random moment:
            # between starts, in a step, in a ramp, in a pause.
            paths = []
            for dev in rng.sample(DEVICES, rng.randint(1, 2)):
                paths.append(self.start_routine("runners-knee-full", dev, detach=True))
                started += 1
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0, 0.05))
            if rng.random() < 0.3:
                self.client.call(rng.choice(paths), SESSION_IFACE, "Pause")
            time.sleep(rng.uniform(0, 0.4))
            k.process.send_signal(signal.SIGKILL)
            self.assertEqual(k.wait_exit(), -signal.SIGKILL)
            k.log_file.close()
            self._client.close()
            self._client = None  # its match rules and names go with the bus connection

        k = self.start_kneed(virtual="2")
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "SessionsToday"), started)
        (history,) = self.client.call(MANAGER_PATH, MANAGER_IFACE, "GetHistory", "u", (0,),
                                      "(a(sstuss))")
        self.assertEqual(len(history), started)
        for routine, device, _, _, state, reason in history:
            self.assertEqual((routine, state, reason),
                             ("runners-knee-full", "aborted", "daemon-restart"))
            self.assertIn(device, DEVICES)
        state_dir = os.path.join(self.tmpdir, "state")
        self.assertEqual([n for n in os.listdir(state_dir) if "corrupt" in n], [])
        self.assertNotIn("damaged", k.log())
        # And it serves: a session runs and stops normally.
        path = self.start_routine("calf-release", "virtual0", detach=True)
        self.client.call(path, SESSION_IFACE, "Stop")
        wait_for(lambda: self.client.get(path, SESSION_IFACE, "State") == "stopped",
                 what="the new session to stop")

    def trace_lines(self):
        path = os.path.join(self.tmpdir, "trace")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.readlines()


if __name__ == "__main__":
    main()
