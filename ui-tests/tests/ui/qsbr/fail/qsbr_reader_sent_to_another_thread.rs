//! A `QsbrReader` is `!Send`: it registers the thread that created it, whose section its
//! quiescent states end. On another thread they would end that section while the first thread
//! still reads, and the second thread's own reads would be protected by nothing.

use rcu_runtime::QsbrReader;

fn main() {
    let mut reader = QsbrReader::register();
    std::thread::spawn(move || reader.quiescent_state()).join().unwrap();
}
