//! Structural pinning: the inherent `project`/`project_ref` methods that pin the `#[rcu]` and
//! `#[pin]` fields, and the impls that make the compiler prove the pinning sound (the conditional
//! `Unpin`, and the conflict with a user `Drop`, or the `Drop` that calls `PinnedDrop`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::Cx;
use crate::ast::FieldKind;

/// The inherent `project` and `project_ref` methods (pin-project style).
pub(super) fn project_methods(cx: &Cx<'_>) -> TokenStream {
    let Cx { input, krate, private, pin, self_ty, .. } = cx;
    let vis = input.vis;
    let (impl_generics, _, _) = cx.generics.split_for_impl();
    let where_clause = cx.where_clause();
    let generics = cx.generics_with(pin);
    let (_, proj_args, _) = generics.split_for_impl();
    let projection = input.projection_ident();
    let projection_ref = input.projection_ref_ident();
    let this = quote!(__rcu_derive_this);

    let mut_fields = input.fields.iter().map(|field| {
        let member = &field.member;
        let cfgs = field.cfgs();
        let value = match field.kind {
            FieldKind::Rcu => quote! {
                #krate::RcuMut::new(#private::Pin::new_unchecked(&mut #this.#member))
            },
            FieldKind::Pin => quote!(#private::Pin::new_unchecked(&mut #this.#member)),
            FieldKind::Plain | FieldKind::RcuHead | FieldKind::RcuLinks => quote!(&mut #this.#member),
        };
        quote!(#(#cfgs)* #member: #value)
    });
    let ref_fields = input.fields.iter().map(|field| {
        let member = &field.member;
        let cfgs = field.cfgs();
        let value = if field.is_pinned() {
            quote!(#private::Pin::new_unchecked(&#this.#member))
        } else {
            quote!(&#this.#member)
        };
        quote!(#(#cfgs)* #member: #value)
    });
    let marker = input.fields.is_empty().then(|| quote!(__pin: #private::PhantomData,));

    let doc_project = format!(
        " Projects a pinned `&mut {}` to its fields: `#[rcu]` fields as `RcuMut`, `#[pin]` \
         fields as `Pin<&mut _>`, the others as `&mut _`.",
        input.ident
    );
    let doc_project_ref = format!(
        " Projects a pinned `&{}` to its fields: `#[rcu]` and `#[pin]` fields as `Pin<&_>`, the \
         others as `&_`.",
        input.ident
    );
    // SAFETY (of the emitted `unsafe` blocks):
    // - `get_unchecked_mut`: the `&mut Self` is used only to borrow the fields one by one below,
    //   never to move `Self` or a pinned field out;
    // - `Pin::new_unchecked(&mut field)` for `#[pin]`/`#[rcu]` fields: the field is structurally
    //   pinned (see `has_pinned_field`): `Self` is pinned, so the field never moves again before
    //   it is dropped; `RcuMut` keeps that promise for `#[rcu]` fields and adds that the `Rcu` is
    //   not overwritten in place while readers may hold `&Rcu`;
    // - `Pin::new_unchecked(&field)` in `project_ref`: the same reason, for a shared borrow.
    // Fields that are not pinned are handed out as plain references: nothing promised they stay put.
    // `#private::Pin` is `core`'s `Pin`: the receiver `self: #private::Pin<..>` does not compile
    // for another type (E0307), so its inherent `get_unchecked_mut` and `new_unchecked` are the
    // real ones.
    quote! {
        impl #impl_generics #self_ty #where_clause {
            #[doc = #doc_project]
            #[inline]
            #vis fn project<#pin>(self: #private::Pin<&#pin mut Self>) -> #projection #proj_args {
                unsafe {
                    let #this = #private::Pin::get_unchecked_mut(self);
                    #projection { #(#mut_fields,)* #marker }
                }
            }

            #[doc = #doc_project_ref]
            #[inline]
            #vis fn project_ref<#pin>(self: #private::Pin<&#pin Self>) -> #projection_ref #proj_args {
                let #this = #private::Pin::get_ref(self);
                unsafe { #projection_ref { #(#ref_fields,)* #marker } }
            }
        }
    }
}

/// `Unpin` only when every structurally pinned field is `Unpin` (pin-project's construction).
///
/// A tuple of the pinned field types is `Unpin` exactly when they are; the `PhantomData<&'pin
/// ()>` in it makes the bound depend on a parameter, so rustc accepts it even when it is false
/// (`trivial_bounds` is unstable). A user `impl Unpin` conflicts with this impl.
pub(super) fn unpin_impl(cx: &Cx<'_>) -> TokenStream {
    let Cx { input, private, pin, self_ty, .. } = cx;
    let generics = cx.generics_with(pin);
    let (impl_generics, _, _) = generics.split_for_impl();
    let fields = input.fields.iter().filter(|field| field.is_pinned()).map(|field| &field.ty);
    let pinned_fields = quote!((#private::PhantomData<&#pin ()>, #(#fields,)*));
    let unpin_where = cx.where_with(&[quote!(#pinned_fields: #private::Unpin)]);
    quote! {
        #[automatically_derived]
        impl #impl_generics #private::Unpin for #self_ty #unpin_where {}
    }
}

/// Forbids a user `Drop` when a field is structurally pinned (or, with `PinnedDrop`, emits the
/// `Drop` that calls the user's `PinnedDrop`).
pub(super) fn drop_impls(cx: &Cx<'_>) -> TokenStream {
    let Cx { input, krate, private, self_ty, .. } = cx;
    let (impl_generics, _, _) = cx.generics.split_for_impl();
    let where_clause = cx.where_clause();
    if let Some(pinned_drop) = &input.attrs.pinned_drop {
        // SAFETY (of the emitted `unsafe` block): `drop` runs once, when the value is being
        // destroyed in place; after it, the fields are dropped where they are and the memory is
        // released, so treating `self` as pinned promises nothing that is not kept. (A value that
        // was never pinned is fine too: pinning it now, for the rest of its life, is vacuous.)
        let drop_call =
            quote_spanned!(pinned_drop.span()=> <Self as #krate::PinnedDrop>::drop(__rcu_derive_pinned));
        quote! {
            #[automatically_derived]
            impl #impl_generics #private::Drop for #self_ty #where_clause {
                fn drop(&mut self) {
                    let __rcu_derive_pinned = unsafe { #private::Pin::new_unchecked(self) };
                    #drop_call;
                }
            }
        }
    } else {
        // A user `impl Drop` is forbidden only when a field is structurally pinned: its
        // `&mut self` could move that field after it was pinned. Without such a field it is
        // allowed, and sound: nothing is ever handed out as `Pin<&mut F>` (`project` gives
        // `&mut F` for every field), there is no `HasPinnedField`/`RcuField` impl whose promise a
        // move could break, and the struct is `Unpin` (`unpin_impl`'s tuple holds only the
        // marker), so `Pin<&mut Self>` already gives `&mut Self`: `drop(&mut self)` can do
        // nothing that safe code could not do before.
        let forbid_drop = input.fields.iter().any(|field| field.is_pinned()).then(|| {
            quote! {
                // Every `T: Drop` has this trait through the runtime's blanket impl, so a user
                // `impl Drop` makes this impl conflict: use `#[rcu_protected(PinnedDrop)]` instead.
                #[automatically_derived]
                impl #impl_generics #private::UseRcuProtectedPinnedDropInsteadOfDrop for #self_ty #where_clause {}
            }
        });
        quote! {
            #forbid_drop

            // A user `impl PinnedDrop` without the option would never run: make it conflict.
            #[doc(hidden)]
            #[automatically_derived]
            impl #impl_generics #krate::PinnedDrop for #self_ty #where_clause {
                fn drop(self: #private::Pin<&mut Self>) {}
            }
        }
    }
}
