//! RCU field projection: per-field metadata ([`HasField`]), the [`RcuProtected`] trait that
//! `#[derive(RcuProtected)]` implements, what the updater's projection gives for an `#[rcu]`
//! field ([`RcuMut`]), the writer lock whose readers need no lock ([`RcuMutex`]), and the hidden
//! support the derive expands to (`private`).

mod field;
mod mutex;
pub mod private;
mod protected;
mod rcu_mut;

pub use field::{Field, HasField, HasPinnedField};
pub use mutex::{RcuMutex, RcuMutexGuard};
pub use protected::{PinnedDrop, RcuProtected};
pub use rcu_mut::RcuMut;
