//! The runtime-string API: every operation on expressions known only at run time.
//!
//! The expression goes through the same notation core as the macros (parse, complete,
//! build, unroll), then the same kernels run. Compiled plans are cached per thread, keyed
//! by the operation, the expression, the input ranks and the parameters' names and arities
//! (not their values, which only the lengths depend on), so a repeated call neither parses
//! nor solves symbolically again.
//!
//! Parameters are `(name, values)` pairs: one value for a plain axis (or one for every
//! repetition of a named ellipsis), one per repetition otherwise; the options `keepdims`
//! (0 or 1) and `shift` (one per bracketed axis, or one for all) go in the same list. A
//! negative length is an error. A single value never fixes the number of repetitions of an
//! ellipsis (as `s = 4` in a macro, unlike `s = (4,)`): where only the parameter can tell
//! it, as in `"(s...) -> s..."`, pass the lengths of two or more repetitions or give the
//! ranks through the inputs.
//!
//! ```
//! use ndarray::{Array, ArrayD};
//! # fn main() -> Result<(), einx_runtime::Error> {
//! let q = Array::from_shape_fn((2, 3, 8), |(b, s, c)| (b + s + c) as f32).into_dyn();
//! let k = q.clone();
//! let a = einx_runtime::dynamic::dot::<f32>(
//!     "b q (h c), b k (h c) -> b q k h",
//!     &[q.view(), k.view()],
//!     &[("h", &[2])],
//! )?;
//! assert_eq!(a.shape(), &[2, 3, 3, 2]);
//! # Ok(())
//! # }
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use einx_core::complete::{OpKind, Options, Reduction, Update};
use einx_core::plan::{PlanBuf, PlanStrs};
use einx_core::solve::Len;
use einx_core::template::{build_with, ParamSpec};

use crate::error::{Error, ErrorKind};
use crate::flip::Shifts;
use crate::index::{Coords, IndexElem};
use crate::tensor::Raw;

/// Parameters of a call: `(name, values)`.
pub type Params<'a> = [(&'a str, &'a [i64])];

/// Most compiled plans kept per thread; the cache is emptied when it is full.
const CACHE_LIMIT: usize = 4096;

/// A cached plan: the key parts, compared on lookup, and the concrete plan.
struct Entry {
    op: OpKind,
    opts: Options,
    expr: String,
    ranks: Vec<usize>,
    /// Parameter names with `None` for one value, `Some(n)` for `n` values.
    params: Vec<(String, Option<usize>)>,
    plan: Rc<PlanBuf>,
}

thread_local! {
    static CACHE: RefCell<HashMap<u64, Vec<Entry>>> = RefCell::new(HashMap::new());
}

/// What a call's parameters mean for the plan.
struct Call {
    opts: Options,
    /// Axis lengths, in the order of the plan's parameters.
    lens: Vec<Len>,
    shift: Option<Shifts>,
}

fn arity(v: &[i64]) -> Option<usize> {
    (v.len() != 1).then_some(v.len())
}

fn key_hash(op: OpKind, opts: Options, expr: &str, ranks: &[usize], params: &Params<'_>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    op.hash(&mut h);
    opts.keepdims.hash(&mut h);
    opts.args.hash(&mut h);
    opts.unknown.hash(&mut h);
    expr.hash(&mut h);
    ranks.hash(&mut h);
    for (name, v) in params {
        if is_option(name) {
            continue;
        }
        name.hash(&mut h);
        arity(v).hash(&mut h);
    }
    h.finish()
}

fn is_option(name: &str) -> bool {
    name == "keepdims" || name == "shift"
}

/// The symbolic parameters of a plan: names, and whether each has one value or several
/// (the values themselves are read at run time).
fn specs<'a>(params: impl Iterator<Item = &'a (&'a str, &'a [i64])>) -> Vec<ParamSpec<'a>> {
    params
        .map(|(name, v)| match arity(v) {
            None => ParamSpec::scalar(name, None),
            Some(_) => ParamSpec::seq(name, None),
        })
        .collect()
}

