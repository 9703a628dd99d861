//! `Send`/`Sync` of a type at run time, for tests that check a table of auto-trait facts: the
//! [`probe!`](crate::probe!) macro.
//!
//! Method resolution does it: [`Probe<T>`] has an inherent `is_send` only when `T: Send` (and
//! `is_sync` only when `T: Sync`); when the bound does not hold, the inherent method is skipped
//! in favour of the [`Fallback`] trait's, which says `false`. The compile-fail cases in
//! `ui-tests/` prove the "not Send/Sync" facts at compile time; this gives the same facts as
//! values, so that one test can list them all.

use core::marker::PhantomData;

/// The probe for type `T`; see the [module docs](self).
pub struct Probe<T: ?Sized>(pub PhantomData<T>);

/// What [`Probe`] answers when `T` is not `Send` (or not `Sync`).
pub trait Fallback {
    /// `false`: the inherent `Probe::is_send` did not apply.
    fn is_send(&self) -> bool {
        false
    }

    /// `false`: the inherent `Probe::is_sync` did not apply.
    fn is_sync(&self) -> bool {
        false
    }
}

impl<T: ?Sized> Fallback for Probe<T> {}

impl<T: ?Sized + Send> Probe<T> {
    /// `true`: `T` is `Send`.
    pub fn is_send(&self) -> bool {
        true
    }
}

impl<T: ?Sized + Sync> Probe<T> {
    /// `true`: `T` is `Sync`.
    pub fn is_sync(&self) -> bool {
        true
    }
}

/// `(is Send, is Sync)` of a concrete type, e.g. `probe!(Guard) == (false, false)`.
#[macro_export]
macro_rules! probe {
    ($t:ty) => {{
        #[allow(unused_imports, reason = "needed only when a bound does not hold")]
        use $crate::probe::Fallback as _;
        (
            $crate::probe::Probe::<$t>(::core::marker::PhantomData).is_send(),
            $crate::probe::Probe::<$t>(::core::marker::PhantomData).is_sync(),
        )
    }};
}
