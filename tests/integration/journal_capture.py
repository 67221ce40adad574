# SPDX-License-Identifier: MIT
"""Runs a command as if systemd had connected its stderr to the journal, and records what it
sends to the journal: for tests/integration/test_logging.py.

    unshare -m /usr/bin/python3 journal_capture.py OUT.json PIDFILE -- COMMAND...

Inside its own mount namespace it puts a tmpfs over /run, so /run/systemd/journal/socket, the
fixed address sd_journal_send() writes to, is a socket this script listens on, and nothing of
the machine's /run is touched. The command's stderr is a pipe named by $JOURNAL_STREAM, as
systemd does for services with StandardError=journal. When the command exits, every record
received is written to OUT.json (a list of {field: value}), and its stderr after it.
"""

import json
import os
import socket
import subprocess
import sys


def parse(datagram):
    """The journal's native protocol: KEY=value lines, or KEY\\n<le64 size><value>\\n."""
    record, i = {}, 0
    while i < len(datagram):
        nl = datagram.index(b"\n", i)
        line = datagram[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            size = int.from_bytes(datagram[nl + 1:nl + 9], "little")
            value = datagram[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        record[key.decode()] = value.decode(errors="replace")
    return record


def main():
    out, pidfile, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/run/systemd/journal/socket")
    sock.settimeout(0.05)

    read_end, write_end = os.pipe()
    st = os.fstat(write_end)
    env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    child = subprocess.Popen(command, stderr=write_end, env=env)
    os.close(write_end)
    with open(pidfile, "w") as f:
        f.write(str(child.pid))

    records = []
    while True:
        try:
            records.append(parse(sock.recv(1 << 20)))
        except socket.timeout:
            if child.poll() is not None:
                break
    stderr = b""
    while chunk := os.read(read_end, 65536):
        stderr += chunk
    with open(out, "w") as f:
        json.dump({"records": records, "stderr": stderr.decode(errors="replace"),
                   "status": child.returncode}, f)


if __name__ == "__main__":
    main()
