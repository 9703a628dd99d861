//! The object that every system publishes, reads and retires: one type, the same size (32 bytes)
//! and the same work on allocation and on free for all of them, including the C shim's
//! `struct payload`.

use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};

use rcu_runtime::{Field, HasField, HasRcuHead, RcuHead};

/// A counter on a cache line of its own, so that the allocating and the freeing thread do not
/// also fight over the line of the other counter.
#[repr(align(128))]
struct Counter(AtomicU64);

/// Payloads created so far, and payloads dropped so far.
static CREATED: Counter = Counter(AtomicU64::new(0));
static DROPPED: Counter = Counter(AtomicU64::new(0));

/// What readers read: a value, a check word derived from it, and the head that `call_rcu` uses.
///
/// The head is unused by the systems that do not free through `call_rcu`; it is there so that
/// every system allocates and frees objects of the same size.
#[repr(C)]
pub(crate) struct Payload {
    /// What a reader reads.
    pub(crate) value: u64,
    /// `!value`: a reader that met a freed or torn payload would see it differ (debug builds check).
    check: u64,
    head: RcuHead,
}

impl Payload {
    /// A payload holding `value`, counted as created.
    pub(crate) fn new(value: u64) -> Self {
        // Relaxed: a statistic; `live` orders it against the drops (see there).
        CREATED.0.fetch_add(1, Ordering::Relaxed);
        Self { value, check: !value, head: RcuHead::new() }
    }

    /// A boxed payload holding `value`.
    pub(crate) fn boxed(value: u64) -> Box<Self> {
        Box::new(Self::new(value))
    }

    /// The value, checking in debug builds that the payload is intact.
    #[inline(always)]
    pub(crate) fn read(&self) -> u64 {
        debug_assert_eq!(self.check, !self.value, "read a freed or torn payload");
        self.value
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        debug_assert_eq!(self.check, !self.value, "dropped a payload twice");
        // Release: pairs with the Acquire load in `live`, which then also sees this payload's
        // creation.
        DROPPED.0.fetch_add(1, Ordering::Release);
    }
}

/// Payloads created and not yet dropped, by the Rust systems (the C shim counts its own).
pub(crate) fn live() -> u64 {
    // Drops first: each drop counted here is of a payload whose creation is then visible too,
    // so the difference cannot go below zero.
    let dropped = DROPPED.0.load(Ordering::Acquire);
    CREATED.0.load(Ordering::Relaxed).saturating_sub(dropped)
}

// SAFETY: `Type` is the type of `Payload::head` and `OFFSET` its offset, both read from the field.
unsafe impl HasField<Field<2>> for Payload {
    type Type = RcuHead;
    const OFFSET: usize = offset_of!(Payload, head);
}

// SAFETY: both methods go through the `HasField` impl of the `head` field, which is a real field
// of `Payload` at that offset; `raw_get_field` keeps the provenance and `field_container_of` is
// its inverse.
unsafe impl HasRcuHead for Payload {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        <Self as HasField<Field<2>>>::raw_get_field(this)
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        // SAFETY: forwarded from the caller: `head` came from `raw_get_rcu_head` of a live value.
        unsafe { <Self as HasField<Field<2>>>::field_container_of(head) }
    }
}

const _: () = assert!(size_of::<Payload>() == 32, "the C shim's `struct payload` is 32 bytes");
