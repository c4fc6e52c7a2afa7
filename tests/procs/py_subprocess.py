# Checks subprocess: run with capture_output/text/input, check_output, Popen with stdin/stdout pipes and communicate, returncode for exit and for signal death (negative), CalledProcessError with returncode, pipelines between two Popen objects, env and cwd passing.
import os
import shutil
import signal
import subprocess
import sys
import tempfile

BB = "/bin/busybox"

r = subprocess.run([BB, "echo", "hello", "world"], capture_output=True, text=True)
print("run echo:", repr(r.stdout), "returncode", r.returncode)
r = subprocess.run([BB, "sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True)
print("run sh:", r.stdout, r.stderr, r.returncode)
r = subprocess.run([BB, "tr", "a-z", "A-Z"], input="shout this\n", capture_output=True, text=True)
print("run with input:", r.stdout.strip())
print("check_output:", subprocess.check_output([BB, "seq", "3"]).split())
print("check_output stderr->stdout:", subprocess.check_output([BB, "sh", "-c", "echo e >&2"], stderr=subprocess.STDOUT))

try:
    subprocess.run([BB, "sh", "-c", "echo partial; exit 42"], check=True, capture_output=True)
except subprocess.CalledProcessError as e:
    print("CalledProcessError: returncode", e.returncode, "output", e.output, "cmd[1:]", e.cmd[1:])
try:
    subprocess.check_output([BB, "false"])
except subprocess.CalledProcessError as e:
    print("check_output false: returncode", e.returncode)
try:
    subprocess.run(["/nonexistent-wisp/cmd"])
except FileNotFoundError as e:
    print("missing executable: FileNotFoundError errno", e.errno == 2)

p = subprocess.Popen([BB, "sh", "-c", "kill -TERM $$"])
print("killed by SIGTERM: returncode", p.wait())
p = subprocess.Popen([BB, "sleep", "10"])
p.kill()
print("Popen.kill: returncode", p.wait(), "== -SIGKILL:", p.returncode == -signal.SIGKILL)
p = subprocess.Popen([BB, "cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print("poll while waiting for stdin:", p.poll())
out, _ = p.communicate(b"x" * 200000)
print("communicate 200000 bytes through cat:", len(out), out == b"x" * 200000, "returncode", p.returncode)

p1 = subprocess.Popen([BB, "seq", "1", "1000"], stdout=subprocess.PIPE)
p2 = subprocess.Popen([BB, "grep", "-c", "9"], stdin=p1.stdout, stdout=subprocess.PIPE)
p1.stdout.close()
out, _ = p2.communicate()
print("Popen pipeline seq|grep -c 9:", out.decode().strip(), "statuses", p1.wait(), p2.returncode)

d = tempfile.mkdtemp(prefix="wisp-procs-py_subprocess-")
try:
    r = subprocess.run([BB, "sh", "-c", 'echo "$WISP_X"; pwd'], cwd=d, env={"WISP_X": "custom"}, capture_output=True, text=True)
    lines = r.stdout.split("\n")
    print("env passed:", lines[0], "cwd passed:", lines[1] == os.path.realpath(d))
    with open(os.path.join(d, "f"), "w") as f:
        subprocess.run([BB, "echo", "to file"], stdout=f)
    print("stdout to file:", open(os.path.join(d, "f")).read().strip())
finally:
    shutil.rmtree(d)

r = subprocess.run(BB + " echo shell=True works | " + BB + " wc -w", shell=True, capture_output=True, text=True)
print("shell=True:", r.stdout.strip())
r = subprocess.run([sys.executable, "-c", "import sys; sys.exit(5)"])
print("python child exit 5:", r.returncode)
r = subprocess.run([BB, "true"], stdout=subprocess.DEVNULL)
print("DEVNULL ok:", r.returncode)
