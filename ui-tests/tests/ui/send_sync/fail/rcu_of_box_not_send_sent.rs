//! `Rcu<Box<T>>` is `Send` only when `T` is: the thread that receives the `Rcu` drops the value.

use std::rc::Rc;

use rcu_runtime::Rcu;

fn main() {
    let shared = Rcu::new(Box::new(Rc::new(1_u32)));
    std::thread::spawn(move || drop(shared)).join().unwrap();
}
