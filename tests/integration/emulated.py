# SPDX-License-Identifier: MIT
"""
Emulated hardware for the integration tests, with umockdev (0.17). The real kneed runs with
libumockdev-preload, so its sd-device enumeration and monitor, its hidraw ioctls, reads and
writes, and libusb's usbfs ioctls (URBs) all go to this process, which plays the firmware.

How it fits together (found out in a spike; each choice has its reason):
- Device nodes are pseudo terminals this harness owns, symlinked into the testbed's /dev:
  umockdev's own usb nodes are regular files, which epoll refuses, and it can't re-add a node
  it created, which replugging needs. Readiness is then real: a byte written to the pty master
  wakes the daemon's epoll for an input report; for usbfs, tcflow() holds back POLLOUT until a
  URB can be reaped.
- uevents are sent from Python in libudev's format to the sockets the preload binds: umockdev
  0.17's own sender needs this process preloaded, sends nothing on remove_device(), and aborts
  this process when a listener goes away mid-send.
- Handlers run on umockdev's worker thread; this process runs no GLib main loop, so tests can
  block on D-Bus calls and subprocesses. Shared state is guarded by a lock, and an exception in
  a handler is recorded and fails the test (umockdev would only print it).
- libusb_wrap_sys_device() rewinds its fd, which a pty can't do: tests/lseek-shim.c.
"""

import collections
import errno
import gc
import glob
import itertools
import os
import struct
import termios
import threading
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

PRELOAD = "libumockdev-preload.so.0"
LSEEK_SHIM = os.environ.get("KNEED_LSEEK_SHIM")

HIDIOCGRDESCSIZE = 0x80044801
HIDIOCGRDESC = 0x90044802
HIDIOCGRAWINFO = 0x80084803
HIDIOC_FEATURE_MASK = ~(0x3FFF << 16)
HIDIOCGFEATURE_BASE = 0xC0004807
HIDIOCSFEATURE_BASE = 0xC0004806

USBDEVFS_SUBMITURB = 0x8038550A
USBDEVFS_DISCARDURB = 0x550B
USBDEVFS_REAPURB = 0x4008550C
USBDEVFS_REAPURBNDELAY = 0x4008550D
USBDEVFS_CLAIMINTERFACE = 0x8004550F
USBDEVFS_RELEASEINTERFACE = 0x80045510
USBDEVFS_CONNECTINFO = 0x40085511
USBDEVFS_IOCTL = 0xC0105512
USBDEVFS_GET_CAPABILITIES = 0x8004551A
USBDEVFS_DISCONNECT_CLAIM = 0x8108551B
USBDEVFS_GET_SPEED = 0x551F
USBDEVFS_CONNINFO_EX_BASE = 0x80005520
URB_SIZE = 56  # struct usbdevfs_urb on x86_64
URB_OFF_STATUS, URB_OFF_BUFFER, URB_OFF_BUFLEN, URB_OFF_ACTLEN = 4, 16, 24, 28
URB_TYPE_CONTROL = 2


def _murmur2(s):
    """MurmurHash2, as libudev hashes subsystem and devtype for its socket filter."""
    data = s.encode()
    m, h, i = 0x5BD1E995, len(data) & 0xFFFFFFFF, 0
    while len(data) - i >= 4:
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
        i += 4
    rest = data[i:]
    if len(rest) == 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


_seqnum = itertools.count(1)


