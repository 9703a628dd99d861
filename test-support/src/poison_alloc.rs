//! A global allocator for the stress runs that poisons freed memory and delays its reuse.
//!
//! Without it a use-after-free can hide: the freed block is handed out again at once, the new
//! owner writes a valid-looking value into it, and a late reader reads that instead of garbage.
//! Here every freed block is filled with [`FREED_BYTE`] and parked in a quarantine; only when the
//! quarantine is full (by count or by bytes) is its oldest block really freed, after checking that
//! nobody wrote into it meanwhile (a write after free).
//!
//! Under AddressSanitizer the quarantine is better left off (`RCU_TORTURE_QUARANTINE=off`): ASan
//! has its own, and reports the exact access only for blocks that it knows are freed.
//!
//! Install it in a test binary or a program with
//! `#[global_allocator] static ALLOC: PoisonAllocator = PoisonAllocator;`.
//!
//! # Fork
//!
//! A process that uses it may `fork()` while other threads free memory (the torture run does).
//! Its first allocation (before `main`) registers `pthread_atfork` handlers that hold the
//! quarantine's lock across the fork, so that the child gets a quarantine nobody was half-way
//! through changing, and a lock that is free. Registered that early, they are the first
//! handlers of the process: the C library runs `prepare` handlers in the reverse order of
//! registration and the others in order, so the quarantine is locked *after* every later
//! handler's `prepare` (the runtime's takes its engine locks, waiting for running callbacks,
//! which free memory) and unlocked *before* their `parent`/`child` handlers (the runtime's child
//! handler frees the readers of threads that do not exist in the child).

use core::cell::RefCell;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use crate::sync::{Mutex, MutexGuard};

/// What freed memory is filled with (the kernel's `POISON_FREE`).
pub const FREED_BYTE: u8 = 0x6b;
/// Blocks held back at most.
const QUARANTINE_SLOTS: usize = 1 << 15;
/// Bytes held back at most.
const QUARANTINE_BYTES: usize = 64 << 20;
/// Larger blocks are freed at once (they are not what readers of small elements would reach).
const LARGEST_QUARANTINED: usize = 1 << 20;

/// The poisoning, quarantining allocator (on top of the system allocator).
pub struct PoisonAllocator;

/// Whether freed blocks are poisoned and quarantined (see [`configure_from_env`]).
static ENABLED: AtomicBool = AtomicBool::new(true);
static POISONED_FREES: AtomicU64 = AtomicU64::new(0);
static WRITES_AFTER_FREE: AtomicU64 = AtomicU64::new(0);

/// A freed block waiting in the quarantine.
#[derive(Clone, Copy)]
struct Held {
    ptr: *mut u8,
    size: usize,
    align: usize,
}

impl Held {
    const EMPTY: Self = Self { ptr: core::ptr::null_mut(), size: 0, align: 1 };
}

/// A ring of freed blocks, oldest first.
struct Quarantine {
    slots: [Held; QUARANTINE_SLOTS],
    oldest: usize,
    len: usize,
    bytes: usize,
}

// SAFETY: the quarantine owns the blocks it holds (they were freed to it); a block is memory, not
// state tied to the thread that freed it, so any thread may release it.
unsafe impl Send for Quarantine {}

static QUARANTINE: Mutex<Quarantine> =
    Mutex::new(Quarantine { slots: [Held::EMPTY; QUARANTINE_SLOTS], oldest: 0, len: 0, bytes: 0 });

/// Locks the quarantine. `std`'s mutex never allocates, so the allocator may use it; nothing
/// panics while it is held, so poisoning cannot happen (it is ignored anyway).
fn quarantine() -> MutexGuard<'static, Quarantine> {
    QUARANTINE.lock()
}

impl Quarantine {
    /// Parks `block` if there is room; otherwise gives back the oldest block to make room.
    fn admit_or_evict(&mut self, block: Held) -> Result<(), Held> {
        let fits = self.len < QUARANTINE_SLOTS && self.bytes + block.size <= QUARANTINE_BYTES;
        if fits {
            let slot = (self.oldest + self.len) % QUARANTINE_SLOTS;
            self.slots[slot] = block;
            self.len += 1;
            self.bytes += block.size;
            return Ok(());
        }
        Err(self.pop_oldest().expect("a full quarantine holds at least one block"))
    }

