//! Twin of `rcu_on_generic_field`: the derive carries generics, lifetimes, const generics,
//! defaults and `where` clauses into everything it emits, and a generic `#[rcu]` field is fine
//! when its type is an `Rcu`.

use std::fmt::Debug;

use rcu_runtime::{ForeignOwnable, Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Slot<P: ForeignOwnable> {
    #[rcu]
    value: Rcu<P>,
}

#[derive(RcuProtected)]
struct Table<'a, K, V: Clone = u32, const N: usize = 4>
where
    K: Ord + Debug + Send + Sync + 'static,
    V: 'static,
{
    #[rcu]
    rows: Rcu<Box<[(K, V); N]>>,
    label: &'a str,
    #[pin]
    spare: [V; N],
}

/// The struct already uses `'pin` and `'view`, the lifetimes the expansion would pick.
#[derive(RcuProtected)]
struct Borrowing<'pin, 'view, T: 'static> {
    #[rcu]
    current: Rcu<Box<T>>,
    first: &'pin T,
    second: &'view T,
}

fn read_all<K, V: Clone, const N: usize>(table: &RcuMutex<Table<'_, K, V, N>>) -> Vec<V>
where
    K: Ord + Debug + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    let guard = read_lock();
    let rows = table.rcu().rows().dereference(&guard).expect("published");
    rows.iter().map(|(_, v)| v.clone()).collect()
}

fn main() {
    let slot = RcuMutex::new(Slot { value: Rcu::new(std::sync::Arc::new(5_u8)) });
    assert_eq!(slot.rcu().value().dereference(&read_lock()).map(|v| *v), Some(5));

    let label = String::from("ports");
    let table: RcuMutex<Table<'_, &'static str>> = RcuMutex::new(Table {
        rows: Rcu::new(Box::new([("a", 1), ("b", 2), ("c", 3), ("d", 4)])),
        label: &label,
        spare: [0; 4],
    });
    assert_eq!(read_all(&table), [1, 2, 3, 4]);
    let mut writer = table.lock();
    let projection = writer.project();
    assert_eq!(*projection.label, "ports");
    assert_eq!(projection.spare.get_mut(), &mut [0; 4]);
    drop(writer);

    let (one, two) = (1_u64, 2_u64);
    let borrowing =
        RcuMutex::new(Borrowing { current: Rcu::new(Box::new(0_u64)), first: &one, second: &two });
    let mut writer = borrowing.lock();
    let projection = writer.project();
    assert_eq!(**projection.first + **projection.second, 3);
    projection.current.replace(Box::new(3)).expect("was published").defer_drop();
}
