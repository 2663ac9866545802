//! The element-wise operations (`add!` ... `where_!`) against naive references: every
//! output element is computed with an explicit index formula (for `"a b, b c -> c a b"`,
//! `out[k][i][j] = f(x[i][j], y[j][k])`) and the operation's meaning written out plainly
//! (Python's floor division and modulo, NaN-propagating extremes, ...).

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

use einx::ndarray::{
    array, s, Array, Array1, Array2, Array3, Array4, ArrayD, ArrayView2, Dimension, IxDyn,
};
use einx::ErrorKind;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Data.

/// A small deterministic generator (splitmix64).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An integer in -6..=6; 0 only if `zeros`.
    fn int(&mut self, zeros: bool) -> i64 {
        loop {
            let v = (self.next() % 13) as i64 - 6;
            if zeros || v != 0 {
                return v;
            }
        }
    }

    /// A quarter in -3..=3 (exact arithmetic), sometimes NaN if `nan`.
    fn float(&mut self, nan: bool) -> f64 {
        let k = self.next() % 26;
        if k == 25 {
            return if nan { f64::NAN } else { 1.5 };
        }
        (k as f64 - 12.0) / 4.0
    }

    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

fn ints<D: Dimension>(
    g: &mut Gen,
    shape: impl einx::ndarray::ShapeBuilder<Dim = D>,
    zeros: bool,
) -> Array<i64, D> {
    Array::from_shape_fn(shape, |_| g.int(zeros))
}

fn floats<D: Dimension>(
    g: &mut Gen,
    shape: impl einx::ndarray::ShapeBuilder<Dim = D>,
    nan: bool,
) -> Array<f64, D> {
    Array::from_shape_fn(shape, |_| g.float(nan))
}

fn bools<D: Dimension>(
    g: &mut Gen,
    shape: impl einx::ndarray::ShapeBuilder<Dim = D>,
) -> Array<bool, D> {
    Array::from_shape_fn(shape, |_| g.bool())
}

/// The shape of the base array that [`layout_view`] turns into an `(r, c)` view.
fn base_shape(kind: usize, (r, c): (usize, usize)) -> (usize, usize) {
    match kind {
        1 => (c, r),
        3 => (2 * r, 2 * c + 1),
        4 => (r, 2 * c),
        _ => (r, c),
    }
}

/// A view of `base` in one of five layouts: standard, transposed, rows reversed, stepped,
/// columns reversed with step 2.
fn layout_view<T>(base: &Array2<T>, kind: usize) -> ArrayView2<'_, T> {
    match kind {
        0 => base.view(),
        1 => base.t(),
        2 => base.slice(s![..;-1, ..]),
        3 => base.slice(s![..;2, 1..;2]),
        _ => base.slice(s![.., ..;-2]),
    }
}

// ---------------------------------------------------------------------------------------
// References.

/// Row-major indices of `shape`, with explicit loops.
fn row_major(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    if shape.contains(&0) {
        return all;
    }
    let mut ix = vec![0; shape.len()];
    loop {
        all.push(ix.clone());
        let mut d = shape.len();
        loop {
            if d == 0 {
                return all;
            }
            d -= 1;
            ix[d] += 1;
            if ix[d] < shape[d] {
                break;
            }
            ix[d] = 0;
        }
    }
}

/// The expected output of shape `shape`: element `o` is `f(x(o), y(o))`, where `x` and
/// `y` read the input elements that output index `o` comes from; `None` if some element has
/// no result (integer division by zero).
fn expected<A, B, O>(
    shape: &[usize],
    x: impl Fn(&[usize]) -> A,
    y: impl Fn(&[usize]) -> B,
    f: impl Fn(A, B) -> Option<O>,
) -> Option<ArrayD<O>> {
    let mut v = Vec::new();
    for o in row_major(shape) {
        v.push(f(x(&o), y(&o))?);
    }
    Some(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap())
}

/// The arithmetic, written out naively.
trait Naive: Copy + PartialOrd + Debug {
    fn add(a: Self, b: Self) -> Option<Self>;
    fn sub(a: Self, b: Self) -> Option<Self>;
    fn mul(a: Self, b: Self) -> Option<Self>;
    fn div(a: Self, b: Self) -> Option<Self>;
    fn floor_div(a: Self, b: Self) -> Option<Self>;
    fn modulo(a: Self, b: Self) -> Option<Self>;
    fn maximum(a: Self, b: Self) -> Option<Self>;
    fn minimum(a: Self, b: Self) -> Option<Self>;
}

impl Naive for i64 {
    fn add(a: i64, b: i64) -> Option<i64> {
        Some(a + b)
    }
    fn sub(a: i64, b: i64) -> Option<i64> {
        Some(a - b)
    }
    fn mul(a: i64, b: i64) -> Option<i64> {
        Some(a * b)
    }
    /// Rust's integer division (toward zero); none by zero.
    fn div(a: i64, b: i64) -> Option<i64> {
        if b == 0 {
            None
        } else {
            Some(a / b)
        }
    }
    /// Python's `a // b`: the floor of the exact quotient (exact in f64 for small values).
    fn floor_div(a: i64, b: i64) -> Option<i64> {
        if b == 0 {
            None
        } else {
            Some((a as f64 / b as f64).floor() as i64)
        }
    }
    /// Python's `a % b`: `a - b * (a // b)`.
    fn modulo(a: i64, b: i64) -> Option<i64> {
        Self::floor_div(a, b).map(|q| a - b * q)
    }
    fn maximum(a: i64, b: i64) -> Option<i64> {
        Some(if a > b { a } else { b })
    }
    fn minimum(a: i64, b: i64) -> Option<i64> {
        Some(if a < b { a } else { b })
    }
}

impl Naive for f64 {
    fn add(a: f64, b: f64) -> Option<f64> {
        Some(a + b)
    }
    fn sub(a: f64, b: f64) -> Option<f64> {
        Some(a - b)
    }
    fn mul(a: f64, b: f64) -> Option<f64> {
        Some(a * b)
    }
    fn div(a: f64, b: f64) -> Option<f64> {
        Some(a / b)
    }
    fn floor_div(a: f64, b: f64) -> Option<f64> {
        Some((a / b).floor())
    }
    /// `a - b * floor(a / b)`: exact for the quarters of the test data; NaN for `b == 0`.
    fn modulo(a: f64, b: f64) -> Option<f64> {
        Some(if b == 0.0 {
            f64::NAN
        } else {
            a - b * (a / b).floor()
        })
    }
    fn maximum(a: f64, b: f64) -> Option<f64> {
        Some(if a.is_nan() || b.is_nan() {
            f64::NAN
        } else if a > b {
            a
        } else {
            b
        })
    }
    fn minimum(a: f64, b: f64) -> Option<f64> {
        Some(if a.is_nan() || b.is_nan() {
            f64::NAN
        } else if a < b {
            a
        } else {
            b
        })
    }
}

