//! `#[rcu_protected(crate = rt)]` with a `rt::__private::MaybeUninit` that is not `core`'s: its
//! `as_ptr` points into the middle of a buffer of its own. `HasField::OFFSET` measures the
//! distance from that pointer to the field's place projected from it (`&raw const
//! (*base).field`), which is the field's offset whatever the pointer is, so the offsets and the
//! reader view stay right.

use std::mem::offset_of;

use rcu_runtime::{Field, HasField, Rcu, RcuMutex, RcuProtected, read_lock};

mod rt {
    pub use rcu_runtime::*;

    pub mod __private {
        pub use rcu_runtime::__private::*;

        /// Not `core::mem::MaybeUninit`: a buffer, and a pointer 24 bytes into it.
        pub struct MaybeUninit<T> {
            buffer: core::mem::MaybeUninit<[u64; 32]>,
            _value: core::marker::PhantomData<T>,
        }

        impl<T> MaybeUninit<T> {
            pub const fn uninit() -> Self {
                MaybeUninit { buffer: core::mem::MaybeUninit::uninit(), _value: core::marker::PhantomData }
            }

            pub const fn as_ptr(&self) -> *const T {
                self.buffer.as_ptr().cast::<u8>().wrapping_add(24).cast()
            }
        }
    }
}

#[derive(RcuProtected)]
#[rcu_protected(crate = rt)]
#[repr(C)]
struct Config {
    reloads: u64,
    flags: u8,
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    assert_eq!(<Config as HasField<Field<1>>>::OFFSET, offset_of!(Config, flags));
    assert_eq!(<Config as HasField<Field<2>>>::OFFSET, offset_of!(Config, routes));
    assert_eq!(<Config as HasField<Field<2>>>::OFFSET, 16);
    let cfg = RcuMutex::new(Config { reloads: 0x5555, flags: 1, routes: Rcu::new(Box::new(443)) });
    assert_eq!(*cfg.rcu().routes().dereference(&read_lock()).unwrap(), 443);
}
