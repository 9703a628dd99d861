//! A borrow read under `QsbrReader::guard()` cannot be kept across `quiescent_state()`: the
//! quiescent state tells grace periods that this thread holds nothing, so the value may be freed
//! right after it. `quiescent_state` takes `&mut self`, which the borrow of the guard forbids.

use std::pin::pin;

use rcu_runtime::{QsbrReader, Rcu};

fn main() {
    let mut config = pin!(Rcu::new(Box::new(String::from("v1"))));
    let mut reader = QsbrReader::register();
    let name = config.dereference(reader.guard()).expect("published");
    reader.quiescent_state();
    config.as_mut().replace(Box::new(String::from("v2"))).expect("published").defer_drop();
    println!("{name}");
}