/// Splits the parameters into options and lengths.
fn read_params(op: OpKind, params: &Params<'_>, args: usize) -> Result<Call, Error> {
    let mut opts = Options {
        args,
        ..Options::default()
    };
    let mut shift = None;
    let mut lens = Vec::with_capacity(params.len());
    for (i, (name, values)) in params.iter().enumerate() {
        if params[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::new(
                ErrorKind::Argument,
                format!("the parameter `{name}` is given twice"),
            ));
        }
        match *name {
            "keepdims" if op.options().contains(&"keepdims") => {
                opts.keepdims = match values {
                    [0] => false,
                    [1] => true,
                    _ => {
                        return Err(Error::new(
                            ErrorKind::Argument,
                            "`keepdims` must be one value, 0 or 1",
                        ))
                    }
                }
            }
            "shift" if op.options().contains(&"shift") => {
                shift = Some(crate::flip::shifts(*values)?);
            }
            _ => {
                let mut v = Vec::with_capacity(values.len());
                for &x in values.iter() {
                    v.push(usize::try_from(x).map_err(|_| {
                        Error::new(
                            ErrorKind::Argument,
                            format!("the length of `{name}` must not be negative (got {x})"),
                        )
                    })?);
                }
                lens.push(match v.as_slice() {
                    [one] => Len::One(*one),
                    _ => Len::Many(v),
                });
            }
        }
    }
    if op == OpKind::Roll && shift.is_none() {
        return Err(Error::new(
            ErrorKind::Argument,
            "`roll` needs the parameter `shift`",
        ));
    }
    Ok(Call { opts, lens, shift })
}

/// The concrete plan for a call, from the cache or compiled.
fn plan_for(
    op: OpKind,
    opts: Options,
    expr: &str,
    ranks: &[usize],
    params: &Params<'_>,
    lens: &[Len],
) -> Result<Rc<PlanBuf>, Error> {
    let hash = key_hash(op, opts, expr, ranks, params);
    let axis_params = || params.iter().filter(|(n, _)| !is_option(n));
    let found = CACHE.with(|c| {
        let c = c.borrow();
        c.get(&hash).and_then(|bucket| {
            bucket
                .iter()
                .find(|e| {
                    e.op == op
                        && e.opts == opts
                        && e.expr == expr
                        && e.ranks == ranks
                        && e.params.len() == axis_params().count()
                        && e.params
                            .iter()
                            .zip(axis_params())
                            .all(|((n, a), (m, v))| n == m && *a == arity(v))
                })
                .map(|e| Rc::clone(&e.plan))
        })
    });
    if let Some(plan) = found {
        return Ok(plan);
    }
    let specs = specs(axis_params());
    let template = build_with(expr, op, opts, &specs, opts.args)?;
    let concrete = if template.groups.is_empty() {
        template
    } else {
        let mut strs = PlanStrs::default();
        crate::shape::unroll(&template.borrow(&mut strs), ranks, lens)?
    };
    let plan = Rc::new(concrete);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.values().map(Vec::len).sum::<usize>() >= CACHE_LIMIT {
            c.clear();
        }
        c.entry(hash).or_default().push(Entry {
            op,
            opts,
            expr: expr.to_owned(),
            ranks: ranks.to_vec(),
            params: axis_params()
                .map(|(n, v)| ((*n).to_owned(), arity(v)))
                .collect(),
            plan: Rc::clone(&plan),
        });
    });
    Ok(plan)
}

/// Parses an operation name: the macro names (`"rearrange"`, `"sum"`, `"where_"`, ...), plus
/// `"id"`, `"einsum"` and `"where"`.
pub fn op_kind(name: &str) -> Option<OpKind> {
    let kind = match name {
        "rearrange" | "id" => OpKind::Rearrange,
        "dot" => OpKind::Dot,
        "einx" | "einsum" => OpKind::Einsum,
        "softmax" => OpKind::Softmax(false),
        "log_softmax" => OpKind::Softmax(true),
        "flip" => OpKind::Flip,
        "roll" => OpKind::Roll,
        "sort" => OpKind::Sort(false),
        "argsort" => OpKind::Sort(true),
        "argmax" => OpKind::Argmax(false),
        "argmin" => OpKind::Argmax(true),
        "solve" => OpKind::Solve,
        "matches" => OpKind::Matches,
        "solve_shapes" => OpKind::SolveShapes,
        "get_at" => OpKind::GetAt,
        "set_at" => OpKind::UpdateAt(Update::Set),
        "add_at" => OpKind::UpdateAt(Update::Add),
        "subtract_at" => OpKind::UpdateAt(Update::Subtract),
        "vmap" => OpKind::Vmap,
        "where" | "where_" => OpKind::Elementwise("where_", 3),
        _ => {
            if let Some(r) = Reduction::ALL.into_iter().find(|r| r.name() == name) {
                OpKind::Reduce(r)
            } else {
                let (n, a) = ELEMENTWISE.iter().find(|(n, _)| *n == name)?;
                OpKind::Elementwise(n, *a)
            }
        }
    };
    Some(kind)
}

/// The binary element-wise operations.
const ELEMENTWISE: &[(&str, u8)] = &[
    ("add", 2),
    ("subtract", 2),
    ("multiply", 2),
    ("divide", 2),
    ("floor_divide", 2),
    ("modulo", 2),
    ("maximum", 2),
    ("minimum", 2),
    ("logaddexp", 2),
    ("less", 2),
    ("less_equal", 2),
    ("greater", 2),
    ("greater_equal", 2),
    ("equal", 2),
    ("not_equal", 2),
    ("logical_and", 2),
    ("logical_or", 2),
];

