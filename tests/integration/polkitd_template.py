# SPDX-License-Identifier: MIT
"""A python-dbusmock template standing in for polkitd, for kneed's authorization tests.

Like dbusmock's own polkitd template, but it also models interactive authentication, which
auth_admin_keep actions need: an action set with SetChallenge() is granted only when the
caller allowed user interaction (CheckAuthorization flag 1), and answered with is_challenge
otherwise. Every query is recorded, so a test can see who asked polkit what, and when.
"""

import time

import dbus
from dbusmock import MOCK_IFACE

BUS_NAME = "org.freedesktop.PolicyKit1"
MAIN_OBJ = "/org/freedesktop/PolicyKit1/Authority"
MAIN_IFACE = "org.freedesktop.PolicyKit1.Authority"
SYSTEM_BUS = True

ALLOW_USER_INTERACTION = 1


def load(mock, _parameters):
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({
        "BackendName": "local",
        "BackendVersion": "0.8.15",
        "BackendFeatures": dbus.UInt32(1, variant_level=1),
    }, signature="sv"))
    mock.allowed = set()
    mock.challenge = set()
    mock.delay = 0.0
    mock.queries = []


@dbus.service.method(MAIN_IFACE, in_signature="(sa{sv})sa{ss}us", out_signature="(bba{ss})")
def CheckAuthorization(self, subject, action_id, _details, flags, _cancellation_id):
    kind, detail = subject
    self.queries.append((str(kind), str(detail.get("name", "")), str(action_id), int(flags)))
    time.sleep(self.delay)
    if action_id in self.allowed:
        return (True, False, {})
    if action_id in self.challenge:
        if flags & ALLOW_USER_INTERACTION:
            return (True, False, {})  # the person authenticated as an administrator
        return (False, True, {})
    return (False, False, {})


@dbus.service.method(MOCK_IFACE, in_signature="as", out_signature="")
def SetAllowed(self, actions):
    """Actions granted without asking anyone."""
    self.allowed = set(actions)


@dbus.service.method(MOCK_IFACE, in_signature="as", out_signature="")
def SetChallenge(self, actions):
    """Actions granted only after authentication, that is with user interaction allowed."""
    self.challenge = set(actions)


@dbus.service.method(MOCK_IFACE, in_signature="d", out_signature="")
def SetDelay(self, seconds):
    """How long each answer takes."""
    self.delay = seconds


@dbus.service.method(MOCK_IFACE, in_signature="", out_signature="a(sssu)")
def GetQueries(self):
    """Every CheckAuthorization so far: subject kind, bus name, action, flags."""
    return self.queries