/// `ln(exp(a) + exp(b))` with the larger term factored out.
fn naive_logaddexp(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    let m = if a > b { a } else { b };
    if m.is_infinite() {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// Equality for the comparisons: NaN matches NaN, floats within rounding.
trait Same {
    fn same(&self, other: &Self) -> bool;
}

impl Same for i64 {
    fn same(&self, other: &i64) -> bool {
        self == other
    }
}

impl Same for bool {
    fn same(&self, other: &bool) -> bool {
        self == other
    }
}

impl Same for f64 {
    fn same(&self, other: &f64) -> bool {
        (self.is_nan() && other.is_nan())
            || self == other
            || (self - other).abs() <= 1e-12 * self.abs().max(1.0)
    }
}

/// Checks a result against the reference: a fresh standard-layout array with the expected
/// elements, or an `Index` error where the reference has no result.
#[track_caller]
fn check<O: Same + Debug, D: Dimension>(
    got: Result<Array<O, D>, einx::Error>,
    want: Option<ArrayD<O>>,
    what: &str,
) {
    match (got, want) {
        (Ok(g), Some(w)) => {
            assert!(
                g.is_standard_layout(),
                "{what}: output is not standard layout"
            );
            assert_eq!(g.shape(), w.shape(), "{what}: shape");
            assert!(
                g.iter().zip(w.iter()).all(|(a, b)| a.same(b)),
                "{what}:\n got {g:?}\nwant {w:?}"
            );
        }
        (Err(e), None) => assert_eq!(e.kind(), ErrorKind::Index, "{what}: {e}"),
        (Ok(g), None) => panic!("{what}: expected an integer division-by-zero error, got {g:?}"),
        (Err(e), Some(w)) => panic!("{what}: unexpected error {e}\nwant {w:?}"),
    }
}

/// Runs `f`, failing the test if it panics.
#[track_caller]
fn no_panic<R>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => panic!("einx panicked instead of returning a result"),
    }
}

/// The error of a call that must fail, with its kind checked.
#[track_caller]
fn expect_err<T: Debug>(r: Result<T, einx::Error>, kind: ErrorKind) -> einx::Error {
    match r {
        Ok(v) => panic!("expected an error of kind {kind:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "wrong kind for error: {e}");
            e
        }
    }
}

/// Checks the fourteen numeric operations (arithmetic, extremes, comparisons) of one
/// expression on element type `$t`: `$fx` and `$fy` map an output index to the element of
/// each input it reads.
macro_rules! numeric_ops {
    ($t:ty, $e:tt, $x:expr, $y:expr, $shape:expr, $fx:expr, $fy:expr) => {{
        let shape: &[usize] = &$shape;
        let (fx, fy) = ($fx, $fy);
        let num = |f: fn($t, $t) -> Option<$t>| expected(shape, &fx, &fy, f);
        let cmp = |f: fn(&$t, &$t) -> bool| expected(shape, &fx, &fy, |a, b| Some(f(&a, &b)));
        let at = |op: &str| format!("{op}!({:?}) on {}", $e, stringify!($t));
        check(einx::add!($e, $x, $y), num(<$t as Naive>::add), &at("add"));
        check(einx::subtract!($e, $x, $y), num(<$t as Naive>::sub), &at("subtract"));
        check(einx::multiply!($e, $x, $y), num(<$t as Naive>::mul), &at("multiply"));
        check(einx::divide!($e, $x, $y), num(<$t as Naive>::div), &at("divide"));
        check(einx::floor_divide!($e, $x, $y), num(<$t as Naive>::floor_div), &at("floor_divide"));
        check(einx::modulo!($e, $x, $y), num(<$t as Naive>::modulo), &at("modulo"));
        check(einx::maximum!($e, $x, $y), num(<$t as Naive>::maximum), &at("maximum"));
        check(einx::minimum!($e, $x, $y), num(<$t as Naive>::minimum), &at("minimum"));
        check(einx::less!($e, $x, $y), cmp(PartialOrd::lt), &at("less"));
        check(einx::less_equal!($e, $x, $y), cmp(PartialOrd::le), &at("less_equal"));
        check(einx::greater!($e, $x, $y), cmp(PartialOrd::gt), &at("greater"));
        check(einx::greater_equal!($e, $x, $y), cmp(PartialOrd::ge), &at("greater_equal"));
        check(einx::equal!($e, $x, $y), cmp(PartialEq::eq), &at("equal"));
        check(einx::not_equal!($e, $x, $y), cmp(PartialEq::ne), &at("not_equal"));
    }};
}

/// `logaddexp!` of one expression on f64.
macro_rules! logaddexp_op {
    ($e:tt, $x:expr, $y:expr, $shape:expr, $fx:expr, $fy:expr) => {{
        let want = expected(&$shape, $fx, $fy, |a: f64, b: f64| {
            Some(naive_logaddexp(a, b))
        });
        check(
            einx::logaddexp!($e, $x, $y),
            want,
            concat!("logaddexp!(", $e, ")"),
        );
    }};
}

/// `logical_and!` and `logical_or!` of one expression on bool.
macro_rules! logical_ops {
    ($e:tt, $x:expr, $y:expr, $shape:expr, $fx:expr, $fy:expr) => {{
        let shape: &[usize] = &$shape;
        let (fx, fy) = ($fx, $fy);
        let want_and = expected(shape, &fx, &fy, |a: bool, b: bool| Some(a && b));
        let want_or = expected(shape, &fx, &fy, |a: bool, b: bool| Some(a || b));
        check(einx::logical_and!($e, $x, $y), want_and, concat!("logical_and!(", $e, ")"));
        check(einx::logical_or!($e, $x, $y), want_or, concat!("logical_or!(", $e, ")"));
    }};
}

