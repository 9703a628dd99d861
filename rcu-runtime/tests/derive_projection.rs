//! `#[derive(RcuProtected)]`: the shapes of the generated projections and view, on named, tuple,
//! unit and generic structs; the container options; hygiene; the conditional `Unpin`;
//! `PinnedDrop`; fields under `cfg`.

use std::marker::{PhantomData, PhantomPinned};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{Rcu, RcuHead, RcuMut, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    #[expect(clippy::box_collection, reason = "an `Rcu` publishes one pointer: the box is that pointer")]
    routes: Rcu<Box<Vec<u16>>>,
    reloads: u64,
    #[pin]
    pinned: PhantomPinned,
    #[rcu_head]
    head: RcuHead,
}

fn config() -> Config {
    Config { routes: Rcu::new(Box::new(vec![80])), reloads: 0, pinned: PhantomPinned, head: RcuHead::new() }
}

#[test]
fn projections_have_one_field_per_struct_field_with_the_promised_types() {
    let mut cfg = pin!(config());
    let p: ConfigProjection<'_> = cfg.as_mut().project();
    let ConfigProjection { routes, reloads, pinned, head } = p;
    let routes: RcuMut<'_, Rcu<Box<Vec<u16>>>> = routes;
    let reloads: &mut u64 = reloads;
    let _: Pin<&mut PhantomPinned> = pinned;
    let _: &mut RcuHead = head;
    *reloads += 1;
    routes.replace(Box::new(vec![443])).unwrap().defer_drop();

    let r: ConfigProjectionRef<'_> = cfg.as_ref().project_ref();
    let ConfigProjectionRef { routes, reloads, pinned, head } = r;
    let _: Pin<&Rcu<Box<Vec<u16>>>> = routes;
    let _: Pin<&PhantomPinned> = pinned;
    let _: &RcuHead = head;
    assert_eq!(*reloads, 1);
    assert_eq!(routes.dereference(&read_lock()).unwrap(), &[443]);
}

#[test]
fn the_trait_methods_are_the_inherent_ones() {
    let mut cfg = pin!(config());
    *RcuProtected::project(cfg.as_mut()).reloads = 9;
    assert_eq!(*<Config as RcuProtected>::project_ref(cfg.as_ref()).reloads, 9);
}

#[test]
fn the_view_has_one_method_per_rcu_field() {
    let m = RcuMutex::new(config());
    let view: ConfigView<'_> = m.rcu();
    let copy = view;
    let routes: &Rcu<Box<Vec<u16>>> = view.routes();
    assert!(std::ptr::eq(routes, copy.routes()));
    assert_eq!(routes.dereference(&read_lock()).unwrap(), &[80]);
}

