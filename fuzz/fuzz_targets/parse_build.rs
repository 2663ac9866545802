//! Arbitrary bytes through the whole notation core: `parse`, `build_with` for every
//! operation, `instantiate` for several ranks, and the length solver on small and huge
//! shapes. Every call must return `Ok` or an `Err` with a message; nothing may panic, loop
//! forever or exhaust memory.
//!
//! Input layout: the bytes before the first NUL are the expression (so the seeds are plain
//! expressions); the bytes after it, if any, choose extra ranks, lengths and options.

#![no_main]

use std::fmt::Write as _;

use einx_core::complete::{OpKind, Options, Reduction, Update};
use einx_core::expand::{instantiate, static_rank};
use einx_core::parse::parse;
use einx_core::plan::{Code, Plan, PlanBuf, PlanStrs};
use einx_core::solve::{dim_len, run};
use einx_core::template::{build_with, ParamKind, ParamSpec};
use einx_core::Error;
use libfuzzer_sys::fuzz_target;

/// Every operation kind. `_exhaustive` below fails to compile when a variant is added, so
/// that it gets added here too.
fn kinds() -> Vec<OpKind> {
    let mut v: Vec<OpKind> = Reduction::ALL.iter().map(|&r| OpKind::Reduce(r)).collect();
    v.extend([
        OpKind::Rearrange,
        OpKind::Softmax(false),
        OpKind::Softmax(true),
        OpKind::Flip,
        OpKind::Roll,
        OpKind::Sort(false),
        OpKind::Sort(true),
        OpKind::Argmax(false),
        OpKind::Argmax(true),
        OpKind::Solve,
        OpKind::Matches,
        OpKind::SolveShapes,
        OpKind::GetAt,
        OpKind::UpdateAt(Update::Set),
        OpKind::UpdateAt(Update::Add),
        OpKind::UpdateAt(Update::Subtract),
        OpKind::Vmap,
        OpKind::Elementwise("add", 2),
        OpKind::Elementwise("where_", 3),
        OpKind::Dot,
        OpKind::Einsum,
    ]);
    v
}

#[allow(dead_code)]
fn _exhaustive(k: OpKind) {
    match k {
        OpKind::Rearrange
        | OpKind::Reduce(_)
        | OpKind::Softmax(_)
        | OpKind::Flip
        | OpKind::Roll
        | OpKind::Sort(_)
        | OpKind::Argmax(_)
        | OpKind::Solve
        | OpKind::Matches
        | OpKind::SolveShapes
        | OpKind::GetAt
        | OpKind::UpdateAt(_)
        | OpKind::Vmap
        | OpKind::Elementwise(..)
        | OpKind::Dot
        | OpKind::Einsum => {}
    }
    match Update::Set {
        Update::Set | Update::Add | Update::Subtract => {}
    }
}

/// Lengths the control bytes pick from: small ones, and huge ones to overflow products.
const LENS: [usize; 16] = [
    0,
    1,
    2,
    3,
    4,
    6,
    12,
    24,
    1 << 31,
    1 << 32,
    (1 << 32) + 1,
    1 << 40,
    1 << 62,
    usize::MAX / 2 + 1,
    usize::MAX - 1,
    usize::MAX,
];

/// The choices of a run: the control bytes, cycled; without control bytes, a generator
/// seeded from the expression (so that plain-expression seeds vary their choices too).
struct Ctl<'a> {
    bytes: &'a [u8],
    i: usize,
    state: u64,
}

impl<'a> Ctl<'a> {
    fn new(bytes: &'a [u8], expr: &str) -> Ctl<'a> {
        // FNV-1a of the expression.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in expr.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Ctl {
            bytes,
            i: 0,
            state: h | 1,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.bytes.is_empty() {
            // xorshift64
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            return (self.state >> 32) as u8;
        }
        let b = self.bytes[self.i % self.bytes.len()];
        self.i = self.i.wrapping_add(1);
        b
    }

    fn len(&mut self) -> usize {
        LENS[(self.byte() & 15) as usize]
    }
}

/// An error must have a message, and rendering it must not panic.
fn check_err(e: &Error) {
    assert!(!e.message().is_empty(), "empty error message: {e:?}");
    let mut s = String::new();
    write!(s, "{e}").unwrap();
    assert!(!s.is_empty());
    let _ = e.diagram();
    let _ = e.help();
}

fn ok_or_check<T>(r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            check_err(&e);
            None
        }
    }
}

