//! The writer of a torture run: publishes new elements in the two slots through every way the
//! runtime offers, and moves each removed element through its pipe stages until it is freed.

use core::ptr::{self, NonNull};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{Rcu, RcuBox, RcuOld, defer_rcu, read_lock, start_poll, synchronize_rcu};

use super::element::{Census, Element};
use super::histogram::PIPE_LEN;
use super::stress::{BOX_KEY, Shared, WriterMode};
use super::waits::Wait;
use crate::rng::Rng;

/// The writer's slot in the run's [`Waits`](super::waits::Waits).
pub(super) const WRITER_SLOT: usize = 0;

/// Links in the chain of an element that has one (an `Rcu` whose value owns another).
const CHAIN: usize = 2;

/// The writer's state: its random stream and the removed elements it still owns.
///
/// # Invariants
///
/// `boxed` points to `shared.boxed`, which the `Arc` keeps alive and in place; this writer is the
/// only one that updates it.
pub(super) struct Writer {
    shared: Arc<Shared>,
    boxed: NonNull<Rcu<Box<Element>>>,
    census: Arc<Census>,
    rng: Rng,
    /// Elements given back by `RcuOld::wait`, oldest first, each past stage 1; they advance at
    /// every grace period the writer sees and are freed at stage `PIPE_LEN`.
    aging: VecDeque<Box<Element>>,
}

impl Writer {
    pub(super) fn new(shared: Arc<Shared>, census: Arc<Census>, seed: u64) -> Self {
        // Through `Arc::as_ptr`, whose provenance covers the whole allocation, writable.
        let whole = Arc::as_ptr(&shared).cast_mut();
        // SAFETY: `whole` points to the live `Shared` that the `Arc` owns; taking the address of a
        // field reads and writes nothing.
        let field = unsafe { &raw mut (*whole).boxed };
        // INVARIANT: the pointer comes from the `Arc` we keep; `run` starts one writer per run.
        let boxed = NonNull::new(field).expect("a field of a live allocation is not null");
        Self { shared, boxed, census, rng: Rng::new(seed), aging: VecDeque::new() }
    }

    /// The updater's pinned handle on the `Box` slot, which readers on other threads read at the
    /// same time through `&Rcu`.
    fn boxed_for_update(&mut self) -> Pin<&mut Rcu<Box<Element>>> {
        // SAFETY:
        // - the `Arc` in `self` keeps the `Rcu` alive and never moves it, which is what pinning
        //   asks (invariant);
        // - this writer is its only updater (invariant), and `&mut self` keeps this handle unique
        //   within it: that is the exclusivity `Pin<&mut Rcu>` stands for. The updater methods
        //   write only through the `Rcu`'s atomic pointer, never the `Rcu` itself, so the readers
        //   holding `&Rcu` race with nothing;
        // - `Rcu` is `!Unpin`, so a `&mut Rcu` does not assert that no `&Rcu` exists (the
        //   aliasing argument of the runtime's `RcuMutex`).
        unsafe { Pin::new_unchecked(self.boxed.as_mut()) }
    }

    /// Runs `wait`, timed as a wait for `what` (see [`Waits`](super::waits::Waits)).
    fn timed<R>(&self, what: Wait, wait: impl FnOnce() -> R) -> R {
        self.shared.waits.timed(WRITER_SLOT, what, wait)
    }

    /// A new element; one in four owns a chain of links (nested `Rcu`s).
    fn fresh(&mut self) -> Element {
        let links = if self.rng.one_in(4) { CHAIN } else { 0 };
        Element::with_links(&self.census, links)
    }

    /// Publishes until the deadline has passed and every mode has run often enough.
    pub(super) fn run(mut self, duration: Duration, min_per_mode: u64) {
        let deadline = Instant::now() + duration;
        let mut counts = [0_u64; WriterMode::ALL.len()];
        loop {
            // Between publications the writer is outside any section: the forker may pause it.
            self.shared.pause.point();
            let mode = if Instant::now() < deadline {
                WriterMode::ALL[self.rng.below(WriterMode::ALL.len() as u64) as usize]
            } else {
                match WriterMode::ALL.into_iter().find(|m| counts[m.index()] < min_per_mode) {
                    Some(mode) => mode,
                    None => break,
                }
            };
            self.publish(mode);
            counts[mode.index()] += 1;
            // Relaxed: statistics for progress lines.
            self.shared.writes[mode.index()].fetch_add(1, Ordering::Relaxed);
            self.pause();
        }
        // The aging elements are no longer reachable by anyone: free them (poisoned).
        let aging = core::mem::take(&mut self.aging);
        self.timed(Wait::DropOld, || drop(aging));
        self.shared.pause.leave();
        self.shared.stop();
    }

