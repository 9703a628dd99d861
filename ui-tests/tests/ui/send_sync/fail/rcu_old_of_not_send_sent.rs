//! An `RcuOld<P>` owns the old `P`: it can go to another thread only if `P` can.

use std::pin::pin;
use std::rc::Rc;

use rcu_runtime::Rcu;

fn main() {
    let mut names = pin!(Rcu::new(Box::new(Rc::new("first"))));
    let old = names.as_mut().replace(Box::new(Rc::new("second")));
    std::thread::spawn(move || drop(old)).join().unwrap();
}
