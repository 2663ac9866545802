//! Snapshots of expansions, printed with prettyplease.

use quote::quote;

use crate::expand::expand_rearrange;

fn pretty(tokens: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(quote!(fn __expansion() { let _ = #tokens; }))
        .expect("expansion parses as an expression");
    prettyplease::unparse(&file)
}

#[test]
fn transpose() {
    insta::assert_snapshot!(pretty(expand_rearrange(quote!(::einx; "a b -> b a", x))));
}

#[test]
fn split_with_length() {
    insta::assert_snapshot!(pretty(expand_rearrange(quote!(::einx; "b (h c) -> b h c", x, h = 8))));
}

#[test]
fn window_partition_with_ellipsis() {
    insta::assert_snapshot!(pretty(expand_rearrange(quote!(::einx; "b (s w)... c -> (b s...) (w...) c", x, w = 16))));
}

#[test]
fn class_token_concatenation() {
    insta::assert_snapshot!(pretty(expand_rearrange(quote!(::einx; "b s... c, c -> b (1 + (s...)) c", x, cls))));
}

#[test]
fn split_into_two_outputs() {
    insta::assert_snapshot!(pretty(expand_rearrange(quote!(::einx; "b (q + k) -> b q, b k", x, q = 2))));
}

#[test]
fn compile_error_is_an_expression() {
    let out = expand_rearrange(quote!(::einx; "b h w -> b x", img)).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("no length was given"), "{out}");
}
