//! The process-wide RCU engine: reader registration and the read-side protocol, grace periods,
//! the callback queue and its worker thread, membarrier, and what `fork()` needs.
//!
//! The engine imports nothing from the layers above it. The typed layer (guards, `Rcu`,
//! `RcuOld`, `RcuBox`, projection, collections) reaches it through the entry points re-exported
//! here and nothing else:
//!
//! | entry point | what for |
//! |---|---|
//! | [`enter`], [`exit`] | a read-side critical section (`read_lock`, `Guard::drop`) |
//! | [`is_reading`], [`assert_may_wait`] | "am I inside a section", and the panic that replaces a deadlock |
//! | [`QsbrRegistration`] | a thread's QSBR reader |
//! | [`synchronize`], [`start_poll`], [`poll`], [`wait_for`] | grace periods, blocking or polled |
//! | [`get_state`], [`poll_async`], [`cancel_async`] | the grace-period cookie of an unpublication, and waiting for one from a task |
//! | [`call_rcu`], [`defer`], [`barrier`] | callbacks after a grace period, and waiting for them |
//! | [`retire`] | reclaim an unpublished pointer with the engine's policy (see there) |
//! | [`publish::update`] | the lock-free compare-and-exchange update of a pointer several updaters share |
//! | [`FirstPanic`] | drops that must all run although some panic (a collection's nodes) |
//! | [`config`], [`counters`] | tunables and statistics |

mod callbacks;
pub mod config;
#[cfg(not(loom))]
mod deferred;
#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
mod domain;
#[cfg(not(loom))]
mod fork;
#[cfg(not(loom))]
mod global;
mod gp;
pub(crate) mod head;
#[cfg(not(loom))]
mod lineage;
mod membarrier;
mod panic;
#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
pub(crate) mod publish;
#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
mod reader;
pub(crate) mod sync;
#[cfg(not(loom))]
mod thread;
mod waker;
#[cfg(not(loom))]
mod worker;

#[cfg(not(loom))]
pub(crate) use deferred::defer;
#[cfg(not(loom))]
pub(crate) use global::*;
#[cfg(not(loom))]
pub(crate) use panic::FirstPanic;
#[cfg(not(loom))]
pub(crate) use thread::{QsbrRegistration, enter, exit, is_reading};

/// The engine's internals, for the loom models in `tests/loom.rs`: loom cannot model the
/// process-wide engine (a static, thread-locals and a worker thread), so the models drive a
/// fresh [`Domain`] per execution through the same methods the global one runs.
#[cfg(loom)]
pub mod loom_api {
    pub use super::domain::Domain;
    pub use super::publish::update as publish_update;
    pub use super::reader::ReaderNode;
}
