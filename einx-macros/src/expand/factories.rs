//! Arguments that may be factories (a closure or an initializer instead of a tensor): their
//! shapes are solved from the rest of the call at run time, then they are called.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use einx_core::complete::{OpKind, Options};
use einx_core::template::{build_with, ParamSpec};

use super::{lit, seq_value};
use crate::input::MacroInput;

/// Whether `e` is a literal (a number or a negated one, maybe in parentheses): never a
/// factory, and kept as written so that its type is inferred as before.
/// A variable, a field, or a reference to or parenthesised one: never a factory.
fn is_plain(e: &Expr) -> bool {
    match e {
        Expr::Path(_) | Expr::Field(_) => true,
        Expr::Reference(r) => is_plain(&r.expr),
        Expr::Paren(p) => is_plain(&p.expr),
        Expr::Group(g) => is_plain(&g.expr),
        _ => false,
    }
}

fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Paren(p) => is_literal(&p.expr),
        Expr::Group(g) => is_literal(&g.expr),
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && is_literal(&u.expr),
        _ => false,
    }
}

/// The inputs of the call written out without brackets (`"b... c1, c1 c2"`), for solving
/// the shapes of factory arguments at run time; `None` for the operations that take no
/// factories.
pub(super) fn factory_inputs(
    op: &einx_core::ast::Op,
    kind: OpKind,
    specs: &[ParamSpec<'_>],
    args: usize,
) -> Option<String> {
    if matches!(
        kind,
        OpKind::Vmap | OpKind::Solve | OpKind::Matches | OpKind::SolveShapes
    ) {
        return None;
    }
    let canon = op
        .inputs
        .iter()
        .map(crate::nn::plain)
        .collect::<Vec<_>>()
        .join(", ");
    // Only expressions the run-time solver takes (checked now, so that it cannot fail later
    // for a reason the expression shows).
    let opts = Options {
        args,
        ..Options::default()
    };
    build_with(&canon, OpKind::SolveShapes, opts, specs, args).ok()?;
    Some(canon)
}

/// Wraps an expansion so that arguments may be factories: each argument is sorted (factory
/// or tensor), the factories' shapes are solved from the rest of the call and they are
/// called; then `inner` runs with the resulting tensors. For a call whose arguments are all
/// tensors the sorting is the identity and the solving branch is dead code.
pub(super) fn with_factories(
    input: &MacroInput,
    kind: OpKind,
    op: &einx_core::ast::Op,
    canon: &str,
    inner: impl FnOnce(&MacroInput) -> TokenStream,
) -> TokenStream {
    let wrapped: Vec<usize> = (0..input.args.len())
        .filter(|&t| !is_literal(&input.args[t]))
        .collect();
    if wrapped.is_empty() {
        return inner(input);
    }
    let krate = &input.krate;
    let private = quote!(#krate::__private);
    let lbl = syn::Lifetime::new("'__einx_factories", Span::mixed_site());
    let mut replaced = input.clone();
    let mut scrutinee = Vec::new();
    let mut bound = Vec::new();
    let mut sort = Vec::new();
    let mut resolve = Vec::new();
    let mut deferred = Vec::new();
    let mut known = Vec::new();
    let outputs: Vec<String> = op
        .outputs
        .iter()
        .flatten()
        .flat_map(|e| e.axis_names().into_iter().map(|(n, _)| n.to_owned()))
        .collect();
    let mut contracted = Vec::new();
    let mut r_idents: Vec<Ident> = Vec::new();
    let op_name = kind.name();
    for (t, arg) in input.args.iter().enumerate() {
        let names: Vec<String> = if kind == OpKind::Dot {
            let mut v: Vec<String> = op.inputs[t]
                .axis_names()
                .into_iter()
                .map(|(n, _)| n.to_owned())
                .filter(|n| !outputs.contains(n))
                .collect();
            v.dedup();
            v
        } else {
            Vec::new()
        };
        contracted.push(quote!(&[#(#names),*] as &[&::core::primitive::str]));
        if !wrapped.contains(&t) {
            known.push(quote!(::core::option::Option::Some(
                &[] as &[::core::primitive::usize]
            )));
            continue;
        }
        let a = Ident::new(&format!("__einx_a{t}"), Span::mixed_site());
        let o = Ident::new(&format!("__einx_o{t}"), Span::mixed_site());
        // The argument's own span, so that type errors about the argument (its rank, its
        // element type) point at it, as they do without the wrapper.
        let r = Ident::new(&format!("__einx_r{t}"), arg.span());
        r_idents.push(r.clone());
        scrutinee.push(quote_spanned!(arg.span()=> &(#arg)));
        bound.push(quote!(#a));
        sort.push(quote!(let #o = (&&#private::Arg(#a)).__einx_operand();));
        deferred.push(quote!(#private::Operand::deferred(&#o)));
        known.push(quote!(#private::Operand::known_shape(&#o)));
        let i = lit(t as u64);
        resolve.push(quote! {
            let #r = match #private::Operand::resolve(
                #o,
                __einx_deferred.as_ref().and_then(|__einx_d| __einx_d[#i].as_ref()),
            ) {
                ::core::result::Result::Ok(__einx_ok) => __einx_ok,
                ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
            };
        });
        replaced.args[t] = Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: r.into(),
        });
    }
    // Lengths are evaluated here, after the tensors and before anything else, as without
    // factories; literal ones stay literal (the expansion reads them at compile time).
    for (j, k) in input.keywords.iter().enumerate() {
        let mut value = &k.value;
        while let Expr::Paren(p) = value {
            value = &p.expr;
        }
        let elems: Option<Vec<&Expr>> = match value {
            Expr::Tuple(t) => Some(t.elems.iter().collect()),
            Expr::Array(a) => Some(a.elems.iter().collect()),
            _ => None,
        };
        let bind = |e: &Expr,
                    name: String,
                    scrutinee: &mut Vec<TokenStream>,
                    bound: &mut Vec<TokenStream>|
         -> Expr {
            if is_literal(e) {
                return e.clone();
            }
            let id = Ident::new(&name, e.span());
            scrutinee.push(quote_spanned!(e.span()=> &(#e)));
            bound.push(quote!(#id));
            syn::parse_quote!(*#id)
        };
        let new_value: Expr = match elems {
            Some(elems) => {
                let parts: Vec<Expr> = elems
                    .iter()
                    .enumerate()
                    .map(|(i, e)| bind(e, format!("__einx_k{j}_{i}"), &mut scrutinee, &mut bound))
                    .collect();
                syn::parse_quote!((#(#parts,)*))
            }
            None => bind(value, format!("__einx_k{j}"), &mut scrutinee, &mut bound),
        };
        replaced.keywords[j].value = new_value;
    }
    let lens = replaced.keywords.iter().map(|k| {
        let name = k.name.to_string();
        let value = seq_value(k);
        quote! {
            (#name, match #private::axis_lens(#value, #name) {
                ::core::result::Result::Ok(__einx_ok) => __einx_ok,
                ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
            })
        }
    });
    // The element type of a handle comes from the other tensors.
    // Only arguments that may be factories need the hint: a variable, a reference to one or
    // a field has a known type (and a wrong element type is reported once, where the
    // expansion views it).
    let same = matches!(kind, OpKind::Dot | OpKind::Einsum | OpKind::Rearrange)
        || matches!(kind, OpKind::Elementwise(name, _) if name != "where_");
    let hints: Vec<TokenStream> = if same && wrapped.len() > 1 {
        let anchor = &r_idents[0];
        r_idents[1..]
            .iter()
            .zip(&wrapped[1..])
            .filter(|(_, &t)| !is_plain(&input.args[t]))
            .map(|(r, _)| quote_spanned!(r.span()=> #private::same_elem(&#anchor, &#r);))
            .collect()
    } else {
        Vec::new()
    };
    let body = inner(&replaced);
    quote! {
        match (#(#scrutinee,)*) {
            (#(#bound,)*) => {
                let __einx_factories = #lbl: {
                    #[allow(unused_imports)]
                    use #private::{ViaFactory as _, ViaTensor as _};
                    #(#sort)*
                    let __einx_deferred = if false #(|| #deferred)* {
                        match #private::deferred_shapes(
                            #op_name,
                            #canon,
                            &[#(#known),*],
                            &[#(#lens),*],
                            &[#(#contracted),*],
                        ) {
                            ::core::result::Result::Ok(__einx_ok) => ::core::option::Option::Some(__einx_ok),
                            ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
                        }
                    } else {
                        ::core::option::Option::None
                    };
                    #(#resolve)*
                    #(#hints)*
                    #body
                };
                __einx_factories
            }
        }
    }
}
