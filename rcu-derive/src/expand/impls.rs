//! The trait impls inside `const _`: `HasField` for every field, `HasPinnedField` and
//! `RcuField` for the pinned and `#[rcu]` fields, `HasRcuHead` and `HasRcuLinks`, the view's
//! `Clone`/`Copy` and methods, and `RcuProtected`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Member;
use syn::spanned::Spanned;

use super::{Cx, respan};
use crate::ast::{Field, FieldKind};

/// `unsafe impl #trait_ for Self { #body }` for one field, under the field's `cfg`s: the shape
/// shared by the per-field trait impls below.
fn field_impl(cx: &Cx<'_>, field: &Field<'_>, trait_: TokenStream, body: TokenStream) -> TokenStream {
    let self_ty = &cx.self_ty;
    let (impl_generics, _, _) = cx.generics.split_for_impl();
    let where_clause = cx.where_clause();
    let cfgs = field.cfgs();
    quote! {
        #(#cfgs)*
        #[automatically_derived]
        unsafe impl #impl_generics #trait_ for #self_ty #where_clause { #body }
    }
}

/// `HasField<Field<N>>` for one field.
pub(super) fn has_field(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
    let private = &cx.private;
    let ty = &field.ty;
    let member = &field.member;
    let has_field = cx.has_field_trait(field);
    // `Type` is spanned at the field's type, so that rustc's "private type in public interface"
    // (E0446, a `pub` struct with a less visible field type) points at it.
    let type_item = quote_spanned!(ty.span()=> type Type = #ty;);
    // SAFETY (of the emitted impl): every value of `Self` holds a `Type` at `OFFSET`, aligned:
    // - `Type` is the field's type: the closure below takes `&field` as a `&Type`, which does not
    //   compile otherwise (so no path or name in the user's crate can make the copied type
    //   tokens mean another type than they mean in the struct);
    // - `OFFSET` is the field's offset, computed from the place `(*base).field` with native
    //   syntax (no `offset_of!` behind a path the user's crate could redirect): whatever memory
    //   `base` points to, the projection lies `offset` bytes after it, which `offset_from`
    //   measures (a const evaluation that is not sound does not compile);
    // - the field is aligned there: the same closure takes a reference to the field, which is a
    //   hard error (E0793) if the struct is `repr(packed)`, even when another macro added it.
    //
    // SAFETY (of the emitted `unsafe` blocks):
    // - `&raw const (*base).field`: `base` points to a `MaybeUninit<Self>` local, so the place is
    //   inside a live allocation; `&raw const` reads nothing and asserts no initialization;
    // - `offset_from`: both pointers are derived from `base`, into the same local, and the
    //   distance between them is a multiple of the `u8` they are cast to.
    field_impl(
        cx,
        field,
        has_field.clone(),
        quote! {
            #type_item
            const OFFSET: #private::usize = {
                let _ = |__rcu_derive_this: &Self| {
                    let _: &<Self as #has_field>::Type = &__rcu_derive_this.#member;
                };
                let __rcu_derive_value = #private::MaybeUninit::<Self>::uninit();
                let __rcu_derive_base: *const Self = __rcu_derive_value.as_ptr();
                let __rcu_derive_field: *const <Self as #has_field>::Type =
                    unsafe { &raw const (*__rcu_derive_base).#member };
                unsafe {
                    __rcu_derive_field.cast::<#private::u8>().offset_from(__rcu_derive_base.cast::<#private::u8>())
                        as #private::usize
                }
            };
        },
    )
}

/// `HasPinnedField<Field<N>>` for a `#[pin]` or `#[rcu]` field.
pub(super) fn has_pinned_field(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
    let krate = &cx.krate;
    let n = field.index_literal();
    // SAFETY (of the emitted impl): the field is structurally pinned, and the compiler proves it:
    // - the projections emitted below hand out `Pin<&mut F>` (`#[pin]`) or `RcuMut` (`#[rcu]`),
    //   never `&mut F`, and no other generated code touches the field;
    // - `Unpin` for the struct holds only when every pinned field is `Unpin` (`unpin_impl`), and
    //   a user `impl Unpin` would conflict with it;
    // - the struct has no `Drop` that could move the field: a user `impl Drop` conflicts with the
    //   `UseRcuProtectedPinnedDropInsteadOfDrop` impl (`drop_impls`), and with `PinnedDrop` the
    //   emitted `Drop` passes only `Pin<&mut Self>` on;
    // - the struct is not `repr(packed)` (the reference to each field in `has_field`).
    // That these impls are of the real `Unpin`, `Drop` and `RcuMut` is checked by
    // `RawView::check_paths` in the `RcuProtected` impl, which `RcuMutex` goes through.
    field_impl(cx, field, quote!(#krate::HasPinnedField<#krate::Field<#n>>), TokenStream::new())
}

/// `RcuField<Field<N>>` for an `#[rcu]` field: what lets the reader view reach it.
pub(super) fn rcu_field(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
    let Cx { krate, private, .. } = cx;
    let n = field.index_literal();
    // The trait's supertrait `HasField<F, Type: IsRcu>` fails on a field that is not an `Rcu`:
    // span the trait at the field's type, so that the error points there.
    let trait_ = respan(quote!(#private::RcuField<#krate::Field<#n>>), field.ty.span());
    // SAFETY (of the emitted impl), the contract of `RcuField`: the field is structurally pinned
    // (the `HasPinnedField` impl above, a supertrait), and the only mutable access the generated
    // code gives to it is `RcuMut`, which can publish through the `Rcu`'s atomic pointer but
    // cannot overwrite the `Rcu` in place. (That the field is an `Rcu<P>` is no longer part of
    // the contract: the supertrait `HasField<F, Type: IsRcu>` makes the compiler check it.)
    field_impl(cx, field, trait_, TokenStream::new())
}

/// `HasRcuHead` through the `#[rcu_head]` field.
pub(super) fn has_rcu_head(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
    let Cx { krate, self_ty, .. } = cx;
    let (impl_generics, _, _) = cx.generics.split_for_impl();
    let where_clause = cx.where_clause();
    let cfgs = field.cfgs();
    let n = field.index_literal();
    // `RcuHead::__field` fails (with the `#[rcu_head]` message) unless the field is an
    // `RcuHead`: span it at the field's type. Both methods make the same call, so rustc reports
    // one error.
    let head_field = respan(quote!(#krate::RcuHead::__field::<Self, #krate::Field<#n>>()), field.ty.span());
    // SAFETY (of the emitted impl): both methods go through `RcuHead::__field`, an inherent item
    // of `#krate::RcuHead`, which is the runtime's real `RcuHead` because the same path is in the
    // methods' signatures, which must match `HasRcuHead`'s. It compiles only if the field `N` is
    // an `RcuHead` (the sealed `IsRcuHead` bound on `HasField<Field<N>>::Type`), and its token's
    // `raw_get` is `raw_get_field` of that field (same provenance), `container_of` its inverse
    // `field_container_of`; no cast is written here.
    //
    // SAFETY (of the emitted `unsafe` block): the caller passes a head returned by
    // `raw_get_rcu_head` for a live value, that is, by `raw_get` for a live value, which is
    // `container_of`'s contract.
    quote! {
        #(#cfgs)*
        #[automatically_derived]
        unsafe impl #impl_generics #krate::HasRcuHead for #self_ty #where_clause {
            #[inline]
            fn raw_get_rcu_head(__rcu_derive_this: *mut Self) -> *mut #krate::RcuHead {
                #head_field.raw_get(__rcu_derive_this)
            }

            #[inline]
            unsafe fn rcu_head_container_of(__rcu_derive_head: *mut #krate::RcuHead) -> *mut Self {
                unsafe { #head_field.container_of(__rcu_derive_head) }
            }
        }
    }
}

/// `HasRcuLinks` through the `#[rcu_links]` field: the same shape as [`has_rcu_head`], through
/// `RcuLinks::__field` instead of `RcuHead::__field`.
pub(super) fn has_rcu_links(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
    let Cx { krate, self_ty, .. } = cx;
    let (impl_generics, _, _) = cx.generics.split_for_impl();
    let where_clause = cx.where_clause();
    let cfgs = field.cfgs();
    let n = field.index_literal();
    // `RcuLinks::__field` fails (with the `#[rcu_links]` message) unless the field is an
    // `RcuLinks`: span it at the field's type. Both methods make the same call, so rustc reports
    // one error.
    let links_field = respan(quote!(#krate::RcuLinks::__field::<Self, #krate::Field<#n>>()), field.ty.span());
    // SAFETY (of the emitted impl), the contract of `HasRcuLinks`: both methods go through
    // `RcuLinks::__field`, an inherent item of `#krate::RcuLinks`, which is the runtime's real
    // `RcuLinks` because the same path is in the methods' signatures, which must match
    // `HasRcuLinks`'s. It compiles only if the field `N` is an `RcuLinks` (the sealed
    // `IsRcuLinks` bound on `HasField<Field<N>>::Type`), and its token's `raw_get` is
    // `raw_get_field` of that one field on every call (same provenance), `container_of` its
    // inverse `field_container_of`; no cast is written here.
    //
    // SAFETY (of the emitted `unsafe` block): the caller passes links returned by
    // `raw_get_rcu_links` for a live value, that is, by `raw_get` for a live value, which is
    // `container_of`'s contract.
    quote! {
        #(#cfgs)*
        #[automatically_derived]
        unsafe impl #impl_generics #krate::HasRcuLinks for #self_ty #where_clause {
            #[inline]
            fn raw_get_rcu_links(__rcu_derive_this: *mut Self) -> *mut #krate::RcuLinks {
                #links_field.raw_get(__rcu_derive_this)
            }

            #[inline]
            unsafe fn rcu_links_container_of(__rcu_derive_links: *mut #krate::RcuLinks) -> *mut Self {
                unsafe { #links_field.container_of(__rcu_derive_links) }
            }
        }
    }
}

/// `Clone`/`Copy` for the view and its one method per `#[rcu]` field.
pub(super) fn view_impls(cx: &Cx<'_>) -> TokenStream {
    let Cx { input, krate, private, view, self_ty, .. } = cx;
    let name = input.view_ident();
    let generics = cx.generics_with(view);
    let (impl_generics, ty_generics, _) = generics.split_for_impl();
    let where_clause = cx.where_with(&[quote!(#self_ty: #view)]);
    let methods = input.fields_of(FieldKind::Rcu).map(|field| {
        let cfgs = field.cfgs();
        let vis = field.vis;
        let method = field.view_method();
        let ty = &field.ty;
        let n = field.index_literal();
        let doc = match &field.member {
            Member::Named(ident) => format!(" The `#[rcu]` field `{ident}`, for lock-free readers."),
            Member::Unnamed(index) => {
                format!(" The `#[rcu]` field `{}`, for lock-free readers.", index.index)
            }
        };
        // A method call on the `RawView` value, not a path: the value's type is the runtime's
        // `RawView` (see `rcu_protected_impl`), so this is its inherent `rcu_field`, whose
        // signature admits only `RcuField`s, which are `Rcu`s. Spanned at the field's type, where
        // an unsatisfied bound is about.
        let rcu_field = respan(quote!(.rcu_field::<#krate::Field<#n>>()), ty.span());
        quote! {
            #(#cfgs)*
            #[doc = #doc]
            #[inline]
            #[must_use]
            #vis fn #method(&self) -> &#view #ty {
                self.__raw #rcu_field
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #private::Clone for #name #ty_generics #where_clause {
            #[inline]
            fn clone(&self) -> Self {
                *self
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::Copy for #name #ty_generics #where_clause {}

        // The methods are named after the struct's fields, where the lint (or the user's `allow`
        // of it) already applies.
        #[allow(non_snake_case)]
        impl #impl_generics #name #ty_generics #where_clause {
            #(#methods)*
        }
    }
}

/// `RcuProtected` itself.
pub(super) fn rcu_protected_impl(cx: &Cx<'_>) -> TokenStream {
    let Cx { input, krate, private, pin, view, self_ty, .. } = cx;
    let (impl_generics, _, _) = cx.generics.split_for_impl();
    let where_clause = cx.where_clause();
    let pin_generics = cx.generics_with(pin);
    let (_, proj_args, _) = pin_generics.split_for_impl();
    let view_generics = cx.generics_with(view);
    let (_, view_args, _) = view_generics.split_for_impl();
    let projection = input.projection_ident();
    let projection_ref = input.projection_ref_ident();
    let view_name = input.view_ident();
    let reader_fields = input.fields_of(FieldKind::Rcu).map(|field| {
        let has_field = cx.has_field_trait(field);
        quote!(<Self as #has_field>::Type)
    });
    let paths = quote! {
        [fn(
            &dyn #private::Unpin,
            &dyn #private::Drop,
            &dyn #private::UseRcuProtectedPinnedDropInsteadOfDrop,
            #private::Pin<&mut ()>,
            #krate::RcuMut<'_, ()>,
        ); 0]
    };
    // When the user chose the crate path, a failed check is about that path: point there.
    let check_paths = quote!(.check_paths::<#paths>());
    let check_paths = match &input.attrs.krate {
        Some(path) => respan(check_paths, path.span()),
        None => check_paths,
    };
    // SAFETY (of the emitted impl), the contract of `RcuProtected`:
    // - `project` and `project_ref` are the inherent methods above: they give `RcuMut` or
    //   `Pin<&_>` for every `#[rcu]` field, so safe code holding a projection can publish
    //   through an `Rcu` but never overwrite or move it;
    // - `view` wraps the raw view and nothing else; the view's methods reach only `#[rcu]`
    //   fields (those with an `RcuField` impl), through `RawView::rcu_field`;
    // - `ReaderFields` is the tuple of the `#[rcu]` fields' types (`HasField::Type`, which the
    //   `HasField` impls check against the fields), so it is `Sync` exactly when they all are;
    // - when there is an `#[rcu]` field, `Self` is not `Unpin`: the `Rcu` is `!Unpin` and the
    //   `Unpin` impl below requires every pinned field to be `Unpin`.
    // These rest on impls written with paths through `#krate`; `check_paths`, a method of the
    // `RawView` that the trait's signature passes to `view` (so the runtime's own, whatever the
    // paths say), compiles only if those paths name the runtime's real items.
    quote! {
        #[automatically_derived]
        unsafe impl #impl_generics #krate::RcuProtected for #self_ty #where_clause {
            type View<#view> = #view_name #view_args where Self: #view;
            type Projection<#pin> = #projection #proj_args where Self: #pin;
            type ProjectionRef<#pin> = #projection_ref #proj_args where Self: #pin;
            type ReaderFields = (#(#reader_fields,)*);

            #[inline]
            fn project(self: #private::Pin<&mut Self>) -> Self::Projection<'_> {
                Self::project(self)
            }

            #[inline]
            fn project_ref(self: #private::Pin<&Self>) -> Self::ProjectionRef<'_> {
                Self::project_ref(self)
            }

            #[inline]
            fn view<#view>(__rcu_derive_raw: #private::RawView<#view, Self>) -> Self::View<#view> {
                __rcu_derive_raw #check_paths;
                #view_name { __raw: __rcu_derive_raw }
            }
        }
    }
}
