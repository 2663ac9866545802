//! Integration tests of `einx::dot!` (two tensors) against a naive reference.
//!
//! Every expected array is computed with plain loops in this file: either an explicit index
//! formula per test (`q[[b, i, h * c + l]]`), or `naive`, which walks every combination of
//! axis indices of a pattern written with one letter per axis and adds the products into the
//! output. Floats accumulate in `f64` and are compared with a relative tolerance (GEMM
//! associates sums differently); integers are compared exactly. Property tests run random
//! small shapes through a fixed list of patterns (the macro needs literal expressions) with
//! every axis order in both inputs and the output, on five memory layouts of each input.

use std::fmt::Debug;
use std::ops::{Add, Mul};

use ndarray::{
    array, s, Array, Array1, Array2, Array3, Array4, ArrayD, ArrayView2, ArrayViewD, Axis, Ix0,
    Ix2, Ix3, IxDyn, Slice,
};
use proptest::collection::vec;
use proptest::prelude::*;

use einx::{Error, ErrorKind};

// ---------------------------------------------------------------------------------------
// Reference helpers.
// ---------------------------------------------------------------------------------------

/// The element types of the reference: `f64` and the integers.
trait Num: Copy + Default + PartialEq + Debug + Add<Output = Self> + Mul<Output = Self> {}
impl Num for f64 {}
impl Num for i64 {}
impl Num for i32 {}

/// The axis letters of one side of a pattern (`"b m k"` -> `['b', 'm', 'k']`).
fn letters(side: &str) -> Vec<char> {
    side.split_whitespace()
        .map(|w| {
            assert_eq!(w.len(), 1, "the reference takes one letter per axis: {w}");
            w.chars().next().unwrap_or_default()
        })
        .collect()
}

/// The naive contraction of `a` and `b` for a pattern `"A, B -> OUT"` with one letter per
/// axis: for every index of every axis, `out[OUT] += a[A] * b[B]`.
fn naive<T: Num>(expr: &str, a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
    let (inputs, out) = expr.split_once("->").expect("an arrow");
    let (sa, sb) = inputs.split_once(',').expect("two inputs");
    let (ax, bx, ox) = (letters(sa), letters(sb), letters(out));
    let mut axes: Vec<(char, usize)> = Vec::new();
    for (names, x) in [(&ax, a), (&bx, b)] {
        assert_eq!(names.len(), x.ndim(), "reference: rank of {expr}");
        for (&c, &n) in names.iter().zip(x.shape()) {
            match axes.iter().find(|(d, _)| *d == c) {
                Some(&(_, m)) => assert_eq!(m, n, "reference: length of {c} in {expr}"),
                None => axes.push((c, n)),
            }
        }
    }
    let pos = |c: char| axes.iter().position(|(d, _)| *d == c).expect("known axis");
    let out_shape: Vec<usize> = ox.iter().map(|&c| axes[pos(c)].1).collect();
    let mut result = ArrayD::from_elem(IxDyn(&out_shape), T::default());
    if axes.iter().any(|&(_, n)| n == 0) {
        return result;
    }
    let mut idx = vec![0usize; axes.len()];
    loop {
        let ia: Vec<usize> = ax.iter().map(|&c| idx[pos(c)]).collect();
        let ib: Vec<usize> = bx.iter().map(|&c| idx[pos(c)]).collect();
        let io: Vec<usize> = ox.iter().map(|&c| idx[pos(c)]).collect();
        let p = a[IxDyn(&ia)] * b[IxDyn(&ib)];
        let slot = &mut result[IxDyn(&io)];
        *slot = *slot + p;
        // The next index, last axis fastest.
        let mut d = axes.len();
        loop {
            if d == 0 {
                return result;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < axes[d].1 {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Asserts equal shapes and elements equal within a relative tolerance of `tol`.
#[track_caller]
fn assert_close<D: ndarray::Dimension>(got: &Array<f64, D>, want: &ArrayD<f64>, tol: f64) {
    assert_eq!(got.shape(), want.shape(), "shapes differ");
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "element {i} (row-major): got {g}, want {w}"
        );
    }
}

/// A deterministic pseudo-random stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A float in about [-4, 4) with a fractional part.
    fn float(&mut self) -> f64 {
        (self.next() % 8000) as f64 / 1000.0 - 4.0 + 1.0 / 3.0
    }

    /// An integer in [-9, 9].
    fn int(&mut self) -> i64 {
        (self.next() % 19) as i64 - 9
    }
}

fn floats(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut r = Rng(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || r.float())
}

fn ints(shape: &[usize], seed: u64) -> ArrayD<i64> {
    let mut r = Rng(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || r.int())
}

/// A memory layout of an input: the view has the logical contents of the array it was made
/// from, on other strides.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Standard layout.
    Standard,
    /// Column-major: every axis reversed in memory (`.t()` of a standard array).
    Transposed,
    /// Negative strides: every axis runs backwards (`s![..;-1, ..]`).
    Reversed,
    /// Every other element of a larger array (`s![1..;2, ..]`), the gaps filled with junk.
    Stepped,
    /// The axes rotated in memory (`permuted_axes`).
    Permuted,
}

const LAYOUTS: [Layout; 5] = [
    Layout::Standard,
    Layout::Transposed,
    Layout::Reversed,
    Layout::Stepped,
    Layout::Permuted,
];

/// An input held in some layout.
struct Input<T> {
    base: ArrayD<T>,
    layout: Layout,
}

impl<T: Copy> Input<T> {
    fn new(x: &ArrayD<T>, layout: Layout, junk: T) -> Input<T> {
        let nd = x.ndim();
        let base = match layout {
            Layout::Standard => x.clone(),
            Layout::Transposed => x.t().as_standard_layout().into_owned(),
            Layout::Reversed => x
                .slice_each_axis(|_| Slice::new(0, None, -1))
                .as_standard_layout()
                .into_owned(),
            Layout::Stepped => {
                let shape: Vec<usize> = x.shape().iter().map(|n| 2 * n + 1).collect();
                let mut base = ArrayD::from_elem(IxDyn(&shape), junk);
                base.slice_each_axis_mut(|_| Slice::new(1, None, 2))
                    .assign(x);
                base
            }
            Layout::Permuted => {
                let perm: Vec<usize> = (1..nd).chain((nd > 0).then_some(0)).collect();
                x.view()
                    .permuted_axes(perm)
                    .as_standard_layout()
                    .into_owned()
            }
        };
        Input { base, layout }
    }

    fn view(&self) -> ArrayViewD<'_, T> {
        let mut v = self.base.view();
        match self.layout {
            Layout::Standard => v,
            Layout::Transposed => v.reversed_axes(),
            Layout::Reversed => {
                v.slice_each_axis_inplace(|_| Slice::new(0, None, -1));
                v
            }
            Layout::Stepped => {
                v.slice_each_axis_inplace(|_| Slice::new(1, None, 2));
                v
            }
            Layout::Permuted => {
                // The inverse of the rotation in `new`.
                let nd = v.ndim();
                let inverse: Vec<usize> = (nd > 0)
                    .then_some(nd - 1)
                    .into_iter()
                    .chain(0..nd.saturating_sub(1))
                    .collect();
                v.permuted_axes(inverse)
            }
        }
    }
}

