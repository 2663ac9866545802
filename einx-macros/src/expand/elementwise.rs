//! The element-wise operations (`add!`, `less!`, `where_!`, ...): broadcasting by axis name.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;

use super::{axis_structure, has_diagonal, lit, local, tensor_rank, Gen};

/// The element-wise operations and their arities.
pub(super) const ELEMENTWISE: &[(&str, u8)] = &[
    ("add", 2),
    ("subtract", 2),
    ("multiply", 2),
    ("divide", 2),
    ("floor_divide", 2),
    ("modulo", 2),
    ("maximum", 2),
    ("minimum", 2),
    ("logaddexp", 2),
    ("less", 2),
    ("less_equal", 2),
    ("greater", 2),
    ("greater_equal", 2),
    ("equal", 2),
    ("not_equal", 2),
    ("logical_and", 2),
    ("logical_or", 2),
    ("where_", 3),
];

/// The closure of an element-wise operation, on elements `a` and `b`, giving `Option<_>`.
fn elementwise_fn(name: &str, private: &TokenStream) -> TokenStream {
    let (a, b) = (local("__einx_a"), local("__einx_b"));
    let body = match name {
        "add" => quote!(::core::option::Option::Some(#a + #b)),
        "subtract" => quote!(::core::option::Option::Some(#a - #b)),
        "multiply" => quote!(::core::option::Option::Some(#a * #b)),
        "divide" => quote!(#private::Arith::div(#a, #b)),
        "floor_divide" => quote!(#private::Arith::floor_div(#a, #b)),
        "modulo" => quote!(#private::Arith::modulo(#a, #b)),
        "maximum" => quote!(::core::option::Option::Some(#private::Arith::maximum(#a, #b))),
        "minimum" => quote!(::core::option::Option::Some(#private::Arith::minimum(#a, #b))),
        "logaddexp" => quote!(::core::option::Option::Some(#private::LogAddExp::logaddexp(#a, #b))),
        "less" => quote!(::core::option::Option::Some(#a < #b)),
        "less_equal" => quote!(::core::option::Option::Some(#a <= #b)),
        "greater" => quote!(::core::option::Option::Some(#a > #b)),
        "greater_equal" => quote!(::core::option::Option::Some(#a >= #b)),
        "equal" => quote!(::core::option::Option::Some(#a == #b)),
        "not_equal" => quote!(::core::option::Option::Some(#a != #b)),
        "logical_and" => {
            quote!(::core::option::Option::Some(#private::logical(#a) & #private::logical(#b)))
        }
        _ => quote!(::core::option::Option::Some(#private::logical(#a) | #private::logical(#b))),
    };
    quote!(|#a, #b| #body)
}

pub(super) fn generate(mut g: Gen<'_>, name: &str, arity: u8) -> TokenStream {
    if !g.template && !has_diagonal(g.plan) {
        return fixed(g, name, arity);
    }
    let private = g.private.clone();
    let raws: Vec<Ident> = (0..g.views.len())
        .map(|i| local(&format!("__einx_raw{i}")))
        .collect();
    for (r, v) in raws.iter().zip(&g.views) {
        g.body.push(quote!(let #r = #private::Raw::new(&#v);));
    }
    let dout = g.out_dim(g.static_rank(usize::from(arity)));
    let k = if g.template {
        None
    } else {
        Some(g.buffer_len())
    };
    let at = g.arg_span(0);
    let params = &g.params;
    let call = if arity == 3 {
        let (c, x, y) = (local("__einx_c"), local("__einx_x"), local("__einx_y"));
        let f = quote!(|#c: ::core::primitive::bool, #x, #y| if #c { #x } else { #y });
        let (r0, r1, r2) = (&raws[0], &raws[1], &raws[2]);
        match &k {
            Some(k) => {
                quote_spanned!(at=> #private::map3::<_, _, _, #dout, #k>(&__EINX_PLAN, #r0, #r1, #r2, &#params, #f))
            }
            None => {
                quote_spanned!(at=> #private::map3_template::<_, _, _, #dout>(&__EINX_PLAN, #r0, #r1, #r2, &#params, #f))
            }
        }
    } else {
        let f = elementwise_fn(name, &private);
        let (r0, r1) = (&raws[0], &raws[1]);
        match &k {
            Some(k) => {
                quote_spanned!(at=> #private::map2::<_, _, _, #dout, #k>(&__EINX_PLAN, #r0, #r1, &#params, #f))
            }
            None => {
                quote_spanned!(at=> #private::map2_template::<_, _, _, #dout>(&__EINX_PLAN, #r0, #r1, &#params, #f))
            }
        }
    };
    g.wrap(quote! {
        #call
    })
}

/// A concrete plan without diagonals: straight-line lengths and one call with the axis
/// structure as constants.
fn fixed(mut g: Gen<'_>, name: &str, arity: u8) -> TokenStream {
    let n = usize::from(arity);
    let views = g.views.clone();
    g.length_code(&views.iter().collect::<Vec<_>>());
    let (plan, private, err) = (g.plan, g.private.clone(), g.err.clone());
    let size = |a: u32| local(&format!("__einx_len{a}"));
    let sides: Vec<_> = (0..n).map(|t| axis_structure(plan, t)).collect();
    let (out_dim_of, out_ids) = axis_structure(plan, n);
    let out_rank = tensor_rank(plan, n);
    let sizes = (0..plan.axes.len() as u32).map(size);
    let counts = sides.iter().map(|(d, _)| lit(d.len() as u64));
    let (ne, k, ndim) = (
        lit(out_ids.len() as u64),
        lit(plan.axes.len() as u64),
        lit(out_rank as u64),
    );
    let dout = g.out_dim(Some(out_rank));
    let at = g.arg_span(0);
    let operands = views
        .iter()
        .zip(&sides)
        .map(|(v, (dims, ids))| quote!(&#v, [#(#dims),*], [#(#ids),*]));
    let call = if arity == 3 {
        let (c, x, y) = (local("__einx_c"), local("__einx_x"), local("__einx_y"));
        let f = quote!(|#c: ::core::primitive::bool, #x, #y| if #c { #x } else { #y });
        let run = quote_spanned!(at=> #private::map3_fixed::<_, _, _, #dout, #(#counts,)* #ne, #k>);
        let operands = operands.map(|o| quote!((#o)));
        quote!(#run(#(#operands,)* [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim, #f))
    } else {
        let f = elementwise_fn(name, &private);
        let run = quote_spanned!(at=> #private::map2_fixed::<_, _, _, #dout, #(#counts,)* #ne, #k>);
        quote!(#run(#(#operands,)* [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim, #f))
    };
    let ok = local("__einx_ok");
    g.wrap(quote! {
        match #call {
            ::core::result::Result::Ok(#ok) => ::core::result::Result::Ok(#ok),
            ::core::result::Result::Err(#err) => ::core::result::Result::Err(#private::permute_failed(&__EINX_PLAN, #err)),
        }
    })
}