class Testbed:
    """A umockdev testbed plus what the daemon needs to run in it."""

    def __init__(self):
        self.tb = UMockdev.Testbed.new()
        self.root = self.tb.get_root_dir()
        self.errors = []  # exceptions raised in handlers
        self.devices = []

    def close(self):
        for d in self.devices:
            d.close_pty()
            d.handler = None
        self.devices = []
        # The testbed removes its directory when it is finalised.
        self.tb = None
        gc.collect()
        if self.errors:
            raise AssertionError(f"emulated device handler failed: {self.errors[0]!r}") \
                from self.errors[0]

    def env(self):
        """Environment for kneed: the preload, then the lseek shim."""
        env = {"UMOCKDEV_DIR": self.root}
        preload = [PRELOAD] + ([LSEEK_SHIM] if LSEEK_SHIM else [])
        preload += [p for p in os.environ.get("LD_PRELOAD", "").split(":") if p]
        env["LD_PRELOAD"] = ":".join(preload)
        # A dynamically linked ASan wants to come first; umockdev's preload must. Both work.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = ":".join(filter(None, [asan, "verify_asan_link_order=0"]))
        return env

    def uevent(self, syspath, action):
        """Sends a uevent as udev would, to every monitor the preload has bound."""
        devdir = self.root + syspath
        with open(devdir + "/uevent") as f:
            props = [line for line in f.read().split("\n") if line]
        subsystem = os.path.basename(os.readlink(devdir + "/subsystem"))
        devtype = next((p[8:] for p in props if p.startswith("DEVTYPE=")), None)
        body = [f"ACTION={action}", f"DEVPATH={syspath[4:]}", f"SUBSYSTEM={subsystem}",
                f"SEQNUM={next(_seqnum)}"] + props
        payload = b"\0".join(x.encode() for x in body) + b"\0"
        header = (b"libudev\0" + struct.pack(">I", 0xFEEDCAFE)
                  + struct.pack("=III", 40, 40, len(payload))
                  + struct.pack(">II", _murmur2(subsystem), _murmur2(devtype) if devtype else 0)
                  + bytes(8))
        import socket
        for path in glob.glob(self.root + "/event[0-9]*"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK) as s:
                for _ in range(200):
                    try:
                        s.sendto(header + payload, path)
                        break
                    except (ConnectionRefusedError, FileNotFoundError):
                        break  # that listener has gone
                    except BlockingIOError:
                        time.sleep(0.005)  # its queue is full: let it read

    def make_pty_node(self, devnode, majmin):
        """A raw pseudo terminal as the device node, owned by this process."""
        master, slave = os.openpty()
        attrs = termios.tcgetattr(master)
        attrs[0] = attrs[1] = attrs[3] = 0  # raw: no flow control, no echo, no line editing
        termios.tcsetattr(master, termios.TCSANOW, attrs)
        os.set_blocking(slave, False)
        path = self.root + devnode
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(os.ttyname(slave), path)
        # The preload answers stat() with this device number, so it looks like the real node.
        os.makedirs(self.root + "/dev/.ptymap", exist_ok=True)
        link = self.root + "/dev/.ptymap/" + os.ttyname(slave).replace("/", "_")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(majmin, link)
        return master, slave

    def guard(self, func):
        """Wraps a handler: a Python exception fails the test instead of vanishing."""
        def wrapper(handler, client):
            try:
                return func(client)
            except Exception as e:  # noqa: BLE001 - recorded and re-raised in the test
                self.errors.append(e)
                client.complete(-1, errno.EIO)
                return True
        return wrapper


def usb_device_descriptor(vid, pid, interface_class=0xFF):
    """Device, configuration and one interface descriptor, as usbfs read() returns them."""
    device = struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x0200, 0, 0, 0, 64, vid, pid, 0x0100, 1, 2, 0, 1)
    config = struct.pack("<BBHBBBBB", 9, 2, 18, 1, 1, 0, 0x80, 50)
    interface = struct.pack("<BBBBBBBBB", 9, 4, 0, 0, 0, interface_class, 0, 0, 0)
    return device + config + interface


class EmulatedDevice:
    """Common to both transports: sysfs entries, plug, unplug."""

    def __init__(self, bed, busnum, devnum, vid, pid, product):
        self.bed, self.lock = bed, threading.Lock()
        self.busnum, self.devnum, self.vid, self.pid, self.product = busnum, devnum, vid, pid, product
        self.usb_syspath = f"/sys/devices/pci0000:00/0000:00:14.0/usb{busnum}/{busnum}-{devnum}"
        self.usb_node = f"/dev/bus/usb/{busnum:03d}/{devnum:03d}"
        self.master = self.slave = None
        self.gone = True
        self.announced_at = None  # when the uevent kneed binds on was sent, for benchmarks
        bed.devices.append(self)

    def usb_sysfs(self, with_node):
        node = f"E: DEVNAME={self.usb_node}\n" if with_node else ""
        descriptors = usb_device_descriptor(self.vid, self.pid).hex().upper()
        return (f"P: {self.usb_syspath[4:]}\n{node}E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\n"
                f"E: DRIVER=usb\nE: BUSNUM={self.busnum:03d}\nE: DEVNUM={self.devnum:03d}\n"
                f"E: PRODUCT={self.vid:x}/{self.pid:x}/100\nA: idVendor={self.vid:04x}\n"
                f"A: idProduct={self.pid:04x}\nA: busnum={self.busnum}\nA: devnum={self.devnum}\n"
                f"A: product={self.product}\nA: speed=12\nA: dev=189:{self.devnum}\n"
                f"H: descriptors={descriptors}\n\n")

    def close_pty(self):
        if self.master is not None:
            try:
                termios.tcflow(self.slave, termios.TCOON)
            except termios.error:
                pass
            os.close(self.master)
            os.close(self.slave)
            self.master = self.slave = None

    def unplug(self, uevent_first=False):
        """Like the kernel: open fds die, and udev announces the removal, children first.
        Which one the daemon notices first is a race; uevent_first decides it."""
        def hang_up():
            with self.lock:
                self.gone = True
                self.close_pty()

        if not uevent_first:
            hang_up()
        for path in reversed(self.syspaths):
            self.bed.uevent(path, "remove")
        if uevent_first:
            time.sleep(0.2)
            hang_up()
        for path in reversed(self.syspaths):
            self.bed.tb.remove_device(path)