    fn pop_oldest(&mut self) -> Option<Held> {
        if self.len == 0 {
            return None;
        }
        let block = core::mem::replace(&mut self.slots[self.oldest], Held::EMPTY);
        self.oldest = (self.oldest + 1) % QUARANTINE_SLOTS;
        self.len -= 1;
        self.bytes -= block.size;
        Some(block)
    }
}

/// Checks that a quarantined block still holds only poison, then really frees it.
///
/// # Safety
///
/// `block` was taken out of the quarantine, which got it from [`PoisonAllocator::dealloc`]: it is
/// a block of the system allocator with that size and alignment, freed by its owner, that nobody
/// may use any more.
unsafe fn release(block: Held) {
    // SAFETY: the block is `size` bytes of memory that we own (the caller's contract); the fill in
    // `dealloc` initialized every byte.
    let bytes = unsafe { core::slice::from_raw_parts(block.ptr, block.size) };
    if bytes.iter().any(|&b| b != FREED_BYTE) {
        // Relaxed: a statistic, read after the run.
        WRITES_AFTER_FREE.fetch_add(1, Ordering::Relaxed);
    }
    // SAFETY: `size` and `align` are those of the layout the block was allocated with (the
    // allocator's contract on `dealloc`), and `align` is a power of two.
    let layout = unsafe { Layout::from_size_align_unchecked(block.size, block.align) };
    // SAFETY: the block came from `System` with this layout and is freed once, here.
    unsafe { System.dealloc(block.ptr, layout) };
}

/// Whether the fork handlers are registered: [`NOT_YET`], [`REGISTERING`] or [`REGISTERED`].
static FORK_HANDLERS: AtomicU8 = AtomicU8::new(NOT_YET);
const NOT_YET: u8 = 0;
const REGISTERING: u8 = 1;
const REGISTERED: u8 = 2;

thread_local! {
    /// The quarantine's lock, held by the forking thread from `prepare` to `parent`/`child`.
    static HELD_FOR_FORK: RefCell<Option<MutexGuard<'static, Quarantine>>> = const { RefCell::new(None) };
}

/// Registers the fork handlers, once; called on every allocation (one load once done).
fn register_fork_handlers() {
    // Relaxed: whoever sees `REGISTERED` needs nothing that the registration wrote; a thread
    // that loses the race below goes on without waiting (the first allocation happens before
    // `main`, on one thread, so nobody forks meanwhile).
    if FORK_HANDLERS.load(Ordering::Relaxed) == REGISTERED {
        return;
    }
    if FORK_HANDLERS.compare_exchange(NOT_YET, REGISTERING, Ordering::Relaxed, Ordering::Relaxed).is_err() {
        return;
    }
    // SAFETY: the handlers are `extern "C" fn()` that do not unwind (they lock and unlock a
    // mutex that nothing panics under, see `quarantine`) and take no arguments. The C library
    // allocates its handler list with its own `malloc`, not through this allocator.
    let rc = unsafe {
        libc::pthread_atfork(Some(lock_for_fork), Some(unlock_after_fork), Some(unlock_after_fork))
    };
    assert_eq!(rc, 0, "PoisonAllocator: pthread_atfork failed ({rc})");
    FORK_HANDLERS.store(REGISTERED, Ordering::Relaxed);
}

/// `prepare`: takes the quarantine's lock and keeps it for the fork.
extern "C" fn lock_for_fork() {
    HELD_FOR_FORK.with(|slot| {
        // The slot is reached (its destructor registered, which may allocate and free) before
        // the lock is taken: a free from here on, on this thread, would wait for itself.
        let guard = quarantine();
        *slot.borrow_mut() = Some(guard);
    });
}

/// `parent` and `child`: gives the lock back (in the child, the one thread that holds it).
extern "C" fn unlock_after_fork() {
    HELD_FOR_FORK.with(|slot| drop(slot.borrow_mut().take()));
}

