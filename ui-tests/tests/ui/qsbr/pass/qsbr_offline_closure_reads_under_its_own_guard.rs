//! Twin of `qsbr_borrow_used_while_offline`: what the closure of `while_offline` needs is copied
//! out before going offline, or read inside it under a guard of its own (`read_lock`).

use rcu_runtime::{QsbrReader, Rcu, read_lock};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let mut reader = QsbrReader::register();
    let copied = config.dereference(reader.guard()).expect("published").clone();
    let read_offline = reader.while_offline(|| {
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert_eq!(copied, "v1");
        let guard = read_lock();
        config.dereference(&guard).expect("published").len()
    });
    assert_eq!(read_offline, 2);
    assert!(reader.is_online());
}
