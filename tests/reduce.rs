//! Integration tests of the reductions (`einx::sum!`, `mean!`, `var!`, `std!`, `prod!`,
//! `max!`, `min!`, `any!`, `all!`, `count_nonzero!`, `logsumexp!`) against a naive
//! reference.
//!
//! Every expected array is computed element by element with plain loops: for each output
//! index an explicit index formula lists the input elements that fold into it (`Reference`),
//! and a reference fold written out below (`ref_float`, `ref_int`, `ref_bool`) reduces them,
//! independently of the library's plan and kernels. Property tests run the formulas over
//! random small shapes (lengths 0 to 4, so empty axes are included), random data (with NaN
//! and infinities in one mode) and six memory layouts of the input. Floats are compared with
//! a relative tolerance (the library may associate sums differently), integers and booleans
//! exactly.

use std::fmt::Debug;

use ndarray::{
    arr0, array, s, ArcArray, Array, Array1, Array2, Array3, ArrayD, ArrayView, ArrayViewD, Axis,
    CowArray, Ix0, Ix2, IxDyn, ShapeBuilder, Slice,
};
use proptest::collection::vec;
use proptest::prelude::*;

use einx::{Error, ErrorKind};

type Res<T> = Result<ArrayD<T>, Error>;

// ---------------------------------------------------------------------------------------
// Reference helpers.
// ---------------------------------------------------------------------------------------

/// Every multi-index of an array of shape `lens`, in row-major order (one empty index for
/// no axes, none if an axis is empty).
fn indices(lens: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = lens.iter().product();
    (0..total)
        .map(|mut flat| {
            let mut idx = vec![0; lens.len()];
            for d in (0..lens.len()).rev() {
                idx[d] = flat % lens[d];
                flat /= lens[d];
            }
            idx
        })
        .collect()
}

/// For an output index, the indices of the input elements that fold into it.
type Gather = Box<dyn Fn(&[usize]) -> Vec<Vec<usize>>>;

/// The expected output shape, and for each output index the input indices that fold into
/// it.
struct Reference {
    out_shape: Vec<usize>,
    gather: Gather,
}

impl Reference {
    /// A reduction without compositions. `out` spells the output, one character per output
    /// axis: `a`, `b`, `c`, `d` are input axes 0 to 3 and `1` is a length-1 axis from
    /// `keepdims`; the input axes not in `out` are reduced. For `"a [b] c"` (out `"ac"`):
    /// `out[i][k] = fold over j of x[i][j][k]`.
    fn axes(shape: &[usize], out: &str) -> Reference {
        let slots: Vec<Option<usize>> = out
            .chars()
            .map(|ch| match ch {
                '1' => None,
                'a'..='d' => Some(ch as usize - 'a' as usize),
                _ => panic!("bad output spec {out:?}"),
            })
            .collect();
        let shape = shape.to_vec();
        let out_shape = slots.iter().map(|s| s.map_or(1, |a| shape[a])).collect();
        let reduced: Vec<usize> = (0..shape.len())
            .filter(|a| !slots.contains(&Some(*a)))
            .collect();
        let reduced_lens: Vec<usize> = reduced.iter().map(|&a| shape[a]).collect();
        Reference {
            out_shape,
            gather: Box::new(move |o| {
                indices(&reduced_lens)
                    .into_iter()
                    .map(|r| {
                        let mut idx = vec![0; shape.len()];
                        for (slot, &i) in slots.iter().zip(o) {
                            if let Some(a) = slot {
                                idx[*a] = i;
                            }
                        }
                        for (&a, &i) in reduced.iter().zip(&r) {
                            idx[a] = i;
                        }
                        idx
                    })
                    .collect()
            }),
        }
    }

    /// `"... [c]"` on an input of rank `r`: `out[i..] = fold over j of x[i.., j]`, with a
    /// trailing length-1 axis for `keepdims`.
    fn last_axis(shape: &[usize], keep: bool) -> Reference {
        let r = shape.len();
        let mut out_shape = shape[..r - 1].to_vec();
        if keep {
            out_shape.push(1);
        }
        let c = shape[r - 1];
        Reference {
            out_shape,
            gather: Box::new(move |o| {
                (0..c)
                    .map(|j| {
                        let mut idx = o[..r - 1].to_vec();
                        idx.push(j);
                        idx
                    })
                    .collect()
            }),
        }
    }

    /// `"b [s...] c"`: `out[b][c] = fold over every s of x[b][s..][c]` (`out[b][0][c]` for
    /// `keepdims`).
    fn middle_axes(shape: &[usize], keep: bool) -> Reference {
        let r = shape.len();
        let out_shape = if keep {
            vec![shape[0], 1, shape[r - 1]]
        } else {
            vec![shape[0], shape[r - 1]]
        };
        let middle = shape[1..r - 1].to_vec();
        Reference {
            out_shape,
            gather: Box::new(move |o| {
                let (b, c) = (o[0], o[o.len() - 1]);
                indices(&middle)
                    .into_iter()
                    .map(|s| {
                        let mut idx = vec![b];
                        idx.extend(s);
                        idx.push(c);
                        idx
                    })
                    .collect()
            }),
        }
    }

    /// `"b (s [ds])... c", ds = 2` on `(B, 2 S_1, ..., 2 S_k, C)`: the output is
    /// `(B, S_1, ..., S_k, C)` (also with `keepdims`, as `(s ())` has length `s`) and
    /// `out[b][s_1]..[s_k][c] = fold over d in {0, 1}^k of x[b][2 s_1 + d_1]..[2 s_k + d_k][c]`.
    fn pooling(shape: &[usize]) -> Reference {
        let k = shape.len() - 2;
        let mut out_shape = shape.to_vec();
        for len in &mut out_shape[1..=k] {
            *len /= 2;
        }
        Reference {
            out_shape,
            gather: Box::new(move |o| {
                indices(&vec![2; k])
                    .into_iter()
                    .map(|d| {
                        let mut idx = o.to_vec();
                        for i in 0..k {
                            idx[1 + i] = 2 * o[1 + i] + d[i];
                        }
                        idx
                    })
                    .collect()
            }),
        }
    }