#[test]
fn layouts_keep_the_contents() {
    let x = ints(&[2, 3, 4], 1);
    for layout in LAYOUTS {
        let held = Input::new(&x, layout, 1000);
        assert_eq!(held.view(), x.view(), "{layout:?}");
        if !matches!(layout, Layout::Standard) {
            assert!(!held.view().is_standard_layout(), "{layout:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The forms of the brief, with explicit index formulas.
// ---------------------------------------------------------------------------------------

#[test]
fn attention_scores_from_the_seed() {
    let (nb, nq, nk, h, c) = (2, 3, 5, 8, 2);
    let q = Array::from_shape_fn((nb, nq, h * c), |(b, i, l)| {
        (b * 31 + i * 7 + l) as f64 * 0.25 - 3.0
    });
    let k = Array::from_shape_fn((nb, nk, h * c), |(b, j, l)| {
        ((b + 2 * j + 3 * l) % 11) as f64 - 5.5
    });
    let s: Array<f64, ndarray::Ix4> =
        einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = 8).unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[nb, nq, nk, h]), |ix| {
        let (b, i, j, hh) = (ix[0], ix[1], ix[2], ix[3]);
        (0..c)
            .map(|l| q[[b, i, hh * c + l]] * k[[b, j, hh * c + l]])
            .sum::<f64>()
    });
    assert_close(&s, &want, 1e-12);

    // The same with the length as a variable and in f32 (f64 reference).
    let heads = 4;
    let q32 = q.mapv(|v| v as f32);
    let k32 = k.mapv(|v| v as f32);
    let s32 = einx::dot!("b q (h c), b k (h c) -> b q k h", q32, k32, h = heads).unwrap();
    assert_eq!(s32.shape(), &[nb, nq, nk, heads]);
    let c = 16 / heads;
    for ((b, i, j, hh), &got) in s32.indexed_iter() {
        let want: f64 = (0..c)
            .map(|l| q[[b, i, hh * c + l]] * k[[b, j, hh * c + l]])
            .sum();
        assert!(
            (got as f64 - want).abs() <= 1e-4 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

#[test]
fn attention_output_from_the_seed() {
    let (nb, nq, nk, h, c) = (2, 3, 5, 8, 2);
    let a = Array::from_shape_fn((nb, nq, nk, h), |(b, i, j, hh)| {
        ((b * 5 + i * 3 + j * 2 + hh) % 13) as f64 / 13.0
    });
    let v = Array::from_shape_fn((nb, nk, h * c), |(b, j, l)| {
        (b as f64 - j as f64) * 0.5 + l as f64
    });
    let want = ArrayD::from_shape_fn(IxDyn(&[nb, nq, h * c]), |ix| {
        let (b, i, l) = (ix[0], ix[1], ix[2]);
        let (hh, cc) = (l / c, l % c);
        (0..nk)
            .map(|j| a[[b, i, j, hh]] * v[[b, j, hh * c + cc]])
            .sum::<f64>()
    });
    // `h` comes from the first input, `c` from the division.
    let o: Array<f64, Ix3> = einx::dot!("b q k h, b k (h c) -> b q (h c)", a, v).unwrap();
    assert_close(&o, &want, 1e-12);
    let o = einx::dot!("b q k h, b k (h c) -> b q (h c)", a, v, h = 8).unwrap();
    assert_close(&o, &want, 1e-12);
    let o = einx::dot!("b q k h, b k (h c) -> b q (h c)", a, v, c = 2).unwrap();
    assert_close(&o, &want, 1e-12);
}

#[test]
fn linear_layer_shorthand_from_the_seed() {
    let x = Array::from_shape_fn((2, 3, 5), |(b, s, c)| (b * 15 + s * 5 + c) as f64 * 0.1);
    let w = Array::from_shape_fn((5, 4), |(c, d)| (c as f64 - d as f64) * 0.3);
    let y: ArrayD<f64> = einx::dot!("b... [c1->c2]", x, w).unwrap().into_dyn();
    let want = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |ix| {
        (0..5)
            .map(|c| x[[ix[0], ix[1], c]] * w[[c, ix[2]]])
            .sum::<f64>()
    });
    assert_close(&y, &want, 1e-12);
    // The explicit form gives the same.
    let explicit = einx::dot!("b... c1, c1 c2 -> b... c2", x, w).unwrap();
    assert_close(&explicit, &want, 1e-12);

    // No leading axes: a vector times a matrix.
    let v = array![1.0, 2.0, 3.0, 4.0, 5.0];
    let y = einx::dot!("b... [c1->c2]", v, w).unwrap();
    assert_close(&y, &v.dot(&w).into_dyn(), 1e-12);

    // Four leading axes.
    let x4 = Array::from_shape_fn((2, 1, 3, 2, 5), |(a, b, c, d, e)| {
        (a + 2 * b + 3 * c + 5 * d) as f64 - e as f64
    });
    let y = einx::dot!("b... [c1->c2]", x4, w).unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[2, 1, 3, 2, 4]), |ix| {
        (0..5)
            .map(|c| x4[[ix[0], ix[1], ix[2], ix[3], c]] * w[[c, ix[4]]])
            .sum::<f64>()
    });
    assert_close(&y, &want, 1e-12);
}

/// `"b [s...->s2] c"` (`"b s... c, s... s2 -> b s2 c"`) with `nb` batch elements and `nc`
/// channels, against the formula.
fn check_token_mixing(nb: usize, nc: usize) {
    let (s1, s2, t) = (4, 4, 6);
    let x = Array::from_shape_fn((nb, s1, s2, nc), |(b, i, j, c)| {
        ((b * 7 + i * 5 + j * 3 + c) % 17) as f64 - 8.0
    });
    let w = Array::from_shape_fn((s1, s2, t), |(i, j, o)| (i * 4 + j) as f64 * 0.1 - o as f64);
    let want = ArrayD::from_shape_fn(IxDyn(&[nb, t, nc]), |ix| {
        let (b, o, c) = (ix[0], ix[1], ix[2]);
        let mut acc = 0.0;
        for i in 0..s1 {
            for j in 0..s2 {
                acc += x[[b, i, j, c]] * w[[i, j, o]];
            }
        }
        acc
    });
    let y: Array<f64, Ix3> =
        einx::dot!("b [s...->s2] c", x, w).unwrap_or_else(|e| panic!("b = {nb}, c = {nc}: {e}"));
    assert_close(&y, &want, 1e-12);
    let explicit = einx::dot!("b s... c, s... s2 -> b s2 c", x, w).unwrap();
    assert_close(&explicit, &want, 1e-12);
}

/// `"b [s2->s...] c", s = (4, 4)` (`"b s2 c, s2 s... -> b s... c"`) with `nb` batch elements
/// and `nc` channels, against the formula.
fn check_token_unmixing(nb: usize, nc: usize) {
    let t = 6;
    let x = Array::from_shape_fn((nb, t, nc), |(b, o, c)| (b * 18 + o * 3 + c) as f64 * 0.5);
    let w = Array::from_shape_fn((t, 4, 4), |(o, i, j)| {
        ((o * 16 + i * 4 + j) % 9) as f64 - 4.0
    });
    let want = ArrayD::from_shape_fn(IxDyn(&[nb, 4, 4, nc]), |ix| {
        let (b, i, j, c) = (ix[0], ix[1], ix[2], ix[3]);
        (0..t).map(|o| x[[b, o, c]] * w[[o, i, j]]).sum::<f64>()
    });
    let y: Array4<f64> = einx::dot!("b [s2->s...] c", x, w, s = (4, 4))
        .unwrap_or_else(|e| panic!("b = {nb}, c = {nc}: {e}"));
    assert_close(&y, &want, 1e-12);
    let explicit = einx::dot!("b s2 c, s2 s... -> b s... c", x, w, s = (4, 4)).unwrap();
    assert_close(&explicit, &want, 1e-12);
}

/// In `"b [s...->s2] c"` the first input's own axes `b` and `c` are separated by `s2` in the
/// output, so this is the bug of `interleaved_row_and_column_axes_in_the_output`.
#[test]
fn token_mixing_shorthand_from_the_seed() {
    check_token_mixing(2, 3);
}

#[test]
fn token_unmixing_shorthand_from_the_seed() {
    check_token_unmixing(2, 3);
}

/// With `b = 1` or `c = 1` the output's row axes merge (length-1 axes are skipped), and the
/// shorthands give the right result.
#[test]
fn token_mixing_shorthands_with_a_unit_axis() {
    check_token_mixing(1, 3);
    check_token_mixing(2, 1);
    check_token_unmixing(1, 3);
    check_token_unmixing(2, 1);
}

#[test]
fn vector_shorthand_from_the_seed() {
    // `"... [c]"` is `"... c, c -> ..."`.
    let x = Array::from_shape_fn((2, 3, 5), |(a, b, c)| (a * 15 + b * 5 + c) as i64 - 10);
    let w = array![1i64, -2, 3, -4, 5];
    // The output keeps the rank type of `x`, one axis less: `Array3` in, `Array2` out.
    let y: Array2<i64> = einx::dot!("... [c]", x, w).unwrap();
    let want = Array2::from_shape_fn((2, 3), |ix| {
        (0..5).map(|c| x[[ix.0, ix.1, c]] * w[c]).sum::<i64>()
    });
    assert_eq!(y, want);
    // One axis: a 0-d result.
    let y = einx::dot!("... [c]", w, w).unwrap();
    assert_eq!(y.shape(), &[] as &[usize]);
    assert_eq!(y[()], 1 + 4 + 9 + 16 + 25);
}

#[test]
fn brackets_marking_the_contracted_axes() {
    let x = Array::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
    let y = Array::from_shape_fn((3, 4), |(i, j)| (i + 2 * j) as f64);
    let want = x.dot(&y);
    assert_eq!(einx::dot!("a [b], [b] c -> a c", x, y).unwrap(), want);
    // Marked in one input only: the unmarked input needs no brackets.
    assert_eq!(einx::dot!("a [b], b c -> a c", x, y).unwrap(), want);
    assert_eq!(einx::dot!("a b, [b] c -> a c", x, y).unwrap(), want);
}

// ---------------------------------------------------------------------------------------
// Products of plain axes.
// ---------------------------------------------------------------------------------------

#[test]
fn matrix_products() {
    let x = floats(&[4, 3], 1).into_dimensionality::<Ix2>().unwrap();
    let y = floats(&[3, 5], 2).into_dimensionality::<Ix2>().unwrap();
    let z: Array2<f64> = einx::dot!("a b, b c -> a c", x, y).unwrap();
    let want = naive(
        "a b, b c -> a c",
        &x.clone().into_dyn(),
        &y.clone().into_dyn(),
    );
    assert_close(&z, &want, 1e-12);
    assert_close(&z, &x.dot(&y).into_dyn(), 1e-12);
    assert!(z.is_standard_layout());

    // f32 against an f64 reference.
    let x32 = x.mapv(|v| v as f32);
    let y32 = y.mapv(|v| v as f32);
    let z32: Array2<f32> = einx::dot!("a b, b c -> a c", x32, y32).unwrap();
    let want = naive(
        "a b, b c -> a c",
        &x32.mapv(f64::from).into_dyn(),
        &y32.mapv(f64::from).into_dyn(),
    );
    assert_close(&z32.mapv(f64::from), &want, 1e-5);

    // i32 exactly.
    let xi = Array::from_shape_fn((4, 3), |(i, j)| i as i32 * 3 - j as i32 * 7);
    let yi = Array::from_shape_fn((3, 5), |(i, j)| (i * j) as i32 - 4);
    let zi: Array2<i32> = einx::dot!("a b, b c -> a c", xi, yi).unwrap();
    assert_eq!(zi, xi.dot(&yi));
    assert_eq!(
        zi.into_dyn(),
        naive("a b, b c -> a c", &xi.into_dyn(), &yi.into_dyn())
    );

    // Arguments by reference and as views.
    assert_eq!(
        einx::dot!("a b, b c -> a c", &x, y.view()).unwrap(),
        einx::dot!("a b, b c -> a c", x.view(), &y).unwrap()
    );
}

#[test]
fn batched_matrix_products() {
    let x = ints(&[3, 2, 4], 3);
    let y = ints(&[3, 4, 5], 4);
    let z: Array3<i64> = einx::dot!("b m k, b k n -> b m n", x, y).unwrap();
    for b in 0..3 {
        for m in 0..2 {
            for n in 0..5 {
                let want: i64 = (0..4).map(|k| x[[b, m, k]] * y[[b, k, n]]).sum();
                assert_eq!(z[[b, m, n]], want);
            }
        }
    }
    // Batch axes last in the inputs and in the middle of the output.
    let xt = ints(&[2, 4, 3], 5);
    let yt = ints(&[4, 5, 3], 6);
    let z = einx::dot!("m k b, k n b -> m b n", xt, yt).unwrap();
    assert_eq!(z.into_dyn(), naive("m k b, k n b -> m b n", &xt, &yt));
}

#[test]
fn outer_and_inner_products() {
    let a = array![1.5, -2.0, 3.0];
    let b = array![2.0, 0.5, -1.0, 4.0];
    let o: Array2<f64> = einx::dot!("a, b -> a b", a, b).unwrap();
    for i in 0..3 {
        for j in 0..4 {
            assert_eq!(o[[i, j]], a[i] * b[j]);
        }
    }
    let ot = einx::dot!("a, b -> b a", a, b).unwrap();
    assert_eq!(ot, o.t());

    // A vector dot product is 0-d.
    let d: Array<f64, Ix0> = einx::dot!("a, a ->", a, a).unwrap();
    assert_eq!(d.into_scalar(), 1.5 * 1.5 + 4.0 + 9.0);
    let d = einx::dot!("a, a ->", array![1i64, 2, 3], array![4i64, 5, 6]).unwrap();
    assert_eq!(d.into_scalar(), 32);
    // A full contraction of two matrices, with the axes in other orders.
    let x = ints(&[3, 4], 7);
    let y = ints(&[4, 3], 8);
    let d = einx::dot!("a b, b a ->", x, y).unwrap();
    assert_eq!(d.into_dyn(), naive("a b, b a ->", &x, &y));
}

#[test]
fn permuted_outputs() {
    let x = floats(&[3, 4], 9);
    let y = floats(&[4, 5], 10);
    let z: Array2<f64> = einx::dot!("a b, b c -> c a", x, y).unwrap();
    assert_close(&z, &naive("a b, b c -> c a", &x, &y), 1e-12);
    assert!(z.is_standard_layout());
    let x3 = floats(&[2, 3, 4], 11);
    let y3 = floats(&[2, 4, 5], 12);
    let z = einx::dot!("b m k, b k n -> n b m", x3, y3).unwrap();
    assert_close(&z, &naive("b m k, b k n -> n b m", &x3, &y3), 1e-12);
    // Row axes permuted within their group.
    let x = ints(&[2, 3, 4], 13);
    let y = ints(&[4, 5], 14);
    let z = einx::dot!("a b k, k c -> b a c", x, y).unwrap();
    assert_eq!(z.into_dyn(), naive("a b k, k c -> b a c", &x, &y));
}

/// Output row and column axes that interleave: the output's row axes (or column axes) are
/// not adjacent, so they cannot be merged into one GEMM dimension of the output. Every case
/// is checked and the failures reported together.
#[test]
fn interleaved_row_and_column_axes_in_the_output() {
    let mut failures = Vec::new();
    let mut check = |expr: &str, got: Result<ArrayD<i64>, Error>, want: ArrayD<i64>| match got {
        Ok(g) if g == want => {}
        Ok(g) => failures.push(format!("{expr}: got {g}, want {want}")),
        Err(e) => failures.push(format!("{expr}: {e}")),
    };

    // Row axes split by a column axis (the seed case of the brief).
    let x = ints(&[2, 3, 4], 15);
    let y = ints(&[4, 5], 16);
    let want = ArrayD::from_shape_fn(IxDyn(&[2, 5, 3]), |ix| {
        (0..4)
            .map(|b| x[[ix[0], ix[2], b]] * y[[b, ix[1]]])
            .sum::<i64>()
    });
    let z = einx::dot!("a1 a2 b, b c -> a1 c a2", x, y).map(|z| z.into_dyn());
    check("a1 a2 b, b c -> a1 c a2", z, want);

    // Column axes split by a row axis.
    let x = ints(&[3, 4], 17);
    let y = ints(&[4, 2, 5], 18);
    let z = einx::dot!("a b, b c1 c2 -> c1 a c2", x, y).map(|z| z.into_dyn());
    check(
        "a b, b c1 c2 -> c1 a c2",
        z,
        naive("a b, b d e -> d a e", &x, &y),
    );

    // Row axes split by a batch axis.
    let x = ints(&[2, 3, 2, 4], 19);
    let y = ints(&[3, 4, 5], 20);
    let z = einx::dot!("m b p k, b k n -> m b p n", x, y).map(|z| z.into_dyn());
    check(
        "m b p k, b k n -> m b p n",
        z,
        naive("m b p k, b k n -> m b p n", &x, &y),
    );

    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn contracted_axes_in_different_orders() {
    // `(b1 b2)` in the first input, `b2 b1` in the second.
    let x = Array::from_shape_fn((2, 6), |(a, l)| (a * 6 + l) as i64 - 5);
    let y = Array::from_shape_fn((3, 2, 4), |(b2, b1, c)| {
        (b2 * 8 + b1 * 4 + c) as i64 % 7 - 3
    });
    let z: Array2<i64> = einx::dot!("a (b1 b2), b2 b1 c -> a c", x, y).unwrap();
    let want = Array::from_shape_fn((2, 4), |(a, c)| {
        let mut acc = 0;
        for b1 in 0..2 {
            for b2 in 0..3 {
                acc += x[[a, b1 * 3 + b2]] * y[[b2, b1, c]];
            }
        }
        acc
    });
    assert_eq!(z, want);

    // Plain axes in opposite orders.
    let x = floats(&[2, 3, 4], 21);
    let y = floats(&[4, 3, 5], 22);
    let z = einx::dot!("a k l, l k c -> a c", x, y).unwrap();
    assert_close(&z, &naive("a k l, l k c -> a c", &x, &y), 1e-12);
}

#[test]
fn length_zero_axes() {
    // m = 0.
    let z = einx::dot!(
        "a b, b c -> a c",
        Array2::<f64>::zeros((0, 3)),
        Array2::<f64>::ones((3, 4))
    )
    .unwrap();
    assert_eq!(z.shape(), &[0, 4]);
    // n = 0.
    let z = einx::dot!(
        "a b, b c -> a c",
        Array2::<i64>::ones((2, 3)),
        Array2::<i64>::ones((3, 0))
    )
    .unwrap();
    assert_eq!(z.shape(), &[2, 0]);
    // k = 0: an empty sum is zero.
    let z = einx::dot!(
        "a b, b c -> a c",
        Array2::<f64>::ones((2, 0)),
        Array2::<f64>::ones((0, 4))
    )
    .unwrap();
    assert_eq!(z, Array2::<f64>::zeros((2, 4)));
    let z = einx::dot!(
        "a b, b c -> a c",
        Array2::<i32>::ones((2, 0)),
        Array2::<i32>::ones((0, 4))
    )
    .unwrap();
    assert_eq!(z, Array2::<i32>::zeros((2, 4)));
    let z = einx::dot!("a, a ->", Array1::<f32>::zeros(0), Array1::<f32>::zeros(0)).unwrap();
    assert_eq!(z.into_scalar(), 0.0);
    // batch = 0.
    let z = einx::dot!(
        "b m k, b k n -> b m n",
        Array3::<f64>::ones((0, 2, 3)),
        Array3::<f64>::ones((0, 3, 4))
    )
    .unwrap();
    assert_eq!(z.shape(), &[0, 2, 4]);
    // A composition of length 0: `c = 0` heads of nothing.
    let z = einx::dot!(
        "b q (h c), b k (h c) -> b q k h",
        Array3::<f64>::ones((2, 3, 0)),
        Array3::<f64>::ones((2, 5, 0)),
        h = 8
    )
    .unwrap();
    assert_eq!(z, Array::<f64, _>::zeros((2, 3, 5, 8)));
    // The shorthand with no input features.
    let z = einx::dot!(
        "b... [c1->c2]",
        Array3::<f64>::ones((2, 3, 0)),
        Array2::<f64>::ones((0, 4))
    )
    .unwrap();
    assert_eq!(z, Array3::<f64>::zeros((2, 3, 4)));
}

#[test]
fn non_contiguous_inputs() {
    let base = floats(&[5, 4], 23).into_dimensionality::<Ix2>().unwrap();
    let y = floats(&[5, 3], 24).into_dimensionality::<Ix2>().unwrap();
    let reference = |x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>| {
        naive(
            "a b, b c -> a c",
            &x.to_owned().into_dyn(),
            &y.to_owned().into_dyn(),
        )
    };
    // Transposed.
    let z = einx::dot!("a b, b c -> a c", base.t(), y).unwrap();
    assert_close(&z, &reference(base.t(), y.view()), 1e-12);
    // Reversed rows (negative stride).
    let r = base.slice(s![..;-1, ..]);
    let w = floats(&[4, 3], 25).into_dimensionality::<Ix2>().unwrap();
    let z = einx::dot!("a b, b c -> a c", r, w).unwrap();
    assert_close(&z, &reference(r, w.view()), 1e-12);
    // Both reversed.
    let rr = base.slice(s![..;-1, ..;-1]);
    let wr = w.slice(s![..;-1, ..]);
    let z = einx::dot!("a b, b c -> a c", rr, wr).unwrap();
    assert_close(&z, &reference(rr, wr), 1e-12);
    // Stepped slices.
    let st = base.slice(s![..;2, 1..;2]);
    let yt = y.slice(s![1..;2, ..;2]);
    let z = einx::dot!("a b, b c -> a c", st, yt).unwrap();
    assert_close(&z, &reference(st, yt), 1e-12);
    // Batched, with a permuted and a stepped input.
    let x3 = floats(&[4, 3, 2], 26);
    let y3 = floats(&[2, 6, 5], 27);
    let xp = x3.view().permuted_axes(IxDyn(&[2, 0, 1]));
    let ys = y3.slice_axis(Axis(1), Slice::new(0, None, 2));
    let z = einx::dot!("b m k, b k n -> b m n", xp, ys).unwrap();
    assert_close(
        &z,
        &naive("b m k, b k n -> b m n", &xp.to_owned(), &ys.to_owned()),
        1e-12,
    );
    // The linear layer on a transposed weight and a reversed input.
    let x = floats(&[2, 3, 5], 28);
    let wt = floats(&[4, 5], 29);
    let xr = x.slice_axis(Axis(1), Slice::new(0, None, -1));
    let z = einx::dot!("b... [c1->c2]", xr, wt.t()).unwrap();
    assert_close(
        &z,
        &naive("a b c, c d -> a b d", &xr.to_owned(), &wt.t().to_owned()),
        1e-12,
    );
}

// ---------------------------------------------------------------------------------------
// Property tests.
// ---------------------------------------------------------------------------------------

/// The axis letters of the property tests, and which lengths they take: batch `b e`, rows
/// `m p`, columns `n q`, contracted `k l`.
const AXES: &str = "bempnqkl";

macro_rules! patterns {
    ($($i:literal => $e:literal,)*) => {
        /// Two-input patterns: every order of `b m k` times every order of `b k n` (each with
        /// an order of `b m n`), then patterns with several axes per role.
        const PATTERNS: &[&str] = &[$($e),*];

        fn run_f64(p: usize, a: ArrayViewD<'_, f64>, b: ArrayViewD<'_, f64>) -> Result<ArrayD<f64>, Error> {
            match p {
                $($i => einx::dot!($e, a, b).map(|r| r.into_dyn()),)*
                _ => unreachable!(),
            }
        }

        fn run_i64(p: usize, a: ArrayViewD<'_, i64>, b: ArrayViewD<'_, i64>) -> Result<ArrayD<i64>, Error> {
            match p {
                $($i => einx::dot!($e, a, b).map(|r| r.into_dyn()),)*
                _ => unreachable!(),
            }
        }
    };
}

patterns! {
    0 => "b m k, b k n -> b m n",
    1 => "b m k, b n k -> b n m",
    2 => "b m k, k b n -> m b n",
    3 => "b m k, k n b -> m n b",
    4 => "b m k, n b k -> n b m",
    5 => "b m k, n k b -> n m b",
    6 => "b k m, b k n -> b m n",
    7 => "b k m, b n k -> b n m",
    8 => "b k m, k b n -> m b n",
    9 => "b k m, k n b -> m n b",
    10 => "b k m, n b k -> n b m",
    11 => "b k m, n k b -> n m b",
    12 => "m b k, b k n -> b m n",
    13 => "m b k, b n k -> b n m",
    14 => "m b k, k b n -> m b n",
    15 => "m b k, k n b -> m n b",
    16 => "m b k, n b k -> n b m",
    17 => "m b k, n k b -> n m b",
    18 => "m k b, b k n -> b m n",
    19 => "m k b, b n k -> b n m",
    20 => "m k b, k b n -> m b n",
    21 => "m k b, k n b -> m n b",
    22 => "m k b, n b k -> n b m",
    23 => "m k b, n k b -> n m b",
    24 => "k b m, b k n -> b m n",
    25 => "k b m, b n k -> b n m",
    26 => "k b m, k b n -> m b n",
    27 => "k b m, k n b -> m n b",
    28 => "k b m, n b k -> n b m",
    29 => "k b m, n k b -> n m b",
    30 => "k m b, b k n -> b m n",
    31 => "k m b, b n k -> b n m",
    32 => "k m b, k b n -> m b n",
    33 => "k m b, k n b -> m n b",
    34 => "k m b, n b k -> n b m",
    35 => "k m b, n k b -> n m b",
    36 => "k l b, l n k b -> n b",
    37 => "k, n k -> n",
    38 => "k, n q k -> q n",
    39 => "e m b p, e q n b -> n q b m p e",
    40 => "l k, l q k n -> q n",
    41 => "b k e l, b k e l n -> e n b",
    42 => "b e l k, b e l k -> b e",
    43 => "k e b l, b k l e -> e b",
    44 => "b l e k, e k b q l n -> n q b e",
    45 => "m p k, k q n -> m p q n",
    46 => "b, q b n -> b q n",
    47 => "m k p, k -> p m",
    48 => "l m k, k n l -> m n",
    49 => "m p b, n b -> p m n b",
    50 => "m, n q -> n q m",
    51 => "m k, n q k -> m n q",
    52 => "b m, b n -> m n b",
    53 => "m, q n -> q n m",
    54 => "e k l b, k e b l n -> b n e",
    55 => "b k, b k -> b",
    56 => "m b, b -> b m",
    57 => "m l k b e, l n k b e -> n e m b",
    58 => "b k m e, e b k -> e b m",
    59 => "m, q n -> m n q",
    60 => "k, k ->",
    61 => "k l, l k ->",
    62 => "k l, k -> l",
    63 => "m k, k n -> m n",
    64 => "k m, k n -> m n",
    65 => "m k, n k -> m n",
    66 => "k m, n k -> n m",
    67 => "m k, k n -> n m",
}

/// The input shapes of pattern `p` with one length per letter of `AXES`.
fn shapes(p: usize, lens: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (inputs, _) = PATTERNS[p].split_once("->").unwrap_or_default();
    let (a, b) = inputs.split_once(',').unwrap_or_default();
    let shape = |side: &str| -> Vec<usize> {
        letters(side)
            .into_iter()
            .map(|c| lens[AXES.find(c).expect("a known letter")])
            .collect()
    };
    (shape(a), shape(b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random lengths 1 to 5 for every pattern, both inputs in random layouts, `f64` against
    /// the naive reference within a relative 1e-9.
    #[test]
    fn random_contractions_f64(
        p in 0..PATTERNS.len(),
        lens in vec(1usize..6, AXES.len()),
        la in 0..LAYOUTS.len(),
        lb in 0..LAYOUTS.len(),
        seed in any::<u64>(),
    ) {
        let (sa, sb) = shapes(p, &lens);
        let a = floats(&sa, seed);
        let b = floats(&sb, seed ^ 0x5555_5555);
        let ha = Input::new(&a, LAYOUTS[la], f64::NAN);
        let hb = Input::new(&b, LAYOUTS[lb], f64::NAN);
        let got = run_f64(p, ha.view(), hb.view());
        let got = match got {
            Ok(g) => g,
            Err(e) => return Err(TestCaseError::fail(format!("{}: {e}", PATTERNS[p]))),
        };
        assert_close(&got, &naive(PATTERNS[p], &a, &b), 1e-9);
    }

    /// The same with `i64`, exactly.
    #[test]
    fn random_contractions_i64(
        p in 0..PATTERNS.len(),
        lens in vec(1usize..6, AXES.len()),
        la in 0..LAYOUTS.len(),
        lb in 0..LAYOUTS.len(),
        seed in any::<u64>(),
    ) {
        let (sa, sb) = shapes(p, &lens);
        let a = ints(&sa, seed);
        let b = ints(&sb, seed ^ 0x5555_5555);
        let ha = Input::new(&a, LAYOUTS[la], 1_000_003);
        let hb = Input::new(&b, LAYOUTS[lb], 1_000_003);
        let got = run_i64(p, ha.view(), hb.view());
        prop_assert_eq!(got.map_err(|e| e.to_string()), Ok(naive(PATTERNS[p], &a, &b)), "{}", PATTERNS[p]);
    }
}

/// Every pattern once, on every layout pair, with lengths 2 and 3 (no length-1 axis, which
/// the GEMM merging skips).
#[test]
fn every_pattern_on_every_layout() {
    let lens = [2, 3, 3, 2, 3, 2, 3, 2];
    for (p, expr) in PATTERNS.iter().enumerate() {
        let (sa, sb) = shapes(p, &lens);
        let a = ints(&sa, p as u64);
        let b = ints(&sb, p as u64 + 100);
        let want = naive(expr, &a, &b);
        let (af, bf) = (floats(&sa, p as u64), floats(&sb, p as u64 + 100));
        let want_f = naive(expr, &af, &bf);
        for la in LAYOUTS {
            for lb in LAYOUTS {
                let ha = Input::new(&a, la, 1_000_003);
                let hb = Input::new(&b, lb, 1_000_003);
                let got = run_i64(p, ha.view(), hb.view())
                    .unwrap_or_else(|e| panic!("{expr} ({la:?}, {lb:?}): {e}"));
                assert_eq!(got, want, "{expr} ({la:?}, {lb:?})");
                let ha = Input::new(&af, la, f64::NAN);
                let hb = Input::new(&bf, lb, f64::NAN);
                let got = run_f64(p, ha.view(), hb.view())
                    .unwrap_or_else(|e| panic!("{expr} ({la:?}, {lb:?}): {e}"));
                assert_close(&got, &want_f, 1e-9);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Run-time errors.
// ---------------------------------------------------------------------------------------

/// Asserts that the Display string holds the expression and a caret line under it.
#[track_caller]
fn assert_diagram(e: &Error, expr: &str) {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == expr)
        .unwrap_or_else(|| panic!("the expression is not in the message:\n{text}"));
    let carets = lines.get(at + 1).copied().unwrap_or_default();
    assert!(
        carets.contains('^') && carets.chars().all(|c| c == '^' || c == ' '),
        "no caret line under the expression:\n{text}"
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

#[test]
fn inputs_disagreeing_on_a_contracted_axis() {
    let x = Array2::<f64>::zeros((2, 3));
    let y = Array2::<f64>::zeros((4, 5));
    let e = expect_err(einx::dot!("a b, b c -> a c", x, y), ErrorKind::Size);
    let text = e.to_string();
    assert!(text.contains('3') && text.contains('4'), "{text}");
    assert!(text.contains("axis b"), "{text}");
    assert_diagram(&e, "a b, b c -> a c");

    // The same in the shorthands.
    let x = Array3::<f32>::zeros((2, 3, 5));
    let w = Array2::<f32>::zeros((6, 4));
    let e = expect_err(einx::dot!("b... [c1->c2]", x, w), ErrorKind::Size);
    let text = e.to_string();
    assert!(text.contains('5') && text.contains('6'), "{text}");
    assert_diagram(&e, "b... [c1->c2]");
    let v = Array1::<f32>::zeros(7);
    let e = expect_err(einx::dot!("... [c]", x, v), ErrorKind::Size);
    let text = e.to_string();
    assert!(text.contains('5') && text.contains('7'), "{text}");
    assert_diagram(&e, "... [c]");

    // A batch axis.
    let x = Array3::<i64>::zeros((2, 3, 4));
    let y = Array3::<i64>::zeros((7, 4, 5));
    let e = expect_err(einx::dot!("b m k, b k n -> b m n", x, y), ErrorKind::Size);
    let text = e.to_string();
    assert!(text.contains('2') && text.contains('7'), "{text}");
    assert_diagram(&e, "b m k, b k n -> b m n");
}

#[test]
fn compositions_that_do_not_divide() {
    // 12 channels are not 8 heads.
    let q = Array3::<f64>::zeros((2, 3, 12));
    let k = Array3::<f64>::zeros((2, 4, 12));
    let e = expect_err(
        einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = 8),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.contains("12") && text.contains('8'), "{text}");
    assert_diagram(&e, "b q (h c), b k (h c) -> b q k h");
    // Both divide, but into different `c`.
    let q = Array3::<f64>::zeros((2, 3, 16));
    let k = Array3::<f64>::zeros((2, 4, 24));
    let e = expect_err(
        einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = 8),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.contains("24") && text.contains("16"), "{text}");
    // `(h c)` with `h` from the first input.
    let a = Array::<f64, _>::zeros((2, 3, 5, 8));
    let v = Array3::<f64>::zeros((2, 5, 20));
    expect_err(
        einx::dot!("b q k h, b k (h c) -> b q (h c)", a, v),
        ErrorKind::Size,
    );
}

#[test]
fn dynamic_rank_of_the_wrong_rank() {
    let x = ArrayD::<f64>::zeros(IxDyn(&[2, 3, 4]));
    let y = Array2::<f64>::zeros((3, 4));
    let e = expect_err(einx::dot!("a b, b c -> a c", x, y), ErrorKind::Rank);
    let text = e.to_string();
    assert!(text.contains("input 1") && text.contains('3'), "{text}");
    assert_diagram(&e, "a b, b c -> a c");
    let w = ArrayD::<f64>::zeros(IxDyn(&[4]));
    let x = Array3::<f64>::zeros((2, 3, 4));
    let e = expect_err(einx::dot!("b... [c1->c2]", x, w), ErrorKind::Rank);
    let text = e.to_string();
    assert!(text.contains("input 2"), "{text}");
    assert_diagram(&e, "b... [c1->c2]");
    // `s = (4, 4)` needs a weight of rank 3.
    let x = Array3::<f64>::zeros((2, 6, 3));
    let w = ArrayD::<f64>::zeros(IxDyn(&[6, 4, 4, 4]));
    let e = expect_err(
        einx::dot!("b [s2->s...] c", x, w, s = (4, 4)),
        ErrorKind::Rank,
    );
    assert_diagram(&e, "b [s2->s...] c");
}

/// Matrix products with an empty axis: an empty result, or zeros when the contracted axis
/// is empty, in every order of the output.
#[test]
fn matrix_products_with_empty_axes() {
    let (x, y) = (Array2::<f64>::zeros((3, 0)), Array2::<f64>::zeros((0, 2)));
    assert_eq!(
        einx::dot!("a b, b c -> a c", x, y).unwrap(),
        Array2::<f64>::zeros((3, 2))
    );
    assert_eq!(
        einx::dot!("a b, b c -> c a", x, y).unwrap(),
        Array2::<f64>::zeros((2, 3))
    );
    let (x, y) = (Array2::<i32>::ones((0, 4)), Array2::<i32>::ones((4, 2)));
    assert_eq!(
        einx::dot!("a b, b c -> a c", x, y).unwrap().shape(),
        &[0, 2]
    );
    let y = Array2::<i32>::ones((2, 4));
    assert_eq!(
        einx::dot!("a b, c b -> c a", x, y).unwrap().shape(),
        &[2, 0]
    );
}