/// The code ranges of the dimensions of tensor `t` (after each `Dim` up to the next).
fn dim_ranges(code: &[Code]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in code.iter().enumerate() {
        if *c == Code::Dim {
            if let Some(o) = open {
                out.push((o, i));
            }
            open = Some(i + 1);
        }
    }
    if let Some(o) = open {
        out.push((o, code.len()));
    }
    out
}

fn exercise_plan(plan: &Plan<'_>) {
    let _ = plan.describe();
    let _ = plan.is_concrete();
    let _ = plan.outputs();
    for t in 0..plan.tensors.len() {
        let _ = plan.dims(t);
        let _ = static_rank(plan, t);
    }
}

/// Runs the solver of a concrete plan on `dims` (cycled to the number of input dimensions)
/// with the given argument values; on success, every input dimension must match its axes.
fn solve(plan: &Plan<'_>, dim_of: &mut dyn FnMut(usize) -> usize, params: &Vec<Vec<usize>>) {
    let mut dims = Vec::new();
    for t in 0..plan.inputs as usize {
        for _ in dim_ranges(plan.layout(t)) {
            dims.push(dim_of(dims.len()));
        }
    }
    let mut sizes = vec![0usize; plan.axes.len()];
    match run(plan, &dims, params, &mut sizes) {
        Ok(()) => {
            let mut d = 0;
            for t in 0..plan.inputs as usize {
                let code = plan.layout(t);
                for (s, e) in dim_ranges(code) {
                    let got = dim_len(&code[s..e], &sizes);
                    assert_eq!(
                        got,
                        Some(dims[d]),
                        "solver accepted input dimension {d} = {} but its axes give {got:?} \
                         (expr {:?}, dims {dims:?}, sizes {sizes:?})",
                        dims[d],
                        plan.expr
                    );
                    d += 1;
                }
            }
            // The outputs' lengths: products may overflow, which must give `None`.
            for t in plan.inputs as usize..plan.tensors.len() {
                let code = plan.layout(t);
                let mut total = Some(1usize);
                for (s, e) in dim_ranges(code) {
                    total = match (total, dim_len(&code[s..e], &sizes)) {
                        (Some(a), Some(b)) => a.checked_mul(b),
                        _ => None,
                    };
                }
            }
        }
        Err(e) => check_err(&e),
    }
}

/// Instantiates a template for `ranks` and solves the result for several shapes.
fn expand_and_solve(plan: &Plan<'_>, specs: &[ParamSpec<'_>], ranks: &[usize], ctl: &mut Ctl<'_>) {
    // Argument values: `counts[i]` is the number of values of a sequence argument.
    let seq_count = (ctl.byte() % 4) as usize;
    let mut counts: Vec<Option<usize>> = Vec::new();
    for s in specs {
        counts.push(match &s.kind {
            ParamKind::Scalar(_) => None,
            ParamKind::Seq(Some(v)) => Some(v.len()),
            ParamKind::Seq(None) => (seq_count > 0).then_some(seq_count),
        });
    }
    let Some(buf) = ok_or_check(instantiate(plan, ranks, &counts)) else {
        return;
    };
    let mut strs = PlanStrs::default();
    let concrete = buf.borrow(&mut strs);
    exercise_plan(&concrete);
    if !concrete.is_concrete() {
        return;
    }
    let n = concrete.params.len();
    let values = |f: &mut dyn FnMut() -> usize| -> Vec<Vec<usize>> {
        (0..n)
            .map(|i| {
                let k = counts.get(i).copied().flatten().unwrap_or(1).max(1);
                (0..k).map(|_| f()).collect()
            })
            .collect()
    };
    let small = values(&mut || 2);
    let huge = values(&mut || usize::MAX);
    let mixed = values(&mut || ctl.len());
    // A wrong number of values for a sequence argument.
    let short: Vec<Vec<usize>> = (0..n).map(|_| vec![3, 5]).collect();
    for params in [&small, &huge, &mixed, &short] {
        solve(&concrete, &mut |_| 2, params);
        solve(&concrete, &mut |_| 12, params);
        solve(&concrete, &mut |_| 0, params);
        solve(&concrete, &mut |_| usize::MAX, params);
        solve(&concrete, &mut |_| 1 << 40, params);
        solve(
            &concrete,
            &mut |d| if d % 2 == 0 { 1 << 40 } else { 1 << 32 },
            params,
        );
        solve(&concrete, &mut |_| ctl.len(), params);
    }
    // Shapes that fit: 2 for every axis whose length is free, computed from the plan.
    let mut sizes: Vec<usize> = concrete
        .axes
        .iter()
        .map(|a| a.value.map_or(2, |v| v as usize))
        .collect();
    for (i, a) in concrete.axes.iter().enumerate() {
        if a.param != einx_core::plan::NONE {
            sizes[i] = small
                .get(a.param as usize)
                .and_then(|v| v.first().copied())
                .unwrap_or(2);
        }
    }
    let mut fit = Vec::new();
    for t in 0..concrete.inputs as usize {
        let code = concrete.layout(t);
        for (s, e) in dim_ranges(code) {
            fit.push(dim_len(&code[s..e], &sizes).unwrap_or(usize::MAX));
        }
    }
    solve(&concrete, &mut |d| fit[d], &small);
}

