//! A `QsbrReader` is `!Sync`: `&QsbrReader` gives the guard of its thread's section
//! (`guard()`), and another thread reading under it would be protected by a section that is not
//! its own, which the first thread may end at its next quiescent state.

use rcu_runtime::{QsbrReader, Rcu};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let reader = QsbrReader::register();
    std::thread::scope(|s| {
        s.spawn(|| println!("{:?}", config.dereference(reader.guard())));
    });
}
