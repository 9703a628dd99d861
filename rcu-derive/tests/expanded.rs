//! What `#[derive(RcuProtected)]` emits for one struct, written out with the reasoning that its
//! tokens cannot carry (comments do not survive in a token stream).
//!
//! This is the real expansion, not a sketch: the unit test `expanded_listing_is_the_real_expansion`
//! (`src/expand/listing_tests.rs`) runs the derive on the struct below and compares its output,
//! token for token (doc comments and formatting aside), with the items between `BEGIN EXPANSION`
//! and `END EXPANSION`. The test at the end, run against `rcu-runtime` (a dev-dependency), checks
//! that it behaves as derived. The book's chapter "What the derive generates" includes this file.
//!
//! The input:
//!
//! ```ignore
//! #[derive(RcuProtected)]
//! struct Config {
//!     #[rcu]
//!     routes: Rcu<Box<RouteTable>>,
//!     reloads: u64,
//!     #[rcu_head]
//!     head: RcuHead,
//!     #[rcu_links]
//!     links: RcuLinks,
//! }
//! ```
//!
//! (`links` lets the configurations be kept in an `RcuList`, a history of versions, say: it is
//! there to show what `#[rcu_links]` emits.)

// Lints that rustc does not apply to code a derive emits, but does to this copy of it.
#![allow(dead_code, unreachable_pub)]

use rcu_runtime::{Rcu, RcuHead, RcuLinks, RcuList, RcuMutex, read_lock};

/// What readers look up.
struct RouteTable {
    port: u16,
}

/// The input, without its helper attributes (which only the derive understands).
struct Config {
    routes: Rcu<Box<RouteTable>>,
    reloads: u64,
    head: RcuHead,
    links: RcuLinks,
}

// BEGIN EXPANSION

/// The pinned mutable projection, public (with the struct's visibility) and nameable.
///
/// `#[rcu]` fields become `RcuMut`, never `Pin<&mut Rcu<_>>`: `Pin::set` on the latter would
/// overwrite the `Rcu` in place, a plain write racing with readers of `RcuMutex::rcu`. Plain fields
/// become `&mut`: nothing promised they stay put.
#[allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    single_use_lifetimes,
    clippy::mut_mut,
    clippy::type_repetition_in_bounds,
    explicit_outlives_requirements
)]
struct ConfigProjection<'pin>
where
    Config: 'pin,
{
    routes: ::rcu_runtime::RcuMut<'pin, Rcu<Box<RouteTable>>>,
    reloads: &'pin mut u64,
    head: &'pin mut RcuHead,
    links: &'pin mut RcuLinks,
}

/// The pinned shared projection. `Pin` comes through `::rcu_runtime::__private`, like every
/// item of `core` the expansion names: `::core::pin::Pin` would follow an
/// `extern crate self as core;` in the user's crate.
#[allow(
    dead_code,
    non_camel_case_types,
    non_snake_case,
    single_use_lifetimes,
    clippy::mut_mut,
    clippy::type_repetition_in_bounds,
    explicit_outlives_requirements
)]
struct ConfigProjectionRef<'pin>
where
    Config: 'pin,
{
    routes: ::rcu_runtime::__private::Pin<&'pin Rcu<Box<RouteTable>>>,
    reloads: &'pin u64,
    head: &'pin RcuHead,
    links: &'pin RcuLinks,
}

/// The reader view: a raw view and nothing else, so it reaches no field without `#[rcu]`.
#[allow(non_camel_case_types, single_use_lifetimes, explicit_outlives_requirements)]
struct ConfigView<'view>
where
    Config: 'view,
{
    __raw: ::rcu_runtime::__private::RawView<'view, Config>,
}

