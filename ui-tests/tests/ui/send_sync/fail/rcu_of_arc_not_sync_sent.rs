//! `Rcu<Arc<T>>` is `Send` only when `Arc<T>` is, which needs `T: Sync`: other clones of the
//! `Arc` may be read on the sending thread.

use std::cell::Cell;
use std::sync::Arc;

use rcu_runtime::Rcu;

fn main() {
    let value = Arc::new(Cell::new(1_u32));
    let shared = Rcu::new(Arc::clone(&value));
    std::thread::spawn(move || drop(shared)).join().unwrap();
    value.set(2);
}
