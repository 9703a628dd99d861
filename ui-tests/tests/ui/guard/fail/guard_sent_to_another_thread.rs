//! A `Guard` is `!Send`: the critical section belongs to the thread that entered it, and ending
//! it on another thread would end some other thread's section (or none).

use rcu_runtime::read_lock;

fn main() {
    let guard = read_lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
}
