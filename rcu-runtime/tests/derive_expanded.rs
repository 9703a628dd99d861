//! What `#[derive(RcuProtected)]` emits for one struct, written out with the reasoning that its
//! tokens cannot carry (comments do not survive in a token stream).
//!
//! This is the real expansion, not a sketch: `rcu-derive`'s unit test
//! `expanded_listing_is_the_real_expansion` runs the derive on the struct below and compares its
//! output, token for token (doc comments and formatting aside), with the items between
//! `BEGIN EXPANSION` and `END EXPANSION`. The tests at the end check that it behaves as derived.
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
//! }
//! ```

// Lints that rustc does not apply to code a derive emits, but does to this copy of it.
#![allow(dead_code, unreachable_pub)]

use rcu_runtime::{Rcu, RcuHead, RcuMutex, read_lock};

/// What readers look up.
struct RouteTable {
    port: u16,
}

/// The input, without its helper attributes (which only the derive understands).
struct Config {
    routes: Rcu<Box<RouteTable>>,
    reloads: u64,
    head: RcuHead,
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
}

/// The pinned shared projection.
#[allow(
    dead_code,
    non_camel_case_types,
    single_use_lifetimes,
    clippy::mut_mut,
    clippy::type_repetition_in_bounds,
    explicit_outlives_requirements
)]
struct ConfigProjectionRef<'pin>
where
    Config: 'pin,
{
    routes: ::core::pin::Pin<&'pin Rcu<Box<RouteTable>>>,
    reloads: &'pin u64,
    head: &'pin RcuHead,
}

/// The reader view: a raw view and nothing else, so it reaches no field without `#[rcu]`.
#[allow(non_camel_case_types, single_use_lifetimes, explicit_outlives_requirements)]
struct ConfigView<'view>
where
    Config: 'view,
{
    __raw: ::rcu_runtime::__private::RawView<'view, Config>,
}

