# Checks os.fork/os.waitpid/os.WEXITSTATUS/os.WIFSIGNALED, os.pipe between processes, os.execv in a child, os.kill, os.wait with several children, os.waitstatus_to_exitcode, and os.posix_spawn.
import os
import signal
import sys

os.environ.pop("WISP_PY", None)
parent = os.getpid()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"hello from child, getppid matches parent: %s" % (b"yes" if os.getppid() == parent else b"no"))
    os._exit(12)
os.close(w)
data = b""
while True:
    chunk = os.read(r, 4096)
    if not chunk:
        break
    data += chunk
os.close(r)
wpid, status = os.waitpid(pid, 0)
print("read:", data.decode())
print("waitpid pid matches:", wpid == pid, "exited:", os.WIFEXITED(status), "status:", os.WEXITSTATUS(status))
print("waitstatus_to_exitcode:", os.waitstatus_to_exitcode(status))

pid = os.fork()
if pid == 0:
    os.kill(os.getpid(), signal.SIGUSR1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("signaled:", os.WIFSIGNALED(status), "termsig:", os.WTERMSIG(status), "exitcode:", os.waitstatus_to_exitcode(status))

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.dup2(w, 1)
    os.close(w)
    os.execv("/bin/busybox", ["echo", "exec'd", "from", "python"])
os.close(w)
with os.fdopen(r) as f:
    print("execv output:", f.read().strip())
_, status = os.waitpid(pid, 0)
print("execv child status:", os.WEXITSTATUS(status))

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)
    os._exit(0)
os.close(r)
print("WNOHANG while child blocked:", os.waitpid(pid, os.WNOHANG))
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
os.close(w)
print("os.kill SIGTERM:", os.WTERMSIG(status))

kids = {}
for i in range(5):
    pid = os.fork()
    if pid == 0:
        os._exit(20 + i)
    kids[pid] = 20 + i
got = []
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    got.append(kids[pid] == os.WEXITSTATUS(status))
print("os.wait reaped:", len(got), "all matched:", all(got))
try:
    os.waitpid(-1, 0)
except ChildProcessError as e:
    print("no children: ChildProcessError errno ECHILD:", e.errno == 10)

pid = os.posix_spawn("/bin/busybox", ["sh", "-c", "exit 33"], {"WISP_PY": "1"})
_, status = os.waitpid(pid, 0)
print("posix_spawn status:", os.WEXITSTATUS(status))

sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print("child prints after flush")
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
print("parent done")
