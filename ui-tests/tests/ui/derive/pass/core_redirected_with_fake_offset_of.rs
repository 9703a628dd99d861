//! `extern crate self as core;` makes every `::core::..` path in the crate lead to the crate
//! itself. An expansion that computed `HasField::OFFSET` with `::core::mem::offset_of!` got this
//! crate's `mem::offset_of!`, which answers 0, and the reader view read the `u64` in front of the
//! `Rcu` as the `Rcu`'s pointer. The expansion names nothing through `::core` and measures each
//! offset on the field itself (`&raw const (*base).field`), so the fakes below change nothing:
//! the offsets are the real ones and the reader sees the published value.

extern crate self as core;

use std::mem::offset_of as real_offset_of;

use rcu_runtime::{Field, HasField, Rcu, RcuHead, RcuMutex, RcuProtected, read_lock};

/// A `core::mem` whose `offset_of!` lies.
mod mem {
    macro_rules! lying_offset_of {
        ($ty:ty, $field:tt) => {
            0
        };
    }
    pub(crate) use lying_offset_of as offset_of;

    /// A `MaybeUninit` that is not one.
    pub struct MaybeUninit<T>(pub Option<T>);
}

/// Fakes of the other `core` items a derive might name.
mod pin {
    /// Not `core::pin::Pin`.
    pub struct Pin<P>(pub P);
}
mod marker {
    /// Implemented by nothing.
    pub trait Unpin {}
    /// Not `core::marker::PhantomData`.
    pub struct PhantomData<T>(pub T);
}
mod ops {
    /// Not `core::ops::Drop`.
    pub trait Drop {}
}
mod clone {
    /// Not `core::clone::Clone`.
    pub trait Clone {}
}

#[derive(RcuProtected)]
#[repr(C)]
struct Config {
    reloads: u64,
    #[rcu]
    routes: Rcu<Box<u64>>,
    #[pin]
    generation: u32,
    #[rcu_head]
    head: RcuHead,
}

fn main() {
    assert_eq!(<Config as HasField<Field<0>>>::OFFSET, real_offset_of!(Config, reloads));
    assert_eq!(<Config as HasField<Field<1>>>::OFFSET, real_offset_of!(Config, routes));
    assert_eq!(<Config as HasField<Field<1>>>::OFFSET, 8);
    assert_eq!(<Config as HasField<Field<3>>>::OFFSET, real_offset_of!(Config, head));

    let cfg = RcuMutex::new(Config {
        reloads: 0x5555,
        routes: Rcu::new(Box::new(443)),
        generation: 1,
        head: RcuHead::new(),
    });
    assert_eq!(*cfg.rcu().routes().dereference(&read_lock()).unwrap(), 443);
    let mut w = cfg.lock();
    let p = w.project();
    *p.reloads += 1;
    p.routes.replace(Box::new(8443)).unwrap().defer_drop();
    drop(w);
    assert_eq!(*cfg.rcu().routes().dereference(&read_lock()).unwrap(), 8443);
    assert_eq!(cfg.lock().reloads, 0x5556);
}
