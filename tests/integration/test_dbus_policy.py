# SPDX-License-Identifier: MIT
"""The D-Bus system bus policy and activation file (data/dbus-1/), enforced by a real
dbus-daemon.

Each test runs a dbus-daemon configured like the system bus (/usr/share/dbus-1/system.conf):
EXTERNAL authentication, a default policy that denies owning names and sending method calls,
our policy file included after it, and a service directory holding our activation file. The
real kneed runs on it as root. Clients run as root and, through setpriv, as other uids (nobody,
and a stand-in for the kneed user), so that the bus's decisions are seen from where they matter.

What the bus refuses is told apart from what kneed refuses by the reply's sender: the bus
driver (org.freedesktop.DBus) or kneed's unique name.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    BUS_NAME,
    DEVICE_IFACE,
    DEVICE_PREFIX,
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    TIMEOUT_FACTOR,
    KneedTestCase,
    main,
    timeout,
)
from gi.repository import Gio, GLib  # noqa: E402  (kneedtest chose the versions)

POLICY_FILE = os.path.join(os.environ["KNEED_SOURCE_DIR"], "data", "dbus-1", BUS_NAME + ".conf")
# The activation file as meson configured it: the bytes that get installed.
SERVICE_FILE = os.path.join(os.environ["KNEED_BUILD_DIR"], "data", "dbus-1", BUS_NAME + ".service")

BUS_DRIVER = "org.freedesktop.DBus"
BUS_PATH = "/org/freedesktop/DBus"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECTABLE_IFACE = "org.freedesktop.DBus.Introspectable"
PEER_IFACE = "org.freedesktop.DBus.Peer"
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"

NOBODY = 65534
# RequestName's flag and answer (dbus specification).
DBUS_NAME_FLAG_DO_NOT_QUEUE = 4
DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER = 1

# The default policy of /usr/share/dbus-1/system.conf (dbus 1.14), which every system bus
# policy file punches holes in: nobody may own a name or send a method call unless allowed.
SYSTEM_BUS_CONF = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""

# A client for any uid: makes the given method calls on one connection and prints, as JSON,
# its unique name and each reply's type, sender, error name and body. Written to the test's
# directory because the uid it runs as may not be able to read the source tree.
CLIENT = r'''
import json, sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib

def value(v):
    # {"$v": [type, value]} stands for a variant, e.g. a{sv} options; "$self" for the
    # connection's unique name.
    if v == "$self":
        return conn.get_unique_name()
    if isinstance(v, dict) and "$v" in v:
        return GLib.Variant(v["$v"][0], value(v["$v"][1]))
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v

address, timeout_ms, calls = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
conn = Gio.DBusConnection.new_for_address_sync(
    address,
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
    None, None)
results = []
for dest, path, iface, member, signature, args in calls:
    msg = Gio.DBusMessage.new_method_call(dest, path, iface, member)
    if signature:
        msg.set_body(GLib.Variant("(" + signature + ")", tuple(value(a) for a in args)))
    reply, _ = conn.send_message_with_reply_sync(msg, Gio.DBusSendMessageFlags.NONE, timeout_ms,
                                                 None)
    body = reply.get_body()
    results.append({
        "error": reply.get_error_name() if reply.get_message_type() == Gio.DBusMessageType.ERROR
                 else None,
        "sender": reply.get_sender(),
        "body": body.unpack() if body is not None else [],
    })
print(json.dumps({"unique_name": conn.get_unique_name(), "results": results}, default=repr))
conn.close_sync(None)
'''


def reachable_tmp():
    """A temporary directory's parent that any uid can pass through, so that other uids
    reach the bus socket inside it."""
    base = tempfile.gettempdir()
    path = base
    while True:
        if not os.stat(path).st_mode & 0o001:
            base = "/tmp"  # TMPDIR is somewhere private, such as under /root
            break
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return base


def free_uid():
    """A uid no account uses, to stand in for the kneed user."""
    with open("/etc/passwd") as f:
        used = {int(line.split(":")[2]) for line in f if line.count(":") >= 6}
    return next(u for u in range(64990, 60000, -1) if u not in used)


class SystemLikeBus:
    """A dbus-daemon with the system bus's default policy plus ours. With passwd, it runs in a
    mount namespace of its own where that file is /etc/passwd: dbus-daemon resolves policy
    user names when it reads its configuration, so this is how a kneed account exists for it
    without adding one to the machine."""

    def __init__(self, directory, passwd=None):
        self.directory = directory
        self.log_path = os.path.join(directory, "dbus-daemon.log")
        servicedir = os.path.join(directory, "system-services")
        os.mkdir(servicedir)
        with open(SERVICE_FILE) as src, \
                open(os.path.join(servicedir, os.path.basename(SERVICE_FILE)), "w") as dst:
            dst.write(src.read())
        self.config = os.path.join(directory, "system.conf")
        with open(self.config, "w") as f:
            f.write(SYSTEM_BUS_CONF.format(dir=directory, servicedir=servicedir,
                                           policy=POLICY_FILE))
        cmd = ["dbus-daemon", "--nofork", "--print-address=1", f"--config-file={self.config}"]
        if passwd:
            cmd = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                   'mount --bind "$0" /etc/passwd && exec "$@"', passwd] + cmd
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log_file,
                                        text=True)
        # The daemon prints its address once its configuration is loaded; a configuration it
        # can't parse makes it exit without one.
        self.address = self.process.stdout.readline().strip()
        if not self.address:
            self.process.wait(timeout=10)
            raise AssertionError(
                f"dbus-daemon did not start ({self.process.returncode}):\n{self.log()}")

    def log(self):
        self.log_file.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self.log_file.close()


class DBusPolicyTest(KneedTestCase):
    def setUp(self):
        # KneedTestCase's setUp, with this bus instead of the permissive private one.
        self.tmpdir = tempfile.mkdtemp(prefix="kneed-test-", dir=reachable_tmp())
        os.chmod(self.tmpdir, 0o755)  # other uids must reach the socket
        with open(os.path.join(self.tmpdir, "client.py"), "w") as f:
            f.write(CLIENT)
        self.daemons = []
        self._client = None
        try:
            self.bus = SystemLikeBus(self.tmpdir, self.passwd_file())
        except BaseException:
            # tearDown doesn't run after a failed setUp; the error carries the bus's log.
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            raise

    def passwd_file(self):
        return None

    def calls(self, uid, *calls):
        """Makes the calls, each (destination, path, interface, member[, signature, args]),
        as uid on one connection; returns (unique name, [reply dicts])."""
        calls = [list(c) if len(c) == 6 else list(c) + [None, []] for c in calls]
        cmd = ["/usr/bin/python3", "-I", os.path.join(self.tmpdir, "client.py"),
               self.bus.address, str(int(10000 * TIMEOUT_FACTOR)), json.dumps(calls)]
        if uid != 0:
            cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout(60))
        if r.returncode != 0:
            raise AssertionError(f"client as uid {uid} failed ({r.returncode}):\n{r.stderr}"
                                 f"\nbus log:\n{self.bus.log()}")
        out = json.loads(r.stdout)
        return out["unique_name"], out["results"]

    def call(self, uid, *call):
        return self.calls(uid, call)[1][0]

    def request_name(self, uid, name=BUS_NAME):
        return self.call(uid, BUS_DRIVER, BUS_PATH, BUS_DRIVER, "RequestName", "su",
                         [name, DBUS_NAME_FLAG_DO_NOT_QUEUE])

    def bus_call(self, member, signature, args):
        """A call to the bus driver as root, through the harness's client."""
        return self.client.conn.call_sync(
            BUS_DRIVER, BUS_PATH, BUS_DRIVER, member, GLib.Variant(f"({signature})", args),
            None, Gio.DBusCallFlags.NONE, int(10000 * TIMEOUT_FACTOR), None).unpack()

    def start(self):
        """kneed as root, with the options every integration test gives it; returns its
        unique name."""
        self.start_kneed(virtual="1")
        (owner,) = self.bus_call("GetNameOwner", "s", (BUS_NAME,))
        return owner

    def assertBusDenied(self, reply, what):
        """The bus itself refused: an AccessDenied error sent by the bus driver."""
        self.assertEqual(reply["error"], ACCESS_DENIED, f"{what}: {reply}")
        self.assertEqual(reply["sender"], BUS_DRIVER, f"{what}: {reply}")

    def assertDelivered(self, reply, kneed, what):
        """The bus let the call through: kneed answered it with a method return."""
        self.assertEqual(reply["sender"], kneed, f"{what} was not answered by kneed: {reply}")
        self.assertIsNone(reply["error"], f"{what}: {reply}")


