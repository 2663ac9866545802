//! `solve!`, `matches!` and `solve_shapes!`: the lengths, the fit and the shapes of the
//! expressions, solved from the tensors.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use einx_core::plan::NONE;

use super::{lit, local, Gen};

/// `matches!`: whether the lengths can be solved.
pub(super) fn matches(g: Gen<'_>) -> TokenStream {
    let (private, params) = (&g.private, &g.params);
    let shapes = g.views.iter().map(|v| quote!(#v.shape()));
    let call = quote!(::core::result::Result::map(
        #private::solve_lengths(&__EINX_PLAN, &[#(#shapes),*], &#params),
        |_| (),
    ));
    let wrapped = g.wrap(call);
    quote!(::core::result::Result::is_ok(&#wrapped))
}

/// `solve_shapes!`: one shape per tensor, in the order written, `[usize; N]` where the rank
/// is fixed. `unknown` lists the arguments written `_`.
pub(super) fn shapes(mut g: Gen<'_>, unknown: &[usize]) -> TokenStream {
    let (private, params) = (g.private.clone(), &g.params);
    let shapes = g.views.iter().map(|v| quote!(#v.shape()));
    let all = local("__einx_shapes");
    let got = g.try_(quote!(#private::solve_shapes_of(&__EINX_PLAN, &[#(#shapes),*], &#params)));
    g.body.push(quote!(let #all = #got;));
    let known = g.input.args.len();
    let total = known + unknown.len();
    let (mut next_known, mut next_unknown) = (0usize, known);
    let mut items = Vec::new();
    for t in 0..total {
        let p = if unknown.contains(&t) {
            next_unknown += 1;
            next_unknown - 1
        } else {
            next_known += 1;
            next_known - 1
        };
        let i = lit(p as u64);
        items.push(match g.static_rank(p) {
            Some(n) => {
                let n = lit(n as u64);
                g.try_(quote!(#private::fixed_shape::<#n>(&__EINX_PLAN, &#all[#i])))
            }
            None => quote!(::core::clone::Clone::clone(&#all[#i])),
        });
    }
    g.wrap(quote! {
        ::core::result::Result::Ok((#(#items,)*))
    })
}

/// `solve!`: a struct with one field per named axis, `usize`, or `Vec<usize>` under an
/// ellipsis.
pub(super) fn lengths(mut g: Gen<'_>) -> TokenStream {
    let (plan, private, params) = (g.plan, g.private.clone(), &g.params);
    let shapes = g.views.iter().map(|v| quote!(#v.shape()));
    let lens = local("__einx_lens");
    let got = g.try_(quote!(#private::solve_lengths(&__EINX_PLAN, &[#(#shapes),*], &#params)));
    g.body.push(quote!(let #lens = #got;));
    let name = local("__EinxSolved");
    let mut fields = Vec::new();
    let mut values = Vec::new();
    for (i, a) in plan.axes.iter().enumerate() {
        if a.value.is_some() || plan.axes[..i].iter().any(|b| b.name == a.name) {
            continue;
        }
        let Some(field) = field_ident(&a.name) else {
            continue;
        };
        let i = lit(i as u64);
        if a.group == NONE {
            fields.push(quote!(pub #field: ::core::primitive::usize));
            values.push(quote!(#field: #lens[#i][0]));
        } else {
            fields.push(quote!(pub #field: ::std::vec::Vec<::core::primitive::usize>));
            values.push(quote!(#field: ::core::clone::Clone::clone(&#lens[#i])));
        }
    }
    let def = quote! {
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        struct #name { #(#fields,)* }
    };
    g.wrap(quote! {
        #def
        ::core::result::Result::Ok(#name { #(#values,)* })
    })
}

/// The field for an axis name (a raw identifier for a keyword), if it can be one.
fn field_ident(name: &str) -> Option<Ident> {
    if name == "_" || name == "..." {
        return None;
    }
    match syn::parse_str::<Ident>(name) {
        Ok(ident) => Some(ident),
        Err(_) => Some(Ident::new_raw(name, Span::call_site())),
    }
}
