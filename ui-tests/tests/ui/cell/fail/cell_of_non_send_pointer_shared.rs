//! Through `&RcuCell` any thread can take the old value out and drop it there: sharing the cell
//! needs `P: Send`, which a boxed `MutexGuard` is not (it must be released by the thread that
//! locked).

use std::sync::{Mutex, MutexGuard};

use rcu_runtime::RcuCell;

static LOCK: Mutex<u32> = Mutex::new(0);

fn main() {
    let cell: RcuCell<Box<MutexGuard<'static, u32>>> = RcuCell::new(Box::new(LOCK.lock().unwrap()));
    std::thread::scope(|s| {
        s.spawn(|| drop(cell.take()));
    });
}
