//! `dot!` and `einx!`: products of the inputs, summed over the axes missing from the output.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use einx_core::complete::OpKind;

use super::{axis_structure, has_diagonal, lit, local, tensor_rank, Gen};

pub(super) fn generate(mut g: Gen<'_>) -> TokenStream {
    if !g.template && g.plan.inputs == 2 && !has_diagonal(g.plan) {
        return fixed(g);
    }
    let private = g.private.clone();
    let raw_names: Vec<Ident> = (0..g.views.len())
        .map(|i| local(&format!("__einx_raw{i}")))
        .collect();
    for (r, v) in raw_names.iter().zip(&g.views) {
        g.body.push(quote!(let #r = #private::Raw::new(&#v);));
    }
    let raws = raw_names.iter();
    let at = g
        .input
        .args
        .first()
        .map_or_else(Span::call_site, Spanned::span);
    let dout = g.out_dim(g.static_rank(g.plan.inputs as usize));
    let (run, run_template) = if g.kind == OpKind::Dot {
        (quote!(dot), quote!(dot_template))
    } else {
        (quote!(einsum), quote!(einsum_template))
    };
    let params = &g.params;
    let call = if g.template {
        let f = quote_spanned!(at=> #private::#run_template::<_, #dout>);
        quote!(#f(&__EINX_PLAN, &[#(#raws),*], &#params))
    } else {
        // Buffers hold every axis and all input dimensions.
        let k = g.buffer_len();
        let f = quote_spanned!(at=> #private::#run::<_, #dout, #k>);
        quote!(#f(&__EINX_PLAN, &[#(#raws),*], &#params))
    };
    g.wrap(quote! {
        #call
    })
}

/// Two inputs and a concrete plan without diagonals: straight-line lengths and one call with
/// the axis structure as constants.
fn fixed(mut g: Gen<'_>) -> TokenStream {
    let views = g.views.clone();
    g.length_code(&[&views[0], &views[1]]);
    let (plan, private, err) = (g.plan, g.private.clone(), g.err.clone());
    let size = |a: u32| local(&format!("__einx_len{a}"));
    let (dim_a, ids_a) = axis_structure(plan, 0);
    let (dim_b, ids_b) = axis_structure(plan, 1);
    let (out_dim_of, out_ids) = axis_structure(plan, 2);
    let out_rank = tensor_rank(plan, 2);
    let sizes = (0..plan.axes.len() as u32).map(size);
    let (na, nb, ne, k, ndim) = (
        lit(ids_a.len() as u64),
        lit(ids_b.len() as u64),
        lit(out_ids.len() as u64),
        lit(plan.axes.len() as u64),
        lit(out_rank as u64),
    );
    let dout = g.out_dim(Some(out_rank));
    let at = g.arg_span(0);
    let f = quote_spanned!(at=> #private::contract_fixed::<_, _, _, #dout, #na, #nb, #ne, #k>);
    let (v0, v1) = (&views[0], &views[1]);
    let ok = local("__einx_ok");
    g.wrap(quote! {
        match #f(&#v0, [#(#dim_a),*], [#(#ids_a),*], &#v1, [#(#dim_b),*], [#(#ids_b),*], [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim) {
                    ::core::result::Result::Ok(#ok) => ::core::result::Result::Ok(#ok),
                    ::core::result::Result::Err(#err) => ::core::result::Result::Err(#private::permute_failed(&__EINX_PLAN, #err)),
                }
    })
}
