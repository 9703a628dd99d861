//! An `RcuRef` carries its thread's read-side critical section: it cannot move to another thread
//! (the section would end there, on a thread that never entered it).

use rcu_runtime::RcuCell;

fn main() {
    let cell = RcuCell::new(Box::new(1_u32));
    let snapshot = cell.read().unwrap();
    std::thread::scope(|s| {
        s.spawn(move || assert_eq!(*snapshot, 1));
    });
}