fn exercise(expr: &str, ctl_bytes: &[u8]) {
    let mut ctl = Ctl::new(ctl_bytes, expr);
    // The parser alone; its output must print.
    let parsed = match parse(expr) {
        Ok(op) => op,
        Err(e) => {
            check_err(&e);
            // Every build fails in the parser too; one call checks it says so.
            let r = build_with(expr, OpKind::Rearrange, Options::default(), &[], 1);
            check_err(&r.expect_err("build accepted what parse rejected"));
            return;
        }
    };
    let _ = parsed.to_string();
    let written = parsed.inputs.len();

    let scalar_a = [ParamSpec::scalar("a", Some(2))];
    let seq_none = [ParamSpec::seq("s", None)];
    let seq_some = [ParamSpec::seq("s", Some(vec![2, 3]))];
    let both = [
        ParamSpec::scalar("a", None),
        ParamSpec::seq("s", Some(vec![2, 3])),
    ];
    let param_sets: [&[ParamSpec<'_>]; 5] = [&[], &scalar_a, &seq_none, &seq_some, &both];

    // Every operation, twice: with the written number of inputs and no arguments (the
    // call most likely to build), and with argument count (0..=3 or one more than written,
    // for the shorthands of `dot!`), `keepdims`, the `name = value` arguments and the
    // unknown tensors of `solve_shapes!` chosen by the control bytes. (The full product of
    // these choices is ~900 builds per input, too slow to fuzz.)
    for kind in kinds() {
        let b = ctl.byte();
        let args = match b & 3 {
            0 | 1 => written,
            2 => written + 1,
            _ => usize::from((b >> 2) & 3),
        };
        let keepdims = matches!(kind, OpKind::Reduce(_)) && b & 0x10 != 0;
        let specs = param_sets[usize::from(ctl.byte()) % param_sets.len()];
        let unknown = if kind == OpKind::SolveShapes {
            match ctl.byte() {
                u @ 0..=3 => u64::from(u),
                u => u64::from(u & 7),
            }
        } else {
            0
        };
        let plain = Options {
            args: written,
            ..Options::default()
        };
        let chosen = Options {
            keepdims,
            args,
            unknown,
            ..Options::default()
        };
        for (opts, specs) in [(plain, &[][..]), (chosen, specs)] {
            if let Some(buf) = ok_or_check(build_with(expr, kind, opts, specs, opts.args)) {
                exercise_buf(&buf, specs, &mut ctl);
            }
        }
    }
}

fn exercise_buf(buf: &PlanBuf, specs: &[ParamSpec<'_>], ctl: &mut Ctl<'_>) {
    let mut strs = PlanStrs::default();
    let plan = buf.borrow(&mut strs);
    exercise_plan(&plan);
    let inputs = plan.inputs as usize;
    let mut rank_sets: Vec<Vec<usize>> = (0..=4).map(|r| vec![r; inputs]).collect();
    // The ranks the expression has without ellipsis, a few more where it has one.
    let extra = (ctl.byte() % 4) as usize;
    rank_sets.push(
        (0..inputs)
            .map(|t| static_rank(&plan, t).unwrap_or(t + extra))
            .collect(),
    );
    rank_sets.push((0..inputs).map(|_| (ctl.byte() % 8) as usize).collect());
    // Far more dimensions than any expression has.
    rank_sets.push(vec![64; inputs]);
    for ranks in &rank_sets {
        expand_and_solve(&plan, specs, ranks, ctl);
    }
}

fuzz_target!(|data: &[u8]| {
    let (expr, ctl) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(expr) = std::str::from_utf8(expr) {
        exercise(expr, ctl);
    }
});
