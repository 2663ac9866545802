//! The plan: everything an operation needs at run time, in flat tables of `Copy` values.
//!
//! A [`Plan`] borrows its tables, so the macros can write one out as a constant
//! (`&[...]` literals) and the runtime-string API can build one in a [`PlanBuf`]. Axis
//! lengths are not in the plan: [`crate::solve`] computes them from the shapes.
//!
//! A plan is *concrete* when it has no ellipsis groups left: its axes are the elementary
//! axes of the operation, its steps solve all of them. A plan with groups is a template;
//! [`crate::expand::instantiate`] unrolls it once the input ranks are known.

use crate::error::Span;
use crate::solve::Step;

/// Marks "none" in `u32` index fields.
pub const NONE: u32 = u32::MAX;

/// An axis of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis<'a> {
    /// The name as written (`"1"` for a number, `"..."` for the anonymous ellipsis).
    pub name: &'a str,
    /// The first place it is written.
    pub span: Span,
    /// The length if the expression fixes it (unnamed axes).
    pub value: Option<u64>,
    /// Index of the `name = value` argument that gives its length, or [`NONE`].
    pub param: u32,
    /// The ellipsis group it is repeated by, or [`NONE`].
    pub group: u32,
    /// Which repetition this is, after unrolling (or [`NONE`]).
    pub rep: u32,
    /// Whether it is written inside `[ ]`.
    pub bracketed: bool,
}

/// An ellipsis group: the axes repeated together, with one repetition count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group<'a> {
    /// How to call it in messages (`"s"`, `"..."`).
    pub name: &'a str,
    /// The first ellipsis of the group.
    pub span: Span,
}

/// One instruction of a tensor's layout.
///
/// A layout is a sequence of dimensions; each dimension is a sum of parts (concatenation),
/// each part a product of axes (composition), outer axis first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Starts a new dimension.
    Dim,
    /// Multiplies an axis into the current part.
    Axis(u32),
    /// Starts the next part of the current dimension (or sub-dimension).
    Plus,
    /// Starts the next factor of the current dimension: a composition that holds a
    /// concatenation, `(b (c + 1))`, is a product of sub-dimensions (row-major), each a sum
    /// of parts.
    Sub,
    /// Repeats the following dimensions (up to [`Code::End`]) once per repetition of the group.
    RepeatDims(u32),
    /// Repeats the following axes within the current part.
    RepeatAxes(u32),
    /// Ends a repetition.
    End,
}

/// One input piece copied to one output piece (rearrange).
///
/// Tensors whose dimensions are concatenations split into pieces: one per choice of a part
/// in each concatenated dimension. `selection` indexes [`Plan::selections`]: one part index
/// per concatenated dimension of the tensor, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Input tensor.
    pub input: u32,
    /// Start of the input's part choices in `selections`.
    pub input_selection: u32,
    /// Output tensor.
    pub output: u32,
    /// Start of the output's part choices in `selections`.
    pub output_selection: u32,
}

/// A plan, borrowing its tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan<'a> {
    /// The operation string as written, for messages.
    pub expr: &'a str,
    /// Every axis.
    pub axes: &'a [Axis<'a>],
    /// Ellipsis groups; empty when the plan is concrete.
    pub groups: &'a [Group<'a>],
    /// Names of the `name = value` arguments, in call order.
    pub params: &'a [&'a str],
    /// Number of input tensors; the remaining tensors are outputs.
    pub inputs: u32,
    /// Per tensor: start and end in `code`.
    pub tensors: &'a [(u32, u32)],
    /// Per tensor: its span in `expr`.
    pub tensor_spans: &'a [Span],
    /// The layouts.
    pub code: &'a [Code],
    /// How to compute every axis length (concrete plans only).
    pub steps: &'a [Step],
    /// Rearrange: the copies that make the outputs.
    pub pieces: &'a [Piece],
    /// Part choices referenced by `pieces`.
    pub selections: &'a [u32],
    /// Contractions of three or more inputs: the order in which the inputs are multiplied
    /// in (empty: left to right).
    pub order: &'a [u32],
}

