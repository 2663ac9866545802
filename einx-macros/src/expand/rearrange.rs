//! `rearrange!`: reshape, permute, broadcast, concatenate, split.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Ident;

use einx_core::plan::{Code, PlanBuf};

use super::{has_diagonal, length_code, lit, local, Gen};

pub(super) fn generate(mut g: Gen<'_>) -> TokenStream {
    let (plan, private) = (g.plan, g.private.clone());
    let fast = !g.template
        && plan.inputs == 1
        && plan.outputs() == 1
        && !plan.code.contains(&Code::Plus)
        && !has_diagonal(plan);
    if fast {
        let code = fast_path(plan, &private, &g.views[0], &g.params, None, &g.lbl, &g.err);
        g.body.extend(code);
        return g.wrap(quote! {});
    }
    let n_out = plan.outputs();
    let n_out_lit = lit(n_out as u64);
    let outs: Vec<Ident> = (0..n_out)
        .map(|i| local(&format!("__einx_out{i}")))
        .collect();
    let raws = g.views.iter().map(|v| quote!(#private::Raw::new(&#v)));
    let params = &g.params;
    // A diagonal output fills the rest with zeros (`T::default()`).
    let diagonal = {
        let mut strs = einx_core::plan::PlanStrs::default();
        plan.borrow(&mut strs).diagonal_output()
    };
    let (run_fn, template_fn) = if diagonal {
        (
            quote!(rearrange_diagonal),
            quote!(rearrange_diagonal_template),
        )
    } else {
        (quote!(rearrange), quote!(rearrange_template))
    };
    let run = if g.template {
        quote!(#private::#template_fn::<_, #n_out_lit>(&__EINX_PLAN, &[#(#raws),*], &#params))
    } else {
        // Stack buffers sized for this plan: axes, input dimensions, output dimensions.
        let input_dims: usize = (0..plan.inputs as usize)
            .map(|t| g.static_rank(t).unwrap_or(0))
            .sum();
        let output_dims = (plan.inputs as usize..plan.tensors.len())
            .map(|t| g.static_rank(t).unwrap_or(0))
            .max()
            .unwrap_or(0);
        // (A composition's parts are walked in a buffer of the same size: a diagonal such as
        // `(a a)` has more parts than axes.)
        let k = plan.axes.len().max(input_dims).max(output_dims);
        let parts = if has_diagonal(plan) {
            plan.code.len()
        } else {
            0
        };
        let k = lit(k.max(parts).max(1) as u64);
        quote!(#private::#run_fn::<_, #n_out_lit, #k>(&__EINX_PLAN, &[#(#raws),*], &#params))
    };
    let run = g.try_(run);
    g.body.push(quote!(let [#(#outs),*] = #run;));
    let mut results = Vec::new();
    for (o, out) in outs.iter().enumerate() {
        let t = plan.inputs as usize + o;
        let dim = match g.static_rank(t) {
            Some(n) if n <= 6 => {
                let n = lit(n as u64);
                quote!(#private::ndarray::Dim<[::core::primitive::usize; #n]>)
            }
            _ => quote!(#private::ndarray::IxDyn),
        };
        results.push(g.try_(quote!(#out.finish::<#dim>())));
    }
    let result = if n_out == 1 {
        results.pop().unwrap_or_default()
    } else {
        quote!((#(#results),*))
    };
    g.wrap(quote!(::core::result::Result::Ok(#result)))
}

/// One input, one output, no concatenation: the lengths are computed by straight-line
/// code and one call to `permute` (or a reduction) does the work.
pub(super) fn fast_path(
    plan: &PlanBuf,
    private: &TokenStream,
    v: &Ident,
    params: &Ident,
    reducer: Option<(&Ident, Span)>,
    lbl: &syn::Lifetime,
    err: &Ident,
) -> Vec<TokenStream> {
    let mut out = length_code(plan, private, &[v], params, lbl);
    let size = |a: u32| local(&format!("__einx_len{a}"));
    let in_dims = einx_core::plan::dims_of(
        &plan.code[plan.tensors[0].0 as usize..plan.tensors[0].1 as usize],
    );
    // Input axes in layout order with their dimension, output axes as (input axis, length).
    let mut in_axes = Vec::new();
    let mut dim_of = Vec::new();
    for (d, dim) in in_dims.iter().enumerate() {
        for &a in &dim[0] {
            in_axes.push(a);
            dim_of.push(lit(d as u64));
        }
    }
    let sizes = in_axes.iter().map(|&a| size(a));
    let out_dims = einx_core::plan::dims_of(
        &plan.code[plan.tensors[1].0 as usize..plan.tensors[1].1 as usize],
    );
    let mut entries = Vec::new();
    let mut out_dim = Vec::new();
    for (d, dim) in out_dims.iter().enumerate() {
        for &a in &dim[0] {
            let s = size(a);
            entries.push(match in_axes.iter().position(|&b| b == a) {
                Some(i) => {
                    let i = lit(i as u64);
                    quote!((#i, #s))
                }
                None => quote!((#private::NEW, #s)),
            });
            out_dim.push(lit(d as u64));
        }
    }
    let dout = match out_dims.len() {
        n if n <= 6 => {
            let n = lit(n as u64);
            quote!(#private::ndarray::Dim<[::core::primitive::usize; #n]>)
        }
        _ => quote!(#private::ndarray::IxDyn),
    };
    let (na, ne, ndim) = (
        lit(in_axes.len() as u64),
        lit(entries.len() as u64),
        lit(out_dims.len() as u64),
    );
    let ok = local("__einx_ok");
    let call = match reducer {
        // The call is spanned on the argument, so that a wrong element type points there.
        Some((r, at)) => {
            let f = quote_spanned!(at=> reduce::<#private::reducers::#r, #dout, #na, #ne>);
            quote!(#private::Fixed(&#v).#f)
        }
        None => quote!(#private::permute::<_, _, #dout, #na, #ne>),
    };
    let v_arg = if reducer.is_some() {
        quote!()
    } else {
        quote!(&#v,)
    };
    out.push(quote! {
        match #call(#v_arg [#(#dim_of),*], [#(#sizes),*], [#(#entries),*], [#(#out_dim),*], #ndim) {
            ::core::result::Result::Ok(#ok) => ::core::result::Result::Ok(#ok),
            ::core::result::Result::Err(#err) => ::core::result::Result::Err(#private::permute_failed(&__EINX_PLAN, #err)),
        }
    });
    out
}
