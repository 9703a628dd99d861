//! The asymmetric fence pair that makes the read side cheap.
//!
//! Readers order their counter update against the accesses of their critical section with a
//! *light* fence; the grace-period code issues the matching *heavy* fence. With
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` the heavy fence makes every running thread of
//! the process execute a full memory barrier, so the light fence only has to stop the compiler
//! from reordering. Without membarrier (an old kernel, a seccomp filter) both sides use full
//! `SeqCst` fences. The choice is made once, before the first reader registers, and never changes
//! while a reader could be inside a critical section. Readers do not read it from here: the
//! domain's grace-period counter carries it (see `reader::FENCES_BIT`), and each reader passes it
//! to [`light_fence`].
//!
//! Under loom both fences are `fence(SeqCst)`: loom does not know membarrier, and a pair of
//! `SeqCst` fences gives exactly the ordering that membarrier provides to the pair.

use core::sync::atomic::{AtomicU8, Ordering};

use super::config::BarrierMode;

const UNDECIDED: u8 = 0;
const MEMBARRIER: u8 = 1;
const FENCES: u8 = 2;

/// Which barrier flavour is in use. Written once by [`init`] (and again by the fork child
/// handler, when only one thread exists), read on every read-side entry and exit.
static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);

#[cfg(not(loom))]
mod sys {
    // Values from <linux/membarrier.h>; libc does not export them on every target.
    pub(super) const CMD_QUERY: libc::c_int = 0;
    pub(super) const CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    pub(super) const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    /// Issues the membarrier system call.
    pub(super) fn membarrier(cmd: libc::c_int) -> libc::c_long {
        // SAFETY: membarrier takes two integers and a CPU id that is ignored without
        // MEMBARRIER_CMD_FLAG_CPU; it touches no memory of ours.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_uint, 0 as libc::c_int) }
    }

    /// Registers the process for private expedited membarrier; true on success.
    pub(super) fn register() -> bool {
        let supported = membarrier(CMD_QUERY);
        supported >= 0
            && (supported & libc::c_long::from(CMD_PRIVATE_EXPEDITED)) != 0
            && membarrier(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }
}

/// Chooses the barrier flavour, once. `forced_fences` comes from the configuration.
pub(crate) fn init(forced_fences: bool) {
    if MODE.load(Ordering::Acquire) != UNDECIDED {
        return;
    }
    #[cfg(not(loom))]
    let mode = if !forced_fences && sys::register() { MEMBARRIER } else { FENCES };
    #[cfg(loom)]
    let mode = {
        let _ = forced_fences;
        FENCES
    };
    // Release/Acquire only publish the decision itself; the registration that precedes it is a
    // system call, which the kernel orders for us.
    let _ = MODE.compare_exchange(UNDECIDED, mode, Ordering::Release, Ordering::Acquire);
}

/// The flavour chosen by [`init`], if it has run.
pub(crate) fn mode() -> Option<BarrierMode> {
    match MODE.load(Ordering::Acquire) {
        MEMBARRIER => Some(BarrierMode::Membarrier),
        FENCES => Some(BarrierMode::Fences),
        _ => None,
    }
}

/// In a forked child: membarrier registration belongs to the parent's address space, so register
/// again, or fall back to fences. Only the forking thread exists, so the switch is safe. Returns
/// whether it fell back (the readers' copy of the flavour must then change too).
#[cfg(not(loom))]
#[must_use]
pub(crate) fn reinit_after_fork() -> bool {
    let fall_back = MODE.load(Ordering::Relaxed) == MEMBARRIER && !sys::register();
    if fall_back {
        MODE.store(FENCES, Ordering::Relaxed);
    }
    fall_back
}

/// The reader's half of the fence pair: a full fence if `full` (the fallback flavour), else
/// only a compiler fence.
///
/// Pairs with [`heavy_fence`] in the grace-period code: together they act as a full barrier
/// between the reader's counter update and the accesses of its critical section.
#[inline(always)]
pub(crate) fn light_fence(full: bool) {
    #[cfg(loom)]
    {
        let _ = full;
        super::sync::fence(Ordering::SeqCst);
    }
    #[cfg(not(loom))]
    if full {
        full_fence();
    } else {
        // The heavy side's membarrier supplies the hardware barrier; we only stop the compiler.
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
    }
}

/// The fallback flavour's reader fence, out of line so that the membarrier flavour's section
/// falls straight through.
#[cfg(not(loom))]
#[cold]
#[inline(never)]
fn full_fence() {
    // Pairs with the SeqCst fence in `heavy_fence`.
    core::sync::atomic::fence(Ordering::SeqCst);
}

/// The reader's fences around its final counter store: [`light_fence`] before and after `store`.
#[inline(always)]
pub(crate) fn light_fenced(full: bool, store: impl FnOnce()) {
    light_fence(full);
    store();
    light_fence(full);
}

/// The grace-period side of the fence pair: a full barrier on every thread of the process.
///
/// Pairs with every [`light_fence`] executed by readers.
pub(crate) fn heavy_fence() {
    #[cfg(loom)]
    super::sync::fence(Ordering::SeqCst);
    #[cfg(not(loom))]
    {
        if MODE.load(Ordering::Relaxed) == MEMBARRIER {
            if sys::membarrier(sys::CMD_PRIVATE_EXPEDITED) == 0 {
                return;
            }
            // Registration can only be missing if something unregistered the address space
            // (it cannot be undone by us); registering again is the one remedy.
            assert!(
                sys::register() && sys::membarrier(sys::CMD_PRIVATE_EXPEDITED) == 0,
                "rcu-runtime: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after it had \
                 been registered; readers rely on it, so grace periods cannot proceed safely"
            );
        } else {
            // Pairs with the SeqCst fences in `light_fence`.
            core::sync::atomic::fence(Ordering::SeqCst);
        }
    }
}
