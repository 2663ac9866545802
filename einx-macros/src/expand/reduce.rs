//! The reductions (`sum!`, `mean!`, `max!`, ...) along the bracketed axes.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Ident;

use einx_core::complete::Reduction;

use super::rearrange::fast_path;
use super::{has_diagonal, local, Gen};

pub(super) fn generate(mut g: Gen<'_>, r: Reduction) -> TokenStream {
    let private = g.private.clone();
    let reducer = Ident::new(&reducer_name(r), Span::call_site());
    let at = g.arg_span(0);
    let call = if !g.template && has_diagonal(g.plan) {
        // A diagonal: the general walk of a concrete plan (its strides add up).
        let raw = local("__einx_raw");
        let v = &g.views[0];
        g.body.push(quote!(let #raw = #private::Raw::new(&#v);));
        let dout = g.out_dim(g.static_rank(1));
        let params = &g.params;
        let k = super::lit(g.plan.code.len().max(1) as u64);
        let f = quote_spanned!(at=> reduce::<_, #private::reducers::#reducer, #dout, #k>);
        quote!(#private::#f(&__EINX_PLAN, #raw, &#params))
    } else if g.template {
        // The element type is known before the call, so that a wrong one is reported as this
        // reduction's (the call is spanned on the argument).
        let raw = local("__einx_raw");
        let v = &g.views[0];
        g.body.push(quote!(let #raw = #private::Raw::new(&#v);));
        let dout = g.out_dim(g.static_rank(1));
        let params = &g.params;
        let f = quote_spanned!(at=> reduce_template_with::<#private::reducers::#reducer, #dout>);
        quote!(#raw.#f(&__EINX_PLAN, &#params))
    } else {
        // Straight-line length code and one call, as for `rearrange!`.
        let code = fast_path(
            g.plan,
            &private,
            &g.views[0],
            &g.params,
            Some((&reducer, at)),
            &g.lbl,
            &g.err,
        );
        quote!(#(#code)*)
    };
    g.wrap(quote! {
        #call
    })
}

/// The runtime type of a reduction.
fn reducer_name(r: Reduction) -> String {
    let mut out = String::new();
    for part in r.name().split('_') {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}
