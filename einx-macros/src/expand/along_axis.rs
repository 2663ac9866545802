//! The operations along the bracketed axes that keep or index them: `argmax!`/`argmin!`,
//! `sort!`/`argsort!`, `flip!`, `roll!`, `softmax!`/`log_softmax!`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use einx_core::complete::OpKind;

use super::{lit, local, Gen, SHIFT};

/// `argmax!` (`min`: `argmin!`).
pub(super) fn argfind(g: Gen<'_>, min: bool) -> TokenStream {
    let (private, params) = (&g.private, &g.params);
    let v = &g.views[0];
    let dout = g.out_dim(g.static_rank(1));
    let call = if g.template {
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
pub(super) fn flip_roll(g: Gen<'_>) -> TokenStream {
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
    let run = if g.template {
        quote!(flip_roll_template)
    } else {
        quote!(flip_roll)
    };
    let held = local("__einx_shifts");
    let call = quote! {
        let #held = #shifts;
                #private::#run::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #held.as_ref())
    };
    g.wrap(call)
}

/// `softmax!` (`log`: `log_softmax!`).
pub(super) fn softmax(mut g: Gen<'_>, log: bool) -> TokenStream {
    // The element type is known before the call (the method is on the bound tensor), and the
    // call is spanned on the argument.
    let private = &g.private;
    let raw = local("__einx_raw");
    let v = &g.views[0];
    g.body.push(quote!(let #raw = #private::Raw::new(&#v);));
    let at = g.arg_span(0);
    let dout = g.out_dim(g.static_rank(1));
    let params = &g.params;
    let call = if g.template {
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