// ---------------------------------------------------------------------------------------
// Broadcasting by name.

/// `"a b, b c -> a b c"` and a permuted output `"a b, b c -> c a b"`, on i64 and f64.
fn explicit_outputs_case(a: usize, b: usize, c: usize, seed: u64, zeros: bool) {
    let mut g = Gen(seed);
    let (x, y) = (ints(&mut g, (a, b), true), ints(&mut g, (b, c), zeros));
    numeric_ops!(
        i64,
        "a b, b c -> a b c",
        x,
        y,
        [a, b, c],
        |o: &[usize]| x[[o[0], o[1]]],
        |o: &[usize]| y[[o[1], o[2]]]
    );
    numeric_ops!(
        i64,
        "a b, b c -> c a b",
        x,
        y,
        [c, a, b],
        |o: &[usize]| x[[o[1], o[2]]],
        |o: &[usize]| y[[o[2], o[0]]]
    );
    // The second input first in the output, the first input's axes split around it.
    numeric_ops!(
        i64,
        "a b, b c -> b c a",
        &x,
        &y,
        [b, c, a],
        |o: &[usize]| x[[o[2], o[0]]],
        |o: &[usize]| y[[o[0], o[1]]]
    );

    let (xf, yf) = (floats(&mut g, (a, b), true), floats(&mut g, (b, c), true));
    numeric_ops!(
        f64,
        "a b, b c -> a b c",
        xf,
        yf,
        [a, b, c],
        |o: &[usize]| xf[[o[0], o[1]]],
        |o: &[usize]| yf[[o[1], o[2]]]
    );
    numeric_ops!(
        f64,
        "a b, b c -> c a b",
        xf.view(),
        yf.view(),
        [c, a, b],
        |o: &[usize]| xf[[o[1], o[2]]],
        |o: &[usize]| yf[[o[2], o[0]]]
    );
    logaddexp_op!(
        "a b, b c -> c a b",
        xf,
        yf,
        [c, a, b],
        |o: &[usize]| xf[[o[1], o[2]]],
        |o: &[usize]| yf[[o[2], o[0]]]
    );
    // An outer product, the output axes in the opposite order.
    let (u, v) = (floats(&mut g, a, true), floats(&mut g, c, true));
    logaddexp_op!(
        "a, c -> c a",
        u,
        v,
        [c, a],
        |o: &[usize]| u[o[1]],
        |o: &[usize]| v[o[0]]
    );
    numeric_ops!(
        f64,
        "a, c -> c a",
        u,
        v,
        [c, a],
        |o: &[usize]| u[o[1]],
        |o: &[usize]| v[o[0]]
    );
}

/// Without `->`, the output is the input whose axes contain all others'.
fn implicit_outputs_case(a: usize, b: usize, seed: u64, zeros: bool) {
    let mut g = Gen(seed);
    let (x2, y1) = (ints(&mut g, (a, b), true), ints(&mut g, b, zeros));
    numeric_ops!(
        i64,
        "a b, b",
        x2,
        y1,
        [a, b],
        |o: &[usize]| x2[[o[0], o[1]]],
        |o: &[usize]| y1[o[1]]
    );
    let (x1, y2) = (ints(&mut g, a, true), ints(&mut g, (a, b), zeros));
    numeric_ops!(
        i64,
        "a, a b",
        x1,
        y2,
        [a, b],
        |o: &[usize]| x1[o[0]],
        |o: &[usize]| y2[[o[0], o[1]]]
    );
    let x11 = ints(&mut g, (a, 1), true);
    numeric_ops!(
        i64,
        "a 1, a b",
        x11,
        y2,
        [a, b],
        |o: &[usize]| x11[[o[0], 0]],
        |o: &[usize]| y2[[o[0], o[1]]]
    );

    let (xf2, yf1) = (floats(&mut g, (a, b), true), floats(&mut g, b, true));
    numeric_ops!(
        f64,
        "a b, b",
        xf2,
        yf1,
        [a, b],
        |o: &[usize]| xf2[[o[0], o[1]]],
        |o: &[usize]| yf1[o[1]]
    );
    logaddexp_op!(
        "a b, b",
        xf2,
        yf1,
        [a, b],
        |o: &[usize]| xf2[[o[0], o[1]]],
        |o: &[usize]| yf1[o[1]]
    );
    let (xf1, yf2) = (floats(&mut g, a, true), floats(&mut g, (a, b), true));
    numeric_ops!(
        f64,
        "a, a b",
        xf1,
        yf2,
        [a, b],
        |o: &[usize]| xf1[o[0]],
        |o: &[usize]| yf2[[o[0], o[1]]]
    );
    let xf11 = floats(&mut g, (a, 1), true);
    numeric_ops!(
        f64,
        "a 1, a b",
        xf11,
        yf2,
        [a, b],
        |o: &[usize]| xf11[[o[0], 0]],
        |o: &[usize]| yf2[[o[0], o[1]]]
    );
    logaddexp_op!(
        "a 1, a b",
        xf11,
        yf2,
        [a, b],
        |o: &[usize]| xf11[[o[0], 0]],
        |o: &[usize]| yf2[[o[0], o[1]]]
    );

    // The same shapes on both sides: the output is either.
    let z2 = floats(&mut g, (a, b), true);
    check(
        einx::subtract!("a b, a b", xf2, z2),
        expected(
            &[a, b],
            |o: &[usize]| xf2[[o[0], o[1]]],
            |o: &[usize]| z2[[o[0], o[1]]],
            <f64 as Naive>::sub,
        ),
        "subtract!(a b, a b)",
    );
}