class PolicyTest(DBusPolicyTest):
    def test_activation_file_is_read(self):
        # The bus parsed our policy (it started) and our activation file: the name is
        # activatable, for an unprivileged user too.
        for uid in (0, NOBODY):
            reply = self.call(uid, BUS_DRIVER, BUS_PATH, BUS_DRIVER, "ListActivatableNames")
            self.assertIsNone(reply["error"], reply)
            self.assertIn(BUS_NAME, reply["body"][0], f"uid {uid}")

    def test_activation_runs_nothing_outside_systemd(self):
        # With kneed not running, a call the policy allows asks the bus to activate kneed.
        # This bus, like one without systemd, runs Exec= itself: /bin/false, so it fails
        # rather than starting kneed outside its unit. On a systemd system the bus hands the
        # activation to kneed.service (SystemdService=) instead.
        reply = self.call(NOBODY, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "ListDevices")
        self.assertEqual(reply["error"], "org.freedesktop.DBus.Error.Spawn.ChildExited", reply)
        self.assertEqual(reply["sender"], BUS_DRIVER)
        # A call the policy refuses doesn't even get that far.
        reply = self.call(NOBODY, BUS_NAME, MANAGER_PATH, "org.kneed.Kneed1.Bogus", "Method")
        self.assertBusDenied(reply, "Bogus.Method before kneed runs")

    def test_root_owns_the_name(self):
        # The bus denies owning names by default, to root as well...
        self.assertBusDenied(self.request_name(0, "org.kneed.NotKneed"), "root owning another name")
        # ...so kneed (root here) owning its name is this policy's doing.
        kneed = self.start()
        (uid,) = self.bus_call("GetConnectionUnixUser", "s", (kneed,))
        self.assertEqual(uid, 0)

    def test_other_users_cannot_own_the_name(self):
        # Free, and then taken by kneed: refused either way, and refused by the policy, not
        # because the name is taken.
        self.assertBusDenied(self.request_name(NOBODY), "nobody owning the free name")
        self.start()
        reply = self.request_name(NOBODY)
        self.assertBusDenied(reply, "nobody owning kneed's name")
        self.assertIn("not allowed to own the service", reply["body"][0])

    def test_anyone_may_call_kneeds_interfaces(self):
        kneed = self.start()
        device = DEVICE_PREFIX + "virtual0"
        _, replies = self.calls(
            NOBODY,
            (BUS_DRIVER, BUS_PATH, BUS_DRIVER, "GetConnectionUnixUser", "s", ["$self"]),
            (BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "ListDevices"),
            (BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "StopAll"),
            (BUS_NAME, MANAGER_PATH, PROPERTIES_IFACE, "GetAll", "s", [MANAGER_IFACE]),
            (BUS_NAME, device, PROPERTIES_IFACE, "Get", "ss", [DEVICE_IFACE, "State"]),
            (BUS_NAME, MANAGER_PATH, INTROSPECTABLE_IFACE, "Introspect"),
            (BUS_NAME, MANAGER_PATH, PEER_IFACE, "Ping"),
            (BUS_NAME, MANAGER_PATH, OBJECT_MANAGER_IFACE, "GetManagedObjects"),
            (BUS_NAME, device, DEVICE_IFACE, "Stop"),
            (BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "StartRoutine", "osa{sv}",
             [device, "calf-release", {"detach": {"$v": ["b", True]}}]),
        )
        whoami, listed, stop_all, props, state, xml, ping, objects, dev_stop, start = replies
        # The bus knows this client as nobody, and so does kneed.
        self.assertEqual(whoami["body"], [NOBODY])
        names = ["ListDevices", "StopAll", "GetAll", "Get", "Introspect", "Ping",
                 "GetManagedObjects", "Device.Stop", "StartRoutine"]
        for name, reply in zip(names, replies[1:]):
            with self.subTest(call=name):
                self.assertDelivered(reply, kneed, name)
        self.assertEqual(listed["body"], [[device]])
        self.assertIn("Version", props["body"][0])
        self.assertEqual(state["body"], ["idle"])
        self.assertIn(f'<interface name="{MANAGER_IFACE}">', xml["body"][0])
        self.assertIn(device, objects["body"][0])

        # The Session interface, on the session nobody just started; kneed sees its real uid.
        (session,) = start["body"]
        owner = self.client.get(session, SESSION_IFACE, "Owner")
        self.assertEqual(owner, NOBODY)
        _, (pause, stop) = self.calls(NOBODY, (BUS_NAME, session, SESSION_IFACE, "Pause"),
                                      (BUS_NAME, session, SESSION_IFACE, "Stop"))
        self.assertDelivered(pause, kneed, "Session.Pause")
        self.assertDelivered(stop, kneed, "Session.Stop")

    def test_other_interfaces_are_refused_by_the_bus(self):
        kneed = self.start()
        refused = [
            ("org.kneed.Kneed1.Bogus", "Method"),
            ("org.kneed.Kneed1.ManagerX", "ListDevices"),
            ("org.freedesktop.systemd1.Manager", "Reboot"),
            (None, "ListDevices"),  # a call naming no interface
        ]
        for uid in (NOBODY, 0):
            _, replies = self.calls(uid, *[(BUS_NAME, MANAGER_PATH, i, m) for i, m in refused])
            for (iface, member), reply in zip(refused, replies):
                with self.subTest(uid=uid, interface=iface, member=member):
                    # From the bus driver, before kneed sees it: kneed would answer an
                    # unknown interface with UnknownInterface or UnknownMethod.
                    self.assertBusDenied(reply, f"{iface}.{member}")
                    self.assertIn("Rejected send message", reply["body"][0])
        # And kneed is still there and serving.
        self.assertDelivered(self.call(NOBODY, BUS_NAME, MANAGER_PATH, PEER_IFACE, "Ping"),
                             kneed, "Ping after the refusals")


class KneedUserTest(DBusPolicyTest):
    """The policy's kneed user, resolved by a bus that sees a passwd with a kneed account."""

    def passwd_file(self):
        self.kneed_uid = free_uid()
        path = os.path.join(self.tmpdir, "passwd")
        with open("/etc/passwd") as src, open(path, "w") as dst:
            dst.writelines(line for line in src if not line.startswith("kneed:"))
            dst.write(f"kneed:x:{self.kneed_uid}:{self.kneed_uid}:kneed:/nonexistent:"
                      "/usr/sbin/nologin\n")
        return path

    def test_kneed_user_owns_the_name_and_nobody_else(self):
        self.assertNotIn('Unknown username "kneed"', self.bus.log())
        self.assertBusDenied(self.request_name(NOBODY), "nobody owning the name")
        reply = self.request_name(self.kneed_uid)
        self.assertIsNone(reply["error"], reply)
        self.assertEqual(reply["body"], [DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER])
        # The kneed user may own only kneed's name.
        self.assertBusDenied(self.request_name(self.kneed_uid, "org.kneed.NotKneed"),
                             "the kneed user owning another name")


if __name__ == "__main__":
    main()