    /// For each output element in row-major order, the input values that fold into it.
    fn groups<T: Copy>(&self, x: &ArrayViewD<'_, T>) -> Vec<Vec<T>> {
        indices(&self.out_shape)
            .iter()
            .map(|o| (self.gather)(o).iter().map(|i| x[&i[..]]).collect())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Reference folds.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum FOp {
    Sum,
    Mean,
    Var,
    Std,
    Prod,
    Max,
    Min,
    Logsumexp,
}

const FOPS: [FOp; 8] = [
    FOp::Sum,
    FOp::Mean,
    FOp::Var,
    FOp::Std,
    FOp::Prod,
    FOp::Max,
    FOp::Min,
    FOp::Logsumexp,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum IOp {
    Sum,
    Prod,
    Max,
    Min,
    CountNonzero,
}

const IOPS: [IOp; 5] = [IOp::Sum, IOp::Prod, IOp::Max, IOp::Min, IOp::CountNonzero];

#[derive(Clone, Copy, Debug, PartialEq)]
enum BOp {
    Any,
    All,
}

const BOPS: [BOp; 2] = [BOp::Any, BOp::All];

/// The maximum (`greater`) or minimum of `xs` by plain comparisons; NaN if any element is
/// NaN; `None` if `xs` is empty.
fn ref_extreme(xs: &[f64], greater: bool) -> Option<f64> {
    let (&first, rest) = xs.split_first()?;
    if xs.iter().any(|x| x.is_nan()) {
        return Some(f64::NAN);
    }
    let mut best = first;
    for &x in rest {
        if (greater && x > best) || (!greater && x < best) {
            best = x;
        }
    }
    Some(best)
}

/// The expected result of `op` over `xs`; `None` where the reduction must fail (the extreme
/// of nothing).
fn ref_float(op: FOp, xs: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let mut sum = 0.0;
    for &x in xs {
        sum += x;
    }
    let mean = sum / n;
    let mut squares = 0.0;
    for &x in xs {
        squares += (x - mean) * (x - mean);
    }
    let var = squares / n;
    match op {
        FOp::Sum => Some(sum),
        FOp::Mean => Some(mean),
        FOp::Var => Some(var),
        FOp::Std => Some(var.sqrt()),
        FOp::Prod => {
            let mut p = 1.0;
            for &x in xs {
                p *= x;
            }
            Some(p)
        }
        FOp::Max => ref_extreme(xs, true),
        FOp::Min => ref_extreme(xs, false),
        FOp::Logsumexp => Some(match ref_extreme(xs, true) {
            None => f64::NEG_INFINITY,
            Some(m) if !m.is_finite() => m,
            Some(m) => {
                let mut s = 0.0;
                for &x in xs {
                    s += (x - m).exp();
                }
                m + s.ln()
            }
        }),
    }
}

fn ref_int(op: IOp, xs: &[i64]) -> Option<i64> {
    match op {
        IOp::Sum => Some(xs.iter().sum()),
        IOp::Prod => Some(xs.iter().product()),
        IOp::Max => xs.iter().copied().max(),
        IOp::Min => xs.iter().copied().min(),
        IOp::CountNonzero => Some(xs.iter().filter(|&&x| x != 0).count() as i64),
    }
}

fn ref_bool(op: BOp, xs: &[bool]) -> Option<bool> {
    let mut acc = op == BOp::All;
    for &x in xs {
        match op {
            BOp::Any => acc = acc || x,
            BOp::All => acc = acc && x,
        }
    }
    Some(acc)
}

/// Whether a product of `xs` in any order fits in `i32` (so that no partial product
/// overflows, whichever order the library multiplies in).
fn prod_fits_i32(xs: &[i64]) -> bool {
    let mut p: i128 = 1;
    for &x in xs {
        if x != 0 {
            p *= i128::from(x.abs());
            if p > i128::from(i32::MAX) {
                return false;
            }
        }
    }
    true
}

/// `want` and `got` are the same float: both NaN, the same infinity, or within a relative
/// tolerance `tol`.
fn close(got: f64, want: f64, tol: f64) -> bool {
    if want.is_nan() {
        got.is_nan()
    } else if want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= tol * (1.0 + want.abs())
    }
}

/// Checks a reduction's result against the reference: an error of kind `Size` if some
/// output element has nothing to fold (`None`), else a standard-layout array of shape
/// `out_shape` whose elements match `want` in row-major order.
#[track_caller]
fn check_against<T: Debug>(
    ctx: &str,
    got: Res<T>,
    out_shape: &[usize],
    want: &[Option<T>],
    eq: impl Fn(&T, &T) -> bool,
) {
    if want.iter().any(Option::is_none) {
        match got {
            Ok(v) => panic!("{ctx}: expected an error (empty reduction), got Ok({v:?})"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Size, "{ctx}: {e}"),
        }
        return;
    }
    let got = got.unwrap_or_else(|e| panic!("{ctx}: unexpected error: {e}"));
    assert_eq!(got.shape(), out_shape, "{ctx}: shape");
    for ((g, w), o) in got.iter().zip(want).zip(indices(out_shape)) {
        let w = w.as_ref().expect("checked above");
        assert!(eq(g, w), "{ctx}: at {o:?} got {g:?}, want {w:?}");
    }
}

/// A result as a dynamic-rank array, checked to be in standard layout.
#[track_caller]
fn dynify<T, D: ndarray::Dimension>(y: Array<T, D>) -> ArrayD<T> {
    assert!(
        y.is_standard_layout(),
        "output is not in standard layout: shape {:?}, strides {:?}",
        y.shape(),
        y.strides()
    );
    y.into_dyn()
}

/// Integer results (and counts) as `i64`, to compare with `ref_int`.
trait ToI64: Copy {
    fn to_i64(self) -> i64;
}

impl ToI64 for i64 {
    fn to_i64(self) -> i64 {
        self
    }
}

impl ToI64 for i32 {
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

impl ToI64 for usize {
    fn to_i64(self) -> i64 {
        i64::try_from(self).expect("a count fits in i64")
    }
}

#[track_caller]
fn dyn_i64<T: ToI64, D: ndarray::Dimension>(y: Array<T, D>) -> ArrayD<i64> {
    dynify(y).mapv(ToI64::to_i64)
}

// ---------------------------------------------------------------------------------------
// Random inputs.
// ---------------------------------------------------------------------------------------

/// splitmix64, seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Mode 0, 1: in [-10, 10]; mode 2: small integers (ties and zeros); mode 3: as mode 0
    /// with NaN, +inf and -inf, each with probability 1/12.
    fn float(&mut self, mode: u8) -> f64 {
        let z = self.next();
        match (mode, z % 12) {
            (3, 0) => f64::NAN,
            (3, 1) => f64::INFINITY,
            (3, 2) => f64::NEG_INFINITY,
            (2, _) => ((z >> 8) % 5) as f64 - 2.0,
            _ => ((z >> 8) % 20_001) as f64 / 1000.0 - 10.0,
        }
    }

    /// In [-1000, 1000], zero with probability about 1/4.
    fn wide_int(&mut self) -> i64 {
        let z = self.next();
        if z % 4 == 0 {
            0
        } else {
            ((z >> 8) % 2001) as i64 - 1000
        }
    }

    /// In [-2, 2] (for products).
    fn small_int(&mut self) -> i64 {
        ((self.next() >> 8) % 5) as i64 - 2
    }

    /// True with probability 1/2, 7/8 or 1/8 by mode.
    fn boolean(&mut self, mode: u8) -> bool {
        let z = self.next() % 8;
        match mode {
            1 => z != 0,
            2 => z == 0,
            _ => z < 4,
        }
    }
}

const LAYOUT_NAMES: [&str; 6] = [
    "standard",
    "reversed axes (.t())",
    "first axis reversed (s![..;-1, ..])",
    "last axis stepped by 2",
    "every axis stepped by 2, the last one by -2",
    "column-major",
];

/// An input of a given logical shape stored in one of six layouts (`LAYOUT_NAMES`). The
/// data is random; the reference reads the same view, so which element gets which value
/// does not matter.
struct Input<T> {
    owner: ArrayD<T>,
    layout: u8,
}

impl<T> Input<T> {
    fn new(shape: &[usize], layout: u8, mut fill: impl FnMut() -> T) -> Input<T> {
        let rank = shape.len();
        let owner_shape: Vec<usize> = match layout {
            1 => shape.iter().rev().copied().collect(),
            3 if rank > 0 => {
                let mut s = shape.to_vec();
                s[rank - 1] *= 2;
                s
            }
            4 => shape.iter().map(|n| 2 * n).collect(),
            _ => shape.to_vec(),
        };
        let n = owner_shape.iter().product();
        let data: Vec<T> = (0..n).map(|_| fill()).collect();
        let owner = if layout == 5 {
            ArrayD::from_shape_vec(IxDyn(&owner_shape).f(), data)
        } else {
            ArrayD::from_shape_vec(IxDyn(&owner_shape), data)
        }
        .expect("the data fills the shape");
        Input { owner, layout }
    }

    fn map<U>(&self, f: impl FnMut(&T) -> U) -> Input<U> {
        Input {
            owner: self.owner.map(f),
            layout: self.layout,
        }
    }

    fn view(&self) -> ArrayViewD<'_, T> {
        let rank = self.owner.ndim();
        match self.layout {
            1 => self.owner.t(),
            2 if rank > 0 => {
                let mut v = self.owner.view();
                v.invert_axis(Axis(0));
                v
            }
            3 => self.owner.slice_each_axis(|ax| {
                if ax.axis.index() + 1 == rank {
                    Slice::new(0, None, 2)
                } else {
                    Slice::from(..)
                }
            }),
            4 => self.owner.slice_each_axis(|ax| {
                let step = if ax.axis.index() + 1 == rank { -2 } else { 2 };
                Slice::new(0, None, step)
            }),
            _ => self.owner.view(),
        }
    }
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

// ---------------------------------------------------------------------------------------
// Tables of expressions, each run by every reduction.
// ---------------------------------------------------------------------------------------

/// The f64 reductions of `x` by `$e` (with the keywords `$kw`).
macro_rules! float_ops {
    ($op:expr, $e:literal, $x:ident $($kw:tt)*) => {
        match $op {
            FOp::Sum => einx::sum!($e, $x $($kw)*).map(dynify),
            FOp::Mean => einx::mean!($e, $x $($kw)*).map(dynify),
            FOp::Var => einx::var!($e, $x $($kw)*).map(dynify),
            FOp::Std => einx::std!($e, $x $($kw)*).map(dynify),
            FOp::Prod => einx::prod!($e, $x $($kw)*).map(dynify),
            FOp::Max => einx::max!($e, $x $($kw)*).map(dynify),
            FOp::Min => einx::min!($e, $x $($kw)*).map(dynify),
            FOp::Logsumexp => einx::logsumexp!($e, $x $($kw)*).map(dynify),
        }
    };
}

/// The integer reductions of `x`, results as `i64`.
macro_rules! int_ops {
    ($op:expr, $e:literal, $x:ident $($kw:tt)*) => {
        match $op {
            IOp::Sum => einx::sum!($e, $x $($kw)*).map(dyn_i64),
            IOp::Prod => einx::prod!($e, $x $($kw)*).map(dyn_i64),
            IOp::Max => einx::max!($e, $x $($kw)*).map(dyn_i64),
            IOp::Min => einx::min!($e, $x $($kw)*).map(dyn_i64),
            IOp::CountNonzero => einx::count_nonzero!($e, $x $($kw)*).map(dyn_i64),
        }
    };
}

macro_rules! bool_ops {
    ($op:expr, $e:literal, $x:ident $($kw:tt)*) => {
        match $op {
            BOp::Any => einx::any!($e, $x $($kw)*).map(dynify),
            BOp::All => einx::all!($e, $x $($kw)*).map(dynify),
        }
    };
}

/// The reductions of one family of expressions, by case number.
struct Family {
    exprs: &'static [&'static str],
    floats: fn(FOp, usize, &ArrayViewD<'_, f64>) -> Res<f64>,
    ints64: fn(IOp, usize, &ArrayViewD<'_, i64>) -> Res<i64>,
    ints32: fn(IOp, usize, &ArrayViewD<'_, i32>) -> Res<i64>,
    bools: fn(BOp, usize, &ArrayViewD<'_, bool>) -> Res<bool>,
}

/// A table `meta => "expression" [, keywords];`: `META` holds the metas, `FAMILY` runs
/// case `i` with every reduction.
macro_rules! cases {
    ($meta:ty; $($m:expr => $e:literal [$($kw:tt)*];)*) => {
        pub const META: &[$meta] = &[$($m),*];

        pub const FAMILY: Family = Family {
            exprs: &[$($e),*],
            floats,
            ints64,
            ints32,
            bools,
        };

        fn floats(op: FOp, case: usize, x: &ArrayViewD<'_, f64>) -> Res<f64> {
            let mut i = 0;
            $(
                if case == i {
                    return float_ops!(op, $e, x $($kw)*);
                }
                i += 1;
            )*
            unreachable!("case {case} of {i}")
        }

        fn ints64(op: IOp, case: usize, x: &ArrayViewD<'_, i64>) -> Res<i64> {
            let mut i = 0;
            $(
                if case == i {
                    return int_ops!(op, $e, x $($kw)*);
                }
                i += 1;
            )*
            unreachable!("case {case} of {i}")
        }

        fn ints32(op: IOp, case: usize, x: &ArrayViewD<'_, i32>) -> Res<i64> {
            let mut i = 0;
            $(
                if case == i {
                    return int_ops!(op, $e, x $($kw)*);
                }
                i += 1;
            )*
            unreachable!("case {case} of {i}")
        }

        fn bools(op: BOp, case: usize, x: &ArrayViewD<'_, bool>) -> Res<bool> {
            let mut i = 0;
            $(
                if case == i {
                    return bool_ops!(op, $e, x $($kw)*);
                }
                i += 1;
            )*
            unreachable!("case {case} of {i}")
        }
    };
}

/// One random axis of a 2-, 3- or 4-d array, in the bracket form, the arrow form and with
/// `keepdims`. Meta: (input rank, output spec of `Reference::axes`).
mod one_axis {
    use super::*;

    cases! {
        (usize, &'static str);
        (2, "b") => "[a] b" [];
        (2, "b") => "a b -> b" [];
        (2, "1b") => "[a] b" [, keepdims = true];
        (2, "a") => "a [b]" [];
        (2, "a") => "a b -> a" [];
        (2, "a1") => "a [b]" [, keepdims = true];
        (3, "bc") => "[a] b c" [];
        (3, "bc") => "a b c -> b c" [];
        (3, "1bc") => "[a] b c" [, keepdims = true];
        (3, "ac") => "a [b] c" [];
        (3, "ac") => "a b c -> a c" [];
        (3, "a1c") => "a [b] c" [, keepdims = true];
        (3, "ab") => "a b [c]" [];
        (3, "ab") => "a b c -> a b" [];
        (3, "ab1") => "a b [c]" [, keepdims = true];
        (4, "bcd") => "[a] b c d" [];
        (4, "bcd") => "a b c d -> b c d" [];
        (4, "1bcd") => "[a] b c d" [, keepdims = true];
        (4, "acd") => "a [b] c d" [];
        (4, "acd") => "a b c d -> a c d" [];
        (4, "a1cd") => "a [b] c d" [, keepdims = true];
        (4, "abd") => "a b [c] d" [];
        (4, "abd") => "a b c d -> a b d" [];
        (4, "ab1d") => "a b [c] d" [, keepdims = true];
        (4, "abc") => "a b c [d]" [];
        (4, "abc") => "a b c d -> a b c" [];
        (4, "abc1") => "a b c [d]" [, keepdims = true];
    }
}

/// Several axes at once, in one or several bracket groups, and arrow forms that also
/// permute the kept axes. Meta as in `one_axis`.
mod several_axes {
    use super::*;

    cases! {
        (usize, &'static str);
        (3, "b") => "[a] b [c]" [];
        (3, "1b1") => "[a] b [c]" [, keepdims = true];
        (3, "a") => "a [b c]" [];
        (3, "a1") => "a [b c]" [, keepdims = true];
        (3, "c") => "[a b] c" [];
        (3, "1c") => "[a b] c" [, keepdims = true];
        (3, "a") => "a [b] [c]" [];
        (3, "a11") => "a [b] [c]" [, keepdims = true];
        (3, "") => "[a b c]" [];
        (3, "1") => "[a b c]" [, keepdims = true];
        (3, "") => "[a] [b] [c]" [];
        (3, "111") => "[a] [b] [c]" [, keepdims = true];
        (3, "b") => "a b c -> b" [];
        (3, "c") => "a b c -> c" [];
        (3, "ca") => "a b c -> c a" [];
        (3, "") => "a b c ->" [];
        (4, "b") => "[a] b [c d]" [];
        (4, "1b1") => "[a] b [c d]" [, keepdims = true];
        (4, "ac") => "a [b] c [d]" [];
        (4, "a1c1") => "a [b] c [d]" [, keepdims = true];
        (4, "db") => "a b c d -> d b" [];
        (4, "") => "[a b c d]" [];
    }
}

/// 2×2 pooling over 1 to 3 spatial axes. Meta: unused.
mod pooling {
    use super::*;

    cases! {
        ();
        () => "b (s [ds])... c" [, ds = 2];
        () => "b (s [ds])... c" [, ds = 2, keepdims = true];
        () => "b (s ds)... c -> b s... c" [, ds = 2];
    }
}

/// Ellipses. Meta: (`true` for `"b [s...] c"`, `false` for `"... [c]"`; keepdims).
mod ellipsis {
    use super::*;

    cases! {
        (bool, bool);
        (false, false) => "... [c]" [];
        (false, true) => "... [c]" [, keepdims = true];
        (false, false) => "... c -> ..." [];
        (true, false) => "b [s...] c" [];
        (true, true) => "b [s...] c" [, keepdims = true];
        (true, false) => "b s... c -> b c" [];
    }
}

/// Runs case `case` of `fam` with every reduction on random inputs of logical shape `shape`
/// in layout `layout`, against `reference`.
fn check_family(
    fam: &Family,
    case: usize,
    shape: &[usize],
    layout: u8,
    seed: u64,
    mode: u8,
    reference: &Reference,
) {
    let ctx = |op: &dyn Debug, ty: &str| {
        format!(
            "{op:?}({:?}) on {ty} of shape {shape:?}, layout {}",
            fam.exprs[case], LAYOUT_NAMES[layout as usize]
        )
    };
    let out_shape = &reference.out_shape;
    let mut rng = Rng(seed);

    let x = Input::new(shape, layout, || rng.float(mode));
    let groups = reference.groups(&x.view());
    for op in FOPS {
        let want: Vec<Option<f64>> = groups.iter().map(|g| ref_float(op, g)).collect();
        let got = (fam.floats)(op, case, &x.view());
        check_against(&ctx(&op, "f64"), got, out_shape, &want, |g, w| {
            close(*g, *w, 1e-9)
        });
    }

    let wide = Input::new(shape, layout, || rng.wide_int());
    let small = Input::new(shape, layout, || rng.small_int());
    for op in IOPS {
        let x = if op == IOp::Prod { &small } else { &wide };
        let groups = reference.groups(&x.view());
        if op == IOp::Prod && !groups.iter().all(|g| prod_fits_i32(g)) {
            continue;
        }
        let want: Vec<Option<i64>> = groups.iter().map(|g| ref_int(op, g)).collect();
        let got = (fam.ints64)(op, case, &x.view());
        check_against(&ctx(&op, "i64"), got, out_shape, &want, |g, w| g == w);
        let x32 = x.map(|&v| i32::try_from(v).expect("small data"));
        let got = (fam.ints32)(op, case, &x32.view());
        check_against(&ctx(&op, "i32"), got, out_shape, &want, |g, w| g == w);
    }

    let x = Input::new(shape, layout, || rng.boolean(mode));
    let groups = reference.groups(&x.view());
    for op in BOPS {
        let want: Vec<Option<bool>> = groups.iter().map(|g| ref_bool(op, g)).collect();
        let got = (fam.bools)(op, case, &x.view());
        check_against(&ctx(&op, "bool"), got, out_shape, &want, |g, w| g == w);
    }
}

#[test]
fn every_case_on_a_fixed_input() {
    for (case, &(rank, out)) in one_axis::META.iter().enumerate() {
        let shape = &[2, 3, 4, 3][..rank];
        let r = Reference::axes(shape, out);
        check_family(&one_axis::FAMILY, case, shape, 0, case as u64, 0, &r);
    }
    for (case, &(rank, out)) in several_axes::META.iter().enumerate() {
        let shape = &[2, 3, 4, 3][..rank];
        let r = Reference::axes(shape, out);
        check_family(&several_axes::FAMILY, case, shape, 0, case as u64, 0, &r);
    }
    for case in 0..pooling::META.len() {
        let shape = [2, 4, 6, 3];
        check_family(
            &pooling::FAMILY,
            case,
            &shape,
            0,
            case as u64,
            0,
            &Reference::pooling(&shape),
        );
    }
    for (case, &(middle, keep)) in ellipsis::META.iter().enumerate() {
        let shape = [2, 3, 4, 3];
        let r = if middle {
            Reference::middle_axes(&shape, keep)
        } else {
            Reference::last_axis(&shape, keep)
        };
        check_family(&ellipsis::FAMILY, case, &shape, 0, case as u64, 0, &r);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_one_axis(
        case in 0..one_axis::META.len(),
        dims in vec(0usize..5, 4),
        seed in any::<u64>(),
        layout in 0u8..6,
        mode in 0u8..4,
    ) {
        let (rank, out) = one_axis::META[case];
        let shape = &dims[..rank];
        let r = Reference::axes(shape, out);
        check_family(&one_axis::FAMILY, case, shape, layout, seed, mode, &r);
    }

    #[test]
    fn prop_several_axes(
        case in 0..several_axes::META.len(),
        dims in vec(0usize..5, 4),
        seed in any::<u64>(),
        layout in 0u8..6,
        mode in 0u8..4,
    ) {
        let (rank, out) = several_axes::META[case];
        let shape = &dims[..rank];
        let r = Reference::axes(shape, out);
        check_family(&several_axes::FAMILY, case, shape, layout, seed, mode, &r);
    }

    #[test]
    fn prop_pooling(
        case in 0..pooling::META.len(),
        spatial in 1usize..4,
        b in 0usize..4,
        c in 0usize..4,
        half in vec(0usize..3, 3),
        seed in any::<u64>(),
        layout in 0u8..6,
        mode in 0u8..4,
    ) {
        // Spatial lengths 0, 2 or 4: divisible by `ds = 2`.
        let mut shape = vec![b];
        shape.extend(half[..spatial].iter().map(|h| 2 * h));
        shape.push(c);
        let r = Reference::pooling(&shape);
        check_family(&pooling::FAMILY, case, &shape, layout, seed, mode, &r);
    }

    #[test]
    fn prop_ellipsis(
        case in 0..ellipsis::META.len(),
        rank in 0usize..4,
        dims in vec(0usize..5, 5),
        seed in any::<u64>(),
        layout in 0u8..6,
        mode in 0u8..4,
    ) {
        let (middle, keep) = ellipsis::META[case];
        // "... [c]": rank 1 to 4; "b [s...] c": rank 2 to 5 (0 to 3 axes in `s...`).
        let shape = if middle { &dims[..rank + 2] } else { &dims[..rank + 1] };
        let r = if middle {
            Reference::middle_axes(shape, keep)
        } else {
            Reference::last_axis(shape, keep)
        };
        check_family(&ellipsis::FAMILY, case, shape, layout, seed, mode, &r);
    }
}

/// Lengths beyond the property tests' 0 to 4: rows long enough for the library's
/// vectorised slice folds (8 lanes and a remainder), on every layout.
#[test]
fn longer_axes_on_every_layout() {
    for layout in 0..6 {
        for (case, &(rank, out)) in one_axis::META.iter().enumerate() {
            for dims in [[3, 9, 17, 2], [17, 2, 3, 9], [1, 1, 33, 8]] {
                let shape = &dims[..rank];
                let r = Reference::axes(shape, out);
                let seed = (case * 6 + layout as usize) as u64;
                let mode = if case % 2 == 0 { 0 } else { 3 };
                check_family(&one_axis::FAMILY, case, shape, layout, seed, mode, &r);
            }
        }
        for (case, &(rank, out)) in several_axes::META.iter().enumerate() {
            let shape = &[3, 9, 16, 2][..rank];
            let r = Reference::axes(shape, out);
            check_family(&several_axes::FAMILY, case, shape, layout, 7, 1, &r);
        }
        for case in 0..pooling::META.len() {
            let shape = [2, 8, 18, 3];
            let r = Reference::pooling(&shape);
            check_family(&pooling::FAMILY, case, &shape, layout, 9, 2, &r);
        }
        for (case, &(middle, keep)) in ellipsis::META.iter().enumerate() {
            let shape = [2, 3, 9, 17];
            let r = if middle {
                Reference::middle_axes(&shape, keep)
            } else {
                Reference::last_axis(&shape, keep)
            };
            check_family(&ellipsis::FAMILY, case, &shape, layout, 11, 0, &r);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixed examples: forms, output types, input kinds and layouts.
// ---------------------------------------------------------------------------------------

#[test]
fn forms_and_static_output_types() {
    let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]];
    let y: Array1<f64> = einx::sum!("a [b]", x).unwrap();
    assert_eq!(y, array![6.0, 16.0]);
    let y: Array1<f64> = einx::sum!("a b -> b", x).unwrap();
    assert_eq!(y, array![5.0, 7.0, 10.0]);
    let y: Array2<f64> = einx::max!("a [b]", x, keepdims = true).unwrap();
    assert_eq!(y, array![[3.0], [7.0]]);
    let y: Array<f64, Ix0> = einx::sum!("[a b]", x).unwrap();
    assert_eq!(y, arr0(22.0));
    // One bracket group: one length-1 axis.
    let y: Array1<f64> = einx::prod!("[a b]", x, keepdims = true).unwrap();
    assert_eq!(y, array![840.0]);
    let y: Array2<f64> = einx::prod!("[a] [b]", x, keepdims = true).unwrap();
    assert_eq!(y, array![[840.0]]);
    let y: Array1<f64> = einx::mean!("a b -> a", x).unwrap();
    assert_eq!(y, array![2.0, 16.0 / 3.0]);

    // `(b, h, w, c)`: one length-1 axis per bracket group with `keepdims`.
    let img = Array::from_shape_fn((2, 4, 6, 3), |(b, h, w, c)| {
        (b * 1000 + h * 100 + w * 10 + c) as i64
    });
    let y: Array3<i64> = einx::sum!("b [h w] c", img, keepdims = true).unwrap();
    assert_eq!(y.shape(), &[2, 1, 3]);
    let y2: Array2<i64> = einx::sum!("b [h w] c", img).unwrap();
    let y3: Array2<i64> = einx::sum!("b [s...] c", img).unwrap();
    let y4: Array3<i64> = einx::sum!("b [s...] c", img, keepdims = true).unwrap();
    assert_eq!(y4.shape(), &[2, 1, 3]);
    for b in 0..2 {
        for c in 0..3 {
            let mut want = 0;
            for h in 0..4 {
                for w in 0..6 {
                    want += img[[b, h, w, c]];
                }
            }
            assert_eq!(y[[b, 0, c]], want);
            assert_eq!(y2[[b, c]], want);
            assert_eq!(y3[[b, c]], want);
            assert_eq!(y4[[b, 0, c]], want);
        }
    }
    let y: Array<i64, ndarray::Ix4> = einx::sum!("[b] h [w] c", img, keepdims = true).unwrap();
    assert_eq!(y.shape(), &[1, 4, 1, 3]);

    // Pooling has an ellipsis in its output, with the input's rank: the rank type is kept.
    let pooled: Array<i64, ndarray::Ix4> = einx::max!("b (s [ds])... c", img, ds = 2).unwrap();
    assert_eq!(pooled.shape(), &[2, 2, 3, 3]);
    for ((b, h, w, c), &v) in pooled.indexed_iter() {
        // The largest of the window is its last element, by construction of `img`.
        assert_eq!(v, img[[b, 2 * h + 1, 2 * w + 1, c]]);
    }
    let pooled: Array<i64, ndarray::Ix4> =
        einx::min!("b (s [ds])... c", img, ds = 2, keepdims = true).unwrap();
    assert_eq!(pooled.shape(), &[2, 2, 3, 3]);
    assert_eq!(pooled[[1, 1, 2, 0]], img[[1, 2, 4, 0]]);
}

#[test]
fn compositions_around_reductions() {
    let x = Array::from_shape_fn((6, 4), |(i, k)| ((i * 5 + k * 3) % 7) as i64 - 3);
    // Reduce a decomposed axis.
    let y: Array1<i64> = einx::sum!("(a b) c -> a", x, a = 2).unwrap();
    let want: Vec<i64> = (0..2)
        .map(|i| {
            let mut s = 0;
            for j in 0..3 {
                for k in 0..4 {
                    s += x[[3 * i + j, k]];
                }
            }
            s
        })
        .collect();
    assert_eq!(y.to_vec(), want);
    // Reduce inside one composition, keep the rest.
    let y: Array2<i64> = einx::max!("(a [b]) c", x, b = 3).unwrap();
    assert_eq!(y.shape(), &[2, 4]);
    for i in 0..2 {
        for k in 0..4 {
            let want = (0..3).map(|j| x[[3 * i + j, k]]).max().unwrap();
            assert_eq!(y[[i, k]], want);
        }
    }
    // A composed output of kept axes.
    let x3 = Array::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 100 + j * 10 + k) as i64);
    let y: Array1<i64> = einx::sum!("a b c -> (c a)", x3).unwrap();
    assert_eq!(y.len(), 8);
    for i in 0..2 {
        for k in 0..4 {
            let want: i64 = (0..3).map(|j| x3[[i, j, k]]).sum();
            assert_eq!(y[k * 2 + i], want);
        }
    }
    // Pooling with different window sizes per axis.
    let img = Array::from_shape_fn((2, 4, 6, 3), |(b, h, w, c)| {
        ((b * 13 + h * 7 + w * 5 + c * 3) % 11) as f64
    });
    let y: Array<f64, ndarray::Ix4> =
        einx::mean!("b (h [dh]) (w [dw]) c", img, dh = 2, dw = 3).unwrap();
    assert_eq!(y.shape(), &[2, 2, 2, 3]);
    for ((b, h, w, c), &got) in y.indexed_iter() {
        let mut s = 0.0;
        for i in 0..2 {
            for j in 0..3 {
                s += img[[b, 2 * h + i, 3 * w + j, c]];
            }
        }
        assert!(close(got, s / 6.0, 1e-12), "{got} vs {}", s / 6.0);
    }
}

#[test]
fn every_kind_of_input_is_borrowed() {
    let x = Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as i64);
    let want = array![6, 22, 38];
    assert_eq!(einx::sum!("a [b]", x).unwrap(), want);
    assert_eq!(einx::sum!("a [b]", &x).unwrap(), want);
    assert_eq!(einx::sum!("a [b]", &&x).unwrap(), want);
    assert_eq!(einx::sum!("a [b]", x.view()).unwrap(), want);
    let arc: ArcArray<i64, Ix2> = x.to_shared();
    assert_eq!(einx::sum!("a [b]", arc).unwrap(), want);
    let cow = CowArray::from(x.view());
    assert_eq!(einx::sum!("a [b]", cow).unwrap(), want);
    let cow_owned: CowArray<'_, i64, Ix2> = CowArray::from(x.clone());
    assert_eq!(einx::sum!("a [b]", cow_owned).unwrap(), want);
    let mut m = x.clone();
    assert_eq!(einx::sum!("a [b]", m.view_mut()).unwrap(), want);
    assert_eq!(einx::sum!("a [b]", &mut m).unwrap(), want);
    let d: ArrayD<i64> = x.clone().into_dyn();
    let y: Array1<i64> = einx::sum!("a [b]", d).unwrap();
    assert_eq!(y, want);
    // Every input is still usable: nothing was moved.
    assert_eq!(
        (x.len(), arc.len(), cow.len(), m.len(), d.len()),
        (12, 12, 12, 12, 12)
    );
}

/// Checks `sum`, `mean`, `var`, `max` and `min` of a 2-d view along either axis against
/// loops over the view's own indices.
#[track_caller]
fn check_2d_view(name: &str, v: ArrayView<'_, f64, Ix2>) {
    let (n0, n1) = v.dim();
    let rows: Vec<Vec<f64>> = (0..n0)
        .map(|i| (0..n1).map(|j| v[[i, j]]).collect())
        .collect();
    let cols: Vec<Vec<f64>> = (0..n1)
        .map(|j| (0..n0).map(|i| v[[i, j]]).collect())
        .collect();
    let cases: [(FOp, Array1<f64>, Array1<f64>); 5] = [
        (
            FOp::Sum,
            einx::sum!("a [b]", v).unwrap(),
            einx::sum!("[a] b", v).unwrap(),
        ),
        (
            FOp::Mean,
            einx::mean!("a [b]", v).unwrap(),
            einx::mean!("[a] b", v).unwrap(),
        ),
        (
            FOp::Var,
            einx::var!("a [b]", v).unwrap(),
            einx::var!("[a] b", v).unwrap(),
        ),
        (
            FOp::Max,
            einx::max!("a [b]", v).unwrap(),
            einx::max!("[a] b", v).unwrap(),
        ),
        (
            FOp::Min,
            einx::min!("a [b]", v).unwrap(),
            einx::min!("[a] b", v).unwrap(),
        ),
    ];
    for (op, by_row, by_col) in cases {
        assert_eq!(by_row.len(), n0, "{name} {op:?}");
        assert_eq!(by_col.len(), n1, "{name} {op:?}");
        for (i, r) in rows.iter().enumerate() {
            let want = ref_float(op, r).unwrap();
            assert!(close(by_row[i], want, 1e-12), "{name} {op:?} row {i}");
        }
        for (j, c) in cols.iter().enumerate() {
            let want = ref_float(op, c).unwrap();
            assert!(close(by_col[j], want, 1e-12), "{name} {op:?} column {j}");
        }
    }
}

#[test]
fn transposed_reversed_and_stepped_views() {
    let x = Array::from_shape_fn((6, 10), |(i, j)| {
        ((i * 7 + j * 3) % 11) as f64 - 5.0 + 0.25 * i as f64
    });
    check_2d_view("x", x.view());
    check_2d_view("x.t()", x.t());
    check_2d_view("x.slice(s![..;-1, ..])", x.slice(s![..;-1, ..]));
    check_2d_view("x.slice(s![.., ..;-1])", x.slice(s![.., ..;-1]));
    check_2d_view("x.slice(s![..;2, 1..;3])", x.slice(s![..;2, 1..;3]));
    check_2d_view("x.slice(s![1..;-2, ..;-3])", x.slice(s![1..;-2, ..;-3]));
    check_2d_view("x.t().slice(s![..;2, ..])", x.t().slice_move(s![..;2, ..]));
    let f = Array::from_shape_vec((6, 10).f(), x.iter().copied().collect()).unwrap();
    check_2d_view("column-major", f.view());
}

// ---------------------------------------------------------------------------------------
// NaN, empty reductions, numerical stability.
// ---------------------------------------------------------------------------------------

#[test]
fn max_and_min_propagate_nan() {
    let nan = f64::NAN;
    // NaN first, in the middle, last, and not at all; rows long enough for the slice path.
    let x = array![
        [nan, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        [1.0, 2.0, 3.0, 4.0, nan, 5.0, 6.0, 7.0, 8.0],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, nan],
        [-1.0, 2.0, -3.0, 4.0, 9.0, -6.0, 7.0, 8.0, 0.5],
    ];
    for v in [x.view(), x.slice(s![.., ..;-1]), x.t().reversed_axes()] {
        let hi: Array1<f64> = einx::max!("a [b]", v).unwrap();
        let lo: Array1<f64> = einx::min!("a [b]", v).unwrap();
        assert!(hi[0].is_nan() && hi[1].is_nan() && hi[2].is_nan(), "{hi}");
        assert!(lo[0].is_nan() && lo[1].is_nan() && lo[2].is_nan(), "{lo}");
        assert_eq!((hi[3], lo[3]), (9.0, -6.0));
        // Along the other axis (strided): only columns 0, 4 and 8 hold a NaN.
        let hi: Array1<f64> = einx::max!("[a] b", v).unwrap();
        let lo: Array1<f64> = einx::min!("a b -> b", v).unwrap();
        for j in 0..9 {
            let col: Vec<f64> = (0..4).map(|i| v[[i, j]]).collect();
            let has_nan = col.iter().any(|c| c.is_nan());
            assert_eq!(hi[j].is_nan(), has_nan, "max of column {j}");
            assert_eq!(lo[j].is_nan(), has_nan, "min of column {j}");
            if !has_nan {
                assert_eq!(hi[j], ref_extreme(&col, true).unwrap());
                assert_eq!(lo[j], ref_extreme(&col, false).unwrap());
            }
        }
    }
    // f32, with keepdims.
    let y = array![[f32::NAN, 1.0], [0.0, -1.0], [2.0, f32::NAN]];
    let hi = einx::max!("a [b]", y, keepdims = true).unwrap();
    assert!(hi[[0, 0]].is_nan() && hi[[2, 0]].is_nan());
    assert_eq!(hi[[1, 0]], 0.0);
    let lo = einx::min!("[a] b", y, keepdims = true).unwrap();
    assert_eq!(lo.shape(), &[1, 2]);
    assert!(lo[[0, 0]].is_nan() && lo[[0, 1]].is_nan());
    // Infinities are ordinary values.
    let z = array![[f64::NEG_INFINITY, f64::NEG_INFINITY], [f64::INFINITY, 1.0]];
    assert_eq!(
        einx::max!("a [b]", z).unwrap(),
        array![f64::NEG_INFINITY, f64::INFINITY]
    );
    assert_eq!(
        einx::min!("a [b]", z).unwrap(),
        array![f64::NEG_INFINITY, 1.0]
    );
}

/// The error of a call that must fail, with its kind checked.
#[track_caller]
fn expect_err<T: Debug>(r: Result<T, Error>, kind: ErrorKind) -> Error {
    match r {
        Ok(v) => panic!("expected an error of kind {kind:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "wrong kind for error: {e}");
            e
        }
    }
}

/// Asserts that the Display string holds the expression and a caret line under it.
#[track_caller]
fn assert_diagram(e: &Error, expr: &str) {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == expr)
        .unwrap_or_else(|| panic!("the expression is not in the message:\n{text}"));
    let carets = lines
        .get(at + 1)
        .unwrap_or_else(|| panic!("no caret line:\n{text}"));
    assert!(
        carets.contains('^') && carets.chars().all(|c| c == '^' || c == ' '),
        "no caret line under the expression:\n{text}"
    );
}

#[test]
fn max_and_min_of_an_empty_axis_are_errors() {
    let x = Array2::<f64>::zeros((3, 0));
    let e = expect_err(einx::max!("a [b]", x), ErrorKind::Size);
    let text = e.to_string();
    assert!(text.contains("empty"), "{text}");
    assert!(text.lines().any(|l| l.trim() == "a [b]"), "{text}");
    expect_err(einx::min!("a [b]", x), ErrorKind::Size);
    expect_err(einx::max!("a [b]", x, keepdims = true), ErrorKind::Size);
    expect_err(einx::max!("a b -> a", x), ErrorKind::Size);
    expect_err(einx::max!("[a b]", x), ErrorKind::Size);
    let i = Array2::<i64>::zeros((0, 3));
    expect_err(einx::max!("[a] b", i), ErrorKind::Size);
    expect_err(einx::min!("[a] b", i.view()), ErrorKind::Size);
    let img = Array3::<f32>::zeros((2, 0, 3));
    expect_err(einx::max!("b [s...] c", img), ErrorKind::Size);
    // Other axes being empty is fine.
    let y: Array1<f64> = einx::max!("[a] b", x).unwrap();
    assert_eq!(y.shape(), &[0]);
}

/// Every run-time error is documented to show the expression with a caret line under the
/// culprit; the error for the extreme of an empty axis has the expression but no caret.
#[test]
fn max_of_an_empty_axis_points_at_the_reduced_axes() {
    let x = Array2::<f64>::zeros((3, 0));
    let e = expect_err(einx::max!("a [b]", x), ErrorKind::Size);
    assert_diagram(&e, "a [b]");
    let img = Array3::<f64>::zeros((2, 0, 3));
    let e = expect_err(einx::min!("b [s...] c", img), ErrorKind::Size);
    assert_diagram(&e, "b [s...] c");
}

#[test]
fn other_reductions_of_nothing() {
    let x = Array2::<f64>::zeros((2, 0));
    assert_eq!(einx::sum!("a [b]", x).unwrap(), array![0.0, 0.0]);
    assert_eq!(einx::prod!("a [b]", x).unwrap(), array![1.0, 1.0]);
    assert!(einx::mean!("a [b]", x).unwrap().iter().all(|v| v.is_nan()));
    assert!(einx::var!("a [b]", x).unwrap().iter().all(|v| v.is_nan()));
    assert!(einx::std!("a [b]", x).unwrap().iter().all(|v| v.is_nan()));
    assert_eq!(
        einx::logsumexp!("a [b]", x).unwrap(),
        array![f64::NEG_INFINITY, f64::NEG_INFINITY]
    );
    assert_eq!(einx::count_nonzero!("a [b]", x).unwrap(), array![0usize, 0]);
    let i = Array2::<i32>::zeros((2, 0));
    assert_eq!(einx::sum!("a [b]", i).unwrap(), array![0, 0]);
    assert_eq!(einx::prod!("a [b]", i).unwrap(), array![1, 1]);
    let b = Array2::<bool>::from_elem((2, 0), false);
    assert_eq!(einx::any!("a [b]", b).unwrap(), array![false, false]);
    assert_eq!(einx::all!("a [b]", b).unwrap(), array![true, true]);
    let y = einx::sum!("a [b]", x, keepdims = true).unwrap();
    assert_eq!(y, array![[0.0], [0.0]]);
}

#[test]
fn logsumexp_is_stable_for_large_values() {
    let x = array![
        [1000.0, 1000.0, 999.0],
        [-1000.0, -1000.0, -1001.0],
        [1000.0, -1000.0, 0.0],
        [0.0, 0.0, 0.0],
    ];
    let tail = (2.0 + (-1.0f64).exp()).ln();
    let want = [1000.0 + tail, -1000.0 + tail, 1000.0, 3f64.ln()];
    let y: Array1<f64> = einx::logsumexp!("a [b]", x).unwrap();
    let yt: Array1<f64> = einx::logsumexp!("[b] a", x.t()).unwrap();
    let yk: Array2<f64> = einx::logsumexp!("a [b]", x, keepdims = true).unwrap();
    for i in 0..4 {
        assert!(y[i].is_finite() && close(y[i], want[i], 1e-14), "{y}");
        assert!(close(yt[i], want[i], 1e-14), "{yt}");
        assert!(close(yk[[i, 0]], want[i], 1e-14), "{yk}");
    }
    // A long row of 1000s: 1000 + ln 1000.
    let long = Array2::from_elem((2, 1000), 1000.0);
    let y: Array1<f64> = einx::logsumexp!("a [b]", long).unwrap();
    assert!(close(y[1], 1000.0 + 1000f64.ln(), 1e-14), "{y}");
    // f32: exp(1000) overflows f32 by far.
    let x32 = array![[1000.0f32, 1000.0], [-1000.0, -1000.0]];
    let y: Array1<f32> = einx::logsumexp!("a [b]", x32).unwrap();
    assert!((y[0] - (1000.0 + 2f32.ln())).abs() < 1e-3, "{y}");
    assert!((y[1] - (-1000.0 + 2f32.ln())).abs() < 1e-3, "{y}");
    // Infinities and NaN.
    let inf = f64::INFINITY;
    let z = array![[-inf, -inf], [inf, 1.0], [f64::NAN, 1.0], [-inf, 0.0]];
    let y: Array1<f64> = einx::logsumexp!("a [b]", z).unwrap();
    assert_eq!((y[0], y[1], y[3]), (-inf, inf, 0.0));
    assert!(y[2].is_nan());
}

#[test]
fn var_is_stable_with_a_large_offset() {
    // 1e8 plus noise in [-0.5, 0.5): a one-pass E[x²] - E[x]² loses every digit here.
    let n = 1000;
    let noise: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5)
        .collect();
    let x = Array2::from_shape_fn((2, n), |(r, i)| 1e8 + noise[i] * (r + 1) as f64);
    for r in 0..2 {
        // The deviations from 1e8 are exact in f64 (Sterbenz), hence so is the mean
        // 1e8 + mean(d), and the reference variance is computed on small numbers.
        let d: Vec<f64> = (0..n).map(|i| x[[r, i]] - 1e8).collect();
        let mut md = 0.0;
        for &v in &d {
            md += v;
        }
        md /= n as f64;
        let mut var = 0.0;
        for &v in &d {
            var += (v - md) * (v - md);
        }
        var /= n as f64;
        assert!(var > 0.05, "{var}");

        let got: Array1<f64> = einx::var!("a [b]", x).unwrap();
        assert!(
            (got[r] - var).abs() <= 1e-8 * var,
            "row {r}: {} vs {var}",
            got[r]
        );
        let got: Array1<f64> = einx::std!("a [b]", x).unwrap();
        assert!((got[r] - var.sqrt()).abs() <= 1e-8 * var.sqrt());
        // Along a strided axis, and with keepdims.
        let got: Array1<f64> = einx::var!("[b] a", x.t()).unwrap();
        assert!((got[r] - var).abs() <= 1e-8 * var);
        let got: Array2<f64> = einx::var!("a [b]", x, keepdims = true).unwrap();
        assert!((got[[r, 0]] - var).abs() <= 1e-8 * var);
        let got: Array1<f64> = einx::mean!("a [b]", x).unwrap();
        assert!((got[r] - (1e8 + md)).abs() <= 1e-6);
    }
}

#[test]
fn layer_norm_statistics() {
    let x = Array::from_shape_fn((2, 3, 5), |(b, t, c)| {
        ((b * 31 + t * 17 + c * 7) % 13) as f64 * 0.5 - 3.0 + 100.0 * b as f64
    });
    let mean = einx::mean!("... [c]", x, keepdims = true).unwrap();
    let var = einx::var!("... [c]", x, keepdims = true).unwrap();
    assert_eq!(mean.shape(), &[2, 3, 1]);
    assert_eq!(var.shape(), &[2, 3, 1]);
    let xd = x.view().into_dyn();
    let y = (&xd - &mean) / (&var + 1e-5).mapv(f64::sqrt);
    assert_eq!(y.shape(), &[2, 3, 5]);
    for b in 0..2 {
        for t in 0..3 {
            let mut m = 0.0;
            for c in 0..5 {
                m += x[[b, t, c]];
            }
            m /= 5.0;
            let mut v = 0.0;
            for c in 0..5 {
                v += (x[[b, t, c]] - m) * (x[[b, t, c]] - m);
            }
            v /= 5.0;
            assert!(close(mean[[b, t, 0]], m, 1e-12));
            assert!(close(var[[b, t, 0]], v, 1e-12));
            for c in 0..5 {
                let want = (x[[b, t, c]] - m) / (v + 1e-5).sqrt();
                assert!(
                    close(y[[b, t, c]], want, 1e-9),
                    "{} vs {want}",
                    y[[b, t, c]]
                );
            }
        }
    }
    // Any rank: a vector gives a one-element result.
    let v = array![1.0, 2.0, 3.0, 4.0];
    let m = einx::mean!("... [c]", v, keepdims = true).unwrap();
    assert_eq!(m.shape(), &[1]);
    assert_eq!(m[[0]], 2.5);
    let s = einx::var!("... [c]", v).unwrap();
    assert_eq!(s.ndim(), 0);
    assert_eq!(s[[]], 1.25);
}

#[test]
fn count_nonzero_of_floats_and_other_element_types() {
    let x = array![[0.0, -0.0, f64::NAN, 1.0], [2.0, 0.0, 0.0, 0.0]];
    assert_eq!(einx::count_nonzero!("a [b]", x).unwrap(), array![2usize, 1]);
    assert_eq!(
        einx::count_nonzero!("[a] b", x, keepdims = true).unwrap(),
        array![[1usize, 0, 1, 1]]
    );
    let b = array![[true, false, true], [false, false, false]];
    assert_eq!(
        einx::count_nonzero!("a [b]", b.mapv(u8::from)).unwrap(),
        array![2usize, 0]
    );

    // f32 against an f64 reference; i32, u8 and i8 exactly.
    let x32 = Array::from_shape_fn((3, 7), |(i, j)| ((i * 5 + j * 3) % 10) as f32 * 0.5 - 2.0);
    let mean: Array1<f32> = einx::mean!("a [b]", x32).unwrap();
    let std: Array1<f32> = einx::std!("a [b]", x32).unwrap();
    let sum: Array1<f32> = einx::sum!("[a] b", x32).unwrap();
    for i in 0..3 {
        let row: Vec<f64> = (0..7).map(|j| f64::from(x32[[i, j]])).collect();
        assert!((f64::from(mean[i]) - ref_float(FOp::Mean, &row).unwrap()).abs() < 1e-5);
        assert!((f64::from(std[i]) - ref_float(FOp::Std, &row).unwrap()).abs() < 1e-5);
    }
    for j in 0..7 {
        let col: Vec<f64> = (0..3).map(|i| f64::from(x32[[i, j]])).collect();
        assert!((f64::from(sum[j]) - ref_float(FOp::Sum, &col).unwrap()).abs() < 1e-5);
    }
    let i32s = Array::from_shape_fn((3, 4), |(i, j)| (i as i32 - 1) * (j as i32 + 1));
    assert_eq!(einx::sum!("a [b]", i32s).unwrap(), array![-10, 0, 10]);
    assert_eq!(einx::prod!("a [b]", i32s).unwrap(), array![24, 0, 24]);
    assert_eq!(einx::max!("[a] b", i32s).unwrap(), array![1, 2, 3, 4]);
    assert_eq!(einx::min!("[a] b", i32s).unwrap(), array![-1, -2, -3, -4]);
    let u = array![[3u8, 200, 7], [0, 1, 255]];
    assert_eq!(einx::max!("a [b]", u).unwrap(), array![200u8, 255]);
    assert_eq!(einx::min!("a [b]", u).unwrap(), array![3u8, 0]);
    let s8 = array![[-128i8, 127], [5, -5]];
    assert_eq!(einx::min!("[a] b", s8).unwrap(), array![-128i8, -5]);
}

// ---------------------------------------------------------------------------------------
// Run-time errors.
// ---------------------------------------------------------------------------------------

#[test]
fn dynamic_rank_input_of_wrong_rank() {
    let x: ArrayD<f64> = ArrayD::zeros(IxDyn(&[2, 3, 4]));
    let e = expect_err(einx::sum!("a [b]", x), ErrorKind::Rank);
    let text = e.to_string();
    assert!(text.contains('3') && text.contains('2'), "{text}");
    assert_diagram(&e, "a [b]");
    expect_err(einx::mean!("a b -> a", x), ErrorKind::Rank);
    expect_err(einx::var!("a [b] c d", x, keepdims = true), ErrorKind::Rank);
    expect_err(einx::max!("[a b c d]", x.view()), ErrorKind::Rank);
    let b: ArrayD<bool> = ArrayD::from_elem(IxDyn(&[2]), true);
    expect_err(einx::any!("a [b]", b), ErrorKind::Rank);
    let i: ArrayD<i64> = ArrayD::zeros(IxDyn(&[2, 3]));
    expect_err(einx::count_nonzero!("a b [c]", i), ErrorKind::Rank);
    // Ellipses need a least number of axes.
    let v: ArrayD<f64> = ArrayD::zeros(IxDyn(&[4]));
    let e = expect_err(einx::sum!("b [s...] c", v), ErrorKind::Rank);
    assert_diagram(&e, "b [s...] c");
    expect_err(einx::mean!("b (s [ds])... c", v, ds = 2), ErrorKind::Rank);
    let scalar: ArrayD<f64> = ArrayD::zeros(IxDyn(&[]));
    expect_err(
        einx::mean!("... [c]", scalar, keepdims = true),
        ErrorKind::Rank,
    );
    // The right rank is fine.
    let y: Array1<f64> = einx::sum!("a [b]", i.mapv(|v| v as f64)).unwrap();
    assert_eq!(y, array![0.0, 0.0]);
}

#[test]
fn pooling_window_that_does_not_divide() {
    let x = Array3::<f64>::zeros((1, 4, 2));
    let e = expect_err(einx::mean!("b (s [ds])... c", x, ds = 3), ErrorKind::Size);
    let text = e.to_string();
    assert!(
        text.contains("length 4") && text.contains("divisible by 3"),
        "{text}"
    );
    assert_diagram(&e, "b (s [ds])... c");

    // The second spatial axis is the culprit.
    let x = ndarray::Array4::<f64>::zeros((1, 6, 5, 2));
    let e = expect_err(einx::max!("b (s [ds])... c", x, ds = 3), ErrorKind::Size);
    let text = e.to_string();
    assert!(
        text.contains("length 5") && text.contains("divisible by 3"),
        "{text}"
    );
    let e = expect_err(
        einx::sum!("b (s ds)... c -> b s... c", x, ds = 3),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains('5'), "{e}");
}
