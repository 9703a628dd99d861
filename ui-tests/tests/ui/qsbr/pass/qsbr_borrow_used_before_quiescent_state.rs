//! Twin of `qsbr_borrow_kept_across_quiescent_state` and `qsbr_borrow_used_after_reader_dropped`:
//! a borrow read under `QsbrReader::guard()` is used before the next quiescent state (and before
//! the reader is dropped); what must outlive it is copied out first.

use std::pin::pin;

use rcu_runtime::{QsbrReader, Rcu};

fn main() {
    let mut config = pin!(Rcu::new(Box::new(String::from("v1"))));
    let mut reader = QsbrReader::register();
    let name = config.dereference(reader.guard()).expect("published");
    assert_eq!(name, "v1");
    let kept = name.clone();
    reader.quiescent_state();
    config.as_mut().replace(Box::new(String::from("v2"))).expect("published").defer_drop();
    assert_eq!(config.dereference(reader.guard()).map(String::as_str), Some("v2"));
    drop(reader);
    assert_eq!(kept, "v1");
}