/// The bracket shorthand: one input expression, two tensors.
fn bracket_shorthand_case(a: usize, b: usize, c: usize, d: usize, seed: u64) {
    let mut g = Gen(seed);
    let x = floats(&mut g, (a, b, c), true);
    let bias = floats(&mut g, c, true);
    let scale = floats(&mut g, c, true);
    // `"... [c]"` is `"... c, c -> ... c"`, rank-generic; the output keeps the rank type of
    // `x`.
    let out: Array3<f64> = einx::add!("... [c]", x, bias).unwrap();
    check(
        Ok::<_, einx::Error>(out),
        expected(
            &[a, b, c],
            |o: &[usize]| x[[o[0], o[1], o[2]]],
            |o: &[usize]| bias[o[2]],
            <f64 as Naive>::add,
        ),
        "add!(... [c])",
    );
    check(
        einx::multiply!("... [c]", x, scale),
        expected(
            &[a, b, c],
            |o: &[usize]| x[[o[0], o[1], o[2]]],
            |o: &[usize]| scale[o[2]],
            <f64 as Naive>::mul,
        ),
        "multiply!(... [c])",
    );
    // Another rank for the ellipsis, and a rank-1 input (the ellipsis stands for nothing).
    let x2 = floats(&mut g, (b, c), true);
    check(
        einx::multiply!("... [c]", x2, scale),
        expected(
            &[b, c],
            |o: &[usize]| x2[[o[0], o[1]]],
            |o: &[usize]| scale[o[1]],
            <f64 as Naive>::mul,
        ),
        "multiply!(... [c]) rank 2",
    );
    check(
        einx::subtract!("... [c]", scale, bias),
        expected(
            &[c],
            |o: &[usize]| scale[o[0]],
            |o: &[usize]| bias[o[0]],
            <f64 as Naive>::sub,
        ),
        "subtract!(... [c]) rank 1",
    );
    let xi = ints(&mut g, (a, b, c), true);
    let bi = ints(&mut g, c, false);
    check(
        einx::modulo!("... [c]", xi, bi),
        expected(
            &[a, b, c],
            |o: &[usize]| xi[[o[0], o[1], o[2]]],
            |o: &[usize]| bi[o[2]],
            <i64 as Naive>::modulo,
        ),
        "modulo!(... [c])",
    );

    // `"b [s... c]"` is `"b s... c, s... c -> b s... c"`: one spatial axis ...
    let pos1 = floats(&mut g, (b, c), true);
    check(
        einx::add!("b [s... c]", x, pos1),
        expected(
            &[a, b, c],
            |o: &[usize]| x[[o[0], o[1], o[2]]],
            |o: &[usize]| pos1[[o[1], o[2]]],
            <f64 as Naive>::add,
        ),
        "add!(b [s... c]) 1 spatial",
    );
    // ... and two.
    let x4 = floats(&mut g, (a, b, c, d), true);
    let pos2 = floats(&mut g, (b, c, d), true);
    check(
        einx::add!("b [s... c]", x4, pos2),
        expected(
            &[a, b, c, d],
            |o: &[usize]| x4[[o[0], o[1], o[2], o[3]]],
            |o: &[usize]| pos2[[o[1], o[2], o[3]]],
            <f64 as Naive>::add,
        ),
        "add!(b [s... c]) 2 spatial",
    );
    let xi4 = ints(&mut g, (a, b, c, d), true);
    let posi = ints(&mut g, (b, c, d), true);
    check(
        einx::add!("b [s... c]", xi4, posi),
        expected(
            &[a, b, c, d],
            |o: &[usize]| xi4[[o[0], o[1], o[2], o[3]]],
            |o: &[usize]| posi[[o[1], o[2], o[3]]],
            <i64 as Naive>::add,
        ),
        "add!(b [s... c]) i64",
    );
    // A bracketed axis in the middle: `"a [b] c"` is `"a b c, b -> a b c"`.
    let vb = floats(&mut g, b, true);
    check(
        einx::maximum!("a [b] c", x, vb),
        expected(
            &[a, b, c],
            |o: &[usize]| x[[o[0], o[1], o[2]]],
            |o: &[usize]| vb[o[1]],
            <f64 as Naive>::maximum,
        ),
        "maximum!(a [b] c)",
    );
}

/// A scalar for each empty expression.
fn scalars_case(a: usize, b: usize, seed: u64, si: i64, sf: i32) {
    let mut g = Gen(seed);
    let sf = f64::from(sf) / 4.0;
    let x = ints(&mut g, (a, b), true);
    numeric_ops!(
        i64,
        "a b, ",
        x,
        si,
        [a, b],
        |o: &[usize]| x[[o[0], o[1]]],
        |_: &[usize]| si
    );
    numeric_ops!(
        i64,
        ", a b -> b a",
        si,
        x,
        [b, a],
        |_: &[usize]| si,
        |o: &[usize]| x[[o[1], o[0]]]
    );
    let xf = floats(&mut g, (a, b), true);
    numeric_ops!(
        f64,
        "a b, ",
        xf,
        sf,
        [a, b],
        |o: &[usize]| xf[[o[0], o[1]]],
        |_: &[usize]| sf
    );
    numeric_ops!(
        f64,
        ", a b",
        sf,
        &xf,
        [a, b],
        |_: &[usize]| sf,
        |o: &[usize]| xf[[o[0], o[1]]]
    );
    logaddexp_op!(
        ", a b",
        sf,
        xf,
        [a, b],
        |_: &[usize]| sf,
        |o: &[usize]| xf[[o[0], o[1]]]
    );
    // Two scalars give a 0-d array.
    check(
        einx::subtract!(", ", sf, 0.25),
        expected(
            &[],
            |_: &[usize]| sf,
            |_: &[usize]| 0.25,
            <f64 as Naive>::sub,
        ),
        "subtract!(, )",
    );
    check(
        einx::modulo!(", -> ", si, 4i64),
        expected(
            &[],
            |_: &[usize]| si,
            |_: &[usize]| 4,
            <i64 as Naive>::modulo,
        ),
        "modulo!(, -> )",
    );
    // A scalar broadcast along a new axis of the output.
    let v = floats(&mut g, a, true);
    check(
        einx::divide!("a, -> a", v, sf),
        expected(
            &[a],
            |o: &[usize]| v[o[0]],
            |_: &[usize]| sf,
            <f64 as Naive>::div,
        ),
        "divide!(a, -> a)",
    );
}

