//! Twin of `rcu_old_of_not_send_sent` and `defer_drop_pointer_not_send`: an `RcuOld` of a `Send`
//! pointer may go to another thread or to the worker; one of a `!Send` pointer is reclaimed on
//! the thread that owns it.

use std::pin::pin;
use std::rc::Rc;

use rcu_runtime::Rcu;

fn main() {
    let mut names = pin!(Rcu::new(Box::new(String::from("first"))));
    let old = names.as_mut().replace(Box::new(String::from("second")));
    let first = std::thread::spawn(move || old.map(|old| *old.wait())).join().unwrap();
    assert_eq!(first.as_deref(), Some("first"));
    if let Some(old) = names.as_mut().replace(Box::new(String::from("third"))) {
        old.defer_drop();
    }

    let mut local = pin!(Rcu::new(Box::new(Rc::new("first"))));
    let old = local.as_mut().replace(Box::new(Rc::new("second")));
    assert_eq!(old.map(|old| **old.wait()), Some("first"));
}
