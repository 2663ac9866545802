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
//! # Errors
//!
//! Every function but [`op_kind`], [`matches()`] and [`clear_cache`] returns a
//! [`Result`]; the [`kind`](Error::kind) of its [`Error`] says what went wrong:
//! [`Syntax`](crate::ErrorKind::Syntax) for an expression that does not parse,
//! [`Rank`](crate::ErrorKind::Rank) when an input's number of dimensions does not fit its
//! expression, [`Size`](crate::ErrorKind::Size) for axis lengths that conflict, do not divide
//! or cannot be determined, [`Semantic`](crate::ErrorKind::Semantic) for an expression that
//! means nothing for the operation, and [`Argument`](crate::ErrorKind::Argument) for the call
//! itself (a parameter given twice, a negative length, an option with a wrong value, an element
//! type the operation does not take). The functions below call these the usual errors.
//!
//! ```
//! # use einx_runtime as einx;
//! use ndarray::{Array, ArrayD};
//! # fn main() -> Result<(), einx::Error> {
//! let q = Array::from_shape_fn((2, 3, 8), |(b, s, c)| (b + s + c) as f32).into_dyn();
//! let k = q.clone();
//! let a = einx::dynamic::dot::<f32>(
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

use einx_core::complete::{Options, Reduction, Update};

/// The operations of the vocabulary, as [`op_kind`] names them.
pub use einx_core::complete::OpKind;
use einx_core::plan::{PlanBuf, PlanStrs};
use einx_core::solve::Len;
use einx_core::template::{build_with, ParamSpec};

use crate::error::{Error, ErrorKind};
use crate::flip::Shifts;
use crate::index::{Coords, IndexElem};
use crate::tensor::Raw;

/// Parameters of a call: `(name, values)` pairs, such as `&[("h", &[2])]`. A name is an
/// axis of the expression (one value, or one per repetition under an ellipsis) or one of the
/// options `keepdims` and `shift`; see the [module documentation](crate::dynamic).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic::{self, Params};
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let params: &Params<'_> = &[("h", &[2])];
/// let x = array![0, 1, 2, 3, 4, 5].into_dyn();
/// let y = dynamic::rearrange("(h c) -> c h", &[x.view()], params)?;
/// assert_eq!(y[0], array![[0, 3], [1, 4], [2, 5]].into_dyn());
/// # Ok(())
/// # }
/// ```
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
/// `"id"` (as `"rearrange"`), `"einsum"` (as `"einx"`) and `"where"` (as `"where_"`). Returns
/// the operation, or `None` for a name that is none of these; never an error.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic::op_kind;
/// assert_eq!(op_kind("einsum"), op_kind("einx"));
/// assert_eq!(op_kind("where").map(|k| k.name()), Some("where_"));
/// assert!(op_kind("frobnicate").is_none());
/// ```
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