// Everything else is in an anonymous const block that declares no named item, only impls: the
// user's tokens copied in here (field types, bounds) must mean what they mean in the struct, and
// a user type named like a helper item would resolve to the helper. The lint allowances are for
// code that is normal in generated form.
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    single_use_lifetimes,
    unused_lifetimes,
    unused_qualifications,
    dyn_drop,
    clippy::used_underscore_binding,
    clippy::needless_lifetimes
)]
const _: () = {
    // SAFETY: every `Config` holds a `Type` at `OFFSET`, aligned:
    // - `Type` is the field's type: the closure takes `&routes` as a `&Type`, which does not
    //   compile otherwise (whatever the type's tokens resolve to in here);
    // - `OFFSET` is measured on the field itself, with native syntax: `&raw const (*base).routes`
    //   lies `offset` bytes after `base`, whatever `base` points to, and `offset_from` gives that
    //   distance. No `offset_of!` behind a path that the user's crate could redirect, and
    //   `u8`/`usize` through `__private` too (a user `struct u8;` would shadow the primitive);
    // - aligned: the closure's reference to the field is a hard error (E0793) if the struct is
    //   `repr(packed)`, even when another macro added the attribute behind the derive's back.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<0>> for Config {
        type Type = Rcu<Box<RouteTable>>;
        const OFFSET: ::rcu_runtime::__private::usize = {
            let _ = |__rcu_derive_this: &Self| {
                let _: &<Self as ::rcu_runtime::HasField<::rcu_runtime::Field<0>>>::Type =
                    &__rcu_derive_this.routes;
            };
            let __rcu_derive_value = ::rcu_runtime::__private::MaybeUninit::<Self>::uninit();
            let __rcu_derive_base: *const Self = __rcu_derive_value.as_ptr();
            // SAFETY: `base` points to a `MaybeUninit<Config>` local, so the field's place is
            // inside a live allocation; `&raw const` reads nothing and asserts no initialization.
            let __rcu_derive_field: *const <Self as ::rcu_runtime::HasField<::rcu_runtime::Field<0>>>::Type =
                unsafe { &raw const (*__rcu_derive_base).routes };
            // SAFETY: both pointers are derived from `base`, into the same local, and their
            // distance is a multiple of `u8`.
            unsafe {
                __rcu_derive_field
                    .cast::<::rcu_runtime::__private::u8>()
                    .offset_from(__rcu_derive_base.cast::<::rcu_runtime::__private::u8>())
                    as ::rcu_runtime::__private::usize
            }
        };
    }
    // SAFETY: as for `Field<0>`.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<1>> for Config {
        type Type = u64;
        const OFFSET: ::rcu_runtime::__private::usize = {
            let _ = |__rcu_derive_this: &Self| {
                let _: &<Self as ::rcu_runtime::HasField<::rcu_runtime::Field<1>>>::Type =
                    &__rcu_derive_this.reloads;
            };
            let __rcu_derive_value = ::rcu_runtime::__private::MaybeUninit::<Self>::uninit();
            let __rcu_derive_base: *const Self = __rcu_derive_value.as_ptr();
            // SAFETY: as for `Field<0>`.
            let __rcu_derive_field: *const <Self as ::rcu_runtime::HasField<::rcu_runtime::Field<1>>>::Type =
                unsafe { &raw const (*__rcu_derive_base).reloads };
            // SAFETY: as for `Field<0>`.
            unsafe {
                __rcu_derive_field
                    .cast::<::rcu_runtime::__private::u8>()
                    .offset_from(__rcu_derive_base.cast::<::rcu_runtime::__private::u8>())
                    as ::rcu_runtime::__private::usize
            }
        };
    }
    // SAFETY: as for `Field<0>`.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<2>> for Config {
        type Type = RcuHead;
        const OFFSET: ::rcu_runtime::__private::usize = {
            let _ = |__rcu_derive_this: &Self| {
                let _: &<Self as ::rcu_runtime::HasField<::rcu_runtime::Field<2>>>::Type =
                    &__rcu_derive_this.head;
            };
            let __rcu_derive_value = ::rcu_runtime::__private::MaybeUninit::<Self>::uninit();
            let __rcu_derive_base: *const Self = __rcu_derive_value.as_ptr();
            // SAFETY: as for `Field<0>`.
            let __rcu_derive_field: *const <Self as ::rcu_runtime::HasField<::rcu_runtime::Field<2>>>::Type =
                unsafe { &raw const (*__rcu_derive_base).head };
            // SAFETY: as for `Field<0>`.
            unsafe {
                __rcu_derive_field
                    .cast::<::rcu_runtime::__private::u8>()
                    .offset_from(__rcu_derive_base.cast::<::rcu_runtime::__private::u8>())
                    as ::rcu_runtime::__private::usize
            }
        };
    }

    // SAFETY: as for `Field<0>`.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<3>> for Config {
        type Type = RcuLinks;
        const OFFSET: ::rcu_runtime::__private::usize = {
            let _ = |__rcu_derive_this: &Self| {
                let _: &<Self as ::rcu_runtime::HasField<::rcu_runtime::Field<3>>>::Type =
                    &__rcu_derive_this.links;
            };
            let __rcu_derive_value = ::rcu_runtime::__private::MaybeUninit::<Self>::uninit();
            let __rcu_derive_base: *const Self = __rcu_derive_value.as_ptr();
            // SAFETY: as for `Field<0>`.
            let __rcu_derive_field: *const <Self as ::rcu_runtime::HasField<::rcu_runtime::Field<3>>>::Type =
                unsafe { &raw const (*__rcu_derive_base).links };
            // SAFETY: as for `Field<0>`.
            unsafe {
                __rcu_derive_field
                    .cast::<::rcu_runtime::__private::u8>()
                    .offset_from(__rcu_derive_base.cast::<::rcu_runtime::__private::u8>())
                    as ::rcu_runtime::__private::usize
            }
        };
    }

    // SAFETY: `routes` is structurally pinned, which the compiler proves:
    // - the projections below hand it out only as `RcuMut` or `Pin<&_>`, never as `&mut`;
    // - `Config: Unpin` only when every pinned field is `Unpin` (the tuple in the `Unpin` impl),
    //   and a user `impl Unpin` would conflict with that impl;
    // - `Config` has no `Drop` that could move the field: a user `impl Drop` conflicts with the
    //   impl of `UseRcuProtectedPinnedDropInsteadOfDrop`;
    // - `Config` is not `repr(packed)` (the references in the `HasField` impls).
    // That `Unpin`, `Drop` and `RcuMut` are the real ones is checked in `view` below.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasPinnedField<::rcu_runtime::Field<0>> for Config {}

    // SAFETY: the field is structurally pinned (above), and the only mutable access this expansion
    // gives to it is `RcuMut`, which publishes through the `Rcu`'s atomic pointer and never
    // overwrites it. That it is an `Rcu<P>` is the trait's own business: its supertrait
    // `HasField<F, Type: IsRcu>` fails to hold otherwise, with the `#[rcu]` error message at the
    // field's type (the derive spans this impl's trait there).
    #[automatically_derived]
    unsafe impl ::rcu_runtime::__private::RcuField<::rcu_runtime::Field<0>> for Config {}

    // SAFETY: both methods go through `RcuHead::__field`, an inherent item of `RcuHead`. This is
    // the runtime's real `RcuHead` (the same path is in the methods' signatures, which the
    // compiler checks against `HasRcuHead`'s), so the call cannot be redirected; it compiles only
    // if field 2 is an `RcuHead` (with the `#[rcu_head]` error message at its type otherwise), and
    // its token projects with that field's `HasField` impl, both ways. No cast in sight.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasRcuHead for Config {
        #[inline]
        fn raw_get_rcu_head(__rcu_derive_this: *mut Self) -> *mut ::rcu_runtime::RcuHead {
            ::rcu_runtime::RcuHead::__field::<Self, ::rcu_runtime::Field<2>>().raw_get(__rcu_derive_this)
        }
        #[inline]
        unsafe fn rcu_head_container_of(__rcu_derive_head: *mut ::rcu_runtime::RcuHead) -> *mut Self {
            // SAFETY: the caller passes a head returned by `raw_get_rcu_head`, that is by
            // `raw_get`, for a live value, which is `container_of`'s contract.
            unsafe {
                ::rcu_runtime::RcuHead::__field::<Self, ::rcu_runtime::Field<2>>()
                    .container_of(__rcu_derive_head)
            }
        }
    }

    // SAFETY: `HasRcuLinks`' contract (the same field on every call, `container_of` its inverse),
    // argued as for `HasRcuHead` above: both methods go through `RcuLinks::__field`, an inherent
    // item of `RcuLinks`, the runtime's real one (its path is in the methods' signatures, which
    // the compiler checks against `HasRcuLinks`'s); it compiles only if field 3 is an `RcuLinks`
    // (the sealed `IsRcuLinks` bound, with the `#[rcu_links]` error message at the field's type
    // otherwise), and its token projects with that field's `HasField` impl, both ways. The list
    // never hands out `&mut Config` for a node it holds, so the `&mut RcuLinks` of the
    // projections never reaches links that are in a list.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasRcuLinks for Config {
        #[inline]
        fn raw_get_rcu_links(__rcu_derive_this: *mut Self) -> *mut ::rcu_runtime::RcuLinks {
            ::rcu_runtime::RcuLinks::__field::<Self, ::rcu_runtime::Field<3>>().raw_get(__rcu_derive_this)
        }
        #[inline]
        unsafe fn rcu_links_container_of(__rcu_derive_links: *mut ::rcu_runtime::RcuLinks) -> *mut Self {
            // SAFETY: the caller passes links returned by `raw_get_rcu_links`, that is by
            // `raw_get`, for a live value, which is `container_of`'s contract.
            unsafe {
                ::rcu_runtime::RcuLinks::__field::<Self, ::rcu_runtime::Field<3>>()
                    .container_of(__rcu_derive_links)
            }
        }
    }

    // The inherent projections, pin-project style: usable on any `Pin<&mut Config>`.
    impl Config {
        #[inline]
        fn project<'pin>(self: ::rcu_runtime::__private::Pin<&'pin mut Self>) -> ConfigProjection<'pin> {
            // SAFETY:
            // - the `&mut Self` is used only to borrow the fields one by one, never to move
            //   `Self` or a pinned field out;
            // - `routes` is structurally pinned (see `HasPinnedField`): `Self` is pinned, so the
            //   field stays put until it is dropped, and `RcuMut` adds that it is not overwritten
            //   in place while readers may hold `&Rcu`.
            // `__private::Pin` is `core`'s `Pin`: as the type of `self` nothing else compiles
            // (E0307), so `get_unchecked_mut` and `new_unchecked` are the real ones.
            unsafe {
                let __rcu_derive_this = ::rcu_runtime::__private::Pin::get_unchecked_mut(self);
                ConfigProjection {
                    routes: ::rcu_runtime::RcuMut::new(::rcu_runtime::__private::Pin::new_unchecked(
                        &mut __rcu_derive_this.routes,
                    )),
                    reloads: &mut __rcu_derive_this.reloads,
                    head: &mut __rcu_derive_this.head,
                    links: &mut __rcu_derive_this.links,
                }
            }
        }
        #[inline]
        fn project_ref<'pin>(self: ::rcu_runtime::__private::Pin<&'pin Self>) -> ConfigProjectionRef<'pin> {
            let __rcu_derive_this = ::rcu_runtime::__private::Pin::get_ref(self);
            // SAFETY: `routes` is structurally pinned and `Self` is pinned, so a shared
            // reference to it may be pinned too.
            unsafe {
                ConfigProjectionRef {
                    routes: ::rcu_runtime::__private::Pin::new_unchecked(&__rcu_derive_this.routes),
                    reloads: &__rcu_derive_this.reloads,
                    head: &__rcu_derive_this.head,
                    links: &__rcu_derive_this.links,
                }
            }
        }
    }

    #[automatically_derived]
    impl<'view> ::rcu_runtime::__private::Clone for ConfigView<'view>
    where
        Config: 'view,
    {
        #[inline]
        fn clone(&self) -> Self {
            *self
        }
    }
    #[automatically_derived]
    impl<'view> ::rcu_runtime::__private::Copy for ConfigView<'view> where Config: 'view {}

    // One method per `#[rcu]` field, each a raw-pointer projection: no `&Config` is ever made
    // (the updater may hold `Pin<&mut Config>` meanwhile). See `RawView::rcu_field`, which is
    // called as a method of the `RawView` value, so it is the runtime's (the value's type is fixed
    // by `RcuProtected::view`'s signature) and it admits only `RcuField`s, that is `Rcu`s. The
    // methods are named after the fields, where `non_snake_case` (or the user's `allow` of it)
    // already applies.
    #[allow(non_snake_case)]
    impl<'view> ConfigView<'view>
    where
        Config: 'view,
    {
        #[inline]
        #[must_use]
        fn routes(&self) -> &'view Rcu<Box<RouteTable>> {
            self.__raw.rcu_field::<::rcu_runtime::Field<0>>()
        }
    }

    // SAFETY: the contract of `RcuProtected`:
    // - `project` and `project_ref` are the inherent methods above, which hand out `routes` only
    //   as `RcuMut` or `Pin<&_>`: safe code can publish through it but never move or overwrite it;
    // - the view reaches only `routes` (the one `RcuField` impl);
    // - `ReaderFields` is the tuple of the `#[rcu]` fields' types, so it is `Sync` exactly when
    //   `Rcu<Box<RouteTable>>` is (named as `HasField::Type`, which the `HasField` impl checks
    //   against the field; unlike the field's own tokens, it is no E0446 for a `pub` struct);
    // - `Config` is `!Unpin`: `Rcu` is, and the `Unpin` impl below requires it not to be.
    // Those rest on impls written with paths through `::rcu_runtime`, which the user's crate could
    // redirect (`crate = ..`, or `extern crate self as rcu_runtime`). `check_paths` is a method of
    // the `RawView` that the trait's signature passes in, so it is the runtime's own, and it
    // compiles only if `Unpin`, `Drop`, `UseRcuProtectedPinnedDropInsteadOfDrop`, `Pin` and
    // `RcuMut`, as written here, are the runtime's real items.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::RcuProtected for Config {
        type View<'view>
            = ConfigView<'view>
        where
            Self: 'view;
        type Projection<'pin>
            = ConfigProjection<'pin>
        where
            Self: 'pin;
        type ProjectionRef<'pin>
            = ConfigProjectionRef<'pin>
        where
            Self: 'pin;
        type ReaderFields = (<Self as ::rcu_runtime::HasField<::rcu_runtime::Field<0>>>::Type,);
        #[inline]
        fn project(self: ::rcu_runtime::__private::Pin<&mut Self>) -> Self::Projection<'_> {
            Self::project(self)
        }
        #[inline]
        fn project_ref(self: ::rcu_runtime::__private::Pin<&Self>) -> Self::ProjectionRef<'_> {
            Self::project_ref(self)
        }
        #[inline]
        fn view<'view>(
            __rcu_derive_raw: ::rcu_runtime::__private::RawView<'view, Self>,
        ) -> Self::View<'view> {
            __rcu_derive_raw.check_paths::<[fn(
                &dyn ::rcu_runtime::__private::Unpin,
                &dyn ::rcu_runtime::__private::Drop,
                &dyn ::rcu_runtime::__private::UseRcuProtectedPinnedDropInsteadOfDrop,
                ::rcu_runtime::__private::Pin<&mut ()>,
                ::rcu_runtime::RcuMut<'_, ()>,
            ); 0]>();
            ConfigView { __raw: __rcu_derive_raw }
        }
    }

    // `Unpin` only when every pinned field is: a tuple of their types is `Unpin` exactly when
    // they all are. The `PhantomData<&'pin ()>` makes the bound depend on a parameter, so rustc
    // accepts it when it is false (`trivial_bounds` is unstable), as it is here, `Rcu` being
    // `!Unpin`. No named struct: its name would be in scope of the field types.
    #[automatically_derived]
    impl<'pin> ::rcu_runtime::__private::Unpin for Config where
        (::rcu_runtime::__private::PhantomData<&'pin ()>, Rcu<Box<RouteTable>>):
            ::rcu_runtime::__private::Unpin
    {
    }

    // Every `T: Drop` has this trait through a blanket impl in the runtime, so a user
    // `impl Drop for Config` makes this impl conflict; the trait's name says what to do instead.
    #[automatically_derived]
    impl ::rcu_runtime::__private::UseRcuProtectedPinnedDropInsteadOfDrop for Config {}

    // Without the `PinnedDrop` option a user `impl PinnedDrop` would never run: it conflicts
    // with this one instead.
    #[doc(hidden)]
    #[automatically_derived]
    impl ::rcu_runtime::PinnedDrop for Config {
        fn drop(self: ::rcu_runtime::__private::Pin<&mut Self>) {}
    }
};

