//! A `Guard` is `!Sync` (as the kernel's is): `&Guard` never leaves the thread whose critical
//! section it proves, so code that receives one may rely on being inside that section itself.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let guard = read_lock();
    std::thread::scope(|s| {
        s.spawn(|| {
            let name = config.dereference(&guard);
            println!("{name:?}");
        });
    });
}