// Everything else is in an anonymous const block: no helper name leaks into the module. The lint
// allowances are for code that is normal in generated form.
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    single_use_lifetimes,
    unused_lifetimes,
    unused_qualifications,
    clippy::used_underscore_binding,
    clippy::needless_lifetimes
)]
const _: () = {
    // SAFETY: `Type` is the field's declared type and `OFFSET` is what `offset_of!` computes for
    // that very field. It is aligned there: the struct is not `repr(packed)` (see
    // `__assert_not_repr_packed`).
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<0>> for Config {
        type Type = Rcu<Box<RouteTable>>;
        const OFFSET: usize = ::core::mem::offset_of!(Self, routes);
    }
    // SAFETY: as for `Field<0>`.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<1>> for Config {
        type Type = u64;
        const OFFSET: usize = ::core::mem::offset_of!(Self, reloads);
    }
    // SAFETY: as for `Field<0>`.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasField<::rcu_runtime::Field<2>> for Config {
        type Type = RcuHead;
        const OFFSET: usize = ::core::mem::offset_of!(Self, head);
    }

    // SAFETY: `routes` is structurally pinned, which the compiler proves:
    // - the projections below hand it out only as `RcuMut` or `Pin<&_>`, never as `&mut`;
    // - `Config: Unpin` only when every pinned field is `Unpin` (`__RcuPinnedFields`), and a
    //   user `impl Unpin` would conflict with that impl;
    // - `Config` has no `Drop` that could move the field: a user `impl Drop` conflicts with
    //   `ConfigMustNotImplDrop`;
    // - `Config` is not `repr(packed)` (`__assert_not_repr_packed`).
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasPinnedField<::rcu_runtime::Field<0>> for Config {}

    // SAFETY: the field is an `Rcu<P>` (`__assert_field_types` does not compile otherwise), it is
    // structurally pinned (above), and the only mutable access this expansion gives to it is
    // `RcuMut`, which publishes through the `Rcu`'s atomic pointer and never overwrites it.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::__private::RcuField<::rcu_runtime::Field<0>> for Config {}

    // SAFETY: both methods go through `HasField<Field<2>>`, the `#[rcu_head]` field, whose type
    // is `RcuHead` (`__assert_field_types` does not compile otherwise), so the casts change
    // nothing: `raw_get_rcu_head` offsets `this` to the head keeping its provenance, and
    // `rcu_head_container_of` is its inverse.
    #[automatically_derived]
    unsafe impl ::rcu_runtime::HasRcuHead for Config {
        #[inline]
        fn raw_get_rcu_head(__rcu_derive_this: *mut Self) -> *mut ::rcu_runtime::RcuHead {
            <Self as ::rcu_runtime::HasField<::rcu_runtime::Field<2>>>::raw_get_field(__rcu_derive_this)
                .cast::<::rcu_runtime::RcuHead>()
        }
        #[inline]
        unsafe fn rcu_head_container_of(__rcu_derive_head: *mut ::rcu_runtime::RcuHead) -> *mut Self {
            // SAFETY: the caller passes a head returned by `raw_get_rcu_head` for a live value,
            // which is exactly `field_container_of`'s contract for `Field<2>`.
            unsafe {
                <Self as ::rcu_runtime::HasField<::rcu_runtime::Field<2>>>::field_container_of(
                    __rcu_derive_head.cast(),
                )
            }
        }
    }

    // The inherent projections, pin-project style: usable on any `Pin<&mut Config>`.
    impl Config {
        #[inline]
        fn project<'pin>(self: ::core::pin::Pin<&'pin mut Self>) -> ConfigProjection<'pin> {
            // SAFETY:
            // - the `&mut Self` is used only to borrow the fields one by one, never to move
            //   `Self` or a pinned field out;
            // - `routes` is structurally pinned (see `HasPinnedField`): `Self` is pinned, so the
            //   field stays put until it is dropped, and `RcuMut` adds that it is not overwritten
            //   in place while readers may hold `&Rcu`.
            unsafe {
                let __rcu_derive_this = ::core::pin::Pin::get_unchecked_mut(self);
                ConfigProjection {
                    routes: ::rcu_runtime::RcuMut::new(::core::pin::Pin::new_unchecked(
                        &mut __rcu_derive_this.routes,
                    )),
                    reloads: &mut __rcu_derive_this.reloads,
                    head: &mut __rcu_derive_this.head,
                }
            }
        }
        #[inline]
        fn project_ref<'pin>(self: ::core::pin::Pin<&'pin Self>) -> ConfigProjectionRef<'pin> {
            let __rcu_derive_this = ::core::pin::Pin::get_ref(self);
            // SAFETY: `routes` is structurally pinned and `Self` is pinned, so a shared
            // reference to it may be pinned too.
            unsafe {
                ConfigProjectionRef {
                    routes: ::core::pin::Pin::new_unchecked(&__rcu_derive_this.routes),
                    reloads: &__rcu_derive_this.reloads,
                    head: &__rcu_derive_this.head,
                }
            }
        }
    }

    #[automatically_derived]
    impl<'view> ::core::clone::Clone for ConfigView<'view>
    where
        Config: 'view,
    {
        #[inline]
        fn clone(&self) -> Self {
            *self
        }
    }
    #[automatically_derived]
    impl<'view> ::core::marker::Copy for ConfigView<'view> where Config: 'view {}

    // One method per `#[rcu]` field, each a raw-pointer projection: no `&Config` is ever made
    // (the updater may hold `Pin<&mut Config>` meanwhile). See `RawView::rcu_field`.
    impl<'view> ConfigView<'view>
    where
        Config: 'view,
    {
        #[inline]
        #[must_use]
        fn routes(&self) -> &'view Rcu<Box<RouteTable>> {
            ::rcu_runtime::__private::RawView::rcu_field::<::rcu_runtime::Field<0>>(self.__raw)
        }
    }

    // The types of the `#[rcu]` fields, plus a marker that is `Send + Sync` whatever the
    // generics are: `Sync` exactly when readers on several threads may share those fields.
    // Declared `pub` (but unnameable in here) so that naming it in `RcuProtected` is no E0446.
    #[doc(hidden)]
    #[allow(dead_code)]
    pub struct __RcuReaderFields {
        __generics: ::rcu_runtime::__private::PhantomGenerics<'static, ()>,
        __field0: Rcu<Box<RouteTable>>,
    }

    // SAFETY: the contract of `RcuProtected`:
    // - `project` and `project_ref` are the inherent methods above, which hand out `routes` only
    //   as `RcuMut` or `Pin<&_>`: safe code can publish through it but never move or overwrite it;
    // - the view reaches only `routes` (the one `RcuField` impl);
    // - `ReaderFields` is `Sync` exactly when `Rcu<Box<RouteTable>>` is;
    // - `Config` is `!Unpin`: `Rcu` is, and the `Unpin` impl below requires it not to be.
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
        type ReaderFields = __RcuReaderFields;
        #[inline]
        fn project(self: ::core::pin::Pin<&mut Self>) -> Self::Projection<'_> {
            Self::project(self)
        }
        #[inline]
        fn project_ref(self: ::core::pin::Pin<&Self>) -> Self::ProjectionRef<'_> {
            Self::project_ref(self)
        }
        #[inline]
        fn view<'view>(
            __rcu_derive_raw: ::rcu_runtime::__private::RawView<'view, Self>,
        ) -> Self::View<'view> {
            ConfigView { __raw: __rcu_derive_raw }
        }
    }

    // `Unpin` only when every pinned field is: the hidden struct holds their types. The `'pin`
    // lifetime makes the bound depend on a parameter, so rustc accepts it when it is false
    // (`trivial_bounds` is unstable) — as it is here, `Rcu` being `!Unpin`.
    #[doc(hidden)]
    #[allow(dead_code)]
    pub struct __RcuPinnedFields<'pin> {
        __generics: ::rcu_runtime::__private::PhantomGenerics<'pin, ()>,
        __field0: Rcu<Box<RouteTable>>,
    }
    #[automatically_derived]
    impl<'pin> ::core::marker::Unpin for Config where __RcuPinnedFields<'pin>: ::core::marker::Unpin {}

    // A user `impl Drop for Config` makes the blanket impl apply to `Config` too, which then
    // conflicts with the second impl (use `#[rcu_protected(PinnedDrop)]` instead).
    trait ConfigMustNotImplDrop {}
    #[allow(drop_bounds)]
    impl<T: ::core::ops::Drop + ?::core::marker::Sized> ConfigMustNotImplDrop for T {}
    impl ConfigMustNotImplDrop for Config {}

    // Without the `PinnedDrop` option a user `impl PinnedDrop` would never run: it conflicts
    // with this one instead.
    #[doc(hidden)]
    #[automatically_derived]
    impl ::rcu_runtime::PinnedDrop for Config {
        fn drop(self: ::core::pin::Pin<&mut Self>) {}
    }

    // A reference to a field of a `repr(packed)` struct is a hard error (E0793): this stops
    // compiling if another macro adds `#[repr(packed)]` behind the derive's back.
    #[allow(dead_code, clippy::no_effect_underscore_binding)]
    fn __assert_not_repr_packed(__rcu_derive_this: &Config) {
        let _ = &__rcu_derive_this.routes;
        let _ = &__rcu_derive_this.reloads;
        let _ = &__rcu_derive_this.head;
    }

    // The field types the attributes claim, each checked once, with an error at the field
    // (`#[diagnostic::on_unimplemented]`) when it is wrong.
    #[allow(dead_code)]
    fn __assert_field_types() {
        ::rcu_runtime::__private::assert_rcu_field::<Rcu<Box<RouteTable>>>();
        ::rcu_runtime::__private::assert_rcu_head_field::<RcuHead>();
    }
};

// END EXPANSION

#[test]
fn the_listing_works_like_the_derive() {
    let cfg = RcuMutex::new(Config {
        routes: Rcu::new(Box::new(RouteTable { port: 80 })),
        reloads: 0,
        head: RcuHead::new(),
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