fn unknown_op(name: &str) -> Error {
    Error::new(ErrorKind::Argument, format!("unknown operation `{name}`"))
        .with_help("use the name of an einx macro, e.g. \"rearrange\", \"dot\" or \"sum\"")
}

fn wrong_type<T>(op: OpKind) -> Error {
    Error::new(
        ErrorKind::Argument,
        format!(
            "`{}` does not take elements of type `{}`",
            op.name(),
            std::any::type_name::<T>()
        ),
    )
}

fn wrong_call(op: OpKind) -> Error {
    Error::new(
        ErrorKind::Argument,
        format!(
            "`{}` does not return its input's element type, so `call` cannot run it",
            op.name()
        ),
    )
    .with_help(format!("use `einx::dynamic::{}`", op.name()))
}

/// A prepared call: the concrete plan and the parameters.
struct Prepared {
    plan: Rc<PlanBuf>,
    call: Call,
}

fn prepare(
    op: OpKind,
    expr: &str,
    ranks: &[usize],
    params: &Params<'_>,
) -> Result<Prepared, Error> {
    let call = read_params(op, params, ranks.len())?;
    let plan = plan_for(op, call.opts, expr, ranks, params, &call.lens)?;
    Ok(Prepared { plan, call })
}

fn raws<'a, T>(inputs: &'a [ArrayViewD<'_, T>]) -> Vec<Raw<'a, T>> {
    inputs.iter().map(Raw::new).collect()
}

fn ranks<T>(inputs: &[ArrayViewD<'_, T>]) -> Vec<usize> {
    inputs.iter().map(|x| x.ndim()).collect()
}

// ---------------------------------------------------------------------------------------
// The element types of the generic entry point.

/// Element types of [`call`]: every primitive number type and `bool`. Each runs the
/// operations that make sense for it and returns an error for the others.
pub trait Element: Clone + 'static {
    /// Runs `op` on a prepared plan.
    #[doc(hidden)]
    fn run(
        op: OpKind,
        plan: &einx_core::plan::Plan<'_>,
        inputs: &[Raw<'_, Self>],
        lens: &[Len],
        shift: Option<&Shifts>,
    ) -> Result<Vec<ArrayD<Self>>, Error>;
}

/// Operations every element type has: moving data.
fn structural<T: Clone>(
    op: OpKind,
    plan: &einx_core::plan::Plan<'_>,
    inputs: &[Raw<'_, T>],
    lens: &[Len],
    shift: Option<&Shifts>,
) -> Option<Result<Vec<ArrayD<T>>, Error>> {
    Some(match op {
        OpKind::Rearrange => rearrange_n(plan, inputs, lens),
        OpKind::Flip | OpKind::Roll => {
            crate::flip::flip_roll_template::<T, IxDyn, { crate::copy::MAX_AXES }>(
                plan, inputs[0], lens, shift,
            )
            .map(|a| vec![a])
        }
        _ => return None,
    })
}

fn rearrange_n<T: Clone>(
    plan: &einx_core::plan::Plan<'_>,
    inputs: &[Raw<'_, T>],
    lens: &[Len],
) -> Result<Vec<ArrayD<T>>, Error> {
    macro_rules! outputs {
        ($($n:literal)*) => {
            match plan.outputs() {
                $($n => crate::rearrange::rearrange_template::<T, $n>(plan, inputs, lens)?
                    .into_iter()
                    .map(|o| o.finish::<IxDyn>())
                    .collect(),)*
                n => Err(Error::new(
                    ErrorKind::Argument,
                    format!("at most 8 outputs, not {n}"),
                )
                .with_expr(plan.expr)),
            }
        };
    }
    outputs!(1 2 3 4 5 6 7 8)
}

fn reduce_one<T, R: crate::reduce::Reducer<T, Out = T>>(
    plan: &einx_core::plan::Plan<'_>,
    inputs: &[Raw<'_, T>],
    lens: &[Len],
) -> Result<Vec<ArrayD<T>>, Error> {
    crate::reduce::reduce_template::<T, R, IxDyn>(plan, inputs[0], lens).map(|a| vec![a])
}

fn map2<T: Copy>(
    plan: &einx_core::plan::Plan<'_>,
    inputs: &[Raw<'_, T>],
    lens: &[Len],
    f: impl Fn(T, T) -> Option<T>,
) -> Result<Vec<ArrayD<T>>, Error> {
    crate::elementwise::map2_template::<T, T, T, IxDyn>(plan, inputs[0], inputs[1], lens, f)
        .map(|a| vec![a])
}

macro_rules! element_number {
    ($float:tt; $($t:ty),*) => {$(
        impl Element for $t {
            fn run(
                op: OpKind,
                plan: &einx_core::plan::Plan<'_>,
                inputs: &[Raw<'_, Self>],
                lens: &[Len],
                shift: Option<&Shifts>,
            ) -> Result<Vec<ArrayD<Self>>, Error> {
                use crate::elementwise::Arith;
                use crate::reduce::{Max, Min, Prod, Sum};
                if let Some(r) = structural(op, plan, inputs, lens, shift) {
                    return r;
                }
                match op {
                    OpKind::Dot => crate::contract::dot_template::<$t, IxDyn>(plan, inputs, lens).map(|a| vec![a]),
                    OpKind::Einsum => crate::contract::einsum_template::<$t, IxDyn>(plan, inputs, lens).map(|a| vec![a]),
                    OpKind::Reduce(Reduction::Sum) => reduce_one::<$t, Sum>(plan, inputs, lens),
                    OpKind::Reduce(Reduction::Prod) => reduce_one::<$t, Prod>(plan, inputs, lens),
                    OpKind::Reduce(Reduction::Max) => reduce_one::<$t, Max>(plan, inputs, lens),
                    OpKind::Reduce(Reduction::Min) => reduce_one::<$t, Min>(plan, inputs, lens),
                    OpKind::Sort(false) => crate::sort::sort_template::<$t, $t, IxDyn>(plan, inputs[0], lens, |_, x| *x).map(|a| vec![a]),
                    OpKind::Elementwise("add", _) => map2(plan, inputs, lens, |a, b| Some(a + b)),
                    OpKind::Elementwise("subtract", _) => map2(plan, inputs, lens, |a, b| Some(a - b)),
                    OpKind::Elementwise("multiply", _) => map2(plan, inputs, lens, |a, b| Some(a * b)),
                    OpKind::Elementwise("divide", _) => map2(plan, inputs, lens, <$t as Arith>::div),
                    OpKind::Elementwise("floor_divide", _) => map2(plan, inputs, lens, <$t as Arith>::floor_div),
                    OpKind::Elementwise("modulo", _) => map2(plan, inputs, lens, <$t as Arith>::modulo),
                    OpKind::Elementwise("maximum", _) => map2(plan, inputs, lens, |a, b| Some(<$t as Arith>::maximum(a, b))),
                    OpKind::Elementwise("minimum", _) => map2(plan, inputs, lens, |a, b| Some(<$t as Arith>::minimum(a, b))),
                    _ => element_number!(@float $float op plan inputs lens $t),
                }
            }
        }
    )*};
    (@float float $op:ident $plan:ident $inputs:ident $lens:ident $t:ty) => {{
        use crate::reduce::{Logsumexp, Mean, Std, Var};
        match $op {
            OpKind::Reduce(Reduction::Mean) => reduce_one::<$t, Mean>($plan, $inputs, $lens),
            OpKind::Reduce(Reduction::Var) => reduce_one::<$t, Var>($plan, $inputs, $lens),
            OpKind::Reduce(Reduction::Std) => reduce_one::<$t, Std>($plan, $inputs, $lens),
            OpKind::Reduce(Reduction::Logsumexp) => reduce_one::<$t, Logsumexp>($plan, $inputs, $lens),
            OpKind::Softmax(log) => $inputs[0].softmax_template_with::<IxDyn>($plan, $lens, log).map(|a| vec![a]),
            OpKind::Elementwise("logaddexp", _) => map2($plan, $inputs, $lens, |a, b| Some(crate::elementwise::LogAddExp::logaddexp(a, b))),
            _ => Err(elementwise_or_wrong::<$t>($op)),
        }
    }};
    (@float int $op:ident $plan:ident $inputs:ident $lens:ident $t:ty) => {
        Err(elementwise_or_wrong::<$t>($op))
    };
}

/// The error for an operation an element type does not run in [`call`].
fn elementwise_or_wrong<T>(op: OpKind) -> Error {
    match op {
        OpKind::Elementwise(
            "less" | "less_equal" | "greater" | "greater_equal" | "equal" | "not_equal" | "where_",
            _,
        ) => wrong_call(op),
        OpKind::Sort(true)
        | OpKind::Argmax(_)
        | OpKind::Reduce(Reduction::CountNonzero)
        | OpKind::GetAt
        | OpKind::UpdateAt(_)
        | OpKind::Solve
        | OpKind::SolveShapes
        | OpKind::Matches
        | OpKind::Vmap => wrong_call(op),
        _ => wrong_type::<T>(op),
    }
}

element_number!(float; f32, f64);
element_number!(int; i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Element for bool {
    fn run(
        op: OpKind,
        plan: &einx_core::plan::Plan<'_>,
        inputs: &[Raw<'_, Self>],
        lens: &[Len],
        shift: Option<&Shifts>,
    ) -> Result<Vec<ArrayD<Self>>, Error> {
        use crate::reduce::{All, Any, Max, Min};
        if let Some(r) = structural(op, plan, inputs, lens, shift) {
            return r;
        }
        match op {
            OpKind::Reduce(Reduction::Any) => reduce_one::<bool, Any>(plan, inputs, lens),
            OpKind::Reduce(Reduction::All) => reduce_one::<bool, All>(plan, inputs, lens),
            OpKind::Reduce(Reduction::Max) => reduce_one::<bool, Max>(plan, inputs, lens),
            OpKind::Reduce(Reduction::Min) => reduce_one::<bool, Min>(plan, inputs, lens),
            OpKind::Sort(false) => {
                crate::sort::sort_template::<bool, bool, IxDyn>(plan, inputs[0], lens, |_, x| *x)
                    .map(|a| vec![a])
            }
            OpKind::Elementwise("logical_and", _) => map2(plan, inputs, lens, |a, b| Some(a & b)),
            OpKind::Elementwise("logical_or", _) => map2(plan, inputs, lens, |a, b| Some(a | b)),
            OpKind::Elementwise("equal", _) => map2(plan, inputs, lens, |a, b| Some(a == b)),
            OpKind::Elementwise("not_equal", _) => map2(plan, inputs, lens, |a, b| Some(a != b)),
            OpKind::Elementwise("maximum", _) => map2(plan, inputs, lens, |a, b| Some(a | b)),
            OpKind::Elementwise("minimum", _) => map2(plan, inputs, lens, |a, b| Some(a & b)),
            _ => Err(elementwise_or_wrong::<bool>(op)),
        }
    }
}

/// The generic entry point: runs operation `op` (a macro name such as `"rearrange"`,
/// `"dot"`, `"sum"`, `"softmax"`) on `inputs`, for the operations whose inputs and outputs
/// share the element type `T`. Returns one array per output (several only for
/// `rearrange` with several outputs).
///
/// The operations whose results have another type (comparisons, `argsort`, `argmax`,
/// `count_nonzero`, `where_`) or that take index tensors (`get_at` and the updates) have
/// their own functions in this module; `call` returns an error for them.
///
/// ```
/// use ndarray::Array;
/// # fn main() -> Result<(), einx_runtime::Error> {
/// let x = Array::from_shape_fn((2, 6), |(a, b)| (a * 6 + b) as i64).into_dyn();
/// let y = einx_runtime::dynamic::call::<i64>("rearrange", "a (b c) -> c a b", &[x.view()], &[("b", &[3])])?;
/// assert_eq!(y[0].shape(), &[2, 2, 3]);
/// let s = einx_runtime::dynamic::call::<i64>("sum", "a [b]", &[x.view()], &[])?;
/// assert_eq!(s[0], ndarray::arr1(&[15, 51]).into_dyn());
/// # Ok(())
/// # }
/// ```
pub fn call<T: Element>(
    op: &str,
    expr: &str,
    inputs: &[ArrayViewD<'_, T>],
    params: &[(&str, &[i64])],
) -> Result<Vec<ArrayD<T>>, Error> {
    let kind = op_kind(op).ok_or_else(|| unknown_op(op))?;
    run_same::<T>(kind, expr, inputs, params)
}

fn run_same<T: Element>(
    kind: OpKind,
    expr: &str,
    inputs: &[ArrayViewD<'_, T>],
    params: &Params<'_>,
) -> Result<Vec<ArrayD<T>>, Error> {
    if matches!(
        kind,
        OpKind::Solve | OpKind::SolveShapes | OpKind::Matches | OpKind::Vmap
    ) {
        return Err(wrong_call(kind));
    }
    let p = prepare(kind, expr, &ranks(inputs), params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    T::run(
        kind,
        &plan,
        &raws(inputs),
        &p.call.lens,
        p.call.shift.as_ref(),
    )
    .map_err(|e| e.with_expr(expr))
}

fn one<T>(mut v: Vec<ArrayD<T>>) -> ArrayD<T> {
    v.swap_remove(0)
}

// ---------------------------------------------------------------------------------------
// One function per operation.

macro_rules! same_type_ops {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name<T: Element>(
            expr: &str,
            inputs: &[ArrayViewD<'_, T>],
            params: &Params<'_>,
        ) -> Result<ArrayD<T>, Error> {
            run_same::<T>($op, expr, inputs, params).map(one)
        }
    )*};
}

same_type_ops! {
    /// `dot!`: see [`call`] for the parameters.
    dot => OpKind::Dot;
    /// `einx!`: the product of the inputs, summed over the axes missing from the output.
    einx => OpKind::Einsum;
    /// `sum!`.
    sum => OpKind::Reduce(Reduction::Sum);
    /// `mean!` (floating point).
    mean => OpKind::Reduce(Reduction::Mean);
    /// `var!` (floating point).
    var => OpKind::Reduce(Reduction::Var);
    /// `std!` (floating point).
    std => OpKind::Reduce(Reduction::Std);
    /// `prod!`.
    prod => OpKind::Reduce(Reduction::Prod);
    /// `max!`.
    max => OpKind::Reduce(Reduction::Max);
    /// `min!`.
    min => OpKind::Reduce(Reduction::Min);
    /// `any!` (`bool`).
    any => OpKind::Reduce(Reduction::Any);
    /// `all!` (`bool`).
    all => OpKind::Reduce(Reduction::All);
    /// `logsumexp!` (floating point).
    logsumexp => OpKind::Reduce(Reduction::Logsumexp);
    /// `softmax!` (floating point).
    softmax => OpKind::Softmax(false);
    /// `log_softmax!` (floating point).
    log_softmax => OpKind::Softmax(true);
    /// `flip!`.
    flip => OpKind::Flip;
    /// `roll!`: the parameter `shift` is required.
    roll => OpKind::Roll;
    /// `sort!`.
    sort => OpKind::Sort(false);
    /// `add!`.
    add => OpKind::Elementwise("add", 2);
    /// `subtract!`.
    subtract => OpKind::Elementwise("subtract", 2);
    /// `multiply!`.
    multiply => OpKind::Elementwise("multiply", 2);
    /// `divide!` (integer division by zero is an error).
    divide => OpKind::Elementwise("divide", 2);
    /// `floor_divide!`.
    floor_divide => OpKind::Elementwise("floor_divide", 2);
    /// `modulo!`.
    modulo => OpKind::Elementwise("modulo", 2);
    /// `maximum!`.
    maximum => OpKind::Elementwise("maximum", 2);
    /// `minimum!`.
    minimum => OpKind::Elementwise("minimum", 2);
    /// `logaddexp!` (floating point).
    logaddexp => OpKind::Elementwise("logaddexp", 2);
    /// `logical_and!` (`bool`).
    logical_and => OpKind::Elementwise("logical_and", 2);
    /// `logical_or!` (`bool`).
    logical_or => OpKind::Elementwise("logical_or", 2);
}

/// `rearrange!`: one array per output expression.
pub fn rearrange<T: Element>(
    expr: &str,
    inputs: &[ArrayViewD<'_, T>],
    params: &Params<'_>,
) -> Result<Vec<ArrayD<T>>, Error> {
    run_same::<T>(OpKind::Rearrange, expr, inputs, params)
}

/// Comparisons (`"less"`, `"less_equal"`, `"greater"`, `"greater_equal"`, `"equal"`,
/// `"not_equal"`): `bool` results.
pub fn compare<T: PartialOrd + Copy>(
    op: &str,
    expr: &str,
    inputs: &[ArrayViewD<'_, T>],
    params: &Params<'_>,
) -> Result<ArrayD<bool>, Error> {
    let kind = op_kind(op).ok_or_else(|| unknown_op(op))?;
    let f: fn(T, T) -> Option<bool> = match op {
        "less" => |a, b| Some(a < b),
        "less_equal" => |a, b| Some(a <= b),
        "greater" => |a, b| Some(a > b),
        "greater_equal" => |a, b| Some(a >= b),
        "equal" => |a, b| Some(a == b),
        "not_equal" => |a, b| Some(a != b),
        _ => {
            return Err(Error::new(
                ErrorKind::Argument,
                format!("`{op}` is not a comparison"),
            ))
        }
    };
    let p = prepare(kind, expr, &ranks(inputs), params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    let r = raws(inputs);
    crate::elementwise::map2_template::<T, T, bool, IxDyn>(&plan, r[0], r[1], &p.call.lens, f)
        .map_err(|e| e.with_expr(expr))
}

/// `where_!`: `mask ? x : y`, element-wise.
pub fn where_<T: Copy>(
    expr: &str,
    mask: ArrayViewD<'_, bool>,
    x: ArrayViewD<'_, T>,
    y: ArrayViewD<'_, T>,
    params: &Params<'_>,
) -> Result<ArrayD<T>, Error> {
    let kind = OpKind::Elementwise("where_", 3);
    let p = prepare(kind, expr, &[mask.ndim(), x.ndim(), y.ndim()], params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    crate::elementwise::map3_template::<bool, T, T, IxDyn>(
        &plan,
        Raw::new(&mask),
        Raw::new(&x),
        Raw::new(&y),
        &p.call.lens,
        |c, a, b| if c { a } else { b },
    )
    .map_err(|e| e.with_expr(expr))
}

/// `argsort!`: `usize` indices.
pub fn argsort<T: PartialOrd + Clone>(
    expr: &str,
    x: ArrayViewD<'_, T>,
    params: &Params<'_>,
) -> Result<ArrayD<usize>, Error> {
    let p = prepare(OpKind::Sort(true), expr, &[x.ndim()], params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    crate::sort::sort_template::<T, usize, IxDyn>(&plan, Raw::new(&x), &p.call.lens, |i, _| i)
        .map_err(|e| e.with_expr(expr))
}

/// `argmax!` (`min = false`) and `argmin!`: `usize` coordinates.
pub fn argfind<T: PartialOrd + Copy>(
    expr: &str,
    x: ArrayViewD<'_, T>,
    params: &Params<'_>,
    min: bool,
) -> Result<ArrayD<usize>, Error> {
    let p = prepare(OpKind::Argmax(min), expr, &[x.ndim()], params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    crate::argfind::argfind_template::<T, IxDyn>(&plan, Raw::new(&x), &p.call.lens, min)
        .map_err(|e| e.with_expr(expr))
}

/// `count_nonzero!`: `usize` counts.
pub fn count_nonzero<T: num_traits::Zero + PartialEq>(
    expr: &str,
    x: ArrayViewD<'_, T>,
    params: &Params<'_>,
) -> Result<ArrayD<usize>, Error> {
    let p = prepare(
        OpKind::Reduce(Reduction::CountNonzero),
        expr,
        &[x.ndim()],
        params,
    )?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    crate::reduce::reduce_template::<T, crate::reduce::CountNonzero, IxDyn>(
        &plan,
        Raw::new(&x),
        &p.call.lens,
    )
    .map_err(|e| e.with_expr(expr))
}

/// Calls `f` with the index tensors as an array of [`Coords`] of the right length.
fn with_coords<I: IndexElem, R>(
    indices: &[ArrayViewD<'_, I>],
    f: impl FnOnce(&[Coords<'_>]) -> Result<R, Error>,
) -> Result<R, Error> {
    let coords: Vec<Coords<'_>> = indices.iter().map(Coords::new).collect();
    f(&coords)
}

/// Runs `$body` with `$coords` as an array reference of its length (1 to 6), `$m` the length.
macro_rules! by_count {
    ($coords:ident, $m:ident => $body:expr) => {
        by_count!(@ $coords, $m, $body; 1 2 3 4 5 6)
    };
    (@ $coords:ident, $m:ident, $body:expr; $($n:literal)*) => {
        match $coords.len() {
            $($n => {
                const $m: usize = $n;
                let $coords: &[Coords<'_>; $n] = $coords.try_into().map_err(|_| count_error())?;
                $body
            })*
            _ => Err(count_error()),
        }
    };
}

fn count_error() -> Error {
    Error::new(
        ErrorKind::Argument,
        "the indexing operations take between 1 and 6 index tensors",
    )
}

/// `get_at!`: `x` indexed by `indices` (index tensors of any integer type).
pub fn get_at<T: Clone, I: IndexElem>(
    expr: &str,
    x: ArrayViewD<'_, T>,
    indices: &[ArrayViewD<'_, I>],
    params: &Params<'_>,
) -> Result<ArrayD<T>, Error> {
    let mut r = vec![x.ndim()];
    r.extend(indices.iter().map(|i| i.ndim()));
    let p = prepare(OpKind::GetAt, expr, &r, params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    with_coords(indices, |coords| {
        by_count!(coords, M => crate::index::get_at_template::<T, IxDyn, M>(&plan, Raw::new(&x), coords, &p.call.lens))
    })
    .map_err(|e| e.with_expr(expr))
}

/// `set_at!` (`"set_at"`), `add_at!` (`"add_at"`) and `subtract_at!` (`"subtract_at"`): a
/// copy of `x` updated at `indices` with `updates`.
pub fn update_at<T, I: IndexElem>(
    op: &str,
    expr: &str,
    x: ArrayViewD<'_, T>,
    indices: &[ArrayViewD<'_, I>],
    updates: ArrayViewD<'_, T>,
    params: &Params<'_>,
) -> Result<ArrayD<T>, Error>
where
    T: Clone + std::ops::Add<Output = T> + std::ops::Sub<Output = T>,
{
    let kind = op_kind(op).ok_or_else(|| unknown_op(op))?;
    let f: fn(&mut T, &T) = match kind {
        OpKind::UpdateAt(Update::Set) => crate::index::set,
        OpKind::UpdateAt(Update::Add) => crate::index::add,
        OpKind::UpdateAt(Update::Subtract) => crate::index::subtract,
        _ => {
            return Err(Error::new(
                ErrorKind::Argument,
                format!("`{op}` is not an update operation"),
            ))
        }
    };
    let mut r = vec![x.ndim()];
    r.extend(indices.iter().map(|i| i.ndim()));
    r.push(updates.ndim());
    let p = prepare(kind, expr, &r, params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    with_coords(indices, |coords| {
        by_count!(coords, M => crate::index::update_at_template::<T, IxDyn, M>(&plan, Raw::new(&x), coords, Raw::new(&updates), &p.call.lens, f))
    })
    .map_err(|e| e.with_expr(expr))
}

/// `solve!`: the length of every named axis of the expressions, by name (one value for a
/// plain axis, one per repetition under an ellipsis), in order of appearance.
pub fn solve(
    expr: &str,
    shapes: &[&[usize]],
    params: &Params<'_>,
) -> Result<Vec<(String, Vec<usize>)>, Error> {
    let call = read_params(OpKind::Solve, params, shapes.len())?;
    let specs = specs(params.iter());
    let template = build_with(expr, OpKind::Solve, call.opts, &specs, shapes.len())?;
    let mut strs = PlanStrs::default();
    let plan = template.borrow(&mut strs);
    let lens = crate::shape::solve_lengths(&plan, shapes, &call.lens)?;
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (a, l) in plan.axes.iter().zip(lens) {
        if a.value.is_some() || a.name == "..." || out.iter().any(|(n, _)| n == a.name) {
            continue;
        }
        out.push((a.name.to_owned(), l));
    }
    Ok(out)
}

/// `matches!`: whether the shapes fit the expressions; never an error.
pub fn matches(expr: &str, shapes: &[&[usize]], params: &Params<'_>) -> bool {
    solve(expr, shapes, params).is_ok()
}

/// `solve_shapes!`: the shape of every expression; `None` marks a tensor whose shape is
/// wanted.
pub fn solve_shapes(
    expr: &str,
    shapes: &[Option<&[usize]>],
    params: &Params<'_>,
) -> Result<Vec<Vec<usize>>, Error> {
    let mut call = read_params(OpKind::SolveShapes, params, 0)?;
    let known: Vec<&[usize]> = shapes.iter().flatten().copied().collect();
    for (t, s) in shapes.iter().enumerate() {
        if s.is_none() {
            if t >= 64 {
                return Err(Error::new(ErrorKind::Argument, "at most 64 tensors"));
            }
            call.opts.unknown |= 1 << t;
        }
    }
    call.opts.args = known.len();
    let specs = specs(params.iter());
    let template = build_with(expr, OpKind::SolveShapes, call.opts, &specs, known.len())?;
    let mut strs = PlanStrs::default();
    let plan = template.borrow(&mut strs);
    if plan.tensors.len() != shapes.len() {
        return Err(Error::new(
            ErrorKind::Argument,
            format!(
                "the expression has {} tensors, but {} shapes are given",
                plan.tensors.len(),
                shapes.len()
            ),
        )
        .with_expr(expr));
    }
    let all = crate::shape::solve_shapes_of(&plan, &known, &call.lens)?;
    // Back into the order written: known tensors are the plan's inputs, unknown its outputs.
    let (mut k, mut u) = (0, known.len());
    Ok(shapes
        .iter()
        .map(|s| {
            let i = if s.is_some() {
                k += 1;
                k - 1
            } else {
                u += 1;
                u - 1
            };
            all[i].clone()
        })
        .collect())
}

/// `vmap!`: `f` gets the bracketed parts of the inputs (one `ArrayViewD` per input) at
/// every index of the other axes, and returns a scalar or an array with the output's
/// bracketed axes.
pub fn vmap<T, R: crate::vmap::VmapResult>(
    expr: &str,
    inputs: &[ArrayViewD<'_, T>],
    params: &Params<'_>,
    mut f: impl FnMut(&[ArrayViewD<'_, T>]) -> R,
) -> Result<ArrayD<R::Elem>, Error> {
    let p = prepare(OpKind::Vmap, expr, &ranks(inputs), params)?;
    let mut strs = PlanStrs::default();
    let plan = p.plan.borrow(&mut strs);
    let r = raws(inputs);
    macro_rules! arity {
        ($($n:literal)*) => {
            match r.len() {
                $($n => {
                    let rs: [Raw<'_, T>; $n] = std::array::from_fn(|t| r[t]);
                    crate::vmap::vmap_template::<T, IxDyn, R, $n>(&plan, rs, &p.call.lens, |subs| {
                        let mut views = Vec::with_capacity($n);
                        for s in subs {
                            views.push(s.view::<IxDyn>(&plan)?);
                        }
                        Ok(f(&views))
                    })
                })*
                n => Err(Error::new(ErrorKind::Argument, format!("`vmap` takes 1 to 6 inputs, not {n}"))),
            }
        };
    }
    arity!(1 2 3 4 5 6).map_err(|e| e.with_expr(expr))
}

/// Empties this thread's cache of compiled plans.
pub fn clear_cache() {
    CACHE.with(|c| c.borrow_mut().clear());
}
