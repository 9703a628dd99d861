//! An `RcuBox<T>` is `Send` only when `T` is also `Sync`: a reader on this thread may still hold
//! the `&T` that `with_rcu` lent it while another thread owns (and reads through) the box.

use std::cell::Cell;

use rcu_runtime::RcuBox;

fn main() {
    let boxed = RcuBox::new(Cell::new(1_u32));
    std::thread::spawn(move || boxed.set(2)).join().unwrap();
}