    /// A random short pause, so that readers see both quick and slow successions of versions.
    fn pause(&mut self) {
        match self.rng.below(64) {
            0 => thread::sleep(Duration::from_micros(20 + self.rng.below(80))),
            1..=15 => thread::yield_now(),
            _ => {}
        }
    }

    fn publish(&mut self, mode: WriterMode) {
        match mode {
            WriterMode::ReplaceAndDrop => {
                let (old, removed) = self.replace_boxed();
                if self.rng.one_in(2) {
                    self.timed(Wait::Synchronize, synchronize_rcu);
                    self.grace_period_elapsed();
                    // SAFETY: `old` still owns the element.
                    unsafe { (*removed).advance() };
                }
                // Waits for a grace period, then frees (and poisons) the element; its links, if
                // any, wait for one more grace period each.
                self.timed(Wait::DropOld, || drop(old));
                self.grace_period_elapsed();
            }
            WriterMode::CopyUpdateAndWait => {
                let fresh = self.fresh();
                let mut removed: *const Element = ptr::null();
                let old = self.boxed_for_update().copy_update(|current| {
                    removed = current.map_or(ptr::null(), ptr::from_ref);
                    Some(Box::new(fresh))
                });
                let old = old.expect("the Box slot is never empty");
                // SAFETY: `removed` is the element that `old` owns, which nothing frees before `wait`.
                unsafe { (*removed).advance() };
                let element = self.timed(Wait::WaitOld, || old.wait());
                self.grace_period_elapsed();
                // Its own grace period has ended too: no reader can reach it any more.
                element.advance();
                self.aging.push_back(element);
            }
            WriterMode::DropAsync => {
                let (old, _) = self.replace_boxed();
                self.timed(Wait::Enqueue, || old.drop_async());
            }
            WriterMode::DeferDrop => {
                let (old, _) = self.replace_boxed();
                self.timed(Wait::Enqueue, || old.defer_drop());
            }
            WriterMode::RcuBox => {
                let fresh = RcuBox::new(self.fresh());
                let old = self.shared.boxes.insert(BOX_KEY, fresh).expect("the RcuBox slot is never empty");
                old.advance();
                // Freed through `call_rcu` after a grace period.
                self.timed(Wait::Enqueue, || drop(old));
            }
            WriterMode::Polled => {
                let (old, removed) = self.replace_boxed();
                let patience = self.rng.below(200);
                self.timed(Wait::Polled, || {
                    let state = start_poll();
                    let mut polls = 0;
                    while !state.poll() {
                        polls += 1;
                        if polls > patience {
                            state.wait();
                            break;
                        }
                        thread::yield_now();
                    }
                });
                self.grace_period_elapsed();
                // SAFETY: `old` still owns the element.
                unsafe { (*removed).advance() };
                self.timed(Wait::Enqueue, || old.defer_drop());
            }
        }
    }

    /// Publishes a new element in the `Box` slot with `replace`; returns the old one, moved to
    /// stage 1, and a pointer to it that stays valid as long as the `RcuOld` lives.
    fn replace_boxed(&mut self) -> (RcuOld<Box<Element>>, *const Element) {
        let removed = {
            let guard = read_lock();
            let current = self.shared.boxed.dereference(&guard).expect("the Box slot is never empty");
            // Only this thread reclaims elements, so the pointer outlives the guard.
            ptr::from_ref(current)
        };
        let fresh = Box::new(self.fresh());
        let old = self.boxed_for_update().replace(fresh);
        let old = old.expect("the Box slot is never empty");
        // SAFETY: `removed` is the element `old` owns (nothing else updates the slot), alive until
        // `old` reclaims it.
        unsafe { (*removed).advance() };
        (old, removed)
    }

    /// Called after every grace period the writer waited for: the elements it already owned were
    /// removed before that grace period started, so they age by one stage; the oldest are freed,
    /// here or, half the time, by a `defer_rcu` callback (where the drops of their links defer).
    fn grace_period_elapsed(&mut self) {
        for element in &self.aging {
            element.advance();
        }
        while self.aging.front().is_some_and(|e| e.stage() >= PIPE_LEN as u64) {
            let element = self.aging.pop_front().expect("the front element exists");
            if self.rng.one_in(2) {
                self.timed(Wait::DropOld, || drop(element));
            } else {
                self.timed(Wait::Enqueue, || defer_rcu(move || drop(element)));
            }
        }
    }
}
