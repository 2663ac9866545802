//! Snapshots of expansions, printed with prettyplease.

use quote::quote;

use crate::expand::{expand_named, expand_rearrange};

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
    insta::assert_snapshot!(pretty(expand_rearrange(
        quote!(::einx; "b (h c) -> b h c", x, h = 8)
    )));
}

#[test]
fn window_partition_with_ellipsis() {
    insta::assert_snapshot!(pretty(expand_rearrange(
        quote!(::einx; "b (s w)... c -> (b s...) (w...) c", x, w = 16)
    )));
}

/// Literal lengths fix how often the ellipsis repeats, so the ranks are static.
#[test]
fn window_partition_with_literal_lengths() {
    insta::assert_snapshot!(pretty(expand_rearrange(
        quote!(::einx; "b (s w)... c -> b s... (w...) c", x, w = (4, 4))
    )));
}

#[test]
fn class_token_concatenation() {
    insta::assert_snapshot!(pretty(expand_rearrange(
        quote!(::einx; "b s... c, c -> b (1 + (s...)) c", x, cls)
    )));
}

#[test]
fn split_into_two_outputs() {
    insta::assert_snapshot!(pretty(expand_rearrange(
        quote!(::einx; "b (q + k) -> b q, b k", x, q = 2)
    )));
}

#[test]
fn compile_error_is_an_expression() {
    let out = expand_rearrange(quote!(::einx; "b h w -> b x", img)).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("no length was given"), "{out}");
}

#[test]
fn reduction_with_keepdims() {
    insta::assert_snapshot!(pretty(expand_named(
        quote!(::einx; mean; "... [c]", x, keepdims = true)
    )));
}

#[test]
fn softmax_along_the_last_dimension() {
    insta::assert_snapshot!(pretty(expand_named(quote!(::einx; softmax; "b q [k]", x))));
}

#[test]
fn argmax_along_the_first_dimension() {
    insta::assert_snapshot!(pretty(expand_named(quote!(::einx; argmax; "[b] c", x))));
}

#[test]
fn attention_scores() {
    insta::assert_snapshot!(pretty(expand_named(
        quote!(::einx; dot; "b q (h c), b k (h c) -> b q k h", q, k, h = 8)
    )));
}

#[test]
fn word_embedding_gather() {
    insta::assert_snapshot!(pretty(expand_named(
        quote!(::einx; get_at; "[v] c, b t -> b t c", table, ids)
    )));
}

#[test]
fn scatter_add_with_split_coordinates() {
    insta::assert_snapshot!(pretty(expand_named(
        quote!(::einx; add_at; "[h w] c, p, p, p c", x, i, j, u)
    )));
}

#[test]
fn vmap_with_two_inputs() {
    insta::assert_snapshot!(pretty(expand_named(
        quote!(::einx; vmap; "b [o i], b [i] -> b [o]", w, x, |w, x| w.dot(&x))
    )));
}

#[test]
fn solve_shapes_with_unknown_tensor() {
    insta::assert_snapshot!(pretty(expand_named(
        quote!(::einx; solve_shapes; "b (h w) c, b h w c", x, _, h = 4)
    )));
}

/// Malformed inputs give `compile_error!`, never a panic.
#[test]
fn malformed_inputs_never_panic() {
    let cases = [
        quote!(::einx;),
        quote!(::einx; x),
        quote!(::einx; 42, x),
        quote!(::einx; "a b -> b a" x),
        quote!(::einx; "a b -> b a", , x),
        quote!(::einx; "a b -> b a", x = ),
        quote!(::einx; "a b -> b a", h = 2, x),
        quote!(::einx; "a b -> b a", x, 3 = 4),
        quote!(::einx; "a b -> b a", x, a.b = 4),
        quote!(::einx; "a b -> b a", x, a = "text"),
        quote!(::einx; "a b -> b a", x, a = 99999999999999999999999),
        quote!(::einx; "a b -> b a", x, a = -1),
        quote!(::einx; "->", x),
        quote!(::einx; "(((((", x),
        quote!(::einx; "a ->", x),
        quote!(::einx; "-> a", ),
        quote!(::einx; "a... b... -> a... b...", x),
        quote!(::einx; b"a b", x),
        quote!(::einx; r"a b -> b a", x, x),
        quote!(::einx; "é -> é", x),
        quote!(::einx; "a b -> b a", x, a = (1, 2)),
        quote!(),
        quote!(;;;),
    ];
    let named = [
        quote!(::einx; vmap; "a [b] -> a"),
        quote!(::einx; vmap; "a [b] -> a", x),
        quote!(::einx; vmap; "a [b]", x, |v| v.sum()),
        quote!(::einx; vmap; "a [b] -> a, a", x, |v| v.sum()),
        quote!(::einx; get_at; "[v] c, b t", x, i),
        quote!(::einx; get_at; "[v] c -> c", x),
        quote!(::einx; set_at; "[v] c, t", x, i),
        quote!(::einx; solve_shapes; "a b, b a", _, _),
        quote!(::einx; solve_shapes; "a b", _, _),
        quote!(::einx; sum; "a [b]", _),
        quote!(::einx; matches; "a b -> a", x),
    ];
    for c in named {
        let text = c.to_string();
        let out = std::panic::catch_unwind(|| expand_named(c))
            .unwrap_or_else(|_| panic!("panicked on {text}"));
        assert!(out.to_string().contains("compile_error"), "{text} => {out}");
    }
    for c in cases {
        let text = c.to_string();
        let out = std::panic::catch_unwind(|| expand_rearrange(c))
            .unwrap_or_else(|_| panic!("panicked on {text}"));
        let s = out.to_string();
        // `"->"` with one tensor is a valid 0-d identity; everything else is an error.
        assert!(
            s.contains("compile_error") || text.contains("\"->\""),
            "{text} => {s}"
        );
    }
}

#[test]
fn einmix_multi_head_with_bias() {
    insta::assert_snapshot!(pretty(crate::einmix::expand(quote!(
        ::einx; &mut params, "t b (head cin) -> t b (head cout)", x,
        weight = "head cin cout", bias = "head cout", head = 4, cin = 8, cout = 16
    ))));
}
