//! Code generation.
//!
//! The public projection and view types are emitted next to the struct; everything else lives in
//! one `const _: () = { .. };` block that declares no named item, only impls: a user type named
//! like a helper could otherwise resolve to the helper wherever the expansion copies the user's
//! tokens (field types, bounds). Every other name comes through the runtime's path
//! (`::rcu_runtime::__private::Pin`, never `::core::pin::Pin`, which `extern crate self as core`
//! redirects; `__private::usize`, never `usize`, which a user `struct usize;` shadows), and field
//! places are computed with native syntax (`&raw const (*p).field`).
//! What the runtime relies on is checked by its own signatures (see `rcu_runtime::__private`),
//! so even a redirected runtime path cannot make the expansion unsound.
//!
//! Comments do not survive in tokens, so the safety argument of each `unsafe` item is written
//! here, next to the `quote!` that emits it, and repeated in `rcu-runtime/tests/derive_expanded.rs`,
//! the compiled, commented expansion of an example struct.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericParam, Generics, Lifetime, LifetimeParam, Member, Path, WherePredicate};

use crate::ast::{Field, FieldKind, Input, Style};
use crate::attr::Errors;
use crate::{fallback, valid};

/// The expansion entry point: derive input in, items (or errors plus the fallback) out.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return Errors::from(error).to_compile_errors(),
    };
    let mut errors = Errors::default();
    let expansion = Input::from_syn(&input, &mut errors).and_then(|mut parsed| {
        valid::check(&mut parsed, &mut errors)?;
        Ok(expand(&parsed))
    });
    let items = expansion.unwrap_or_else(|fatal| {
        errors.push(fatal);
        fallback::expand(&input)
    });
    let errors = errors.to_compile_errors();
    quote! {
        #errors
        #items
    }
}

/// What every part of the expansion needs.
struct Cx<'a> {
    input: &'a Input<'a>,
    krate: Path,
    /// `#krate::__private`, where the items of `core` the expansion names come from.
    private: TokenStream,
    /// The lifetime of the projections (`'pin`, or a variant the struct does not use).
    pin: Lifetime,
    /// The lifetime of the reader view (`'view`, or a variant the struct does not use).
    view: Lifetime,
    /// The struct's type with its generic arguments: `Config<'x, T>`.
    self_ty: TokenStream,
    /// The struct's generic parameters for generated items: no defaults, and every bound moved
    /// to the `where` clause (bounds written in two places would draw lints on generated code
    /// that carries the user's spans).
    generics: Generics,
}

