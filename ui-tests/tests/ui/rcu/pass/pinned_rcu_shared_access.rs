//! Twin of `pinned_rcu_get_mut` and `pinned_rcu_into_inner`: a pinned `Rcu` still gives shared
//! access (`&Rcu`, which is all a reader needs), and `Pin::get_mut`/`Pin::into_inner` work on the
//! `Unpin` pointers it holds.

use std::pin::{Pin, pin};

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let config = pin!(Rcu::new(Box::new(1_u32)));
    let reader: &Rcu<Box<u32>> = Pin::get_ref(config.into_ref());
    assert_eq!(reader.dereference(&read_lock()).copied(), Some(1));

    let boxed = Box::pin(Rcu::new(Box::new(2_u32)));
    let shared: &Rcu<Box<u32>> = &boxed;
    assert_eq!(shared.dereference(&read_lock()).copied(), Some(2));

    let mut pointee = Box::pin(5_u32);
    *Pin::get_mut(pointee.as_mut()) += 1;
    assert_eq!(*Pin::into_inner(pointee), 6);
}
