//! The derive's expansion raises no warning in a crate that forbids `unsafe` code and denies
//! warnings and the common allow-by-default lints (docs, `Debug`, qualifications, lifetimes in
//! paths, outlives requirements, casts, unused results, unnameable types, single-use and unused
//! lifetimes), nor when the struct's own name needs `allow(non_camel_case_types)`: users with
//! strict lint settings can use it.

#![forbid(unsafe_code)]
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    missing_copy_implementations,
    unused_qualifications,
    elided_lifetimes_in_paths,
    explicit_outlives_requirements,
    trivial_casts,
    unused_results,
    unnameable_types,
    variant_size_differences,
    single_use_lifetimes,
    unused_lifetimes
)]

/// Types a library would export.
mod api {
    use rcu_runtime::{Rcu, RcuHead, RcuProtected};

    /// A configuration that readers follow without a lock.
    #[derive(RcuProtected, Debug)]
    pub struct Config<T: Send + Sync + 'static> {
        /// What readers follow.
        #[rcu]
        pub routes: Rcu<Box<T>>,
        /// Written by the updater only.
        pub reloads: u64,
        /// Pinned but not published.
        #[pin]
        pub generation: u64,
        /// Lets a boxed `Config` be freed through `call_rcu`.
        #[rcu_head]
        pub head: RcuHead,
    }

    /// A struct with a lifetime, used once in the struct and many times in the expansion.
    #[derive(RcuProtected, Debug)]
    pub struct Labelled<'a> {
        /// What readers follow.
        #[rcu]
        pub routes: Rcu<Box<u32>>,
        /// Borrowed from the caller.
        pub label: &'a str,
    }

    /// A tuple struct.
    #[derive(RcuProtected, Debug)]
    pub struct Pair(#[rcu] pub Rcu<Box<u8>>, pub u8);

    /// A lower-case name, allowed on the struct: the types named after it must not warn.
    #[allow(non_camel_case_types)]
    #[derive(RcuProtected, Debug)]
    pub struct settings {
        /// What readers follow.
        #[rcu]
        pub current: Rcu<Box<u8>>,
    }
}

fn main() {
    use rcu_runtime::{Rcu, RcuHead, RcuMutex, read_lock};

    let config = RcuMutex::new(api::Config {
        routes: Rcu::new(Box::new(5_u32)),
        reloads: 0,
        generation: 0,
        head: RcuHead::new(),
    });
    assert_eq!(config.rcu().routes().dereference(&read_lock()).copied(), Some(5));
    let labelled = RcuMutex::new(api::Labelled { routes: Rcu::null(), label: "x" });
    assert_eq!(labelled.lock().label, "x");
    let pair = RcuMutex::new(api::Pair(Rcu::null(), 1));
    assert_eq!(pair.lock().1, 1);
    let settings = RcuMutex::new(api::settings { current: Rcu::new(Box::new(2_u8)) });
    assert_eq!(settings.rcu().current().dereference(&read_lock()).copied(), Some(2));
}
