//! Helpers shared by the behaviour tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod child;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The message of a panic payload (`panic!` with a literal or with formatting).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<not a string>".to_owned())
}

/// The value a live [`Tracked`] holds; anything else means the reader saw freed memory.
pub const LIVE: u64 = 0x5afe_5afe_5afe_5afe;
/// What a [`Tracked`] is overwritten with when it is dropped.
pub const POISON: u64 = 0xdead_dead_dead_dead;

/// A value that counts its drops and poisons itself when dropped, so a reader that still reaches
/// it after reclamation sees `POISON` (until the memory is reused).
pub struct Tracked {
    pub id: u64,
    state: std::sync::atomic::AtomicU64,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    pub fn new(id: u64, drops: &Arc<AtomicUsize>) -> Self {
        Self { id, state: std::sync::atomic::AtomicU64::new(LIVE), drops: Arc::clone(drops) }
    }

    /// Panics if the value was already dropped.
    pub fn check(&self) -> u64 {
        let state = self.state.load(Ordering::Relaxed);
        assert_eq!(state, LIVE, "a reader reached a reclaimed object (id {})", self.id);
        self.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let previous = self.state.swap(POISON, Ordering::Relaxed);
        assert_eq!(previous, LIVE, "object {} dropped twice", self.id);
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// A thread that stays inside a read-side critical section until [`ReaderInside::leave`].
pub struct ReaderInside {
    release: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl ReaderInside {
    /// Spawns the reader and returns once it is inside its section. `before_leaving` runs on the
    /// reader, still inside the section, when [`ReaderInside::leave`] is called.
    pub fn enter(before_leaving: impl FnOnce() + Send + 'static) -> Self {
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _guard = rcu_runtime::read_lock();
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            before_leaving();
        });
        entered_rx.recv().unwrap();
        Self { release, thread }
    }

    /// Lets the reader leave its section and waits for its thread to end.
    pub fn leave(self) {
        self.release.send(()).unwrap();
        self.thread.join().unwrap();
    }
}

/// `Send`/`Sync` of a type, found by method resolution (inherent methods with unmet bounds are
/// skipped in favour of the trait's defaults).
pub struct Probe<T: ?Sized>(pub std::marker::PhantomData<T>);

pub trait Fallback {
    fn is_send(&self) -> bool {
        false
    }
    fn is_sync(&self) -> bool {
        false
    }
}

impl<T: ?Sized> Fallback for Probe<T> {}

impl<T: ?Sized + Send> Probe<T> {
    pub fn is_send(&self) -> bool {
        true
    }
}

impl<T: ?Sized + Sync> Probe<T> {
    pub fn is_sync(&self) -> bool {
        true
    }
}

/// `(is Send, is Sync)` of a concrete type; the file needs `#[macro_use] mod common;` and
/// `use common::Fallback;`.
#[allow(unused_macros, reason = "only some test files probe auto traits")]
macro_rules! probe {
    ($t:ty) => {
        (
            common::Probe::<$t>(std::marker::PhantomData).is_send(),
            common::Probe::<$t>(std::marker::PhantomData).is_sync(),
        )
    };
}