// SAFETY: every block comes from `System` with the caller's layout and goes back to `System` with
// the same layout, exactly once (at `dealloc` when the quarantine is off or the block is large,
// or when it leaves the quarantine); in between, nobody but the quarantine owns it.
unsafe impl GlobalAlloc for PoisonAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        register_fork_handlers();
        // SAFETY: forwarded from our caller (`layout` has a non-zero size).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        register_fork_handlers();
        // SAFETY: forwarded from our caller.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Relaxed: the flag is set before the run starts and read by whoever frees.
        if !ENABLED.load(Ordering::Relaxed) || layout.size() > LARGEST_QUARANTINED {
            // SAFETY: forwarded from our caller.
            unsafe { System.dealloc(ptr, layout) };
            return;
        }
        // SAFETY: the caller owned the `layout.size()` bytes at `ptr` and gives them up to us.
        unsafe { ptr.write_bytes(FREED_BYTE, layout.size()) };
        POISONED_FREES.fetch_add(1, Ordering::Relaxed);
        let block = Held { ptr, size: layout.size(), align: layout.align() };
        loop {
            // Release the evicted block outside the lock: checking it reads the whole block.
            let evicted = quarantine().admit_or_evict(block);
            match evicted {
                Ok(()) => return,
                // SAFETY: the block left the quarantine, which got it from this function.
                Err(oldest) => unsafe { release(oldest) },
            }
        }
    }
}

/// What the allocator saw so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocCounters {
    /// Frees that were poisoned and quarantined.
    pub poisoned_frees: u64,
    /// Quarantined blocks that someone wrote into after they were freed.
    pub writes_after_free: u64,
}

/// Reads the counters.
pub fn counters() -> AllocCounters {
    AllocCounters {
        poisoned_frees: POISONED_FREES.load(Ordering::Relaxed),
        writes_after_free: WRITES_AFTER_FREE.load(Ordering::Relaxed),
    }
}

/// Frees every quarantined block now, checking each for writes after free.
pub fn flush() {
    loop {
        let oldest = quarantine().pop_oldest();
        match oldest {
            // SAFETY: the block left the quarantine, which got it from `dealloc`.
            Some(block) => unsafe { release(block) },
            None => return,
        }
    }
}

/// Turns the quarantine off when `RCU_TORTURE_QUARANTINE` is `off` or `0` (for AddressSanitizer
/// runs), and says whether it is on. Call it before the run, outside the allocator.
pub fn configure_from_env() -> bool {
    let off = std::env::var("RCU_TORTURE_QUARANTINE").is_ok_and(|v| v == "off" || v == "0");
    if off {
        ENABLED.store(false, Ordering::Relaxed);
        flush();
    }
    !off
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;

    use super::*;
    use crate::child::{Outcome, in_child};
    use crate::liveness::{HANG, join_within};

    /// The fork handlers at work: without them, a child forked while another thread holds the
    /// quarantine's lock (freeing) would wait for it for good at its first free.
    #[test]
    fn a_child_forked_while_other_threads_free_can_free() {
        let before = counters();
        let stop = Arc::new(AtomicBool::new(false));
        let churners: Vec<_> = (0..2)
            .map(|_| {
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    // Relaxed: a stop flag.
                    while !stop.load(Ordering::Relaxed) {
                        let boxes: Vec<Box<u64>> = (0..64).map(Box::new).collect();
                        drop(boxes);
                    }
                })
            })
            .collect();
        for round in 0..20 {
            // SAFETY: the child only allocates and frees through this allocator, whose fork
            // handlers are what is under test, and the C library's `malloc`, which is fork-safe.
            let outcome = unsafe {
                in_child(HANG, |_| {
                    let boxes: Vec<Box<u64>> = (0..1000).map(Box::new).collect();
                    drop(boxes);
                    flush();
                    Ok(())
                })
            };
            assert_eq!(outcome, Outcome::Passed, "fork {round}");
        }
        stop.store(true, Ordering::Relaxed);
        for churner in churners {
            join_within(churner, HANG, "a freeing thread");
        }
        assert!(counters().poisoned_frees > before.poisoned_frees, "the allocator under test is installed");
    }
}
