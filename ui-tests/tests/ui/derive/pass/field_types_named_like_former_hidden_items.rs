//! The expansion used to declare helper items inside its `const _` block (`__RcuReaderFields`,
//! `__RcuPinnedFields`, `ConfigMustNotImplDrop`, `__assert_not_repr_packed`, ..). A user type of
//! the same name, used as a field's type, resolved to the helper there, while the struct itself
//! used the user's type: the reader view then read a field of one type as another. The block now
//! declares no named item, so each field type means in the expansion what it means in the struct.

use rcu_runtime::{Field, HasField, Rcu, RcuMutex, RcuProtected, read_lock};

/// Named like the struct the expansion used to carry `ReaderFields` in.
#[allow(non_camel_case_types)]
struct __RcuReaderFields {
    port: u16,
}

/// Named like the struct behind the old `Unpin` impl.
#[allow(non_camel_case_types)]
struct __RcuPinnedFields(u64, u64, u64, u64);

/// Named like the old trait against a user `Drop`, as a type.
struct ConfigMustNotImplDrop {
    label: &'static str,
}

/// Named like the old assertion functions, used in an array length (the value namespace).
const fn __assert_not_repr_packed() -> usize {
    5
}
const fn __assert_field_types() -> usize {
    3
}

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<__RcuReaderFields>>,
    #[rcu]
    big: Rcu<Box<__RcuPinnedFields>>,
    #[pin]
    pinned: __RcuPinnedFields,
    name: ConfigMustNotImplDrop,
    bytes: [u8; __assert_not_repr_packed()],
    more: [u16; __assert_field_types()],
}

/// The field type of `T`'s field `F`, as a value of `PhantomData` so it can be compared.
fn type_of<T: HasField<F>, F>() -> std::marker::PhantomData<T::Type> {
    std::marker::PhantomData
}

fn main() {
    let _: std::marker::PhantomData<Rcu<Box<__RcuReaderFields>>> = type_of::<Config, Field<0>>();
    let _: std::marker::PhantomData<[u8; 5]> = type_of::<Config, Field<4>>();
    let _: std::marker::PhantomData<[u16; 3]> = type_of::<Config, Field<5>>();

    let cfg = RcuMutex::new(Config {
        routes: Rcu::new(Box::new(__RcuReaderFields { port: 443 })),
        big: Rcu::new(Box::new(__RcuPinnedFields(1, 2, 3, 4))),
        pinned: __RcuPinnedFields(5, 6, 7, 8),
        name: ConfigMustNotImplDrop { label: "edge" },
        bytes: [9; 5],
        more: [10; 3],
    });
    let g = read_lock();
    let view = cfg.rcu();
    assert_eq!(view.routes().dereference(&g).unwrap().port, 443);
    assert_eq!(view.big().dereference(&g).unwrap().3, 4);
    let w = cfg.lock();
    let r = w.project_ref();
    assert_eq!((r.pinned.0, r.name.label, r.bytes[4], r.more[2]), (5, "edge", 9, 10));
}
