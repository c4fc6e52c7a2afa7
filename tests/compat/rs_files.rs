// Rust std: create, write, read, rename and list files in a private /tmp directory; metadata and errors.
use std::fs;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};

fn main() {
    let dir = std::env::temp_dir().join(format!("wisp-compat-rs_files-{}", std::process::id()));
    fs::create_dir(&dir).expect("mkdir");
    let a = dir.join("a.txt");
    let mut f = fs::File::create(&a).expect("create");
    for i in 0..100 {
        writeln!(f, "line {i}").unwrap();
    }
    drop(f);
    let text = fs::read_to_string(&a).unwrap();
    println!("lines={} bytes={}", text.lines().count(), text.len());
    let mut f = fs::OpenOptions::new().read(true).write(true).open(&a).unwrap();
    f.seek(SeekFrom::Start(5)).unwrap();
    let mut b = [0u8; 4];
    f.read_exact(&mut b).unwrap();
    println!("at 5: {:?}", std::str::from_utf8(&b).unwrap());
    f.set_len(10).unwrap();
    println!("len after truncate: {}", fs::metadata(&a).unwrap().len());
    fs::rename(&a, dir.join("b.txt")).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    let mut names: Vec<String> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    println!("entries: {names:?}");
    println!("is_dir(sub)={} is_file(b)={}", dir.join("sub").is_dir(), dir.join("b.txt").is_file());
    let err = fs::read(dir.join("missing")).unwrap_err();
    println!("missing: {:?}", err.kind());
    let err = fs::create_dir(dir.join("sub")).unwrap_err();
    println!("mkdir twice: {:?}", err.kind() == ErrorKind::AlreadyExists);
    fs::remove_dir_all(&dir).unwrap();
    println!("cleaned: {}", !dir.exists());
}
