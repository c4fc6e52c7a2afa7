// Rust std: heap growth through Vec/String/HashMap/BTreeMap, a large zeroed allocation, and Box<dyn Trait>.
use std::collections::{BTreeMap, HashMap};

trait Shape {
    fn area(&self) -> f64;
}
struct Sq(f64);
impl Shape for Sq {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

fn main() {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..1_000_000u64 {
        v.push(i * 3);
    }
    println!("vec sum={} cap>=len: {}", v.iter().sum::<u64>(), v.capacity() >= v.len());
    let big = vec![0u8; 64 << 20];
    println!("64MiB zeroed: {}", big.iter().step_by(4096).all(|b| *b == 0));
    let mut m = HashMap::new();
    for i in 0..50_000 {
        m.insert(format!("k{i}"), i);
    }
    println!("hashmap len={} k4242={:?}", m.len(), m.get("k4242"));
    let t: BTreeMap<i32, i32> = (0..1000).map(|i| (i, i * i)).collect();
    println!("btree first={:?} last={:?}", t.iter().next(), t.iter().next_back());
    let shapes: Vec<Box<dyn Shape>> = (1..=5).map(|i| Box::new(Sq(i as f64)) as Box<dyn Shape>).collect();
    println!("areas={}", shapes.iter().map(|s| s.area()).sum::<f64>());
    let mut s = String::new();
    for i in 0..10_000 {
        s.push_str(&i.to_string());
    }
    println!("string len={}", s.len());
}