class HidrawDevice(EmulatedDevice):
    """A USB HID device with its hidraw node: answers HIDIOC* ioctls and write()s, and
    delivers input reports the test pushes."""

    def __init__(self, bed, minor, vid, pid, descriptor, product="Test HID device",
                 features=None, devnum=None):
        super().__init__(bed, 1, devnum or (10 + minor), vid, pid, product)
        self.minor, self.descriptor = minor, bytes(descriptor)
        self.node = f"/dev/hidraw{minor}"
        self.features = dict(features or {})  # report ID -> bytes, ID first
        self.writes, self.set_features = [], []
        self.write_times = []
        self.late_writes = []     # written after the unplug: must stay empty
        self.on_write = None      # the firmware: called with each accepted report, unlocked
        self.inq = collections.deque()
        # Faults the test can set.
        self.write_errno = 0      # write() fails with this errno
        self.short_write = False  # write() takes one byte less
        self.eagain_writes = 0    # the next n writes say EAGAIN
        self.hid_syspath = f"{self.usb_syspath}/{busnum_dev(self)}:1.0/0003:{vid:04X}:{pid:04X}.{minor:04X}"
        self.syspath = f"{self.hid_syspath}/hidraw/hidraw{minor}"
        self.syspaths = [self.usb_syspath, f"{self.usb_syspath}/{busnum_dev(self)}:1.0",
                         self.hid_syspath, self.syspath]
        self.handler = UMockdev.IoctlBase()
        self.handler.connect("handle-ioctl", bed.guard(self._on_ioctl))
        self.handler.connect("handle-read", bed.guard(self._on_read))
        self.handler.connect("handle-write", bed.guard(self._on_write))
        bed.tb.attach_ioctl(self.node, self.handler)

    def plug(self):
        with self.lock:
            self.master, self.slave = self.bed.make_pty_node(self.node, f"242:{self.minor}")
            self.inq.clear()
            self.gone = False
        iface = f"{self.usb_syspath}/{busnum_dev(self)}:1.0"
        self.bed.tb.add_from_string(
            self.usb_sysfs(False)
            + f"P: {iface[4:]}\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\nE: DRIVER=usbhid\n"
              f"E: INTERFACE=3/0/0\nA: bInterfaceNumber=00\nA: bInterfaceClass=03\n\n"
            + f"P: {self.hid_syspath[4:]}\nE: SUBSYSTEM=hid\nE: DRIVER=hid-generic\n"
              f"E: HID_ID=0003:{self.vid:08X}:{self.pid:08X}\nE: HID_NAME={self.product}\n"
              f"H: report_descriptor={self.descriptor.hex().upper()}\n\n"
            + f"P: {self.syspath[4:]}\nE: SUBSYSTEM=hidraw\nE: DEVNAME={self.node}\n"
              f"A: dev=242:{self.minor}\n")
        # The kernel links a hidraw node to its HID device; umockdev doesn't.
        device_link = self.bed.root + self.syspath + "/device"
        if not os.path.lexists(device_link):
            os.symlink("../..", device_link)
        for path in self.syspaths:
            if path == self.syspath:
                self.announced_at = time.monotonic()
            self.bed.uevent(path, "add")

    def push_input(self, report):
        """An input report from the device: the daemon's epoll wakes for it."""
        with self.lock:
            if self.gone:
                return
            self.inq.append(bytes(report))
            os.write(self.master, b"\0")

    def _on_ioctl(self, client):
        req, arg = client.get_request(), client.get_arg()
        with self.lock:
            if self.gone:
                client.complete(-1, errno.ENODEV)
            elif req == HIDIOCGRDESCSIZE:
                arg.resolve(0, 4).update(0, struct.pack("i", len(self.descriptor)))
                client.complete(0, 0)
            elif req == HIDIOCGRDESC:
                d = arg.resolve(0, 4 + 4096)
                size = struct.unpack_from("I", d.retrieve())[0]
                d.update(4, self.descriptor[:size])
                client.complete(0, 0)
            elif req == HIDIOCGRAWINFO:
                arg.resolve(0, 8).update(0, struct.pack("Ihh", 3, self.vid, self.pid))
                client.complete(0, 0)
            elif req & HIDIOC_FEATURE_MASK in (HIDIOCGFEATURE_BASE, HIDIOCSFEATURE_BASE):
                size = (req >> 16) & 0x3FFF
                d = arg.resolve(0, size)
                buf = bytes(d.retrieve())
                if req & HIDIOC_FEATURE_MASK == HIDIOCGFEATURE_BASE:
                    report = self.features.get(buf[0])
                    if report is None:
                        client.complete(-1, errno.EPIPE)
                    else:
                        d.update(0, report[:size])
                        client.complete(min(len(report), size), 0)
                else:
                    self.set_features.append(buf)
                    client.complete(size, 0)
            else:
                return False
        return True

    def _on_read(self, client):
        arg = client.get_arg()
        with self.lock:
            if self.gone:
                client.complete(-1, errno.EIO)
            elif not self.inq:
                client.complete(-1, errno.EAGAIN)
            else:
                report = self.inq.popleft()[:len(arg.retrieve())]
                arg.update(0, report)
                try:
                    os.read(self.slave, 1)  # this report's wake-up byte
                except BlockingIOError:
                    pass
                client.complete(len(report), 0)
        return True

    def _on_write(self, client):
        data = bytes(client.get_arg().retrieve())
        accepted = False
        with self.lock:
            if self.gone:
                self.late_writes.append(data)
                client.complete(-1, errno.ENODEV)
            elif self.eagain_writes > 0:
                self.eagain_writes -= 1
                client.complete(-1, errno.EAGAIN)
            elif self.write_errno:
                client.complete(-1, self.write_errno)
            else:
                self.writes.append(data)
                self.write_times.append(time.monotonic())
                accepted = True
                client.complete(len(data) - 1 if self.short_write else len(data), 0)
        if accepted and self.on_write:
            self.on_write(data)
        return True

    def reports(self, report_id):
        """The output reports written with this ID, in order."""
        with self.lock:
            return [w for w in self.writes if w and w[0] == report_id]