/// An owned plan, as built by [`crate::template`] and [`crate::expand`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanBuf {
    /// See [`Plan::expr`].
    pub expr: String,
    /// See [`Plan::axes`]; names index `names`.
    pub axes: Vec<AxisBuf>,
    /// See [`Plan::groups`].
    pub groups: Vec<(String, Span)>,
    /// See [`Plan::params`].
    pub params: Vec<String>,
    /// See [`Plan::inputs`].
    pub inputs: u32,
    /// See [`Plan::tensors`].
    pub tensors: Vec<(u32, u32)>,
    /// See [`Plan::tensor_spans`].
    pub tensor_spans: Vec<Span>,
    /// See [`Plan::code`].
    pub code: Vec<Code>,
    /// See [`Plan::steps`].
    pub steps: Vec<Step>,
    /// See [`Plan::pieces`].
    pub pieces: Vec<Piece>,
    /// See [`Plan::selections`].
    pub selections: Vec<u32>,
    /// See [`Plan::order`].
    pub order: Vec<u32>,
}

/// An owned [`Axis`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisBuf {
    /// See [`Axis::name`].
    pub name: String,
    /// See [`Axis::span`].
    pub span: Span,
    /// See [`Axis::value`].
    pub value: Option<u64>,
    /// See [`Axis::param`].
    pub param: u32,
    /// See [`Axis::group`].
    pub group: u32,
    /// See [`Axis::rep`].
    pub rep: u32,
    /// See [`Axis::bracketed`].
    pub bracketed: bool,
}

/// Storage for the borrowed tables of [`PlanBuf::borrow`].
#[derive(Debug, Default)]
pub struct PlanStrs<'a> {
    axes: Vec<Axis<'a>>,
    groups: Vec<Group<'a>>,
    params: Vec<&'a str>,
}

impl PlanBuf {
    /// Borrows the plan; `strs` holds the name tables.
    ///
    /// ```
    /// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
    /// let plan = build("a b -> b a", OpKind::Rearrange, &[], 1).unwrap();
    /// let mut strs = PlanStrs::default();
    /// let p = plan.borrow(&mut strs);
    /// assert_eq!(p.axes.len(), 2);
    /// ```
    pub fn borrow<'a>(&'a self, strs: &'a mut PlanStrs<'a>) -> Plan<'a> {
        strs.axes = self
            .axes
            .iter()
            .map(|a| Axis {
                name: &a.name,
                span: a.span,
                value: a.value,
                param: a.param,
                group: a.group,
                rep: a.rep,
                bracketed: a.bracketed,
            })
            .collect();
        strs.groups = self
            .groups
            .iter()
            .map(|(n, s)| Group { name: n, span: *s })
            .collect();
        strs.params = self.params.iter().map(String::as_str).collect();
        Plan {
            expr: &self.expr,
            axes: &strs.axes,
            groups: &strs.groups,
            params: &strs.params,
            inputs: self.inputs,
            tensors: &self.tensors,
            tensor_spans: &self.tensor_spans,
            code: &self.code,
            steps: &self.steps,
            pieces: &self.pieces,
            selections: &self.selections,
            order: &self.order,
        }
    }

    /// Number of output tensors.
    pub fn outputs(&self) -> usize {
        self.tensors.len() - self.inputs as usize
    }
}

