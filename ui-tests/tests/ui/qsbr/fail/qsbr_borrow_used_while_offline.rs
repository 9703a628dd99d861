//! A borrow read under `QsbrReader::guard()` cannot be used inside the `while_offline` closure:
//! while the reader is offline, grace periods do not wait for this thread, so the value may be
//! freed meanwhile. `while_offline` takes `&mut self`, which the borrow of the guard forbids.

use rcu_runtime::{QsbrReader, Rcu};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let mut reader = QsbrReader::register();
    let name = config.dereference(reader.guard()).expect("published");
    reader.while_offline(|| {
        std::thread::sleep(std::time::Duration::from_millis(1));
        println!("{name}");
    });
}
