//! The crate documentation's thread-safety table (`# Thread safety` in `lib.rs`, and the book's
//! "Thread safety" chapter), checked row by row: for each public type, one instance that meets
//! its `Send`/`Sync` conditions and one that misses each of them. The compile-fail cases in
//! `ui-tests/tests/ui/send_sync/` show why each condition is needed.

use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use rcu_runtime::config::{AlreadyStarted, BarrierMode, StallReport};
use rcu_runtime::{
    Cursor, Field, GpState, Guard, HashMapIter, ListIter, QsbrReader, Rcu, RcuBox, RcuHashMap, RcuHead,
    RcuLinks, RcuList, RcuMap, RcuMut, RcuMutex, RcuMutexGuard, RcuOld, RcuProtected, Stats,
};

use test_support::probe;

/// `Sync` but not `Send`, like a `MutexGuard`: must be dropped on the thread that made it.
struct ThreadBound(PhantomData<*mut ()>);

// SAFETY: `&ThreadBound` gives access to nothing.
unsafe impl Sync for ThreadBound {}

const BOTH: (bool, bool) = (true, true);
const NEITHER: (bool, bool) = (false, false);
const SYNC_ONLY: (bool, bool) = (false, true);

#[test]
fn guards_and_readers_stay_on_their_thread() {
    assert_eq!(probe!(Guard), NEITHER);
    assert_eq!(probe!(QsbrReader), NEITHER);
}

#[test]
fn rcu_is_send_when_the_pointer_is_send_and_sync_and_sync_when_it_is_sync() {
    assert_eq!(probe!(Rcu<Box<u32>>), BOTH);
    assert_eq!(probe!(Rcu<Arc<AtomicU32>>), BOTH);
    assert_eq!(probe!(Rcu<Pin<Box<String>>>), BOTH);
    assert_eq!(probe!(Rcu<RcuBox<u32>>), BOTH);
    // `Cell` is `Send`: only the borrow that outlives a move makes the `Rcu` `!Send`.
    assert_eq!(probe!(Rcu<Box<Cell<u32>>>), NEITHER);
    assert_eq!(probe!(Rcu<Pin<Box<Cell<u32>>>>), NEITHER);
    assert_eq!(probe!(Rcu<Box<ThreadBound>>), SYNC_ONLY);
    assert_eq!(probe!(Rcu<Arc<Cell<u32>>>), NEITHER);
}

#[test]
fn rcu_old_is_send_when_the_pointer_is_and_always_sync() {
    assert_eq!(probe!(RcuOld<Box<Cell<u32>>>), BOTH);
    assert_eq!(probe!(RcuOld<Box<ThreadBound>>), SYNC_ONLY);
    assert_eq!(probe!(RcuOld<Box<std::rc::Rc<u32>>>), SYNC_ONLY);
}

#[test]
fn rcu_box_needs_a_sync_value() {
    assert_eq!(probe!(RcuBox<u32>), BOTH);
    assert_eq!(probe!(RcuBox<Cell<u32>>), NEITHER);
}

#[test]
fn rcu_map_needs_send_and_sync_keys_and_values() {
    assert_eq!(probe!(RcuMap<String, RcuBox<u32>>), BOTH);
    assert_eq!(probe!(RcuMap<String, Box<Mutex<u32>>>), BOTH);
    assert_eq!(probe!(RcuMap<RefCell<u32>, Box<u32>>), NEITHER);
    assert_eq!(probe!(RcuMap<u32, Box<Cell<u32>>>), NEITHER);
}

#[derive(RcuProtected)]
struct SyncReaders {
    #[rcu]
    shared: Rcu<Box<u64>>,
    // Writer-only: the lock holder alone reaches it.
    scratch: Cell<u64>,
}

#[derive(RcuProtected)]
struct AllSync {
    #[rcu]
    shared: Rcu<Box<u64>>,
    count: u64,
}

#[derive(RcuProtected)]
struct CellReaders {
    #[rcu]
    shared: Rcu<Box<Cell<u64>>>,
}

#[derive(RcuProtected)]
struct CellBehindWriterRcu {
    #[rcu]
    shared: Rcu<Box<u64>>,
    scratch: Rcu<Box<Cell<u64>>>,
}

