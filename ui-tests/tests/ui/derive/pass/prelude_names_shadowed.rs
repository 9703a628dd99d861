//! The module declares its own `Pin`, `Unpin`, `Drop`, `Clone`, `Copy`, `PhantomData`,
//! `MaybeUninit`, `Option`, `Field`, `HasField`, `RcuMut`, and even `u8` and `usize` (a module
//! item shadows a primitive type's name), shadowing the prelude and any import: the expansion
//! names all of these through absolute paths into `rcu_runtime`, so the struct derives and works
//! as usual.

#![allow(dead_code)]

use rcu_runtime::{Rcu, RcuHead, RcuMutex, RcuProtected, read_lock};

struct Pin;
trait Unpin {}
trait Drop {}
trait Clone {}
trait Copy {}
struct PhantomData;
struct MaybeUninit;
struct Option;
struct Field;
trait HasField {}
struct RcuMut;
#[allow(non_camel_case_types)]
struct u8;
#[allow(non_camel_case_types)]
struct usize;

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u16>>,
    #[pin]
    marker: Pin,
    flags: u8,
    count: usize,
    #[rcu_head]
    head: RcuHead,
}

fn main() {
    let cfg = RcuMutex::new(Config { routes: Rcu::new(Box::new(7)), marker: Pin, flags: u8, count: usize, head: RcuHead::new() });
    assert_eq!(*cfg.rcu().routes().dereference(&read_lock()).unwrap(), 7);
    let mut w = cfg.lock();
    w.project().routes.replace(Box::new(8)).unwrap().defer_drop();
    drop(w);
    assert_eq!(*cfg.rcu().routes().dereference(&read_lock()).unwrap(), 8);
}