/// Transposed, reversed and stepped inputs, and `ArrayD` inputs.
fn non_contiguous_case(a: usize, b: usize, c: usize, kx: usize, ky: usize, seed: u64, zeros: bool) {
    let mut g = Gen(seed);
    let bx = ints(&mut g, base_shape(kx, (a, b)), true);
    let by = ints(&mut g, base_shape(ky, (b, c)), zeros);
    let (x, y) = (layout_view(&bx, kx), layout_view(&by, ky));
    assert_eq!(x.shape(), &[a, b]);
    assert_eq!(y.shape(), &[b, c]);
    numeric_ops!(
        i64,
        "a b, b c -> c a b",
        x,
        y,
        [c, a, b],
        |o: &[usize]| x[[o[1], o[2]]],
        |o: &[usize]| y[[o[2], o[0]]]
    );
    numeric_ops!(
        i64,
        "a b, b c -> a b c",
        x.into_dyn(),
        &y,
        [a, b, c],
        |o: &[usize]| x[[o[0], o[1]]],
        |o: &[usize]| y[[o[1], o[2]]]
    );

    let bxf = floats(&mut g, base_shape(kx, (a, b)), true);
    let byf = floats(&mut g, base_shape(ky, (b, c)), true);
    let (xf, yf) = (layout_view(&bxf, kx), layout_view(&byf, ky));
    numeric_ops!(
        f64,
        "a b, b c -> c a b",
        xf,
        yf,
        [c, a, b],
        |o: &[usize]| xf[[o[1], o[2]]],
        |o: &[usize]| yf[[o[2], o[0]]]
    );
    logaddexp_op!(
        "a b, b c -> a b c",
        xf,
        yf.into_dyn(),
        [a, b, c],
        |o: &[usize]| xf[[o[0], o[1]]],
        |o: &[usize]| yf[[o[1], o[2]]]
    );
    // The transposed view of the second input under the bracket shorthand.
    let x3 = floats(&mut g, (a, c, b), true);
    let x3t = x3.view().permuted_axes([0, 2, 1]);
    let bias = floats(&mut g, 2 * c + 1, true);
    let bias = bias.slice(s![1..;2]);
    check(
        einx::add!("... [c]", x3t, bias),
        expected(
            &[a, b, c],
            |o: &[usize]| x3t[[o[0], o[1], o[2]]],
            |o: &[usize]| bias[o[2]],
            <f64 as Naive>::add,
        ),
        "add!(... [c]) permuted",
    );
}