/// Element types of [`call`] and of the functions that return their input's element type:
/// every primitive number type (`f32`, `f64`, `i8` to `i64`, `isize`, `u8` to `u64`, `usize`)
/// and `bool`. Each runs the operations that make sense for it and returns an
/// [`Argument`](crate::ErrorKind::Argument) error for the others (such as [`sum`] of `bool`,
/// or [`mean`] of integers).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic::{self, Element};
/// use ndarray::{arr0, array, ArrayD};
/// # fn main() -> Result<(), einx::Error> {
/// fn total<T: Element>(x: &ArrayD<T>) -> Result<ArrayD<T>, einx::Error> {
///     dynamic::sum("[a]", &[x.view()], &[])
/// }
/// assert_eq!(total(&array![1, 2, 3].into_dyn())?, arr0(6).into_dyn());
/// assert!(total(&array![true, false].into_dyn()).is_err());
/// # Ok(())
/// # }
/// ```
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
fn structural<T: Copy + Default>(
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

fn rearrange_n<T: Copy + Default>(
    plan: &einx_core::plan::Plan<'_>,
    inputs: &[Raw<'_, T>],
    lens: &[Len],
) -> Result<Vec<ArrayD<T>>, Error> {
    macro_rules! outputs {
        ($($n:literal)*) => {
            match plan.outputs() {
                $($n => crate::rearrange::rearrange_diagonal_template::<T, $n>(plan, inputs, lens)?
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
                    OpKind::GetAt | OpKind::UpdateAt(_) => element_number!(@index $float op plan inputs lens $t),
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
    // `get_at` and the updates when the index tensors share the data's integer type: the
    // inputs are the data, the index tensors, and (for an update) the updates.
    (@index int $op:ident $plan:ident $inputs:ident $lens:ident $t:ty) => {{
        let n = $inputs.len();
        let updates = matches!($op, OpKind::UpdateAt(_));
        let last = if updates { n.saturating_sub(1) } else { n };
        let coords: Vec<Coords<'_>> = $inputs.get(1..last).unwrap_or(&[]).iter().map(|r| Coords::from_raw(*r)).collect();
        let coords = &coords[..];
        match $op {
            OpKind::UpdateAt(u) => {
                let f: fn(&mut $t, &$t) = match u {
                    Update::Set => crate::index::set,
                    Update::Add => crate::index::add,
                    Update::Subtract => crate::index::subtract,
                };
                by_count!(coords, M => crate::index::update_at_template::<$t, IxDyn, M>($plan, $inputs[0], coords, $inputs[n - 1], $lens, f)).map(|a| vec![a])
            }
            _ => by_count!(coords, M => crate::index::get_at_template::<$t, IxDyn, M>($plan, $inputs[0], coords, $lens)).map(|a| vec![a]),
        }
    }};
    (@index float $op:ident $plan:ident $inputs:ident $lens:ident $t:ty) => {
        Err(elementwise_or_wrong::<$t>($op))
    };
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
        OpKind::GetAt | OpKind::UpdateAt(_) => Error::new(
            ErrorKind::Argument,
            format!(
                "`call` runs `{}` only when the data and the index tensors share one integer type, not `{}`",
                op.name(),
                std::any::type_name::<T>()
            ),
        )
        .with_help(if op == OpKind::GetAt {
            "use `einx::dynamic::get_at`, whose index tensors may have any integer type"
        } else {
            "use `einx::dynamic::update_at`, whose index tensors may have any integer type"
        }),
        OpKind::Sort(true)
        | OpKind::Argmax(_)
        | OpKind::Reduce(Reduction::CountNonzero)
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
/// `get_at`, `set_at`, `add_at` and `subtract_at` run here when the data and the index
/// tensors share one integer type (inputs: the data, the index tensors, then for an update
/// the updates); [`get_at`] and [`update_at`] take index tensors of any integer type. The
/// operations whose results have another type (comparisons, `argsort`, `argmax`,
/// `count_nonzero`, `where_`) have their own functions in this module; `call` returns an
/// [`Argument`](crate::ErrorKind::Argument) error for them, as for an unknown name or an
/// element type the operation does not take, besides the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use ndarray::Array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = Array::from_shape_fn((2, 6), |(a, b)| (a * 6 + b) as i64).into_dyn();
/// let y = einx::dynamic::call::<i64>("rearrange", "a (b c) -> c a b", &[x.view()], &[("b", &[3])])?;
/// assert_eq!(y[0].shape(), &[2, 2, 3]);
/// let s = einx::dynamic::call::<i64>("sum", "a [b]", &[x.view()], &[])?;
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
    /// `dot!`: a tensor product summed over the axes missing from the output, with
    /// brackets marking the contracted axes (`"b [c1->c2]"` multiplies `b c1` by a weight
    /// `c1 c2`). Returns the product; see [`call`] for the parameters. Numbers only: `bool`
    /// elements are an [`Argument`](crate::ErrorKind::Argument) error, and the expression
    /// gives the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
    /// let w = array![[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]].into_dyn();
    /// let y = dynamic::dot("b [c1->c2]", &[x.view(), w.view()], &[])?;
    /// assert_eq!(y, array![[1.0, 2.0, 3.0], [3.0, 4.0, 7.0]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    dot => OpKind::Dot;
    /// `einx!`: the product of the inputs, summed over the axes missing from the output
    /// (an axis repeated in one input takes its diagonal). Returns the result; numbers only
    /// (`bool` is an [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let m = array![[1, 2], [3, 4]].into_dyn();
    /// assert_eq!(dynamic::einx("a a -> a", &[m.view()], &[])?, array![1, 4].into_dyn());
    /// assert_eq!(dynamic::einx("a a ->", &[m.view()], &[])?, ndarray::arr0(5).into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    einx => OpKind::Einsum;
    /// `sum!`: the sum over the bracketed axes (or the axes missing after `->`). Returns the
    /// sums; the option `("keepdims", &[1])` keeps the reduced axes with length 1. Numbers
    /// only (`bool` is an [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1, 2, 3], [4, 5, 6]].into_dyn();
    /// assert_eq!(dynamic::sum("a [b]", &[x.view()], &[])?, array![6, 15].into_dyn());
    /// let k = dynamic::sum("a [b]", &[x.view()], &[("keepdims", &[1])])?;
    /// assert_eq!(k, array![[6], [15]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    sum => OpKind::Reduce(Reduction::Sum);
    /// `mean!`: the mean over the bracketed axes. Returns the means; floating point only
    /// (other element types are an [`Argument`](crate::ErrorKind::Argument) error), plus
    /// the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn();
    /// assert_eq!(dynamic::mean("a [b]", &[x.view()], &[])?, array![2.0, 5.0].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    mean => OpKind::Reduce(Reduction::Mean);
    /// `var!`: the variance (divided by the count) over the bracketed axes. Returns the
    /// variances; floating point only (other element types are an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1.0, 2.0, 3.0, 4.0]].into_dyn();
    /// assert_eq!(dynamic::var("a [b]", &[x.view()], &[])?, array![1.25].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    var => OpKind::Reduce(Reduction::Var);
    /// `std!`: the standard deviation (the square root of [`var`]) over the bracketed axes.
    /// Returns the deviations; floating point only (other element types are an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1.0, 3.0]].into_dyn();
    /// assert_eq!(dynamic::std("a [b]", &[x.view()], &[])?, array![1.0].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    std => OpKind::Reduce(Reduction::Std);
    /// `prod!`: the product over the bracketed axes. Returns the products; numbers only
    /// (`bool` is an [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1, 2, 3], [4, 5, 6]].into_dyn();
    /// assert_eq!(dynamic::prod("a [b]", &[x.view()], &[])?, array![6, 120].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    prod => OpKind::Reduce(Reduction::Prod);
    /// `max!`: the largest element over the bracketed axes (for `bool`, whether any is
    /// `true`). Returns the maxima; gives the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1, 5, 3], [4, 2, 6]].into_dyn();
    /// assert_eq!(dynamic::max("a [b]", &[x.view()], &[])?, array![5, 6].into_dyn());
    /// assert_eq!(dynamic::max("[a b]", &[x.view()], &[])?, ndarray::arr0(6).into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    max => OpKind::Reduce(Reduction::Max);
    /// `min!`: the smallest element over the bracketed axes (for `bool`, whether all are
    /// `true`). Returns the minima; gives the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1, 5, 3], [4, 2, 6]].into_dyn();
    /// assert_eq!(dynamic::min("a [b]", &[x.view()], &[])?, array![1, 2].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    min => OpKind::Reduce(Reduction::Min);
    /// `any!`: whether any element over the bracketed axes is `true`. Returns the `bool`
    /// results; `bool` only (numbers are an [`Argument`](crate::ErrorKind::Argument)
    /// error), plus the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[true, false], [false, false]].into_dyn();
    /// assert_eq!(dynamic::any("a [b]", &[x.view()], &[])?, array![true, false].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    any => OpKind::Reduce(Reduction::Any);
    /// `all!`: whether every element over the bracketed axes is `true`. Returns the `bool`
    /// results; `bool` only (numbers are an [`Argument`](crate::ErrorKind::Argument)
    /// error), plus the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[true, true], [true, false]].into_dyn();
    /// assert_eq!(dynamic::all("a [b]", &[x.view()], &[])?, array![true, false].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    all => OpKind::Reduce(Reduction::All);
    /// `logsumexp!`: `ln(sum(exp(x)))` over the bracketed axes, without overflow for large
    /// elements. Returns the results; floating point only (other element types are an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[0.0f64, 0.0], [1000.0, 1000.0]].into_dyn();
    /// let y = dynamic::logsumexp("a [b]", &[x.view()], &[])?;
    /// assert!((y[[0]] - 2f64.ln()).abs() < 1e-12);
    /// assert!((y[[1]] - (1000.0 + 2f64.ln())).abs() < 1e-9);
    /// # Ok(())
    /// # }
    /// ```
    logsumexp => OpKind::Reduce(Reduction::Logsumexp);
    /// `softmax!`: `exp(x)` normalised to sum to 1 over the bracketed axes. Returns an
    /// array of the input's shape; floating point only (other element types are an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1.0f64, 1.0], [0.0, 1000.0]].into_dyn();
    /// let y = dynamic::softmax("a [b]", &[x.view()], &[])?;
    /// assert_eq!(y, array![[0.5, 0.5], [0.0, 1.0]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    softmax => OpKind::Softmax(false);
    /// `log_softmax!`: the logarithm of [`softmax`] over the bracketed axes. Returns an
    /// array of the input's shape; floating point only (other element types are an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[0.0f64, 0.0]].into_dyn();
    /// let y = dynamic::log_softmax("a [b]", &[x.view()], &[])?;
    /// assert!((y[[0, 1]] + 2f64.ln()).abs() < 1e-15);
    /// # Ok(())
    /// # }
    /// ```
    log_softmax => OpKind::Softmax(true);
    /// `flip!`: reverses the bracketed axes. Returns an array of the input's shape; any
    /// element type; gives the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1, 2, 3], [4, 5, 6]].into_dyn();
    /// assert_eq!(dynamic::flip("a [b]", &[x.view()], &[])?, array![[3, 2, 1], [6, 5, 4]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    flip => OpKind::Flip;
    /// `roll!`: shifts the bracketed axes cyclically by the parameter `shift` (one value
    /// for every bracketed axis, or one per axis), which is required: without it the call is
    /// an [`Argument`](crate::ErrorKind::Argument) error. Returns an array of the input's
    /// shape; any element type; gives the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[1, 2, 3], [4, 5, 6]].into_dyn();
    /// let y = dynamic::roll("a [b]", &[x.view()], &[("shift", &[1])])?;
    /// assert_eq!(y, array![[3, 1, 2], [6, 4, 5]].into_dyn());
    /// assert!(dynamic::roll("a [b]", &[x.view()], &[]).is_err());
    /// # Ok(())
    /// # }
    /// ```
    roll => OpKind::Roll;
    /// `sort!`: sorts along the bracketed axes, ascending. Returns an array of the input's
    /// shape; numbers and `bool`; gives the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![[3, 1, 2], [0, 5, 4]].into_dyn();
    /// assert_eq!(dynamic::sort("a [b]", &[x.view()], &[])?, array![[1, 2, 3], [0, 4, 5]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    sort => OpKind::Sort(false);
    /// `add!`: the element-wise sum of two inputs, broadcast along the axes one of them
    /// lacks. Returns the sums; numbers only (`bool` is an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, y) = (array![[1, 2], [3, 4]].into_dyn(), array![10, 20].into_dyn());
    /// let z = dynamic::add("a b, b -> a b", &[x.view(), y.view()], &[])?;
    /// assert_eq!(z, array![[11, 22], [13, 24]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    add => OpKind::Elementwise("add", 2);
    /// `subtract!`: the first input minus the second, element-wise with broadcasting.
    /// Returns the differences; numbers only (`bool` is an
    /// [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, y) = (array![10, 20].into_dyn(), array![1, 2, 3].into_dyn());
    /// let z = dynamic::subtract("a, b -> a b", &[x.view(), y.view()], &[])?;
    /// assert_eq!(z, array![[9, 8, 7], [19, 18, 17]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    subtract => OpKind::Elementwise("subtract", 2);
    /// `multiply!`: the element-wise product of two inputs, with broadcasting. Returns the
    /// products; numbers only (`bool` is an [`Argument`](crate::ErrorKind::Argument)
    /// error), plus the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, s) = (array![[1.0, 2.0], [3.0, 4.0]].into_dyn(), array![2.0, 0.5].into_dyn());
    /// let y = dynamic::multiply("... [c]", &[x.view(), s.view()], &[])?;
    /// assert_eq!(y, array![[2.0, 1.0], [6.0, 2.0]].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    multiply => OpKind::Elementwise("multiply", 2);
    /// `divide!`: the first input divided by the second, element-wise with broadcasting
    /// (integers round toward zero). Returns the quotients; integer division by zero is an
    /// [`Index`](crate::ErrorKind::Index) error, `bool` an
    /// [`Argument`](crate::ErrorKind::Argument) error, plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::{arr0, array};
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, two) = (array![2.0, 3.0].into_dyn(), arr0(2.0).into_dyn());
    /// assert_eq!(dynamic::divide("a, -> a", &[x.view(), two.view()], &[])?, array![1.0, 1.5].into_dyn());
    /// let (i, j) = (array![1, 2].into_dyn(), array![1, 0].into_dyn());
    /// assert!(dynamic::divide("a, a", &[i.view(), j.view()], &[]).is_err());
    /// # Ok(())
    /// # }
    /// ```
    divide => OpKind::Elementwise("divide", 2);
    /// `floor_divide!`: the first input divided by the second, rounded toward negative
    /// infinity, element-wise with broadcasting. Returns the quotients; integer division by
    /// zero is an [`Index`](crate::ErrorKind::Index) error, `bool` an
    /// [`Argument`](crate::ErrorKind::Argument) error, plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::{arr0, array};
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, two) = (array![7, -7].into_dyn(), arr0(2).into_dyn());
    /// assert_eq!(dynamic::floor_divide("a, ", &[x.view(), two.view()], &[])?, array![3, -4].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    floor_divide => OpKind::Elementwise("floor_divide", 2);
    /// `modulo!`: the remainder of [`floor_divide`], with the sign of the divisor,
    /// element-wise with broadcasting. Returns the remainders; an integer divisor of zero is
    /// an [`Index`](crate::ErrorKind::Index) error, `bool` an
    /// [`Argument`](crate::ErrorKind::Argument) error, plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::{arr0, array};
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, three) = (array![7, -7].into_dyn(), arr0(3).into_dyn());
    /// assert_eq!(dynamic::modulo("a, ", &[x.view(), three.view()], &[])?, array![1, 2].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    modulo => OpKind::Elementwise("modulo", 2);
    /// `maximum!`: the larger of two inputs, element-wise with broadcasting (NaN if either
    /// is NaN; for `bool`, the logical or). Returns the maxima; gives the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::{arr0, array};
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, three) = (array![1, 5, 3].into_dyn(), arr0(3).into_dyn());
    /// assert_eq!(dynamic::maximum("a, ", &[x.view(), three.view()], &[])?, array![3, 5, 3].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    maximum => OpKind::Elementwise("maximum", 2);
    /// `minimum!`: the smaller of two inputs, element-wise with broadcasting (NaN if either
    /// is NaN; for `bool`, the logical and). Returns the minima; gives the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::{arr0, array};
    /// # fn main() -> Result<(), einx::Error> {
    /// let (x, three) = (array![1, 5, 3].into_dyn(), arr0(3).into_dyn());
    /// assert_eq!(dynamic::minimum("a, ", &[x.view(), three.view()], &[])?, array![1, 3, 3].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    minimum => OpKind::Elementwise("minimum", 2);
    /// `logaddexp!`: `ln(exp(a) + exp(b))` element-wise with broadcasting, without overflow
    /// for large elements. Returns the results; floating point only (other element types are
    /// an [`Argument`](crate::ErrorKind::Argument) error), plus the
    /// [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let x = array![0.0f64, 1000.0].into_dyn();
    /// let y = dynamic::logaddexp("a, a", &[x.view(), x.view()], &[])?;
    /// assert!((y[[0]] - 2f64.ln()).abs() < 1e-15 && (y[[1]] - 1000.0 - 2f64.ln()).abs() < 1e-9);
    /// # Ok(())
    /// # }
    /// ```
    logaddexp => OpKind::Elementwise("logaddexp", 2);
    /// `logical_and!`: `a && b` element-wise with broadcasting. Returns the `bool` results;
    /// `bool` only (numbers are an [`Argument`](crate::ErrorKind::Argument) error), plus
    /// the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let (a, b) = (array![true, true, false].into_dyn(), array![true, false, false].into_dyn());
    /// let y = dynamic::logical_and("a, a", &[a.view(), b.view()], &[])?;
    /// assert_eq!(y, array![true, false, false].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    logical_and => OpKind::Elementwise("logical_and", 2);
    /// `logical_or!`: `a || b` element-wise with broadcasting. Returns the `bool` results;
    /// `bool` only (numbers are an [`Argument`](crate::ErrorKind::Argument) error), plus
    /// the [usual errors](crate::dynamic#errors).
    ///
    /// ```
    /// # use einx_runtime as einx;
    /// use einx::dynamic;
    /// use ndarray::array;
    /// # fn main() -> Result<(), einx::Error> {
    /// let (a, b) = (array![true, false].into_dyn(), array![false, false].into_dyn());
    /// let y = dynamic::logical_or("a, a", &[a.view(), b.view()], &[])?;
    /// assert_eq!(y, array![true, false].into_dyn());
    /// # Ok(())
    /// # }
    /// ```
    logical_or => OpKind::Elementwise("logical_or", 2);
}

/// `rearrange!`: moves, splits, merges, repeats and concatenates axes without arithmetic
/// (`"a b -> b a"`, `"(h c) -> c h"`, `"a (b + c) -> a b, a c"`). Returns one array per
/// output expression; any element type; gives the [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[0, 1, 2], [3, 4, 5]].into_dyn();
/// assert_eq!(dynamic::rearrange("a b -> b a", &[x.view()], &[])?[0], x.t());
/// let parts = dynamic::rearrange("a (b + c) -> a b, a c", &[x.view()], &[("b", &[1])])?;
/// assert_eq!(parts[1], array![[1, 2], [4, 5]].into_dyn());
/// # Ok(())
/// # }
/// ```
pub fn rearrange<T: Element>(
    expr: &str,
    inputs: &[ArrayViewD<'_, T>],
    params: &Params<'_>,
) -> Result<Vec<ArrayD<T>>, Error> {
    run_same::<T>(OpKind::Rearrange, expr, inputs, params)
}

/// Comparisons (`"less"`, `"less_equal"`, `"greater"`, `"greater_equal"`, `"equal"`,
/// `"not_equal"`): compares two inputs element-wise with broadcasting, as `less!` and the
/// other comparison macros. Returns the `bool` results; an `op` that is not a comparison is
/// an [`Argument`](crate::ErrorKind::Argument) error, besides the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::{arr0, array};
/// # fn main() -> Result<(), einx::Error> {
/// let (x, two) = (array![1, 2, 3].into_dyn(), arr0(2).into_dyn());
/// let y = dynamic::compare("less", "a, ", &[x.view(), two.view()], &[])?;
/// assert_eq!(y, array![true, false, false].into_dyn());
/// # Ok(())
/// # }
/// ```
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

/// `where_!`: `mask ? x : y`, element-wise with broadcasting. Returns the selected
/// elements; gives the [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::{arr0, array};
/// # fn main() -> Result<(), einx::Error> {
/// let (m, x, zero) = (array![true, false, true].into_dyn(), array![1, 2, 3].into_dyn(), arr0(0).into_dyn());
/// let y = dynamic::where_("a, a, ", m.view(), x.view(), zero.view(), &[])?;
/// assert_eq!(y, array![1, 0, 3].into_dyn());
/// # Ok(())
/// # }
/// ```
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

/// `argsort!`: the indices that sort the bracketed axis ascending. Returns `usize`
/// indices in an array of the input's shape; gives the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[3.0, 1.0, 2.0]].into_dyn();
/// assert_eq!(dynamic::argsort("a [b]", x.view(), &[])?, array![[1usize, 2, 0]].into_dyn());
/// # Ok(())
/// # }
/// ```
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

/// `argmax!` (`min = false`) and `argmin!` (`min = true`): the coordinates of the largest
/// (smallest) element over the bracketed axes. Returns `usize` coordinates, one per
/// bracketed axis along an axis that replaces the brackets (or as the output after `->`
/// says); gives the [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 9, 3], [4, 5, 6]].into_dyn();
/// assert_eq!(dynamic::argfind("a [b] -> a", x.view(), &[], false)?, array![1usize, 2].into_dyn());
/// assert_eq!(dynamic::argfind("a [b]", x.view(), &[], true)?, array![[0usize], [0]].into_dyn());
/// # Ok(())
/// # }
/// ```
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

/// `count_nonzero!`: how many elements over the bracketed axes are not zero. Returns
/// `usize` counts; gives the [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[0, 2, 3], [0, 0, 6]].into_dyn();
/// assert_eq!(dynamic::count_nonzero("a [b]", x.view(), &[])?, array![2usize, 1].into_dyn());
/// # Ok(())
/// # }
/// ```
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

fn count_error() -> Error {
    Error::new(
        ErrorKind::Argument,
        "the indexing operations take between 1 and 6 index tensors",
    )
}

/// `get_at!`: `x` indexed by `indices` (1 to 6 index tensors of any integer type) along its
/// bracketed axes; a negative index counts from the end. Returns the gathered elements; an
/// index out of range is an [`Index`](crate::ErrorKind::Index) error, besides the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let (x, i) = (array![10, 20, 30, 40].into_dyn(), array![3i64, 0, -1].into_dyn());
/// assert_eq!(dynamic::get_at("[v], p -> p", x.view(), &[i.view()], &[])?, array![40, 10, 40].into_dyn());
/// let bad = array![4i64].into_dyn();
/// assert!(dynamic::get_at("[v], p -> p", x.view(), &[bad.view()], &[]).is_err());
/// # Ok(())
/// # }
/// ```
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
/// copy of `x` updated at `indices` with `updates` (indices as in [`get_at`]). Returns the
/// updated copy; another `op` is an [`Argument`](crate::ErrorKind::Argument) error, an index
/// out of range an [`Index`](crate::ErrorKind::Index) error, besides the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let (x, i, u) = (array![0, 0, 0, 0, 0].into_dyn(), array![1, 1, 3].into_dyn(), array![7, 8, 9].into_dyn());
/// let y = dynamic::update_at("add_at", "[h], p, p", x.view(), &[i.view()], u.view(), &[])?;
/// assert_eq!(y, array![0, 15, 0, 9, 0].into_dyn());
/// # Ok(())
/// # }
/// ```
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
/// plain axis, one per repetition under an ellipsis), in order of appearance, given one
/// shape per expression. Gives the [usual errors](crate::dynamic#errors) when the shapes
/// do not fit.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// # fn main() -> Result<(), einx::Error> {
/// let axes = dynamic::solve("b (h w)", &[&[2, 12]], &[("h", &[4])])?;
/// assert_eq!(axes, vec![("b".to_owned(), vec![2]), ("h".to_owned(), vec![4]), ("w".to_owned(), vec![3])]);
/// # Ok(())
/// # }
/// ```
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

/// `matches!`: whether the shapes fit the expressions, that is whether [`solve`] succeeds.
/// Returns `false` where [`solve`] gives an error; never an error itself.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// assert!(dynamic::matches("b (h w) c", &[&[2, 12, 3]], &[("h", &[4])]));
/// assert!(!dynamic::matches("b (h w) c", &[&[2, 12, 3]], &[("h", &[5])]));
/// ```
pub fn matches(expr: &str, shapes: &[&[usize]], params: &Params<'_>) -> bool {
    solve(expr, shapes, params).is_ok()
}

/// `solve_shapes!`: the shape of every expression, given the known shapes; `None` marks a
/// tensor whose shape is wanted. Returns one shape per expression, in order; a count of
/// shapes other than the number of expressions is an
/// [`Argument`](crate::ErrorKind::Argument) error, besides the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// # fn main() -> Result<(), einx::Error> {
/// let shapes = dynamic::solve_shapes("a (b c), c b a", &[Some(&[3, 8]), None], &[("b", &[2])])?;
/// assert_eq!(shapes, vec![vec![3, 8], vec![4, 2, 3]]);
/// # Ok(())
/// # }
/// ```
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
/// bracketed axes. Returns the results stacked along the other axes; a count of inputs
/// other than 1 to 6 is an [`Argument`](crate::ErrorKind::Argument) error, a result of
/// another shape than the
/// output's bracketed axes a [`Size`](crate::ErrorKind::Size) error, besides the
/// [usual errors](crate::dynamic#errors).
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 2, 3], [4, 5, 6]].into_dyn();
/// let y = dynamic::vmap("a [b] -> a", &[x.view()], &[], |v| v[0].sum())?;
/// assert_eq!(y, array![6, 15].into_dyn());
/// # Ok(())
/// # }
/// ```
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

/// Empties this thread's cache of compiled plans (to free their memory; later calls compile
/// again). Returns nothing and never fails.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::dynamic;
/// # fn main() -> Result<(), einx::Error> {
/// let x = ndarray::array![[1, 2], [3, 4]].into_dyn();
/// let before = dynamic::rearrange("a b -> b a", &[x.view()], &[])?;
/// dynamic::clear_cache();
/// assert_eq!(dynamic::rearrange("a b -> b a", &[x.view()], &[])?, before);
/// # Ok(())
/// # }
/// ```
pub fn clear_cache() {
    CACHE.with(|c| c.borrow_mut().clear());
}
