//! `#[derive(RcuProtected)]` only supports structs: the fields of a union overlap, so they cannot
//! be projected one by one.

use std::mem::ManuallyDrop;

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
union Either {
    routes: ManuallyDrop<Rcu<Box<u32>>>,
    raw: usize,
}

fn main() {}