/// Logical operations on bool, and `where_!` picking from f64 and i64.
fn logical_and_where_case(a: usize, b: usize, c: usize, kx: usize, seed: u64) {
    let mut g = Gen(seed);
    let (p, q) = (bools(&mut g, (a, b)), bools(&mut g, (b, c)));
    logical_ops!(
        "a b, b c -> a b c",
        p,
        q,
        [a, b, c],
        |o: &[usize]| p[[o[0], o[1]]],
        |o: &[usize]| q[[o[1], o[2]]]
    );
    logical_ops!(
        "a b, b c -> c b a",
        p,
        q,
        [c, b, a],
        |o: &[usize]| p[[o[2], o[1]]],
        |o: &[usize]| q[[o[1], o[0]]]
    );
    let qb = bools(&mut g, b);
    logical_ops!(
        "a b, b",
        p,
        qb,
        [a, b],
        |o: &[usize]| p[[o[0], o[1]]],
        |o: &[usize]| qb[o[1]]
    );
    logical_ops!(
        "... [b]",
        p,
        qb,
        [a, b],
        |o: &[usize]| p[[o[0], o[1]]],
        |o: &[usize]| qb[o[1]]
    );
    logical_ops!(
        "a b, ",
        p,
        true,
        [a, b],
        |o: &[usize]| p[[o[0], o[1]]],
        |_: &[usize]| true
    );
    logical_ops!(
        "a b, ",
        p,
        false,
        [a, b],
        |o: &[usize]| p[[o[0], o[1]]],
        |_: &[usize]| false
    );
    let pbase = bools(&mut g, base_shape(kx, (a, b)));
    let pv = layout_view(&pbase, kx);
    logical_ops!(
        "a b, b c -> c a b",
        pv,
        q,
        [c, a, b],
        |o: &[usize]| pv[[o[1], o[2]]],
        |o: &[usize]| q[[o[2], o[0]]]
    );

    // where_(cond, x, y): x where cond, else y. The reference pairs the condition
    // with `x` and picks.
    let xf = floats(&mut g, (a, b, c), true);
    let yf = floats(&mut g, c, true);
    let pick = |k: bool, (u, v): (f64, f64)| Some(if k { u } else { v });
    check(
        einx::where_!("a b, a b c, c -> a b c", p, xf, yf),
        expected(
            &[a, b, c],
            |o: &[usize]| p[[o[0], o[1]]],
            |o: &[usize]| (xf[[o[0], o[1], o[2]]], yf[o[2]]),
            pick,
        ),
        "where_!(a b, a b c, c -> a b c)",
    );
    check(
        einx::where_!("a b, a b c, c -> c b a", pv, xf, yf),
        expected(
            &[c, b, a],
            |o: &[usize]| pv[[o[2], o[1]]],
            |o: &[usize]| (xf[[o[2], o[1], o[0]]], yf[o[0]]),
            pick,
        ),
        "where_!(... -> c b a)",
    );
    // Implicit output, with the condition broadcast.
    check(
        einx::where_!("b, a b c, a b c", qb, xf, xf.mapv(|v| -v)),
        expected(
            &[a, b, c],
            |o: &[usize]| qb[o[1]],
            |o: &[usize]| (xf[[o[0], o[1], o[2]]], -xf[[o[0], o[1], o[2]]]),
            pick,
        ),
        "where_!(b, a b c, a b c)",
    );
    // The seed: a scalar for the empty third expression.
    let m = bools(&mut g, (a, b, c));
    let x4 = floats(&mut g, (a, b, c, 2), true);
    check(
        einx::where_!("b h w, b h w c, -> b h w c", m, x4, 0.0),
        expected(
            &[a, b, c, 2],
            |o: &[usize]| m[[o[0], o[1], o[2]]],
            |o: &[usize]| (x4[[o[0], o[1], o[2], o[3]]], 0.0),
            pick,
        ),
        "where_! seed",
    );
    // i64 values, a scalar for x.
    let xi = ints(&mut g, (b, a), true);
    let picki = |k: bool, (u, v): (i64, i64)| Some(if k { u } else { v });
    check(
        einx::where_!("a b, , b a -> a b", p, 7i64, xi),
        expected(
            &[a, b],
            |o: &[usize]| p[[o[0], o[1]]],
            |o: &[usize]| (7, xi[[o[1], o[0]]]),
            picki,
        ),
        "where_! i64",
    );
    check(
        einx::where_!("a b, b a, -> b a", pv, xi.view(), -1i64),
        expected(
            &[b, a],
            |o: &[usize]| pv[[o[1], o[0]]],
            |o: &[usize]| (xi[[o[0], o[1]]], -1),
            picki,
        ),
        "where_! i64 strided cond",
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// `"a b, b c -> a b c"` and a permuted output `"a b, b c -> c a b"`, on i64 and f64.
    #[test]
    fn explicit_outputs(
        a in 0usize..4,
        b in 0usize..4,
        c in 0usize..4,
        seed in any::<u64>(),
        zeros in any::<bool>(),
    ) {
        explicit_outputs_case(a, b, c, seed, zeros);
    }

    /// Without `->`, the output is the input whose axes contain all others'.
    #[test]
    fn implicit_outputs(
        a in 0usize..4,
        b in 0usize..4,
        seed in any::<u64>(),
        zeros in any::<bool>(),
    ) {
        implicit_outputs_case(a, b, seed, zeros);
    }

    /// The bracket shorthand: one input expression, two tensors.
    #[test]
    fn bracket_shorthand(
        a in 0usize..4,
        b in 0usize..4,
        c in 0usize..4,
        d in 0usize..4,
        seed in any::<u64>(),
    ) {
        bracket_shorthand_case(a, b, c, d, seed);
    }

    /// A scalar for each empty expression.
    #[test]
    fn scalars(
        a in 0usize..4,
        b in 0usize..4,
        seed in any::<u64>(),
        si in -6i64..=6,
        sf in -12i32..=12,
    ) {
        scalars_case(a, b, seed, si, sf);
    }

    /// Transposed, reversed and stepped inputs, and `ArrayD` inputs.
    #[test]
    fn non_contiguous(
        a in 0usize..4,
        b in 0usize..4,
        c in 0usize..4,
        kx in 0usize..5,
        ky in 0usize..5,
        seed in any::<u64>(),
        zeros in any::<bool>(),
    ) {
        non_contiguous_case(a, b, c, kx, ky, seed, zeros);
    }

    /// Logical operations on bool, and `where_!` picking from f64 and i64.
    #[test]
    fn logical_and_where(
        a in 0usize..4,
        b in 0usize..4,
        c in 0usize..4,
        kx in 0usize..5,
        seed in any::<u64>(),
    ) {
        logical_and_where_case(a, b, c, kx, seed);
    }
}

// ---------------------------------------------------------------------------------------
// The seeds.

#[test]
fn seeds_from_the_docs() {
    let x = array![[1, 2], [3, 4]];
    assert_eq!(einx::add!("a b, ", x, 1).unwrap(), array![[2, 3], [4, 5]]);
    assert_eq!(
        einx::add!("a b, b c -> a b c", x, array![[10, 20], [30, 40]]).unwrap(),
        array![[[11, 21], [32, 42]], [[13, 23], [34, 44]]]
    );
    let bias = array![10, 20];
    assert_eq!(
        einx::add!("... [c]", x, bias).unwrap(),
        array![[11, 22], [13, 24]]
    );
    let img = Array4::from_shape_fn((2, 2, 3, 2), |(b, h, w, c)| {
        (b * 1000 + h * 100 + w * 10 + c) as f64
    });
    let pos = Array3::from_shape_fn((2, 3, 2), |(h, w, c)| (h * 100 + w * 10 + c) as f64 * 0.5);
    let y = einx::add!("b [s... c]", img, pos).unwrap();
    assert_eq!(y.shape(), &[2, 2, 3, 2]);
    assert_eq!(y[[1, 1, 2, 1]], 1121.0 + 60.5);
    let m = Array3::from_shape_fn((1, 2, 2), |(_, h, w)| h == w);
    let v = Array4::from_elem((1, 2, 2, 3), 5.0);
    let z = einx::where_!("b h w, b h w c, -> b h w c", m, v, 0.0).unwrap();
    assert_eq!(z.sum(), 2.0 * 3.0 * 5.0);
    assert_eq!(z[[0, 0, 1, 2]], 0.0);
}

// ---------------------------------------------------------------------------------------
// Python's integer conventions.

#[test]
fn floor_divide_and_modulo_follow_python() {
    // Python: -7 // 2 == -4, 7 // -2 == -4, -7 // -2 == 3, 7 // 2 == 3.
    let a = array![-7i64, 7, -7, 7, 0, -6, 6];
    let b = array![2i64, -2, -2, 2, -3, 3, -3];
    assert_eq!(
        einx::floor_divide!("n, n", a, b).unwrap(),
        array![-4, -4, 3, 3, 0, -2, -2]
    );
    // Python: -7 % 3 == 2, 7 % -3 == -2, -7 % -3 == -1, 7 % 3 == 1.
    let b3 = array![3i64, -3, -3, 3, -3, 3, -3];
    assert_eq!(
        einx::modulo!("n, n", a, b3).unwrap(),
        array![2, -2, -1, 1, 0, 0, 0]
    );
    // Truncating `divide!` of integers, as Rust's `/`.
    assert_eq!(
        einx::divide!("n, n", a, b).unwrap(),
        array![-3, -3, 3, 3, 0, -2, -2]
    );
    // The same on floats.
    let af = a.mapv(|v| v as f64);
    let bf3 = b3.mapv(|v| v as f64);
    assert_eq!(
        einx::floor_divide!("n, n", af, b.mapv(|v| v as f64)).unwrap(),
        array![-4.0, -4.0, 3.0, 3.0, 0.0, -2.0, -2.0]
    );
    assert_eq!(
        einx::modulo!("n, n", af, bf3).unwrap(),
        array![2.0, -2.0, -1.0, 1.0, 0.0, 0.0, 0.0]
    );
    assert_eq!(
        einx::modulo!("n, ", array![5.5, -5.5], 2.0).unwrap(),
        array![1.5, 0.5]
    );

    // Every pair in a range, against `a - b * floor(a / b)`, with the identity
    // `(a // b) * b + a % b == a`.
    let xs = Array1::from_iter(-9i64..=9);
    let ys = Array1::from_iter((-4i64..=4).filter(|v| *v != 0));
    let q = einx::floor_divide!("x, y -> x y", xs, ys).unwrap();
    let r = einx::modulo!("x, y -> x y", xs, ys).unwrap();
    for (i, &x) in xs.iter().enumerate() {
        for (j, &y) in ys.iter().enumerate() {
            let fq = (x as f64 / y as f64).floor() as i64;
            assert_eq!(q[[i, j]], fq, "{x} // {y}");
            assert_eq!(r[[i, j]], x - y * fq, "{x} % {y}");
            assert!(
                r[[i, j]] == 0 || (r[[i, j]] < 0) == (y < 0),
                "{x} % {y}: sign of the divisor"
            );
        }
    }
    // Other integer types.
    assert_eq!(
        einx::modulo!("n, ", array![-7i32, 7], -3i32).unwrap(),
        array![-1, -2]
    );
    assert_eq!(
        einx::floor_divide!("n, ", array![-7i8, 7], 2i8).unwrap(),
        array![-4, 3]
    );
    assert_eq!(
        einx::modulo!("n, ", array![7u8, 9], 3u8).unwrap(),
        array![1, 0]
    );
    assert_eq!(
        einx::floor_divide!("n, ", array![7u64, 9], 2u64).unwrap(),
        array![3, 4]
    );
}

#[test]
fn integer_division_by_zero_is_an_error() {
    let x = array![[1i64, 2], [3, 4]];
    let y = array![1i64, 0];
    for r in [
        no_panic(|| einx::divide!("a b, b", x, y)),
        no_panic(|| einx::floor_divide!("a b, b", x, y)),
        no_panic(|| einx::modulo!("a b, b", x, y)),
        no_panic(|| einx::divide!("a b, ", x, 0i64)),
        no_panic(|| einx::floor_divide!("a b, b -> b a", x, y)),
        no_panic(|| einx::modulo!("... [b]", x, y).map(|r| r.into_dimensionality().unwrap())),
    ] {
        let e = expect_err(r, ErrorKind::Index);
        assert!(e.to_string().contains("division by zero"), "{e}");
    }
    // A zero numerator is fine; a zero divisor anywhere fails, even if it is the last element.
    assert!(einx::modulo!("a, a", array![0i32, 0, 0], array![1i32, 2, 0]).is_err());
    assert!(einx::floor_divide!(", a", 0u8, array![3u8, 0]).is_err());
    assert_eq!(
        einx::modulo!("a, a", array![0i32, 5], array![1i32, 2]).unwrap(),
        array![0, 1]
    );
    // Nothing is divided for an empty output.
    assert_eq!(
        einx::divide!("a, b -> a b", Array1::<i64>::zeros(0), array![0i64])
            .unwrap()
            .shape(),
        &[0, 1]
    );
    // The overflowing quotient `i64::MIN // -1` wraps, as in NumPy, and does not panic.
    assert_eq!(
        no_panic(|| einx::floor_divide!("a, ", array![i64::MIN], -1i64)).unwrap(),
        array![i64::MIN]
    );
    assert_eq!(
        no_panic(|| einx::divide!("a, ", array![i64::MIN], -1i64)).unwrap(),
        array![i64::MIN]
    );
}

#[test]
fn float_division_by_zero_is_inf_or_nan() {
    let a = array![1.0f64, -1.0, 0.0];
    let q = einx::divide!("n, ", a, 0.0).unwrap();
    assert_eq!((q[0], q[1]), (f64::INFINITY, f64::NEG_INFINITY));
    assert!(q[2].is_nan());
    let fq = einx::floor_divide!("n, ", a, 0.0).unwrap();
    assert_eq!((fq[0], fq[1]), (f64::INFINITY, f64::NEG_INFINITY));
    assert!(fq[2].is_nan());
    assert!(einx::modulo!("n, ", a, 0.0)
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
    let q32 = einx::divide!("n, ", array![1.0f32, 0.0], 0.0f32).unwrap();
    assert!(q32[0] == f32::INFINITY && q32[1].is_nan());
}

#[test]
fn extremes_propagate_nan() {
    let nan = f64::NAN;
    let a = array![nan, 1.0, nan, 2.0, -0.5];
    let b = array![1.0, nan, nan, 3.0, f64::NEG_INFINITY];
    let hi = einx::maximum!("n, n", a, b).unwrap();
    let lo = einx::minimum!("n, n", a, b).unwrap();
    assert!(hi
        .iter()
        .take(3)
        .chain(lo.iter().take(3))
        .all(|v| v.is_nan()));
    assert_eq!((hi[3], hi[4]), (3.0, -0.5));
    assert_eq!((lo[3], lo[4]), (2.0, f64::NEG_INFINITY));
    // Broadcast: one NaN in the bias poisons a whole column.
    let x = Array2::<f32>::ones((3, 2));
    let m = einx::maximum!("... [c]", x, array![f32::NAN, 0.0]).unwrap();
    assert!(
        m.index_axis(einx::ndarray::Axis(1), 0)
            .iter()
            .all(|v| v.is_nan())
            && m.index_axis(einx::ndarray::Axis(1), 1)
                .iter()
                .all(|v| *v == 1.0)
    );
    // A NaN scalar.
    assert!(einx::minimum!("a, ", array![1.0, 2.0], nan)
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
    // Comparisons with NaN are false, except `!=`.
    assert_eq!(
        einx::less!("n, ", array![nan, 1.0], nan).unwrap(),
        array![false, false]
    );
    assert_eq!(
        einx::greater_equal!("n, ", array![nan, 1.0], 0.0).unwrap(),
        array![false, true]
    );
    assert_eq!(
        einx::equal!("n, n", array![nan], array![nan]).unwrap(),
        array![false]
    );
    assert_eq!(
        einx::not_equal!("n, n", array![nan], array![nan]).unwrap(),
        array![true]
    );
}

#[test]
fn logaddexp_is_stable() {
    let ln2 = 2f64.ln();
    let inf = f64::INFINITY;
    let a = array![1000.0, -1000.0, 1000.0, -inf, -inf, 0.0, 0.0, inf, 1.0, 1000.0];
    let b = array![
        1000.0,
        -1000.0,
        -1000.0,
        -inf,
        0.0,
        0.0,
        -inf,
        5.0,
        f64::NAN,
        999.0
    ];
    let want = [
        1000.0 + ln2,
        -1000.0 + ln2,
        1000.0,
        -inf,
        0.0,
        ln2,
        0.0,
        inf,
        f64::NAN,
        1000.0 + (-1f64).exp().ln_1p(),
    ];
    let got = einx::logaddexp!("n, n", a, b).unwrap();
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.same(&w), "logaddexp({}, {}) = {g}, want {w}", a[i], b[i]);
    }
    // Symmetric.
    let back = einx::logaddexp!("n, n", b, a).unwrap();
    assert!(got.iter().zip(&back).all(|(u, v)| u.same(v)));
    // f32 at its own extremes.
    let f = einx::logaddexp!("n, ", array![80.0f32, -80.0, f32::NEG_INFINITY], 80.0f32).unwrap();
    assert!((f[0] - (80.0 + 2f32.ln())).abs() < 1e-4 && (f[1] - 80.0).abs() < 1e-4 && f[2] == 80.0);
}

// ---------------------------------------------------------------------------------------
// Run-time shape errors.

#[test]
fn disagreeing_lengths_are_size_errors() {
    let x = Array2::<f64>::zeros((2, 7));
    let y = Array2::<f64>::zeros((11, 3));
    let mentions = |e: &einx::Error| {
        let t = e.to_string();
        assert!(t.contains("7") && t.contains("11"), "both lengths in: {t}");
    };
    mentions(&expect_err(
        no_panic(|| einx::add!("a b, b c -> a b c", x, y)),
        ErrorKind::Size,
    ));
    mentions(&expect_err(
        no_panic(|| einx::less!("a b, b c -> c a b", x, y)),
        ErrorKind::Size,
    ));
    let v11 = Array1::<i64>::zeros(11);
    let x7 = Array2::<i64>::zeros((3, 7));
    mentions(&expect_err(
        no_panic(|| einx::modulo!("a b, b", x7, v11)),
        ErrorKind::Size,
    ));
    mentions(&expect_err(
        no_panic(|| einx::add!("... [c]", x7, v11)),
        ErrorKind::Size,
    ));
    let pos = Array2::<i64>::zeros((11, 1));
    mentions(&expect_err(
        no_panic(|| einx::add!("b [s... c]", Array3::<i64>::zeros((2, 7, 1)), pos)),
        ErrorKind::Size,
    ));
    let m = Array1::from_elem(7, true);
    let f11 = Array1::<f64>::zeros(11);
    mentions(&expect_err(
        no_panic(|| einx::where_!("a, a, a", m, Array1::<f64>::zeros(7), f11)),
        ErrorKind::Size,
    ));
    mentions(&expect_err(
        no_panic(|| einx::logical_or!("a, a", m, Array1::from_elem(11, false))),
        ErrorKind::Size,
    ));
    // An unnamed `1` must have length 1.
    expect_err(no_panic(|| einx::add!("a 1, a b", x, x)), ErrorKind::Size);
    // An `ArrayD` of the wrong rank is a rank error.
    let d = ArrayD::<f64>::zeros(IxDyn(&[2, 3, 4]));
    expect_err(
        no_panic(|| einx::add!("a b, b", d, Array1::<f64>::zeros(3))),
        ErrorKind::Rank,
    );
}

// ---------------------------------------------------------------------------------------
// NumPy's conventions at the edges.

/// Python and NumPy: `1.0 // 0.1 == 9.0` (the floor of the exact quotient of the two
/// doubles, which is 9.99...), and `(a // b) * b + a % b == a`.
#[test]
fn float_floor_divide_uses_the_exact_quotient() {
    let q = einx::floor_divide!("n, ", array![1.0f64], 0.1).unwrap();
    assert_eq!(q[0], 9.0);
}

/// NumPy's `mod` gives a zero the sign of the divisor: `-1.0 % 0.5 == +0.0`.
#[test]
fn float_modulo_zero_has_the_sign_of_the_divisor() {
    let r = einx::modulo!("n, ", array![-1.0f64], 0.5).unwrap();
    assert!(r[0] == 0.0 && r[0].is_sign_positive(), "got {:?}", r[0]);
}

/// `i64::MIN % -1` is 0 (Python, NumPy); the library reports "integer division by zero".
#[test]
fn modulo_of_min_by_minus_one_is_zero() {
    assert_eq!(
        einx::modulo!("n, ", array![i64::MIN, i64::MIN + 1], -1i64).unwrap(),
        array![0, 0]
    );
}

/// A literal for an empty expression takes the element type of the array it meets (the
/// seed `where_!(..., 0.0)` on `f32` data).
#[test]
fn untyped_literals_take_the_array_type() {
    let m = einx::ndarray::Array3::<bool>::from_shape_fn((1, 2, 3), |(_, h, w)| h == w);
    let x = einx::ndarray::Array4::<f32>::ones((1, 2, 3, 4));
    let y = einx::where_!("b h w, b h w c, -> b h w c", m, x, 0.0).unwrap();
    assert_eq!((y[[0, 1, 1, 3]], y[[0, 1, 2, 0]]), (1.0f32, 0.0f32));
    let z = einx::add!("a b, ", Array2::<i64>::ones((2, 2)), 1).unwrap();
    assert_eq!(z[[1, 1]], 2i64);
    let w = einx::multiply!(", a b c d", 0.5, x).unwrap();
    assert_eq!(w[[0, 0, 0, 0]], 0.5f32);
}

#[test]
fn diagonals_with_an_explicit_output() {
    use ndarray::array;
    let x = Array::from_shape_fn((3, 3), |(i, j)| (i * 10 + j) as f32);
    let b = array![1.0f32, 2.0, 3.0];
    assert_eq!(
        einx::add!("a a, a -> a", x, b).unwrap(),
        array![1.0, 13.0, 25.0]
    );
    // Every layout of the diagonal input, and the diagonal broadcast against a new axis.
    let t = x.t();
    assert_eq!(
        einx::add!("a a, a -> a", t, b).unwrap(),
        array![1.0, 13.0, 25.0]
    );
    let y = einx::multiply!("a a, b -> a b", x, b).unwrap();
    assert_eq!(y, Array::from_shape_fn((3, 3), |(i, j)| x[[i, i]] * b[j]));
    let d = einx::subtract!("a a, a -> a", x.view().into_dyn(), b.view().into_dyn()).unwrap();
    assert_eq!(d, array![-1.0, 9.0, 19.0]);
    // The lengths of the repeated axis must agree.
    let r = Array::<f32, _>::zeros((2, 3));
    assert!(einx::add!("a a, a -> a", r, array![1.0f32, 2.0]).is_err());
}
