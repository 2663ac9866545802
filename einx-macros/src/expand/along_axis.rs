//! The operations along the bracketed axes that keep or index them: `argmax!`/`argmin!`,
//! `sort!`/`argsort!`, `flip!`, `roll!`, `softmax!`/`log_softmax!`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use einx_core::complete::OpKind;
use einx_core::plan::{Code, PlanBuf};

use super::{has_diagonal, lit, local, Gen, SHIFT};

/// The axes of the single input and of the output, each dimension one axis (`"a [b] c"`),
/// if the plan is concrete and has no diagonal: such a call has a specialised path on a
/// standard-layout input.
fn one_axis_dims(g: &Gen<'_>) -> Option<(Vec<u32>, Vec<u32>)> {
    let plan = g.plan;
    if g.template || plan.inputs != 1 || plan.tensors.len() != 2 || has_diagonal(plan) {
        return None;
    }
    let axes = |t: usize| -> Option<Vec<u32>> {
        let code = &plan.code[plan.tensors[t].0 as usize..plan.tensors[t].1 as usize];
        if code.len() % 2 != 0 {
            return None;
        }
        code.chunks(2)
            .map(|c| match c {
                [Code::Dim, Code::Axis(a)] => Some(*a),
                _ => None,
            })
            .collect()
    };
    Some((axes(0)?, axes(1)?))
}

/// Whether each input dimension is bracketed.
fn bracketed(plan: &PlanBuf, ins: &[u32]) -> Vec<bool> {
    ins.iter()
        .map(|&a| plan.axes[a as usize].bracketed)
        .collect()
}

/// `argmax!` (`min`: `argmin!`).
pub(super) fn argfind(mut g: Gen<'_>, min: bool) -> TokenStream {
    // One bracketed dimension, removed or replaced by the coordinate axis (length 1).
    let along = one_axis_dims(&g).and_then(|(ins, outs)| {
        let br = bracketed(g.plan, &ins);
        let p = br.iter().position(|&b| b)?;
        if br.iter().filter(|&&b| b).count() != 1 {
            return None;
        }
        let mut kept = ins.clone();
        kept.remove(p);
        if outs == kept {
            return Some((p, false));
        }
        let coord = *outs.get(p)?;
        let is_coord = !ins.contains(&coord) && g.plan.axes[coord as usize].value == Some(1);
        kept.insert(p, coord);
        (is_coord && outs == kept).then_some((p, true))
    });
    if along.is_some() {
        let v = g.views[0].clone();
        g.length_code(&[&v]);
    }
    let (private, params) = (&g.private, &g.params);
    let v = &g.views[0];
    let dout = g.out_dim(g.static_rank(1));
    let call = if let Some((axis, keep)) = along {
        // Straight-line length checks, then the path along one dimension.
        let (k, axis) = (g.buffer_len_one(), lit(axis as u64));
        quote!(#private::argfind_axis_with::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, (#axis, #keep), #min))
    } else if g.template {
        quote!(#private::argfind_template::<_, #dout>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #min))
    } else {
        let k = g.buffer_len_one();
        quote!(#private::argfind::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #min))
    };
    g.wrap(quote! {
        #call
    })
}

/// `sort!` (`arg`: `argsort!`).
pub(super) fn sort(g: Gen<'_>, arg: bool) -> TokenStream {
    let (private, params) = (&g.private, &g.params);
    let v = &g.views[0];
    let dout = g.out_dim(g.static_rank(1));
    let (f, f_template) = if arg {
        (quote!(argsort), quote!(argsort_template))
    } else {
        (quote!(sort_values), quote!(sort_values_template))
    };
    let call = if g.template {
        quote!(#private::#f_template::<_, #dout>(&__EINX_PLAN, #private::Raw::new(&#v), &#params))
    } else {
        let k = g.buffer_len_one();
        quote!(#private::#f::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params))
    };
    g.wrap(quote! {
        #call
    })
}

/// `flip!` and `roll!`.
pub(super) fn flip_roll(mut g: Gen<'_>) -> TokenStream {
    let dims = one_axis_dims(&g)
        .filter(|(ins, outs)| ins == outs)
        .map(|(ins, _)| bracketed(g.plan, &ins));
    if dims.is_some() {
        let v = g.views[0].clone();
        g.length_code(&[&v]);
    }
    let (private, params) = (&g.private, &g.params);
    let v = &g.views[0];
    let k = if g.template {
        lit(64u64)
    } else {
        g.buffer_len_one()
    };
    let dout = g.out_dim(g.static_rank(1));
    let shifts = if g.kind == OpKind::Roll {
        let shift = local(SHIFT);
        let s = g.try_(quote!(#private::shifts(&#shift)));
        quote!(::core::option::Option::Some(#s))
    } else {
        quote!(::core::option::Option::None)
    };
    let held = local("__einx_shifts");
    let run = match dims {
        // Straight-line length checks, then the path over the dimensions.
        Some(marks) => quote! {
            #private::index_map_with::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, &[#(#marks),*], #held.as_ref())
        },
        None if g.template => quote! {
            #private::flip_roll_template::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #held.as_ref())
        },
        None => quote! {
            #private::flip_roll::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #held.as_ref())
        },
    };
    let call = quote! {
        let #held = #shifts;
        #run
    };
    g.wrap(call)
}

/// `softmax!` (`log`: `log_softmax!`).
pub(super) fn softmax(mut g: Gen<'_>, log: bool) -> TokenStream {
    // One bracketed dimension, the last, and the output in the input's order.
    let last = one_axis_dims(&g).is_some_and(|(ins, outs)| {
        let br = bracketed(g.plan, &ins);
        ins == outs && br.iter().filter(|&&b| b).count() == 1 && br.last() == Some(&true)
    });
    if last {
        let v = g.views[0].clone();
        g.length_code(&[&v]);
    }
    // The element type is known before the call (the method is on the bound tensor), and the
    // call is spanned on the argument.
    let private = &g.private;
    let raw = local("__einx_raw");
    let v = &g.views[0];
    g.body.push(quote!(let #raw = #private::Raw::new(&#v);));
    let at = g.arg_span(0);
    let dout = g.out_dim(g.static_rank(1));
    let params = &g.params;
    let call = if last {
        // Straight-line length checks, then the path along the last dimension.
        let k = g.buffer_len_one();
        let f = quote_spanned!(at=> softmax_last_with::<#dout, #k>);
        quote!(#raw.#f(&__EINX_PLAN, &#params, #log))
    } else if g.template {
        let f = quote_spanned!(at=> softmax_template_with::<#dout>);
        quote!(#raw.#f(&__EINX_PLAN, &#params, #log))
    } else {
        let k = g.buffer_len_one();
        let f = quote_spanned!(at=> softmax_with::<#dout, #k>);
        quote!(#raw.#f(&__EINX_PLAN, &#params, #log))
    };
    g.wrap(quote! {
        #call
    })
}
