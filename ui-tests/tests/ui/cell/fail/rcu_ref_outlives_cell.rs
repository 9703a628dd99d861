//! An `RcuRef` borrows the cell it was read from: dropping the cell (which waits for a grace
//! period, which waits for the snapshot's section) while the snapshot lives is rejected.

use rcu_runtime::RcuCell;

fn main() {
    let cell = RcuCell::new(Box::new(1_u32));
    let snapshot = cell.read().unwrap();
    drop(cell);
    assert_eq!(*snapshot, 1);
}
