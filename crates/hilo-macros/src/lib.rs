//! `#[hilo::task]`: registers a plain function as a task that a hilo
//! process pool's workers can run by name.
//!
//! For
//!
//! ```text
//! #[hilo::task]
//! fn count_primes(lo: u64, hi: u64) -> u64 { /* ... */ }
//! ```
//!
//! the function stays as written, and a module of the same name is added
//! beside it:
//!
//! - `count_primes::NAME`: the name workers know the task by (its module
//!   path);
//! - `count_primes::call(lo, hi)`: a typed `hilo::process::Call<u64>` to
//!   submit to a `ProcessPool` (arguments and result must be `serde`
//!   types: checked at compile time) or a `ThreadPool` (which calls the
//!   function on a thread, nothing encoded);
//! - a registry entry that lets a worker decode the arguments, call the
//!   function and encode its value.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::{parse_macro_input, FnArg, ItemFn, Pat, ReturnType};

/// Registers a function as a task a process pool can run by name. See the
/// crate docs for what it generates.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(
            TokenStream2::from(attr).span(),
            "#[hilo::task] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let func = parse_macro_input!(item as ItemFn);
    match expand(&func) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(func: &ItemFn) -> syn::Result<TokenStream2> {
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "#[hilo::task] functions cannot be generic: a worker finds them by one name",
        ));
    }
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            "#[hilo::task] functions cannot be async",
        ));
    }
    let mut names = Vec::new();
    let mut types = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "#[hilo::task] functions cannot take self",
                ))
            }
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(id) if id.by_ref.is_none() => {
                    names.push(id.ident.clone());
                    types.push((*t.ty).clone());
                }
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "#[hilo::task] arguments must be plain names (`x: u64`)",
                    ))
                }
            },
        }
    }
    let ret = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let name = &sig.ident;
    let vis = &func.vis;
    let doc = format!(
        "Process-pool handle of the task [`{name}`](fn@{name}): its `NAME` and a typed `call`."
    );
    Ok(quote! {
        #func

        #[doc = #doc]
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;

            /// The name workers know this task by.
            pub const NAME: &str = ::core::module_path!();

            /// A call of this task on these arguments, to submit to a
            /// `hilo::process::ProcessPool` (or a `hilo::ThreadPool`, which
            /// calls the function directly).
            #[allow(clippy::too_many_arguments)]
            pub fn call(#(#names: #types),*) -> ::hilo::process::Call<#ret> {
                ::hilo::process::Call::typed(
                    NAME,
                    (#(#names,)*),
                    |(#(#names,)*): (#(#types,)*)| super::#name(#(#names),*),
                )
            }

            fn __hilo_run(
                bytes: &[u8],
            ) -> ::core::result::Result<::std::vec::Vec<u8>, ::std::string::String> {
                let (#(#names,)*): (#(#types,)*) = ::hilo::process::decode_args(bytes)?;
                ::hilo::process::encode_value(&super::#name(#(#names),*))
            }

            ::hilo::inventory::submit! {
                ::hilo::process::TaskEntry::new(NAME, __hilo_run)
            }
        }
    })
}