// END EXPANSION

#[test]
fn the_listing_works_like_the_derive() {
    let cfg = RcuMutex::new(Config {
        routes: Rcu::new(Box::new(RouteTable { port: 80 })),
        reloads: 0,
        head: RcuHead::new(),
        links: RcuLinks::new(),
    });
    assert_eq!(cfg.rcu().routes().dereference(&read_lock()).unwrap().port, 80);
    let mut w = cfg.lock();
    let p = w.project();
    *p.reloads += 1;
    p.routes.replace(Box::new(RouteTable { port: 443 })).unwrap().defer_drop();
    let r = w.project_ref();
    assert_eq!((*r.reloads, r.routes.dereference(&read_lock()).unwrap().port), (1, 443));
    drop(w);
    assert_eq!(cfg.rcu().routes().dereference(&read_lock()).unwrap().port, 443);
}

#[test]
fn the_listed_links_put_configs_in_a_list() {
    let history = RcuList::new();
    for (reloads, port) in [(0, 80), (1, 443)] {
        history.push_back(Box::new(Config {
            routes: Rcu::new(Box::new(RouteTable { port })),
            reloads,
            head: RcuHead::new(),
            links: RcuLinks::new(),
        }));
    }
    let guard = read_lock();
    let ports: Vec<u16> =
        history.iter(&guard).map(|c| c.routes.dereference(&guard).expect("published").port).collect();
    assert_eq!(ports, [80, 443]);
    drop(guard);
    // The derived `HasRcuHead` frees the removed one through its own head.
    history.remove(|c| c.reloads == 0).expect("present").drop_async();
    assert_eq!(history.len(), 1);
}
