// Rust std: args and environment, a caught panic (unwinding), process::exit status 7.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("argc={}", args.len());
    println!("HOME={:?}", std::env::var("HOME").ok());
    println!("NOPE={:?}", std::env::var("WISP_COMPAT_UNSET").ok());
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| {
        let v: Vec<i32> = Vec::new();
        v[3]
    });
    println!("panic caught: {}", r.is_err());
    let d = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    println!("slept >= 5ms: {}", d.elapsed().as_millis() >= 5);
    std::process::exit(7);
}
