//! Builds the vDSO (guest/vdso/) with the host C compiler.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let so = out.join("vdso.so");
    println!("cargo:rerun-if-changed=vdso/vdso.c");
    println!("cargo:rerun-if-changed=vdso/vdso.lds");
    let cc = std::env::var("WISP_VDSO_CC").unwrap_or_else(|_| "gcc".into());
    let status = Command::new(&cc)
        .args([
            "-O2",
            "-fPIC",
            "-shared",
            "-nostdlib",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fno-builtin",
            "-fvisibility=hidden",
            "-mno-sse",
            "-mno-red-zone",
            "-Wl,-soname=linux-vdso.so.1",
            "-Wl,--hash-style=both",
            "-Wl,--no-undefined",
            "-Wl,-z,max-page-size=4096",
            "-Wl,-z,noexecstack",
            "-Wl,-T,vdso/vdso.lds",
            "-o",
        ])
        .arg(&so)
        .arg("vdso/vdso.c")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("building the vDSO with {cc} failed ({s}); install gcc (.ci/setup does)"),
        Err(e) => panic!("cannot run {cc} to build the vDSO: {e}; install gcc (.ci/setup does)"),
    }
}