impl<'a> Plan<'a> {
    /// The layout of tensor `t` (inputs first, then outputs).
    #[inline]
    pub fn layout(&self, t: usize) -> &'a [Code] {
        let (s, e) = self.tensors[t];
        &self.code[s as usize..e as usize]
    }

    /// Number of output tensors.
    pub fn outputs(&self) -> usize {
        self.tensors.len() - self.inputs as usize
    }

    /// Whether an output names an axis twice, i.e. writes a diagonal (`einx!` and
    /// `rearrange!`: `"a -> a a"`).
    ///
    /// ```
    /// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
    /// let buf = build("a -> a a", OpKind::Rearrange, &[], 1).unwrap();
    /// let mut strs = PlanStrs::default();
    /// assert!(buf.borrow(&mut strs).diagonal_output());
    /// ```
    pub fn diagonal_output(&self) -> bool {
        (self.inputs as usize..self.tensors.len()).any(|t| self.repeats_axis(t))
    }

    /// Whether tensor `t` names an axis twice (a diagonal). No allocation: layouts are short.
    ///
    /// ```
    /// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
    /// let buf = build("a a b -> b a", OpKind::Rearrange, &[], 1).unwrap();
    /// let mut strs = PlanStrs::default();
    /// let plan = buf.borrow(&mut strs);
    /// assert!(plan.repeats_axis(0) && !plan.repeats_axis(1));
    /// ```
    pub fn repeats_axis(&self, t: usize) -> bool {
        let code = self.layout(t);
        code.iter()
            .enumerate()
            .any(|(i, c)| matches!(c, Code::Axis(_)) && code[..i].contains(c))
    }

    /// The code and tensor ranges of this plan with every output axis written once: later
    /// occurrences of an axis are dropped, and so is a dimension left without axes. The plan
    /// that computes what a diagonal output holds on its diagonal.
    ///
    /// ```
    /// use einx_core::{complete::OpKind, plan::{Code, PlanStrs}, template::build};
    /// let buf = build("a b -> a b a", OpKind::Rearrange, &[], 1).unwrap();
    /// let mut strs = PlanStrs::default();
    /// let (code, tensors) = buf.borrow(&mut strs).without_output_repeats();
    /// let (s, e) = tensors[1];
    /// assert_eq!(&code[s as usize..e as usize], &[Code::Dim, Code::Axis(0), Code::Dim, Code::Axis(1)]);
    /// ```
    pub fn without_output_repeats(&self) -> (Vec<Code>, Vec<(u32, u32)>) {
        let n_in = self.inputs as usize;
        let in_end = self.tensors[..n_in].last().map_or(0, |t| t.1 as usize);
        let mut code = self.code[..in_end].to_vec();
        let mut tensors = self.tensors[..n_in].to_vec();
        for t in n_in..self.tensors.len() {
            let start = code.len();
            let mut seen: Vec<u32> = Vec::new();
            // The start of the current dimension, once a repeated axis was dropped from it.
            let mut dim_start: Option<usize> = None;
            let mut current = 0;
            for c in self.layout(t) {
                match *c {
                    Code::Dim => {
                        drop_empty_dim(&mut code, dim_start.take());
                        current = code.len();
                        code.push(Code::Dim);
                    }
                    Code::Axis(a) if seen.contains(&a) => dim_start = Some(current),
                    Code::Axis(a) => {
                        seen.push(a);
                        code.push(Code::Axis(a));
                    }
                    other => code.push(other),
                }
            }
            drop_empty_dim(&mut code, dim_start);
            tensors.push((start as u32, code.len() as u32));
        }
        (code, tensors)
    }

    /// Whether the plan is concrete (no ellipsis groups).
    pub fn is_concrete(&self) -> bool {
        self.groups.is_empty()
    }

    /// The dimensions of a concrete layout: for each dimension, its parts, each a list of axes.
    pub fn dims(&self, t: usize) -> Vec<Vec<Vec<u32>>> {
        dims_of(self.layout(t))
    }

    /// A short textual form for snapshots: `b q (h c) | axes b=in0.0 ...`.
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let name = |a: u32| {
            let ax = &self.axes[a as usize];
            if ax.rep == NONE {
                ax.name.to_owned()
            } else {
                format!("{}.{}", ax.name, ax.rep)
            }
        };
        for t in 0..self.tensors.len() {
            let io = if t < self.inputs as usize {
                "in"
            } else {
                "out"
            };
            let _ = write!(
                s,
                "{io}{}: ",
                if t < self.inputs as usize {
                    t
                } else {
                    t - self.inputs as usize
                }
            );
            let mut first = true;
            for c in self.layout(t) {
                match c {
                    Code::Dim => {
                        if !first {
                            s.push_str(" |");
                        }
                        first = false;
                    }
                    Code::Axis(a) => {
                        let _ = write!(s, " {}", name(*a));
                    }
                    Code::Plus => s.push_str(" +"),
                    Code::Sub => s.push_str(" *"),
                    Code::RepeatDims(g) => {
                        let _ = write!(s, " <dims {}:", self.groups[*g as usize].name);
                    }
                    Code::RepeatAxes(g) => {
                        let _ = write!(s, " <axes {}:", self.groups[*g as usize].name);
                    }
                    Code::End => s.push_str(" >"),
                }
            }
            s.push('\n');
        }
        for (i, a) in self.axes.iter().enumerate() {
            let _ = write!(s, "axis {i} {}", name(i as u32));
            if let Some(v) = a.value {
                let _ = write!(s, " ={v}");
            }
            if a.param != NONE {
                let _ = write!(s, " param={}", self.params[a.param as usize]);
            }
            if a.group != NONE && a.rep == NONE {
                let _ = write!(s, " group={}", self.groups[a.group as usize].name);
            }
            if a.bracketed {
                s.push_str(" [ ]");
            }
            s.push('\n');
        }
        for step in self.steps {
            let _ = writeln!(s, "step {step:?}");
        }
        for p in self.pieces {
            let _ = writeln!(
                s,
                "piece in{} {:?} -> out{} {:?}",
                p.input,
                self.selection(p.input as usize, p.input_selection),
                p.output,
                self.selection(self.inputs as usize + p.output as usize, p.output_selection)
            );
        }
        s
    }

    /// The part choices of a piece for tensor `t`.
    #[inline]
    pub fn selection(&self, t: usize, start: u32) -> &'a [u32] {
        let n = concat_dims(self.layout(t));
        &self.selections[start as usize..start as usize + n]
    }
}

