//! Twin of `qsbr_reader_sent_to_another_thread` and `qsbr_reader_shared_with_another_thread`:
//! each thread that reads the QSBR way registers a `QsbrReader` of its own, on that thread.

use rcu_runtime::{QsbrReader, Rcu};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut reader = QsbrReader::register();
                assert_eq!(config.dereference(reader.guard()).map(String::as_str), Some("v1"));
                reader.quiescent_state();
            });
        }
    });
}
