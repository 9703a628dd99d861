//! What the derive emits, next to the `compile_error!`s, when the input cannot be expanded at all
//! (an enum, a union, a `#[repr(packed)]` struct, clashing type names).
//!
//! A stub `RcuProtected` impl, so that `RcuMutex<ThatType>` and other uses of the trait do not add
//! errors of their own: the user sees the one error that matters. The stub is never run: the crate
//! does not compile while the `compile_error!` is there. It is built from the parsed input, with
//! the crate path its options chose.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Input;
use crate::expand::generics::fresh_lifetime;

/// The stub impl for `input`.
pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input.krate();
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Lifetimes the struct does not declare, as in the full expansion (E0496 otherwise).
    let pin = fresh_lifetime(input.generics, "__pin");
    let view = fresh_lifetime(input.generics, "__view");
    // SAFETY (of the emitted impl): none of its methods returns (`loop {}`, native syntax that no
    // path can redirect); it only exists while a `compile_error!` keeps the crate from compiling.
    quote! {
        #[automatically_derived]
        unsafe impl #impl_generics #krate::RcuProtected for #ident #ty_generics #where_clause {
            type View<#view> = #krate::__private::Unexpanded<#view, Self> where Self: #view;
            type Projection<#pin> = #krate::__private::Unexpanded<#pin, Self> where Self: #pin;
            type ProjectionRef<#pin> = #krate::__private::Unexpanded<#pin, Self> where Self: #pin;
            type ReaderFields = ();

            fn project(self: #krate::__private::Pin<&mut Self>) -> Self::Projection<'_> {
                loop {}
            }

            fn project_ref(self: #krate::__private::Pin<&Self>) -> Self::ProjectionRef<'_> {
                loop {}
            }

            fn view<#view>(_: #krate::__private::RawView<#view, Self>) -> Self::View<#view> {
                loop {}
            }
        }
    }
}