#[derive(RcuProtected)]
struct Tuple(u8, #[rcu] Rcu<Box<u8>>, #[pin] PhantomPinned);

#[test]
fn tuple_structs_project_to_tuple_structs() {
    let mut t = pin!(Tuple(1, Rcu::new(Box::new(2)), PhantomPinned));
    let TupleProjection(a, b, c) = t.as_mut().project();
    let _: &mut u8 = a;
    let _: RcuMut<'_, Rcu<Box<u8>>> = b;
    let _: Pin<&mut PhantomPinned> = c;
    *t.as_mut().project().0 += 1;
    assert_eq!(*t.as_ref().project_ref().0, 2);
    let m = RcuMutex::new(Tuple(1, Rcu::new(Box::new(2)), PhantomPinned));
    assert_eq!(m.rcu().field_1().dereference(&read_lock()).copied(), Some(2));
}

#[derive(RcuProtected)]
struct Unit;

#[derive(RcuProtected)]
struct Empty {}

#[test]
fn structs_without_fields_work_too() {
    let mut u = pin!(Unit);
    let _: UnitProjection<'_> = u.as_mut().project();
    let m = RcuMutex::new(Empty {});
    let _: EmptyView<'_> = m.rcu();
    let _ = m.lock().project();
}

/// Generic parameters of every kind, a default, a where clause, and lifetimes named like the ones
/// the expansion uses.
#[derive(RcuProtected)]
struct Generic<'pin, 'view, T: Clone + Send + Sync + 'static = u8, const N: usize = 2>
where
    T: Default,
{
    #[rcu]
    items: Rcu<Box<[T; N]>>,
    #[pin]
    also_pinned: T,
    first: &'pin str,
    second: &'view str,
}

#[test]
fn generics_lifetimes_defaults_and_where_clauses() {
    let (a, b) = (String::from("a"), String::from("b"));
    let m = RcuMutex::new(Generic::<'_, '_, u32, 3> {
        items: Rcu::new(Box::new([1, 2, 3])),
        also_pinned: 4,
        first: &a,
        second: &b,
    });
    assert_eq!(m.rcu().items().dereference(&read_lock()).unwrap(), &[1, 2, 3]);
    let mut w = m.lock();
    let p = w.project();
    let _: Pin<&mut u32> = p.also_pinned;
    assert_eq!((*p.first, *p.second), ("a", "b"));
    p.items.replace(Box::new([4, 5, 6])).unwrap().defer_drop();
    drop(w);
    // The default type and const arguments.
    let d: Generic<'_, '_> = Generic { items: Rcu::null(), also_pinned: 0, first: "", second: "" };
    let _: GenericProjectionRef<'_, '_, '_, u8, 2> = pin!(d).as_ref().project_ref();
}

/// Renamed generated types, and the runtime reached through another path.
mod renamed {
    use rcu_runtime as rt;

    #[derive(rt::RcuProtected)]
    #[rcu_protected(project = Updater, project_ref = Inspector, view = Reader, crate = self::rt)]
    pub(crate) struct Settings {
        #[rcu]
        pub(crate) level: rt::Rcu<Box<u8>>,
        pub(crate) changes: u32,
    }
}

#[test]
fn options_rename_the_types_and_set_the_crate_path() {
    use renamed::{Inspector, Reader, Settings, Updater};
    let m = RcuMutex::new(Settings { level: Rcu::new(Box::new(1)), changes: 0 });
    let reader: Reader<'_> = m.rcu();
    assert_eq!(reader.level().dereference(&read_lock()).copied(), Some(1));
    let mut w = m.lock();
    let p: Updater<'_> = w.project();
    *p.changes += 1;
    let r: Inspector<'_> = w.project_ref();
    assert_eq!(*r.changes, 1);
}

/// User items named like everything the expansion uses must not change its meaning. (Only
/// `__rcu_derive_*` names are reserved: a `const` named like a generated local would turn it into
/// a constant pattern.)
#[allow(dead_code, non_camel_case_types, non_upper_case_globals, clippy::disallowed_names)]
mod hygiene {
    pub(crate) struct Pin;
    pub(crate) struct Field;
    pub(crate) struct PhantomData;
    pub(crate) struct Unpin;
    pub(crate) struct Drop;
    pub(crate) struct HasField;
    pub(crate) struct RcuProtected;
    pub(crate) struct RawView;
    pub(crate) struct Clone;
    pub(crate) struct Copy;
    pub(crate) struct Sized;
    pub(crate) struct __RcuPinnedFields;
    pub(crate) struct __RcuReaderFields;
    pub(crate) type Option = ();
    pub(crate) type Result = ();
    pub(crate) mod core {}
    pub(crate) mod rcu_runtime {}
    pub(crate) const __this: () = ();
    pub(crate) const __head: () = ();
    pub(crate) const __raw: () = ();
    pub(crate) const __pin: () = ();
    pub(crate) trait T {}

    #[derive(::rcu_runtime::RcuProtected)]
    pub(crate) struct Shadowed {
        #[rcu]
        pub(crate) __raw: ::rcu_runtime::Rcu<Box<u8>>,
        #[pin]
        pub(crate) project: u8,
        pub(crate) clone: Pin,
        #[rcu_head]
        pub(crate) head: ::rcu_runtime::RcuHead,
    }
}

#[test]
fn user_items_do_not_shadow_the_expansion() {
    let m = RcuMutex::new(hygiene::Shadowed {
        __raw: Rcu::new(Box::new(3)),
        project: 4,
        clone: hygiene::Pin,
        head: RcuHead::new(),
    });
    assert_eq!(m.rcu().__raw().dereference(&read_lock()).copied(), Some(3));
    assert_eq!(*m.lock().project().project, 4);
}

/// `Unpin` by method resolution: the inherent method applies only when the bound holds.
struct UnpinProbe<T>(PhantomData<T>);

trait NotUnpin {
    fn is_unpin(&self) -> bool {
        false
    }
}

impl<T> NotUnpin for UnpinProbe<T> {}

impl<T: Unpin> UnpinProbe<T> {
    fn is_unpin(&self) -> bool {
        true
    }
}

macro_rules! is_unpin {
    ($t:ty) => {
        UnpinProbe::<$t>(PhantomData).is_unpin()
    };
}

#[derive(RcuProtected)]
struct PinnedUnpinField {
    #[pin]
    a: u8,
}

#[derive(RcuProtected)]
struct PinnedPhantomPinned {
    #[pin]
    a: PhantomPinned,
}

#[derive(RcuProtected)]
struct UnpinnedPhantomPinned {
    a: PhantomPinned,
}

#[derive(RcuProtected)]
struct PinnedGeneric<T> {
    #[pin]
    a: T,
}

#[test]
fn unpin_holds_exactly_when_every_pinned_field_is_unpin() {
    // An `Rcu` is `!Unpin`, so every struct with an `#[rcu]` field is too: the aliasing argument
    // of `RcuMutex` depends on it.
    assert!(!is_unpin!(Config));
    assert!(!is_unpin!(Tuple));
    assert!(is_unpin!(PinnedUnpinField));
    assert!(!is_unpin!(PinnedPhantomPinned));
    // Fields that are not pinned do not count (as with pin-project).
    assert!(is_unpin!(UnpinnedPhantomPinned));
    assert!(is_unpin!(PinnedGeneric<u8>));
    assert!(!is_unpin!(PinnedGeneric<PhantomPinned>));
    assert!(is_unpin!(Unit));
}

static PINNED_DROPS: AtomicUsize = AtomicUsize::new(0);
static FIELD_DROPS: AtomicUsize = AtomicUsize::new(0);

struct FieldDrop;

impl Drop for FieldDrop {
    fn drop(&mut self) {
        // The struct's `PinnedDrop` has run already.
        assert_eq!(PINNED_DROPS.load(Ordering::SeqCst), FIELD_DROPS.load(Ordering::SeqCst) + 1);
        FIELD_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct WithPinnedDrop {
    #[rcu]
    value: Rcu<Box<u32>>,
    last_seen: Option<u32>,
    tail: FieldDrop,
}

impl rcu_runtime::PinnedDrop for WithPinnedDrop {
    fn drop(self: Pin<&mut Self>) {
        let p = self.project();
        // The pinned projection is available while dropping.
        *p.last_seen = p.value.dereference(&read_lock()).copied();
        assert_eq!(*p.last_seen, Some(5));
        PINNED_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn pinned_drop_runs_once_before_the_fields_are_dropped() {
    drop(WithPinnedDrop { value: Rcu::new(Box::new(5)), last_seen: None, tail: FieldDrop });
    let m = RcuMutex::new(WithPinnedDrop { value: Rcu::new(Box::new(5)), last_seen: None, tail: FieldDrop });
    drop(m);
    assert_eq!(PINNED_DROPS.load(Ordering::SeqCst), 2);
    assert_eq!(FIELD_DROPS.load(Ordering::SeqCst), 2);
}

/// Fields removed by `cfg` do not exist for the derive: positions and projections follow the
/// fields the build has.
#[derive(RcuProtected)]
struct Configured(#[cfg(not(test))] u64, #[rcu] Rcu<Box<u8>>, #[cfg(test)] u16);

#[derive(RcuProtected)]
struct ConfiguredNamed {
    #[cfg(not(test))]
    #[rcu]
    gone: Rcu<Box<u8>>,
    #[cfg(test)]
    #[rcu]
    kept: Rcu<Box<u8>>,
}

#[test]
fn fields_under_cfg() {
    let m = RcuMutex::new(Configured(Rcu::new(Box::new(1)), 2));
    assert_eq!(m.rcu().field_0().dereference(&read_lock()).copied(), Some(1));
    assert_eq!(*m.lock().project().1, 2);
    let m = RcuMutex::new(ConfiguredNamed { kept: Rcu::new(Box::new(3)) });
    assert_eq!(m.rcu().kept().dereference(&read_lock()).copied(), Some(3));
}

/// A generic RCU linked list names its own type with `Self`; the derive copies field types into
/// other items, where it replaces `Self` by `List<T>`.
#[derive(RcuProtected)]
struct List<T: Send + Sync + 'static> {
    value: T,
    #[rcu]
    next: Rcu<Box<Self>>,
}

#[test]
fn self_in_a_field_type_means_the_struct() {
    let tail = List { value: 3, next: Rcu::null() };
    let m = RcuMutex::new(List {
        value: 1,
        next: Rcu::new(Box::new(List { value: 2, next: Rcu::new(Box::new(tail)) })),
    });
    let g = read_lock();
    let second = m.rcu().next().dereference(&g).unwrap();
    let third = second.next.dereference(&g).unwrap();
    assert_eq!((second.value, third.value), (2, 3));
    drop(g);
    let mut w = m.lock();
    let old = w.project().next.take().unwrap();
    assert_eq!(old.wait().value, 2);
}
