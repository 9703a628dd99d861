//! The twin of `rcu_ref_sent_to_another_thread`: the snapshot stays on its thread; what crosses
//! threads is a value (here an owned `Arc` made from the borrow).

use std::sync::Arc;

use rcu_runtime::{RcuCell, read_lock};

fn main() {
    let cell = RcuCell::new(Arc::new(1_u32));
    let snapshot = cell.read().unwrap();
    assert_eq!(*snapshot, 1);
    drop(snapshot);
    let owned: Arc<u32> = cell.dereference(&read_lock()).unwrap().to_arc();
    std::thread::spawn(move || assert_eq!(*owned, 1)).join().unwrap();
}