def busnum_dev(d):
    return f"{d.busnum}-{d.devnum}"


class Urb:
    def __init__(self, addr, type_, endpoint, buffer):
        self.addr, self.type, self.endpoint, self.buffer = addr, type_, endpoint, buffer
        self.time = time.monotonic()

    @property
    def setup(self):
        """Control URBs: (bmRequestType, bRequest, wValue, wIndex, wLength)."""
        return struct.unpack_from("<BBHHH", self.buffer)


class UsbDevice(EmulatedDevice):
    """A USB device node answering libusb's usbfs ioctls. By default every URB completes at
    once with success; the test can make the device stall (EPIPE) or stop answering."""

    def __init__(self, bed, devnum, vid, pid, product="Test USB device"):
        super().__init__(bed, 2, devnum, vid, pid, product)
        self.syspath = self.usb_syspath
        self.syspaths = [self.usb_syspath]
        self.submitted, self.pending, self.done = [], {}, collections.deque()
        self.late_urbs = []       # submitted after the unplug: must stay empty
        self.claimed = set()
        self.driver_requests = []  # kernel driver detach/attach requests (usbfs ioctls)
        self.auto_status = 0      # the status URBs complete with; None: they never complete
        self.descriptors = usb_device_descriptor(vid, pid)
        self.handler = UMockdev.IoctlBase()
        self.handler.connect("handle-ioctl", bed.guard(self._on_ioctl))
        self.handler.connect("handle-read", bed.guard(self._on_read))
        bed.tb.attach_ioctl(self.usb_node, self.handler)

    def plug(self):
        with self.lock:
            self.master, self.slave = self.bed.make_pty_node(self.usb_node, f"189:{self.devnum}")
            self.pending.clear()
            self.done.clear()
            self.gone = False
            self._readiness()
        self.bed.tb.add_from_string(self.usb_sysfs(True))
        self.announced_at = time.monotonic()
        self.bed.uevent(self.usb_syspath, "add")

    def control_setups(self):
        with self.lock:
            return [u.setup for u in self.submitted if u.type == URB_TYPE_CONTROL]

    def _readiness(self):
        # POLLOUT only when a URB can be reaped: a stopped tty has no write room.
        if self.slave is not None and not self.gone:
            termios.tcflow(self.slave, termios.TCOON if self.done else termios.TCOOFF)

    def _on_read(self, client):
        arg = client.get_arg()
        with self.lock:
            data = self.descriptors[:len(arg.retrieve())]
            arg.update(0, data)
            client.complete(len(data), 0)
        return True

    def _on_ioctl(self, client):
        req, arg = client.get_request(), client.get_arg()
        with self.lock:
            if self.gone:
                if req == USBDEVFS_SUBMITURB:
                    self.late_urbs.append(req)
                client.complete(-1, errno.ENODEV)
            elif req == USBDEVFS_GET_CAPABILITIES:
                arg.resolve(0, 4).update(0, struct.pack("I", 1 | 2 | 4 | 16))
                client.complete(0, 0)
            elif req == USBDEVFS_CONNECTINFO:
                arg.resolve(0, 8).update(0, struct.pack("IB3x", self.devnum, 0))
                client.complete(0, 0)
            elif req & HIDIOC_FEATURE_MASK == USBDEVFS_CONNINFO_EX_BASE:
                client.complete(-1, errno.ENOTTY)  # an older kernel: libusb falls back
            elif req == USBDEVFS_GET_SPEED:
                client.complete(2, 0)
            elif req == USBDEVFS_CLAIMINTERFACE:
                self.claimed.add(struct.unpack("I", bytes(arg.resolve(0, 4).retrieve()))[0])
                client.complete(0, 0)
            elif req == USBDEVFS_RELEASEINTERFACE:
                self.claimed.discard(struct.unpack("I", bytes(arg.resolve(0, 4).retrieve()))[0])
                client.complete(0, 0)
            elif req in (USBDEVFS_DISCONNECT_CLAIM, USBDEVFS_IOCTL):
                self.driver_requests.append(req)
                client.complete(0, 0)
            elif req == USBDEVFS_SUBMITURB:
                addr = struct.unpack("Q", bytes(arg.retrieve()))[0]
                u = arg.resolve(0, URB_SIZE)
                raw = bytes(u.retrieve())
                length = struct.unpack_from("i", raw, URB_OFF_BUFLEN)[0]
                buf = bytes(u.resolve(URB_OFF_BUFFER, length).retrieve()) if length else b""
                urb = Urb(addr, raw[0], raw[1], buf)
                self.submitted.append(urb)
                if self.auto_status is None:
                    self.pending[addr] = urb  # a device that stopped answering
                else:
                    self.done.append((urb, self.auto_status))
                    self._readiness()
                client.complete(0, 0)
            elif req == USBDEVFS_DISCARDURB:
                addr = struct.unpack("Q", bytes(arg.retrieve()))[0]
                urb = self.pending.pop(addr, None)
                if urb is None:
                    client.complete(-1, errno.EINVAL)
                else:
                    self.done.append((urb, -errno.ENOENT))
                    self._readiness()
                    client.complete(0, 0)
            elif req in (USBDEVFS_REAPURB, USBDEVFS_REAPURBNDELAY):
                if not self.done:
                    client.complete(-1, errno.EAGAIN)
                else:
                    urb, status = self.done.popleft()
                    slot = arg.resolve(0, 8)
                    slot.update(0, struct.pack("Q", urb.addr))
                    u = slot.resolve(0, URB_SIZE)
                    u.update(URB_OFF_STATUS, struct.pack("i", status))
                    u.update(URB_OFF_ACTLEN, struct.pack("i", 0))
                    self._readiness()
                    client.complete(0, 0)
            else:
                return False
        return True
