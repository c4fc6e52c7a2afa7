# Checks python file I/O in a private /tmp directory: text/binary modes, seek/tell, append, os.listdir sorted, os.stat sizes, rename/remove, pathlib, tempfile cleanup.
import os
import pathlib
import shutil
import stat
import tempfile

base = tempfile.mkdtemp(prefix="wisp-compat-py_files-", dir="/tmp")
try:
    p = os.path.join(base, "notes.txt")
    with open(p, "w", encoding="utf-8") as f:
        f.write("line one\nline two\n\u00fcnicode line\n")
    with open(p, encoding="utf-8") as f:
        lines = f.readlines()
    print(len(lines), lines[2].strip(), os.stat(p).st_size, os.path.getsize(p))
    with open(p, "a") as f:
        f.write("appended\n")
    with open(p, "rb") as f:
        f.seek(5)
        print(f.read(3), f.tell(), f.seek(-9, os.SEEK_END), f.read())
    with open(p, "r+b") as f:
        f.seek(0)
        f.write(b"LINE")
        f.truncate(20)
    print(open(p, "rb").read(), os.stat(p).st_size)

    for name in ("zeta.bin", "alpha.bin", "mid.bin"):
        with open(os.path.join(base, name), "wb") as f:
            f.write(bytes(len(name) * 100))
    os.mkdir(os.path.join(base, "subdir"))
    print(sorted(os.listdir(base)))
    print([(e.name, e.is_dir(), e.stat().st_size if e.is_file() else -1) for e in sorted(os.scandir(base), key=lambda e: e.name)])
    st = os.stat(os.path.join(base, "subdir"))
    print("subdir is dir:", stat.S_ISDIR(st.st_mode), "file is reg:", stat.S_ISREG(os.stat(p).st_mode))

    os.rename(os.path.join(base, "zeta.bin"), os.path.join(base, "subdir", "moved.bin"))
    os.remove(os.path.join(base, "mid.bin"))
    os.symlink("notes.txt", os.path.join(base, "link"))
    print(sorted(os.listdir(base)), os.readlink(os.path.join(base, "link")), os.path.islink(os.path.join(base, "link")))
    walked = [(os.path.relpath(d, base), sorted(ds), sorted(fs)) for d, ds, fs in os.walk(base)]
    print(sorted(walked))

    pb = pathlib.Path(base)
    (pb / "pathlib.txt").write_text("written by pathlib")
    print((pb / "pathlib.txt").read_text(), sorted(x.name for x in pb.glob("*.txt")), (pb / "subdir" / "moved.bin").stat().st_size)
    try:
        open(os.path.join(base, "missing"))
    except FileNotFoundError as e:
        print("FileNotFoundError errno", e.errno)
    try:
        os.mkdir(os.path.join(base, "subdir"))
    except FileExistsError:
        print("FileExistsError on mkdir")
    shutil.copyfile(p, os.path.join(base, "copy.txt"))
    print("copy same size:", os.path.getsize(os.path.join(base, "copy.txt")) == os.path.getsize(p))
finally:
    shutil.rmtree(base)
print("cleaned up:", not os.path.exists(base))
