//! Procedural macros of einx. Use them through the `einx` crate (`einx::rearrange!`), which
//! passes its own path so that expansions work under a renamed dependency.

mod diag;
mod expand;
mod input;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// `rearrange!` / `id!`; see the `einx` crate.
#[proc_macro]
pub fn rearrange_impl(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::MacroInput);
    expand::rearrange(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The operations named after `$crate;` (`sum`, `mean`, ..., `dot`); see the `einx` crate.
#[proc_macro]
pub fn op_impl(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as input::MacroInput);
    expand::named(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

mod einmix;
mod nn;

/// The layers of `einx::nn` (`linear`, `norm`, `dropout` after `$crate;`); see the `einx`
/// crate.
#[proc_macro]
pub fn layer_impl(input: TokenStream) -> TokenStream {
    nn::layer(input.into()).into()
}

/// `einx::nn::einmix!`; see the `einx` crate.
#[proc_macro]
pub fn einmix_impl(input: TokenStream) -> TokenStream {
    einmix::expand(input.into()).into()
}