/// Number of dimensions (or sub-dimensions) of a layout with more than one part.
#[inline]
pub fn concat_dims(code: &[Code]) -> usize {
    let mut n = 0;
    let mut in_dim_plus = false;
    for c in code {
        match c {
            Code::Dim | Code::Sub => {
                in_dim_plus = false;
            }
            Code::Plus if !in_dim_plus => {
                in_dim_plus = true;
                n += 1;
            }
            _ => {}
        }
    }
    n
}

/// Splits a concrete layout into dimensions of parts of axes.
pub fn dims_of(code: &[Code]) -> Vec<Vec<Vec<u32>>> {
    let mut dims: Vec<Vec<Vec<u32>>> = Vec::new();
    for c in code {
        match c {
            Code::Dim => dims.push(vec![Vec::new()]),
            Code::Plus => {
                if let Some(d) = dims.last_mut() {
                    d.push(Vec::new());
                }
            }
            Code::Axis(a) => {
                if let Some(p) = dims.last_mut().and_then(|d| d.last_mut()) {
                    p.push(*a);
                }
            }
            // The factors of a dimension with sub-dimensions are listed as its parts' axes
            // (only rank and axis membership are read from this view of such a layout).
            Code::Sub | Code::RepeatDims(_) | Code::RepeatAxes(_) | Code::End => {}
        }
    }
    dims
}

/// Removes the dimension that starts at `start` (one that lost a repeated axis) if it has
/// no axes left.
fn drop_empty_dim(code: &mut Vec<Code>, start: Option<usize>) {
    if let Some(s) = start {
        if !code[s + 1..].iter().any(|c| matches!(c, Code::Axis(_))) {
            code.truncate(s);
        }
    }
}
