//! `HasField::OFFSET`, which the derive measures on the field itself (`&raw const (*base).field`
//! minus `base`, no `offset_of!`), equals `offset_of!` for every field of structs whose layouts
//! differ: reordered by rustc, `repr(C)`, generic over types, lifetimes and consts, zero-sized
//! fields, tuple structs, `Self` in a field type. The reader view and `HasRcuHead` are built on
//! these offsets.

use std::marker::{PhantomData, PhantomPinned};
use std::mem::offset_of;

use rcu_runtime::{Field, HasField, HasRcuHead, Rcu, RcuHead, RcuMutex, RcuProtected, read_lock};

/// `OFFSET` of field `N` of `T`.
fn offset<T: HasField<F>, F>() -> usize {
    T::OFFSET
}

#[derive(RcuProtected)]
struct Reordered {
    a: u8,
    #[rcu]
    b: Rcu<Box<u64>>,
    c: u16,
    #[rcu_head]
    d: RcuHead,
    e: u32,
    #[pin]
    f: PhantomPinned,
}

#[test]
fn fields_reordered_by_rustc() {
    assert_eq!(offset::<Reordered, Field<0>>(), offset_of!(Reordered, a));
    assert_eq!(offset::<Reordered, Field<1>>(), offset_of!(Reordered, b));
    assert_eq!(offset::<Reordered, Field<2>>(), offset_of!(Reordered, c));
    assert_eq!(offset::<Reordered, Field<3>>(), offset_of!(Reordered, d));
    assert_eq!(offset::<Reordered, Field<4>>(), offset_of!(Reordered, e));
    assert_eq!(offset::<Reordered, Field<5>>(), offset_of!(Reordered, f));
}

#[derive(RcuProtected)]
#[repr(C)]
struct ReprC {
    a: u8,
    b: u64,
    c: u8,
    #[rcu]
    d: Rcu<Box<u8>>,
}

#[test]
fn repr_c_fields_in_declaration_order() {
    assert_eq!(
        [
            offset::<ReprC, Field<0>>(),
            offset::<ReprC, Field<1>>(),
            offset::<ReprC, Field<2>>(),
            offset::<ReprC, Field<3>>()
        ],
        [0, 8, 16, 24]
    );
}

#[derive(RcuProtected)]
struct Generic<'a, T: 'static, const N: usize> {
    label: &'a str,
    items: [T; N],
    #[rcu]
    shared: Rcu<Box<T>>,
    marker: PhantomData<T>,
}

#[test]
fn generic_structs_at_several_instantiations() {
    type Small<'a> = Generic<'a, u8, 3>;
    type Large<'a> = Generic<'a, u128, 5>;
    assert_eq!(offset::<Small<'_>, Field<0>>(), offset_of!(Small<'_>, label));
    assert_eq!(offset::<Small<'_>, Field<1>>(), offset_of!(Small<'_>, items));
    assert_eq!(offset::<Small<'_>, Field<2>>(), offset_of!(Small<'_>, shared));
    assert_eq!(offset::<Small<'_>, Field<3>>(), offset_of!(Small<'_>, marker));
    assert_eq!(offset::<Large<'_>, Field<0>>(), offset_of!(Large<'_>, label));
    assert_eq!(offset::<Large<'_>, Field<1>>(), offset_of!(Large<'_>, items));
    assert_eq!(offset::<Large<'_>, Field<2>>(), offset_of!(Large<'_>, shared));

    let m = RcuMutex::new(Large {
        label: "x",
        items: [1; 5],
        shared: Rcu::new(Box::new(7)),
        marker: PhantomData,
    });
    assert_eq!(*m.rcu().shared().dereference(&read_lock()).unwrap(), 7);
}

#[derive(RcuProtected)]
struct Tuple(u8, #[rcu] Rcu<Box<u16>>, (), u64, #[rcu_head] RcuHead);

#[test]
fn tuple_struct_and_zero_sized_fields() {
    assert_eq!(offset::<Tuple, Field<0>>(), offset_of!(Tuple, 0));
    assert_eq!(offset::<Tuple, Field<1>>(), offset_of!(Tuple, 1));
    assert_eq!(offset::<Tuple, Field<2>>(), offset_of!(Tuple, 2));
    assert_eq!(offset::<Tuple, Field<3>>(), offset_of!(Tuple, 3));
    assert_eq!(offset::<Tuple, Field<4>>(), offset_of!(Tuple, 4));

    let mut t = Tuple(1, Rcu::null(), (), 2, RcuHead::new());
    let this: *mut Tuple = &mut t;
    assert!(std::ptr::eq(Tuple::raw_get_rcu_head(this), &raw mut t.4));
    // SAFETY: the head was just returned by `raw_get_rcu_head` for the live `t`.
    assert!(std::ptr::eq(unsafe { Tuple::rcu_head_container_of(&raw mut t.4) }, this));
}

#[derive(RcuProtected)]
struct Recursive {
    value: u32,
    #[rcu]
    next: Rcu<Box<Self>>,
}

#[test]
fn self_in_a_field_type() {
    assert_eq!(offset::<Recursive, Field<0>>(), offset_of!(Recursive, value));
    assert_eq!(offset::<Recursive, Field<1>>(), offset_of!(Recursive, next));
    let list = RcuMutex::new(Recursive {
        value: 1,
        next: Rcu::new(Box::new(Recursive { value: 2, next: Rcu::null() })),
    });
    assert_eq!(list.rcu().next().dereference(&read_lock()).unwrap().value, 2);
}