#[test]
fn rcu_mutex_needs_send_data_and_sync_rcu_pointees() {
    assert_eq!(probe!(RcuMutex<SyncReaders>), BOTH);
    assert_eq!(probe!(RcuMutex<AllSync>), BOTH);
    assert_eq!(probe!(RcuMutex<CellReaders>), NEITHER);
    assert_eq!(probe!(RcuMutex<CellBehindWriterRcu>), NEITHER);
    // The lock guard never leaves its thread; `&guard` gives `&T`, so sharing it needs `T: Sync`.
    assert_eq!(probe!(RcuMutexGuard<'static, AllSync>), SYNC_ONLY);
    assert_eq!(probe!(RcuMutexGuard<'static, SyncReaders>), NEITHER);
}

#[test]
fn derived_types_follow_the_fields_they_reach() {
    assert_eq!(probe!(SyncReadersView<'static>), BOTH);
    assert_eq!(probe!(CellReadersView<'static>), NEITHER);
    // The writer-only `Cell` is `Send` but not `Sync`: the projection holds `&mut Cell`...
    assert_eq!(probe!(SyncReadersProjection<'static>), (true, false));
    // ...and the shared projection `&Cell`.
    assert_eq!(probe!(SyncReadersProjectionRef<'static>), NEITHER);
    assert_eq!(probe!(CellReadersProjection<'static>), NEITHER);
    assert_eq!(probe!(RcuMut<'static, Rcu<Box<u64>>>), BOTH);
    assert_eq!(probe!(RcuMut<'static, Rcu<Box<Cell<u64>>>>), NEITHER);
}

#[test]
fn plain_data_is_send_and_sync() {
    assert_eq!(probe!(RcuHead), BOTH);
    assert_eq!(probe!(GpState), BOTH);
    assert_eq!(probe!(Stats), BOTH);
    assert_eq!(probe!(Field<0>), BOTH);
    assert_eq!(probe!(BarrierMode), BOTH);
    assert_eq!(probe!(AlreadyStarted), BOTH);
    assert_eq!(probe!(StallReport), BOTH);
}

/// List nodes of each kind: `Send + Sync`, `Send` only, `Sync` only.
#[derive(RcuProtected)]
struct SyncNode {
    #[rcu_links]
    links: RcuLinks,
    value: AtomicU32,
}

#[derive(RcuProtected)]
struct CellNode {
    #[rcu_links]
    links: RcuLinks,
    value: Cell<u32>,
}

#[derive(RcuProtected)]
struct BoundNode {
    #[rcu_links]
    links: RcuLinks,
    value: ThreadBound,
}

#[test]
fn rcu_list_needs_send_and_sync_nodes_and_its_iterator_and_cursor_sync_ones() {
    assert_eq!(probe!(RcuList<SyncNode>), BOTH);
    assert_eq!(probe!(RcuList<CellNode>), NEITHER);
    assert_eq!(probe!(RcuList<BoundNode>), NEITHER);
    assert_eq!(probe!(ListIter<'static, SyncNode>), BOTH);
    assert_eq!(probe!(ListIter<'static, CellNode>), NEITHER);
    assert_eq!(probe!(ListIter<'static, BoundNode>), BOTH);
    // The cursor holds the list's lock: never `Send`; `&Cursor` lends `&T`.
    assert_eq!(probe!(Cursor<'static, SyncNode>), SYNC_ONLY);
    assert_eq!(probe!(Cursor<'static, BoundNode>), SYNC_ONLY);
    assert_eq!(probe!(Cursor<'static, CellNode>), NEITHER);
    assert_eq!(probe!(RcuLinks), BOTH);
}

/// A hasher that is `Send` but not `Sync`.
#[derive(Default)]
struct CellHasher(Cell<u64>);

impl std::hash::BuildHasher for CellHasher {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        self.0.set(self.0.get() + 1);
        Self::Hasher::new()
    }
}

/// A hasher that is `Sync` but not `Send`.
struct BoundHasher(RandomState, ThreadBound);

impl std::hash::BuildHasher for BoundHasher {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

#[test]
fn rcu_hash_map_needs_send_and_sync_entries_and_a_hasher_for_each() {
    assert_eq!(probe!(RcuHashMap<String, AtomicU32>), BOTH);
    assert_eq!(probe!(RcuHashMap<String, Mutex<Vec<u8>>>), BOTH);
    assert_eq!(probe!(RcuHashMap<RefCell<u32>, u32>), NEITHER);
    assert_eq!(probe!(RcuHashMap<u32, Cell<u32>>), NEITHER);
    assert_eq!(probe!(RcuHashMap<ThreadBound, u32>), NEITHER);
    assert_eq!(probe!(RcuHashMap<u32, ThreadBound>), NEITHER);
    // The hasher: moved with the map (`Send`), shared by its readers (`Sync`).
    assert_eq!(probe!(RcuHashMap<u32, u32, CellHasher>), (true, false));
    assert_eq!(probe!(RcuHashMap<u32, u32, BoundHasher>), SYNC_ONLY);
    assert_eq!(probe!(HashMapIter<'static, String, AtomicU32>), BOTH);
    assert_eq!(probe!(HashMapIter<'static, ThreadBound, ThreadBound>), BOTH);
    assert_eq!(probe!(HashMapIter<'static, Cell<u32>, u32>), NEITHER);
    assert_eq!(probe!(HashMapIter<'static, u32, Cell<u32>>), NEITHER);
}
