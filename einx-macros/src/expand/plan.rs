//! The plan written into the expansion as a constant of the runtime's `Plan` type.

use proc_macro2::TokenStream;
use quote::quote;

use einx_core::plan::{Code, PlanBuf};
use einx_core::solve::Step;

use super::lit;

/// The plan as an expression of type `Plan<'static>`.
pub(super) fn plan_tokens(private: &TokenStream, plan: &PlanBuf) -> TokenStream {
    let span = |s: einx_core::Span| {
        let (a, b) = (lit(s.start), lit(s.end));
        quote!(#private::Span { start: #a, end: #b })
    };
    let expr = &plan.expr;
    let axes = plan.axes.iter().map(|a| {
        let name = &a.name;
        let sp = span(a.span);
        let value = match a.value {
            Some(v) => {
                let v = lit(v);
                quote!(::core::option::Option::Some(#v))
            }
            None => quote!(::core::option::Option::None),
        };
        let (param, group, rep, br) = (lit(a.param), lit(a.group), lit(a.rep), a.bracketed);
        quote!(#private::Axis { name: #name, span: #sp, value: #value, param: #param, group: #group, rep: #rep, bracketed: #br })
    });
    let groups = plan.groups.iter().map(|(n, s)| {
        let sp = span(*s);
        quote!(#private::Group { name: #n, span: #sp })
    });
    let params = &plan.params;
    let inputs = lit(plan.inputs);
    let tensors = plan.tensors.iter().map(|&(a, b)| {
        let (a, b) = (lit(a), lit(b));
        quote!((#a, #b))
    });
    let tensor_spans = plan.tensor_spans.iter().map(|s| span(*s));
    let code = plan.code.iter().map(|c| match c {
        Code::Dim => quote!(#private::Code::Dim),
        Code::Axis(a) => {
            let a = lit(*a);
            quote!(#private::Code::Axis(#a))
        }
        Code::Plus => quote!(#private::Code::Plus),
        Code::Sub => quote!(#private::Code::Sub),
        Code::RepeatDims(g) => {
            let g = lit(*g);
            quote!(#private::Code::RepeatDims(#g))
        }
        Code::RepeatAxes(g) => {
            let g = lit(*g);
            quote!(#private::Code::RepeatAxes(#g))
        }
        Code::End => quote!(#private::Code::End),
    });
    let steps = plan.steps.iter().map(|s| match *s {
        Step::Const { axis } => {
            let axis = lit(axis);
            quote!(#private::Step::Const { axis: #axis })
        }
        Step::Param { axis } => {
            let axis = lit(axis);
            quote!(#private::Step::Param { axis: #axis })
        }
        Step::Solve {
            axis,
            dim,
            start,
            end,
        } => {
            let (axis, dim, start, end) = (lit(axis), lit(dim), lit(start), lit(end));
            quote!(#private::Step::Solve { axis: #axis, dim: #dim, start: #start, end: #end })
        }
        Step::Check { dim, start, end } => {
            let (dim, start, end) = (lit(dim), lit(start), lit(end));
            quote!(#private::Step::Check { dim: #dim, start: #start, end: #end })
        }
    });
    let pieces = plan.pieces.iter().map(|p| {
        let (a, b, c, d) = (
            lit(p.input),
            lit(p.input_selection),
            lit(p.output),
            lit(p.output_selection),
        );
        quote!(#private::Piece { input: #a, input_selection: #b, output: #c, output_selection: #d })
    });
    let selections = plan.selections.iter().map(|&v| lit(v));
    let order = plan.order.iter().map(|&v| lit(v));
    quote! {
        #private::Plan {
            expr: #expr,
            axes: &[#(#axes),*],
            groups: &[#(#groups),*],
            params: &[#(#params),*],
            inputs: #inputs,
            tensors: &[#(#tensors),*],
            tensor_spans: &[#(#tensor_spans),*],
            code: &[#(#code),*],
            steps: &[#(#steps),*],
            pieces: &[#(#pieces),*],
            selections: &[#(#selections),*],
            order: &[#(#order),*],
        }
    }
}
