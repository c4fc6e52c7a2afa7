# Checks process groups, sessions and signals from python: os.setpgid/os.getpgid, os.setsid in a child (EPERM in a group leader), os.killpg, os.kill to a child waiting in signal.sigwait, a handler run via signal.raise_signal, and subprocess start_new_session/process_group.
import os
import signal
import subprocess
import sys

signal.signal(signal.SIGTERM, signal.SIG_DFL)


def child_report(fn):
    """Run fn() in a forked child; return (lines it wrote, exit status)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            out = fn()
        except Exception as e:
            out = "exception %s" % type(e).__name__
            code = 1
        os.write(w, out.encode())
        os._exit(code)
    os.close(w)
    data = b""
    while True:
        c = os.read(r, 4096)
        if not c:
            break
        data += c
    os.close(r)
    _, st = os.waitpid(pid, 0)
    return data.decode(), os.waitstatus_to_exitcode(st)


def pg():
    os.setpgid(0, 0)
    lines = ["leader: %s" % (os.getpgrp() == os.getpid())]
    try:
        os.setsid()
        lines.append("setsid as leader: succeeded")
    except PermissionError:
        lines.append("setsid as leader: PermissionError")
    return "; ".join(lines)


def sess():
    os.setsid()
    return "after setsid: getsid==getpid %s, getpgrp==getpid %s" % (os.getsid(0) == os.getpid(), os.getpgrp() == os.getpid())


print(child_report(pg))
print(child_report(sess))

# killpg: three children in one new group.
ready_r, ready_w = os.pipe()
pids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, pids[0] if pids else 0)
        os.write(ready_w, b"r")
        while True:
            signal.pause()
    try:
        os.setpgid(pid, pids[0] if pids else pid)
    except OSError:
        pass
    pids.append(pid)
os.close(ready_w)
n = 0
while n < 3:
    n += len(os.read(ready_r, 3 - n))
os.killpg(pids[0], signal.SIGTERM)
print("killpg statuses:", [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids])

# The parent signals a child that waits for SIGUSR1 with it blocked (sigwait), then a handler run via raise.
r, w = os.pipe()
ready_r, ready_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    os.write(ready_w, b"r")
    got = signal.sigwait([signal.SIGUSR1])
    os.write(w, b"child sigwait got %d; " % got)
    signal.signal(signal.SIGUSR2, lambda s, f: os.write(w, b"handler ran for %d" % s))
    signal.raise_signal(signal.SIGUSR2)
    os._exit(0)
os.close(w)
os.read(ready_r, 1)
os.kill(pid, signal.SIGUSR1)
_, st = os.waitpid(pid, 0)
msg = b""
while True:
    c = os.read(r, 100)
    if not c:
        break
    msg += c
print("child report:", msg.decode(), "status", os.waitstatus_to_exitcode(st))

p = subprocess.run([sys.executable, "-c", "import os; print(os.getsid(0) == os.getpid(), os.getpgrp() == os.getpid())"],
                   start_new_session=True, capture_output=True, text=True)
print("start_new_session child (session leader, group leader):", p.stdout.strip())
p = subprocess.run([sys.executable, "-c", "import os; print(os.getsid(0) == os.getpid(), os.getpgrp() == os.getpid())"],
                   process_group=0, capture_output=True, text=True)
print("process_group=0 child (session leader, group leader):", p.stdout.strip())
