//! `#[derive(RcuProtected)]` emits the per-field traits: `HasField` for every field (type, offset,
//! raw projection both ways), `HasPinnedField` for `#[rcu]` and `#[pin]` fields only, and
//! `HasRcuHead` through the `#[rcu_head]` field, which `RcuOld::drop_async` then uses to free an
//! object through `call_rcu` without allocating.

use std::marker::{PhantomData, PhantomPinned};
use std::mem::offset_of;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{
    Field, HasField, HasPinnedField, HasRcuHead, Rcu, RcuHead, RcuMutex, RcuProtected, rcu_barrier, read_lock,
};

#[derive(RcuProtected)]
struct Node {
    key: u32,
    #[rcu]
    next: Rcu<Box<u64>>,
    #[pin]
    pinned: PhantomPinned,
    #[rcu_head]
    head: RcuHead,
    tail: [u8; 3],
}

/// The field type of `T`'s field `F`, as a value of `PhantomData` so it can be compared.
fn type_of<T: HasField<F>, F>() -> PhantomData<T::Type> {
    PhantomData
}

#[test]
fn has_field_names_every_field_by_position() {
    let _: PhantomData<u32> = type_of::<Node, Field<0>>();
    let _: PhantomData<Rcu<Box<u64>>> = type_of::<Node, Field<1>>();
    let _: PhantomData<PhantomPinned> = type_of::<Node, Field<2>>();
    let _: PhantomData<RcuHead> = type_of::<Node, Field<3>>();
    let _: PhantomData<[u8; 3]> = type_of::<Node, Field<4>>();
    assert_eq!(<Node as HasField<Field<0>>>::OFFSET, offset_of!(Node, key));
    assert_eq!(<Node as HasField<Field<1>>>::OFFSET, offset_of!(Node, next));
    assert_eq!(<Node as HasField<Field<2>>>::OFFSET, offset_of!(Node, pinned));
    assert_eq!(<Node as HasField<Field<3>>>::OFFSET, offset_of!(Node, head));
    assert_eq!(<Node as HasField<Field<4>>>::OFFSET, offset_of!(Node, tail));
}

fn node(key: u32) -> Node {
    Node { key, next: Rcu::null(), pinned: PhantomPinned, head: RcuHead::new(), tail: [1, 2, 3] }
}

#[test]
fn raw_projection_goes_to_the_field_and_back() {
    let mut n = node(7);
    let this: *mut Node = &mut n;
    let key = <Node as HasField<Field<0>>>::raw_get_field(this);
    let tail = <Node as HasField<Field<4>>>::raw_get_field(this);
    assert!(ptr::eq(key, &raw mut n.key));
    // SAFETY: `key` and `tail` point into the live `n`, and no reference to it is in use.
    unsafe {
        assert_eq!(*key, 7);
        (*tail)[0] = 9;
    }
    // SAFETY: `tail` was projected from `this`, with provenance over all of `n`.
    let back = unsafe { <Node as HasField<Field<4>>>::field_container_of(tail) };
    assert_eq!(back, this);
    assert_eq!(n.tail, [9, 2, 3]);
}

#[test]
fn has_rcu_head_uses_the_rcu_head_field() {
    let mut n = node(1);
    let this: *mut Node = &mut n;
    let head = Node::raw_get_rcu_head(this);
    assert!(ptr::eq(head, &raw mut n.head));
    // SAFETY: `head` comes from `raw_get_rcu_head` on the live `n`.
    assert_eq!(unsafe { Node::rcu_head_container_of(head) }, this);
}

/// Whether `T: HasPinnedField<F>`, by method resolution.
struct PinnedProbe<T, F>(PhantomData<(T, F)>);

trait NotPinned {
    fn is_pinned(&self) -> bool {
        false
    }
}

impl<T, F> NotPinned for PinnedProbe<T, F> {}

impl<T: HasPinnedField<F>, F> PinnedProbe<T, F> {
    fn is_pinned(&self) -> bool {
        true
    }
}

#[test]
fn only_rcu_and_pin_fields_are_structurally_pinned() {
    let pinned = [
        PinnedProbe::<Node, Field<0>>(PhantomData).is_pinned(),
        PinnedProbe::<Node, Field<1>>(PhantomData).is_pinned(),
        PinnedProbe::<Node, Field<2>>(PhantomData).is_pinned(),
        PinnedProbe::<Node, Field<3>>(PhantomData).is_pinned(),
        PinnedProbe::<Node, Field<4>>(PhantomData).is_pinned(),
    ];
    assert_eq!(pinned, [false, true, true, false, false]);
}

/// Counts its drops. (The derive forbids `impl Drop` on the struct itself; a field's `Drop` is fine.)
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// An entry freed through its own `RcuHead`.
#[derive(RcuProtected)]
struct Entry {
    value: u64,
    _drops: DropCount,
    #[rcu_head]
    head: RcuHead,
}

fn entry(value: u64, drops: &Arc<AtomicUsize>) -> Box<Entry> {
    Box::new(Entry { value, _drops: DropCount(Arc::clone(drops)), head: RcuHead::new() })
}

#[derive(RcuProtected)]
struct Slot {
    #[rcu]
    entry: Rcu<Box<Entry>>,
}

#[test]
fn drop_async_frees_through_the_derived_rcu_head() {
    const UPDATES: u64 = 1_000;
    let drops = Arc::new(AtomicUsize::new(0));
    let slot = RcuMutex::new(Slot { entry: Rcu::new(entry(0, &drops)) });
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..5_000 {
                let g = read_lock();
                let e = slot.rcu().entry().dereference(&g).unwrap();
                assert!(e.value <= UPDATES);
            }
        });
        for value in 1..=UPDATES {
            let old = slot.lock().project().entry.replace(entry(value, &drops));
            // `call_rcu` through `Entry::head`: no allocation, the callback frees the box.
            old.unwrap().drop_async();
        }
    });
    rcu_barrier();
    assert_eq!(drops.load(Ordering::Relaxed), UPDATES as usize);
    assert_eq!(slot.rcu().entry().dereference(&read_lock()).unwrap().value, UPDATES);
    drop(slot);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::Relaxed), UPDATES as usize + 1, "each entry is dropped exactly once");
}
