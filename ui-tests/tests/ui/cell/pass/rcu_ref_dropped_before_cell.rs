//! The twin of `rcu_ref_outlives_cell`: the snapshot ends before the cell goes.

use rcu_runtime::RcuCell;

fn main() {
    let cell = RcuCell::new(Box::new(1_u32));
    let snapshot = cell.read().unwrap();
    assert_eq!(*snapshot, 1);
    drop(snapshot);
    drop(cell);
}
