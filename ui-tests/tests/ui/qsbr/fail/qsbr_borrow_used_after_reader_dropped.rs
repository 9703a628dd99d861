//! A borrow read under `QsbrReader::guard()` cannot outlive the reader: dropping the reader
//! takes the thread offline and unregisters it, after which grace periods do not wait for it.

use rcu_runtime::{QsbrReader, Rcu};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let reader = QsbrReader::register();
    let name = config.dereference(reader.guard()).expect("published");
    drop(reader);
    println!("{name}");
}
