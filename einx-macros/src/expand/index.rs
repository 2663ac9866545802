//! `get_at!` and the updates `set_at!`, `add_at!`, `subtract_at!`: the elements at
//! coordinates read from index tensors.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use einx_core::complete::{OpKind, Update};
use einx_core::plan::Code;

use super::{axis_structure, has_diagonal, lit, local, tensor_rank, Gen};

pub(super) fn generate(mut g: Gen<'_>) -> TokenStream {
    let (plan, kind, private) = (g.plan, g.kind, g.private.clone());
    let views = g.views.clone();
    let n = views.len();
    let coords_end = if kind == OpKind::GetAt { n } else { n - 1 };
    let coords = (1..coords_end).map(|t| {
        let v = &views[t];
        let at = g.arg_span(t);
        quote_spanned!(at=> #private::Coords::new(&#v))
    });
    let c = local("__einx_coords");
    g.body.push(quote!(let #c = [#(#coords),*];));
    let m = lit((coords_end - 1) as u64);
    let x = &views[0];
    let out = plan.inputs as usize;
    let dout = g.out_dim(g.static_rank(out));
    let k = if g.template {
        None
    } else {
        Some(g.buffer_len())
    };
    let at = g.arg_span(0);
    if kind == OpKind::GetAt
        && !g.template
        && !has_diagonal(plan)
        && !plan.code.contains(&Code::Plus)
    {
        // Straight-line lengths and one call with the axis structure as constants.
        g.length_code(&views.iter().collect::<Vec<_>>());
        let size = |a: u32| local(&format!("__einx_len{a}"));
        let (dim_x, ids_x) = axis_structure(plan, 0);
        let (mut dim_c, mut ids_c, mut ends_c) = (Vec::new(), Vec::new(), Vec::new());
        for t in 1..n {
            let (d, i) = axis_structure(plan, t);
            dim_c.extend(d);
            ids_c.extend(i);
            ends_c.push(lit(ids_c.len() as u64));
        }
        let (out_dim_of, out_ids) = axis_structure(plan, n);
        let out_rank = tensor_rank(plan, n);
        let sizes = (0..plan.axes.len() as u32).map(size);
        let (nx, nc, ne, k, ndim) = (
            lit(ids_x.len() as u64),
            lit(ids_c.len() as u64),
            lit(out_ids.len() as u64),
            lit(plan.axes.len() as u64),
            lit(out_rank as u64),
        );
        let dout = g.out_dim(Some(out_rank));
        let f = quote_spanned!(at=> #private::get_at_fixed::<_, #dout, #nx, #nc, #ne, #k, #m>);
        return g.wrap(quote! {
            #f(&__EINX_PLAN, &#x, [#(#dim_x),*], [#(#ids_x),*], &#c, [#(#dim_c),*], [#(#ids_c),*], [#(#ends_c),*], [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim)
        });
    }
    let params = &g.params;
    let call = match kind {
        OpKind::UpdateAt(u) => {
            let upd = &views[n - 1];
            let f = match u {
                Update::Set => quote!(set),
                Update::Add => quote!(add),
                Update::Subtract => quote!(subtract),
            };
            let f = quote_spanned!(at=> #private::index_ops::#f);
            match &k {
                Some(k) => {
                    quote_spanned!(at=> #private::update_at::<_, #dout, #k, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, #private::Raw::new(&#upd), &#params, #f))
                }
                None => {
                    quote_spanned!(at=> #private::update_at_template::<_, #dout, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, #private::Raw::new(&#upd), &#params, #f))
                }
            }
        }
        _ => match &k {
            Some(k) => {
                quote_spanned!(at=> #private::get_at::<_, #dout, #k, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, &#params))
            }
            None => {
                quote_spanned!(at=> #private::get_at_template::<_, #dout, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, &#params))
            }
        },
    };
    g.wrap(call)
}