impl<'a> Cx<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        let ident = input.ident;
        let (_, ty_generics, _) = input.generics.split_for_impl();
        let krate = input.krate();
        Cx {
            input,
            private: quote!(#krate::__private),
            krate,
            pin: fresh_lifetime(input.generics, "pin"),
            view: fresh_lifetime(input.generics, "view"),
            self_ty: quote!(#ident #ty_generics),
            generics: normalized(input.generics),
        }
    }

    /// The struct's generic parameters, normalized (see `Cx::generics`), behind `lifetime`.
    fn generics_with(&self, lifetime: &Lifetime) -> Generics {
        let mut generics = self.generics.clone();
        generics.params.insert(0, GenericParam::Lifetime(LifetimeParam::new(lifetime.clone())));
        generics
    }

    /// `where` + the struct's own predicates + `extra`.
    fn where_with(&self, extra: &[TokenStream]) -> TokenStream {
        let own = self.generics.where_clause.iter().flat_map(|clause| clause.predicates.iter());
        let own: Vec<&WherePredicate> = own.collect();
        if own.is_empty() && extra.is_empty() {
            return TokenStream::new();
        }
        quote!(where #(#own,)* #(#extra,)*)
    }

    /// The struct's own `where` clause.
    fn where_clause(&self) -> TokenStream {
        self.where_with(&[])
    }

    /// `HasField<Field<N>>` of `field`, as a path: `#krate::HasField<#krate::Field<N>>`.
    fn has_field_trait(&self, field: &Field<'_>) -> TokenStream {
        let krate = &self.krate;
        let n = field.index_literal();
        quote!(#krate::HasField<#krate::Field<#n>>)
    }
}

fn expand(input: &Input<'_>) -> TokenStream {
    let cx = Cx::new(input);
    let projection = projection_type(&cx, Mutability::Mut);
    let projection_ref = projection_type(&cx, Mutability::Shared);
    let view = view_type(&cx);
    let has_field = input.fields.iter().map(|field| has_field(&cx, field));
    let pinned =
        input.fields.iter().filter(|field| field.is_pinned()).map(|field| has_pinned_field(&cx, field));
    let rcu_fields = input.fields_of(FieldKind::Rcu).map(|field| rcu_field(&cx, field));
    let rcu_head = input.fields_of(FieldKind::RcuHead).next().map(|field| has_rcu_head(&cx, field));
    let project_methods = project_methods(&cx);
    let view_impls = view_impls(&cx);
    let rcu_protected = rcu_protected_impl(&cx);
    let unpin = unpin_impl(&cx);
    let drop = drop_impls(&cx);
    quote! {
        #projection
        #projection_ref
        #view

        // Only impls in here: a named item would be in scope of the user's tokens copied below
        // (field types, bounds), and a user type of the same name would resolve to it. Locals and
        // parameters are named `__rcu_derive_*`: an identifier pattern becomes a constant pattern
        // (or an error) when a `const` of that name is in scope, and no span hygiene on stable
        // Rust prevents that, so those names are reserved.
        #[allow(
            non_camel_case_types,
            non_upper_case_globals,
            single_use_lifetimes,
            unused_lifetimes,
            unused_qualifications,
            dyn_drop,
            clippy::used_underscore_binding,
            clippy::needless_lifetimes,
        )]
        const _: () = {
            #(#has_field)*
            #(#pinned)*
            #(#rcu_fields)*
            #rcu_head
            #project_methods
            #view_impls
            #rcu_protected
            #unpin
            #drop
        };
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mutability {
    Mut,
    Shared,
}

/// `ConfigProjection<'pin>` or `ConfigProjectionRef<'pin>`: one field per struct field.
fn projection_type(cx: &Cx<'_>, mutability: Mutability) -> TokenStream {
    let Cx { input, krate, private, pin, self_ty, .. } = cx;
    let vis = input.vis;
    let (name, doc) = match mutability {
        Mutability::Mut => (
            input.projection_ident(),
            format!(
                " The pinned mutable projection of `{}`, made by its `project` method or by \
                 `RcuMutexGuard::project`.\n\n `#[rcu]` fields are `RcuMut` (publish with \
                 `replace`, `copy_update`, `take`), `#[pin]` fields `Pin<&mut _>`, the others \
                 `&mut _`. Generated by `#[derive(RcuProtected)]`.",
                input.ident
            ),
        ),
        Mutability::Shared => (
            input.projection_ref_ident(),
            format!(
                " The pinned shared projection of `{}`, made by its `project_ref` method.\n\n \
                 `#[rcu]` and `#[pin]` fields are `Pin<&_>`, the others `&_`. Generated by \
                 `#[derive(RcuProtected)]`.",
                input.ident
            ),
        ),
    };
    let generics = cx.generics_with(pin);
    let (def_generics, _, _) = generics.split_for_impl();
    let where_clause = cx.where_with(&[quote!(#self_ty: #pin)]);
    let fields = input.fields.iter().map(|field| {
        let ty = &field.ty;
        let cfgs = field.cfgs();
        let vis = field.vis;
        let docs = field_docs(field);
        let projected = match (field.kind, mutability) {
            (FieldKind::Rcu, Mutability::Mut) => quote!(#krate::RcuMut<#pin, #ty>),
            (FieldKind::Pin, Mutability::Mut) => quote!(#private::Pin<&#pin mut #ty>),
            (FieldKind::Plain | FieldKind::RcuHead, Mutability::Mut) => quote!(&#pin mut #ty),
            (FieldKind::Rcu | FieldKind::Pin, Mutability::Shared) => quote!(#private::Pin<&#pin #ty>),
            (FieldKind::Plain | FieldKind::RcuHead, Mutability::Shared) => quote!(&#pin #ty),
        };
        match &field.member {
            Member::Named(ident) => quote!(#(#cfgs)* #docs #vis #ident: #projected),
            Member::Unnamed(_) => quote!(#(#cfgs)* #docs #vis #projected),
        }
    });
    let body = if input.fields.is_empty() {
        // Nothing uses `'pin` otherwise (and no type parameter can exist without a field).
        quote!(#where_clause { __pin: #private::PhantomData<&#pin mut #self_ty> })
    } else {
        match input.style {
            Style::Named | Style::Unit => quote!(#where_clause { #(#fields,)* }),
            Style::Tuple => quote!(( #(#fields,)* ) #where_clause;),
        }
    };
    quote! {
        #[doc = #doc]
        #[allow(
            dead_code,
            non_camel_case_types,
            single_use_lifetimes,
            clippy::mut_mut,
            clippy::type_repetition_in_bounds,
            explicit_outlives_requirements,
        )]
        #vis struct #name #def_generics #body
    }
}

/// The field's own doc comments, or one line naming it: projection fields that are `pub` need docs.
fn field_docs(field: &Field<'_>) -> TokenStream {
    if field.attrs.docs.is_empty() {
        let doc = match &field.member {
            Member::Named(ident) => format!(" The field `{ident}`, projected."),
            Member::Unnamed(index) => format!(" The field `{}`, projected.", index.index),
        };
        quote!(#[doc = #doc])
    } else {
        let docs = &field.attrs.docs;
        quote!(#(#docs)*)
    }
}

/// `ConfigView<'view>`: a `Copy` handle to the struct for readers, with one method per `#[rcu]`
/// field. It holds the raw view and nothing else: no method reaches a field that is not `#[rcu]`.
fn view_type(cx: &Cx<'_>) -> TokenStream {
    let Cx { input, private, view, self_ty, .. } = cx;
    let vis = input.vis;
    let name = input.view_ident();
    let doc = format!(
        " The reader view of `{}`: what `RcuMutex::rcu` returns. It is `Copy`, needs no lock, and \
         has one method per `#[rcu]` field returning `&Rcu<_>`; fields without `#[rcu]` are not \
         reachable through it. Generated by `#[derive(RcuProtected)]`.",
        input.ident
    );
    let generics = cx.generics_with(view);
    let (def_generics, _, _) = generics.split_for_impl();
    let where_clause = cx.where_with(&[quote!(#self_ty: #view)]);
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, single_use_lifetimes, explicit_outlives_requirements)]
        #vis struct #name #def_generics #where_clause {
            __raw: #private::RawView<#view, #self_ty>,
        }
    }
}

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
fn has_field(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
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
fn has_pinned_field(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
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
fn rcu_field(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
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
fn has_rcu_head(cx: &Cx<'_>, field: &Field<'_>) -> TokenStream {
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

/// The inherent `project` and `project_ref` methods (pin-project style).
fn project_methods(cx: &Cx<'_>) -> TokenStream {
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
            FieldKind::Plain | FieldKind::RcuHead => quote!(&mut #this.#member),
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

/// `Clone`/`Copy` for the view and its one method per `#[rcu]` field.
fn view_impls(cx: &Cx<'_>) -> TokenStream {
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

        impl #impl_generics #name #ty_generics #where_clause {
            #(#methods)*
        }
    }
}

/// `RcuProtected` itself.
fn rcu_protected_impl(cx: &Cx<'_>) -> TokenStream {
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

/// `Unpin` only when every structurally pinned field is `Unpin` (pin-project's construction).
///
/// A tuple of the pinned field types is `Unpin` exactly when they are; the `PhantomData<&'pin
/// ()>` in it makes the bound depend on a parameter, so rustc accepts it even when it is false
/// (`trivial_bounds` is unstable). A user `impl Unpin` conflicts with this impl.
fn unpin_impl(cx: &Cx<'_>) -> TokenStream {
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

/// Forbids a user `Drop` (or, with `PinnedDrop`, emits the `Drop` that calls the user's
/// `PinnedDrop`).
fn drop_impls(cx: &Cx<'_>) -> TokenStream {
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
        quote! {
            // Every `T: Drop` has this trait through the runtime's blanket impl, so a user
            // `impl Drop` makes this impl conflict: use `#[rcu_protected(PinnedDrop)]` instead.
            #[automatically_derived]
            impl #impl_generics #private::UseRcuProtectedPinnedDropInsteadOfDrop for #self_ty #where_clause {}

            // A user `impl PinnedDrop` without the option would never run: make it conflict.
            #[doc(hidden)]
            #[automatically_derived]
            impl #impl_generics #krate::PinnedDrop for #self_ty #where_clause {
                fn drop(self: #private::Pin<&mut Self>) {}
            }
        }
    }
}

/// `tokens` with every token (and every group's delimiters) spanned at `span`, so that an error
/// about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner = proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// A copy of `generics` without default values, for use in new definitions and impls.
pub(crate) fn without_defaults(generics: &Generics) -> Generics {
    let mut generics = generics.clone();
    for param in &mut generics.params {
        match param {
            GenericParam::Type(param) => {
                param.eq_token = None;
                param.default = None;
            }
            GenericParam::Const(param) => {
                param.eq_token = None;
                param.default = None;
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    generics
}

/// `generics` without defaults, with every bound on a parameter moved to the `where` clause.
fn normalized(generics: &Generics) -> Generics {
    let mut generics = without_defaults(generics);
    let mut moved: Vec<WherePredicate> = Vec::new();
    for param in &mut generics.params {
        match param {
            GenericParam::Type(param) if !param.bounds.is_empty() => {
                let (ident, bounds) = (&param.ident, &param.bounds);
                moved.push(syn::parse_quote!(#ident: #bounds));
                param.colon_token = None;
                param.bounds.clear();
            }
            GenericParam::Lifetime(param) if !param.bounds.is_empty() => {
                let (lifetime, bounds) = (&param.lifetime, &param.bounds);
                moved.push(syn::parse_quote!(#lifetime: #bounds));
                param.colon_token = None;
                param.bounds.clear();
            }
            _ => {}
        }
    }
    if !moved.is_empty() {
        let clause = generics.make_where_clause();
        let own = std::mem::take(&mut clause.predicates);
        clause.predicates.extend(moved);
        clause.predicates.extend(own);
    }
    generics
}

/// `'base`, or `'__base`, `'___base`, .. : the first that `generics` does not declare.
pub(crate) fn fresh_lifetime(generics: &Generics, base: &str) -> Lifetime {
    let taken: Vec<String> = generics.lifetimes().map(|param| param.lifetime.ident.to_string()).collect();
    let mut name = base.to_owned();
    while taken.contains(&name) {
        name = format!("_{name}");
        if !name.starts_with("__") {
            name = format!("_{name}");
        }
    }
    Lifetime::new(&format!("'{name}"), Span::call_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifetime_for(generics: &str, base: &str) -> String {
        let generics: Generics = syn::parse_str(generics).unwrap();
        fresh_lifetime(&generics, base).to_string()
    }

    #[test]
    fn fresh_lifetimes_avoid_the_structs_own() {
        assert_eq!(lifetime_for("<'a, T>", "pin"), "'pin");
        assert_eq!(lifetime_for("<'pin, T>", "pin"), "'__pin");
        assert_eq!(lifetime_for("<'pin, '__pin>", "pin"), "'___pin");
    }

    #[test]
    fn defaults_are_dropped() {
        let generics: Generics = syn::parse_str("<T: Clone = u8, const N: usize = 3>").unwrap();
        let stripped = without_defaults(&generics);
        let (impl_generics, _, _) = stripped.split_for_impl();
        assert_eq!(quote!(#impl_generics).to_string(), quote!(<T: Clone, const N: usize>).to_string());
    }
}

#[cfg(test)]
mod derive_tests {
    use super::*;

    /// Runs the derive on `item` and checks that the output is well-formed Rust.
    fn derive_str(item: &str) -> String {
        let output = derive(item.parse().unwrap());
        syn::parse2::<syn::File>(output.clone()).unwrap_or_else(|error| panic!("{error}: {output}"));
        norm(&output.to_string())
    }

    /// Without whitespace: how tokens are spaced when printed is not what the tests check.
    fn norm(tokens: &str) -> String {
        tokens.split_whitespace().collect()
    }

    fn has(out: &str, needle: &str) -> bool {
        out.contains(&norm(needle))
    }

    fn count(out: &str, needle: &str) -> usize {
        out.matches(&norm(needle)).count()
    }

    const CONFIG: &str = "struct Config {
        #[rcu] routes: Rcu<Box<RouteTable>>,
        reloads: u64,
        #[pin] pinned: Pinned,
        #[rcu_head] head: RcuHead,
    }";

    #[test]
    fn named_struct_gets_every_impl() {
        let out = derive_str(CONFIG);
        assert!(!has(&out, "compile_error"));
        for n in 0..4 {
            assert_eq!(count(&out, &format!("HasField < :: rcu_runtime :: Field < {n} > > for Config")), 1);
        }
        assert_eq!(count(&out, "HasPinnedField < :: rcu_runtime :: Field < 0 >"), 1);
        assert_eq!(count(&out, "HasPinnedField < :: rcu_runtime :: Field < 2 >"), 1);
        assert_eq!(count(&out, "HasPinnedField <"), 2);
        assert_eq!(count(&out, "RcuField < :: rcu_runtime :: Field < 0 > > for Config"), 1);
        assert_eq!(count(&out, "RcuField <"), 1);
        assert_eq!(count(&out, ":: rcu_runtime :: HasRcuHead for Config"), 1);
        assert_eq!(count(&out, ":: rcu_runtime :: RcuProtected for Config"), 1);
        assert!(has(&out, "struct ConfigProjection < 'pin > where Config : 'pin"));
        assert!(has(&out, "routes : :: rcu_runtime :: RcuMut < 'pin , Rcu < Box < RouteTable > > >"));
        assert!(has(&out, "pinned : :: rcu_runtime :: __private :: Pin < & 'pin mut Pinned >"));
        assert!(has(&out, "reloads : & 'pin mut u64"));
        assert!(has(&out, "struct ConfigProjectionRef < 'pin >"));
        assert!(has(&out, "struct ConfigView < 'view >"));
        assert!(has(&out, "fn routes (& self) -> & 'view Rcu < Box < RouteTable > >"));
        // Only `#[rcu]` fields get a view method.
        assert!(!has(&out, "fn reloads"));
        assert!(has(
            &out,
            ":: rcu_runtime :: __private :: UseRcuProtectedPinnedDropInsteadOfDrop for Config"
        ));
        assert!(has(
            &out,
            ":: rcu_runtime :: RcuHead :: __field :: < Self , :: rcu_runtime :: Field < 3 > > ()"
        ));
        assert!(has(
            &out,
            "type ReaderFields = (< Self as :: rcu_runtime :: HasField < :: rcu_runtime :: Field < 0 > > > :: Type ,) ;"
        ));
        assert!(has(
            &out,
            "(:: rcu_runtime :: __private :: PhantomData < & 'pin () > , Rcu < Box < RouteTable > > , Pinned ,) : :: rcu_runtime :: __private :: Unpin"
        ));
        // Nothing from `core` by its own path, and no `offset_of!`.
        assert!(!has(&out, ":: core") && !has(&out, ":: std") && !has(&out, "offset_of"));
    }

    #[test]
    fn no_rcu_head_means_no_has_rcu_head() {
        let out = derive_str("struct S { #[rcu] a: Rcu<Box<u8>> }");
        assert!(!has(&out, "HasRcuHead"));
    }

    #[test]
    fn tuple_struct_projects_to_a_tuple_struct_and_names_view_methods_by_position() {
        let out = derive_str("pub struct T(u8, #[rcu] pub Rcu<Box<u8>>);");
        assert!(has(
            &out,
            "pub struct TProjection < 'pin > (# [doc = \" The field `0`, projected.\"] & 'pin mut u8 ,"
        ));
        assert!(has(&out, "pub fn field_1 (& self)"));
        assert!(has(&out, "& raw const (* __rcu_derive_base) . 1"));
        assert!(has(&out, "RcuField < :: rcu_runtime :: Field < 1 > >"));
    }

    #[test]
    fn unit_and_empty_structs_expand() {
        for item in ["struct U;", "struct E {}", "struct T();"] {
            let out = derive_str(item);
            assert!(!has(&out, "compile_error"), "{item}");
            assert!(has(&out, "__pin : :: rcu_runtime :: __private :: PhantomData"), "{item}");
        }
    }

    #[test]
    fn generics_lifetimes_and_where_clauses_are_carried_everywhere() {
        let out = derive_str(
            "struct G<'pin, 'view, T: Clone = u8, const N: usize = 2> where T: Send {
                #[rcu] a: Rcu<Box<[T; N]>>, b: &'pin T, c: &'view T,
            }",
        );
        // The struct already uses `'pin` and `'view`: the expansion picks other names. Bounds
        // move to the `where` clause, before the struct's own predicates.
        assert!(has(
            &out,
            "struct GProjection < '__pin , 'pin , 'view , T , const N : usize > where T : Clone , T : Send , G < 'pin , 'view , T , N > : '__pin ,"
        ));
        assert!(has(
            &out,
            "struct GView < '__view , 'pin , 'view , T , const N : usize > where T : Clone , T : Send , G < 'pin , 'view , T , N > : '__view ,"
        ));
        // Defaults are kept off every generated definition.
        assert!(!has(&out, "= u8"));
        assert!(!has(&out, "= 2"));
        assert!(has(
            &out,
            "impl < 'pin , 'view , T , const N : usize > :: rcu_runtime :: RcuProtected for G < 'pin , 'view , T , N > where T : Clone , T : Send ,"
        ));
    }

    #[test]
    fn options_rename_types_and_move_the_crate() {
        let out = derive_str(
            "#[rcu_protected(project = P, project_ref = R, view = V, crate = ::rt)] struct S { #[rcu] a: A }",
        );
        assert!(
            has(&out, "struct P < 'pin >")
                && has(&out, "struct R < 'pin >")
                && has(&out, "struct V < 'view >")
        );
        assert!(!has(&out, "rcu_runtime"));
        assert!(has(&out, ":: rt :: RcuProtected for S"));
    }

    #[test]
    fn pinned_drop_emits_drop_instead_of_forbidding_it() {
        let out = derive_str("#[rcu_protected(PinnedDrop)] struct S { #[rcu] a: A }");
        assert!(has(&out, ":: rcu_runtime :: __private :: Drop for S"));
        assert!(has(&out, "< Self as :: rcu_runtime :: PinnedDrop > :: drop (__rcu_derive_pinned)"));
        assert!(!has(&out, "UseRcuProtectedPinnedDropInsteadOfDrop for S"));
        let out = derive_str("struct S { #[rcu] a: A }");
        assert!(!has(&out, ":: rcu_runtime :: __private :: Drop for S"));
        assert!(has(&out, "UseRcuProtectedPinnedDropInsteadOfDrop for S"));
        assert!(has(&out, ":: rcu_runtime :: PinnedDrop for S"));
    }

    #[test]
    fn cfgs_and_visibilities_are_copied() {
        let out = derive_str("pub struct S { #[cfg(unix)] #[rcu] pub(crate) a: A, b: B }");
        assert!(has(&out, "# [cfg (unix)] # [automatically_derived] unsafe impl :: rcu_runtime :: HasField"));
        assert!(has(&out, "# [cfg (unix)] # [doc = \" The field `a`, projected.\"] pub (crate) a :"));
        assert!(has(&out, "pub (crate) fn a (& self)"));
        assert!(has(&out, "pub struct SProjection"));
    }

    #[test]
    fn recoverable_mistakes_still_expand_fully_next_to_the_error() {
        let out = derive_str("#[rcu_protected(veiw = V)] struct S { #[rcu(x)] a: A }");
        assert_eq!(count(&out, "compile_error"), 2);
        assert!(has(&out, "unknown `rcu_protected` option `veiw`"));
        assert!(has(&out, "`#[rcu]` takes no arguments"));
        // The field is still `#[rcu]`, so uses of the view keep compiling.
        assert!(has(&out, "fn a (& self)"));
        assert!(!has(&out, "Unexpanded"));
    }

    #[test]
    fn fatal_mistakes_give_the_error_and_a_stub() {
        for (item, message) in [
            ("enum E { A }", "only supports structs"),
            ("union U { a: u8 }", "only supports structs"),
            ("#[repr(packed)] struct S { a: u8 }", "`#[repr(packed)]` struct"),
            ("#[rcu_protected(view = S)] struct S;", "already taken"),
        ] {
            let out = derive_str(item);
            assert_eq!(count(&out, "compile_error"), 1, "{item}");
            assert!(has(&out, message), "{item}: {out}");
            assert!(has(&out, ":: rcu_runtime :: __private :: Unexpanded"), "{item}");
            assert!(!has(&out, "HasField"), "{item}");
        }
    }

    #[test]
    fn fallback_keeps_the_crate_option_and_generics() {
        let out = derive_str("#[rcu_protected(crate = ::rt)] enum E<'a, T: Copy> where T: Send { A(&'a T) }");
        assert!(has(
            &out,
            "unsafe impl < 'a , T : Copy > :: rt :: RcuProtected for E < 'a , T > where T : Send"
        ));
    }

    /// Deleting any one token of a valid input must give either an expansion or errors, never a
    /// panic; a cheap stand-in for fuzzing that runs on every `cargo test`.
    #[test]
    fn never_panics_on_mangled_input() {
        let inputs = [
            CONFIG,
            "#[rcu_protected(project = P, PinnedDrop, crate = ::rt)] pub struct T<'a, X: Clone>(#[rcu] Rcu<Box<X>>, &'a X) where X: Send;",
        ];
        for input in inputs {
            let tokens: Vec<String> =
                input.parse::<TokenStream>().unwrap().into_iter().flat_map(flatten).collect();
            for skip in 0..tokens.len() {
                let mangled: String = tokens
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != skip)
                    .map(|(_, token)| token.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Ok(stream) = mangled.parse::<TokenStream>() {
                    let _ = derive(stream);
                }
            }
        }
    }

    /// Every token of a tree, delimiters as separate strings.
    fn flatten(tree: proc_macro2::TokenTree) -> Vec<String> {
        match tree {
            proc_macro2::TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                    proc_macro2::Delimiter::Brace => ("{", "}"),
                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                    proc_macro2::Delimiter::None => ("", ""),
                };
                let mut out = vec![open.to_owned()];
                out.extend(group.stream().into_iter().flat_map(flatten));
                out.push(close.to_owned());
                out
            }
            other => vec![other.to_string()],
        }
    }
}

/// `rcu-runtime/tests/derive_expanded.rs` documents the expansion of one struct and says it is the
/// real one: hold it to that.
#[cfg(test)]
mod listing_tests {
    use proc_macro2::{Delimiter, TokenStream, TokenTree};

    use super::derive;

    const LISTING: &str = include_str!("../../rcu-runtime/tests/derive_expanded.rs");

    const INPUT: &str = "struct Config {
        #[rcu]
        routes: Rcu<Box<RouteTable>>,
        reloads: u64,
        #[rcu_head]
        head: RcuHead,
    }";

    /// The tokens as strings, without doc attributes and without the trailing commas that
    /// formatting adds or removes.
    fn canonical(stream: TokenStream) -> Vec<String> {
        let trees: Vec<TokenTree> = stream.into_iter().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Punct(punct) if punct.as_char() == '#' => {
                    if let Some(TokenTree::Group(group)) = trees.get(i + 1) {
                        let is_doc = group.delimiter() == Delimiter::Bracket
                            && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(ident)) if ident == "doc");
                        if is_doc && !group.stream().to_string().starts_with("doc (") {
                            i += 2;
                            continue;
                        }
                    }
                    out.push("#".to_owned());
                }
                TokenTree::Punct(punct) if punct.as_char() == ',' => {
                    let next_closes = match trees.get(i + 1) {
                        None => true,
                        Some(TokenTree::Punct(next)) => next.as_char() == ';',
                        Some(TokenTree::Group(next)) => next.delimiter() == Delimiter::Brace,
                        _ => false,
                    };
                    if !next_closes {
                        out.push(",".to_owned());
                    }
                }
                TokenTree::Group(group) => {
                    out.push(format!("{:?}(", group.delimiter()));
                    out.extend(canonical(group.stream()));
                    out.push(")".to_owned());
                }
                other => out.push(other.to_string()),
            }
            i += 1;
        }
        out
    }

    #[test]
    fn expanded_listing_is_the_real_expansion() {
        let begin = LISTING.find("// BEGIN EXPANSION").expect("begin marker");
        let end = LISTING.find("// END EXPANSION").expect("end marker");
        let listing: TokenStream = LISTING[begin..end].parse().expect("the listing lexes");
        let derived = derive(INPUT.parse().unwrap());
        let (listing, derived) = (canonical(listing), canonical(derived));
        if listing != derived {
            let at = listing
                .iter()
                .zip(&derived)
                .position(|(a, b)| a != b)
                .unwrap_or(listing.len().min(derived.len()));
            let from = at.saturating_sub(12);
            panic!(
                "the listing differs from the derive at token {at}:\n listing: {}\n derived: {}",
                listing[from..(at + 12).min(listing.len())].join(" "),
                derived[from..(at + 12).min(derived.len())].join(" "),
            );
        }
    }
}
