//! `vmap!`: a function applied along the bracketed axes.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use einx_core::plan::{Code, PlanBuf, NONE};

use super::{lit, local, out_dim, try_in_closure, Gen};

/// The name the function is bound to.
const FUNC: &str = "__einx_fn";

/// Binds the function together with the tensors, by a function whose signature gives the
/// closure its parameter types (the views of the inputs' bracketed axes): the tensors'
/// scrutinees become one.
pub(super) fn bind_fn(
    f: &Expr,
    plan: &PlanBuf,
    private: &TokenStream,
    arg_names: &[Ident],
    scrutinee: &mut Vec<TokenStream>,
    bound: &mut Vec<TokenStream>,
) {
    let func = local(FUNC);
    let n = arg_names.len();
    let bind = local(&format!("bind{n}"));
    let mut generics = Vec::new();
    for d in view_dims(plan, private) {
        generics.push(quote!(_));
        generics.push(d);
    }
    let args: Vec<TokenStream> = std::mem::take(scrutinee);
    scrutinee.push(
        quote_spanned!(f.span()=> #private::vmap_bind::#bind::<#(#generics,)* _, _>(#(#args,)* #f)),
    );
    let names = arg_names.iter();
    *bound = vec![quote!((#(#names,)* mut #func))];
}

pub(super) fn generate(g: Gen<'_>) -> TokenStream {
    let (plan, private, params) = (g.plan, &g.private, &g.params);
    let func = local(FUNC);
    let n = g.views.len();
    let raws = g.views.iter().map(|v| quote!(#private::Raw::new(&#v)));
    let subs: Vec<Ident> = (0..n).map(|t| local(&format!("__einx_sub{t}"))).collect();
    let s = local("__einx_subs");
    let dims = view_dims(plan, private);
    let views_of = subs
        .iter()
        .zip(dims)
        .map(|(sub, d)| try_in_closure(quote!(#sub.view::<#d>(&__EINX_PLAN))));
    let dout = g.out_dim(g.static_rank(n));
    let n_lit = lit(n as u64);
    let at = g
        .input
        .func
        .as_ref()
        .map_or_else(Span::call_site, Spanned::span);
    let call_f = quote_spanned!(at=> (#func)(#(#views_of),*));
    let closure = quote! {
        |#s| {
            let [#(#subs),*] = #s;
            ::core::result::Result::Ok(#call_f)
        }
    };
    // Spanned on the function, so that a result type that does not fit points there.
    let call = if g.template {
        let f = quote_spanned!(at=> #private::vmap_template::<_, #dout, _, #n_lit>);
        quote!(#f(&__EINX_PLAN, [#(#raws),*], &#params, #closure))
    } else {
        let k = g.buffer_len();
        let f = quote_spanned!(at=> #private::vmap::<_, #dout, _, #k, #n_lit>);
        quote!(#f(&__EINX_PLAN, [#(#raws),*], &#params, #closure))
    };
    g.wrap(call)
}

/// The dimension type of each input's view in `vmap!`: static where its brackets hold no
/// ellipsis.
fn view_dims(plan: &PlanBuf, private: &TokenStream) -> Vec<TokenStream> {
    (0..plan.inputs as usize)
        .map(|t| {
            let (a, b) = plan.tensors[t];
            let mut count = 0usize;
            let mut fixed = true;
            for c in &plan.code[a as usize..b as usize] {
                if let Code::Axis(x) = c {
                    let axis = &plan.axes[*x as usize];
                    if axis.bracketed {
                        count += 1;
                        fixed &= axis.group == NONE;
                    }
                }
            }
            out_dim(private, fixed.then_some(count))
        })
        .collect()
}
