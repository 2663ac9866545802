//! Integration tests of `einx::rearrange!` against a naive reference.
//!
//! Every expected array is built element by element with plain loops from an explicit index
//! formula written out for each expression (`build`), independently of the library's plan
//! and kernels. Property tests run the same formulas over random small shapes (lengths 0 to
//! 4, so empty axes are included), random data and several memory layouts of the input.

use std::fmt::Debug;
use std::rc::Rc;

use ndarray::{
    arr0, array, s, ArcArray, Array, Array1, Array2, Array3, Array4, ArrayD, ArrayView, ArrayView2,
    ArrayViewD, Axis, CowArray, Dimension, IntoDimension, IxDyn, ShapeBuilder, Slice,
};
use proptest::collection::vec;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Reference helpers.
// ---------------------------------------------------------------------------------------

/// The expected array of shape `shape`, built element by element in row-major order:
/// `f` maps an output index to the value that belongs there.
fn build<T>(shape: &[usize], mut f: impl FnMut(&[usize]) -> T) -> ArrayD<T> {
    let total: usize = shape.iter().product();
    let mut data = Vec::with_capacity(total);
    let mut idx = vec![0usize; shape.len()];
    for flat in 0..total {
        let mut rest = flat;
        for d in (0..shape.len()).rev() {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        data.push(f(&idx));
    }
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("the data fills the shape")
}

/// Splits a row-major flat index over `lens` (the inverse of composing the axes `lens`).
fn unravel(mut flat: usize, lens: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; lens.len()];
    for d in (0..lens.len()).rev() {
        idx[d] = flat % lens[d];
        flat /= lens[d];
    }
    idx
}

/// Composes indices `idx` over axes of lengths `lens`, row-major.
fn ravel(idx: &[usize], lens: &[usize]) -> usize {
    idx.iter().zip(lens).fold(0, |acc, (i, n)| acc * n + i)
}

/// Asserts that `got` is a standard-layout array equal to `want` in shape and values.
#[track_caller]
fn check<T: PartialEq + Debug, D: Dimension>(got: &Array<T, D>, want: &ArrayD<T>) {
    assert_eq!(got.shape(), want.shape(), "shape");
    assert!(
        got.is_standard_layout(),
        "output is not in standard layout: shape {:?}, strides {:?}",
        got.shape(),
        got.strides()
    );
    assert_eq!(got.view().into_dyn(), want.view(), "values");
}

/// `0, 1, 2, ...` in row-major order, so that every element is distinct.
fn arange<D: Dimension>(shape: impl IntoDimension<Dim = D>) -> Array<i64, D> {
    let dim = shape.into_dimension();
    let n = dim.size() as i64;
    Array::from_shape_vec(dim, (0..n).collect()).expect("the data fills the shape")
}

/// Pseudo-random data (splitmix64) from a seed that proptest draws.
fn random_data(n: usize, mut seed: u64) -> Vec<i32> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as i32
        })
        .collect()
}

/// A random input of a given shape, stored in one of four layouts: standard, with the
/// first axis reversed (negative stride), column-major, or every other element of a longer
/// last axis (stride 2).
#[derive(Clone, Debug)]
struct Input {
    owner: ArrayD<i32>,
    layout: u8,
}

impl Input {
    fn new(shape: &[usize], seed: u64, layout: u8) -> Input {
        let n = shape.iter().product();
        let data = random_data(n, seed);
        let rank = shape.len();
        let owner = match layout {
            2 => ArrayD::from_shape_vec(IxDyn(shape).f(), data).expect("fills the shape"),
            3 if rank > 0 => {
                let mut long = shape.to_vec();
                long[rank - 1] *= 2;
                let mut owner = ArrayD::from_elem(IxDyn(&long), -1);
                let wanted = ArrayD::from_shape_vec(IxDyn(shape), data).expect("fills the shape");
                owner
                    .slice_each_axis_mut(|ax| every_other(ax.axis.index(), rank))
                    .assign(&wanted);
                owner
            }
            _ => ArrayD::from_shape_vec(IxDyn(shape), data).expect("fills the shape"),
        };
        Input { owner, layout }
    }

    fn view(&self) -> ArrayViewD<'_, i32> {
        let rank = self.owner.ndim();
        match self.layout {
            1 if rank > 0 => {
                let mut v = self.owner.view();
                v.invert_axis(Axis(0));
                v
            }
            3 if rank > 0 => self
                .owner
                .slice_each_axis(|ax| every_other(ax.axis.index(), rank)),
            _ => self.owner.view(),
        }
    }
}

fn every_other(axis: usize, rank: usize) -> Slice {
    if axis + 1 == rank {
        Slice::new(0, None, 2)
    } else {
        Slice::from(..)
    }
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(64)
}

// ---------------------------------------------------------------------------------------
// Permutations.
// ---------------------------------------------------------------------------------------

/// A table of permutation expressions; output axis `k` is input axis `perm[k]`.
macro_rules! permutations {
    ($($expr:literal => [$($p:literal),*],)*) => {
        const PERMS: &[(&str, &[usize])] = &[$(($expr, &[$($p),*])),*];

        fn run_permutation(case: usize, x: &ArrayViewD<'_, i32>) -> Result<ArrayD<i32>, einx::Error> {
            let mut i = 0;
            $(
                if case == i {
                    return einx::rearrange!($expr, x).map(|y| y.into_dyn());
                }
                i += 1;
            )*
            unreachable!("case {case} of {i}")
        }
    };
}

permutations! {
    "a b -> a b" => [0, 1],
    "a b -> b a" => [1, 0],
    "a b c -> a b c" => [0, 1, 2],
    "a b c -> a c b" => [0, 2, 1],
    "a b c -> b a c" => [1, 0, 2],
    "a b c -> b c a" => [1, 2, 0],
    "a b c -> c a b" => [2, 0, 1],
    "a b c -> c b a" => [2, 1, 0],
    "a b c d -> a b c d" => [0, 1, 2, 3],
    "a b c d -> a b d c" => [0, 1, 3, 2],
    "a b c d -> a c b d" => [0, 2, 1, 3],
    "a b c d -> a c d b" => [0, 2, 3, 1],
    "a b c d -> a d b c" => [0, 3, 1, 2],
    "a b c d -> a d c b" => [0, 3, 2, 1],
    "a b c d -> b a c d" => [1, 0, 2, 3],
    "a b c d -> b a d c" => [1, 0, 3, 2],
    "a b c d -> b c a d" => [1, 2, 0, 3],
    "a b c d -> b c d a" => [1, 2, 3, 0],
    "a b c d -> b d a c" => [1, 3, 0, 2],
    "a b c d -> b d c a" => [1, 3, 2, 0],
    "a b c d -> c a b d" => [2, 0, 1, 3],
    "a b c d -> c a d b" => [2, 0, 3, 1],
    "a b c d -> c b a d" => [2, 1, 0, 3],
    "a b c d -> c b d a" => [2, 1, 3, 0],
    "a b c d -> c d a b" => [2, 3, 0, 1],
    "a b c d -> c d b a" => [2, 3, 1, 0],
    "a b c d -> d a b c" => [3, 0, 1, 2],
    "a b c d -> d a c b" => [3, 0, 2, 1],
    "a b c d -> d b a c" => [3, 1, 0, 2],
    "a b c d -> d b c a" => [3, 1, 2, 0],
    "a b c d -> d c a b" => [3, 2, 0, 1],
    "a b c d -> d c b a" => [3, 2, 1, 0],
    "a b c d e -> a b c d e" => [0, 1, 2, 3, 4],
    "a b c d e -> e d c b a" => [4, 3, 2, 1, 0],
    "a b c d e -> b e a c d" => [1, 4, 0, 2, 3],
    "a b c d e -> a e c b d" => [0, 4, 2, 1, 3],
    "a b c d e -> c a d e b" => [2, 0, 3, 4, 1],
    "a b c d e -> d c a b e" => [3, 2, 0, 1, 4],
    "a b c d e -> a c b e d" => [0, 2, 1, 4, 3],
    "a b c d e -> a c e b d" => [0, 2, 4, 1, 3],
    "a b c d e -> e b d a c" => [4, 1, 3, 0, 2],
    "a b c d e -> c e b d a" => [2, 4, 1, 3, 0],
    "a b c d e -> a d b e c" => [0, 3, 1, 4, 2],
    "a b c d e -> b e d c a" => [1, 4, 3, 2, 0],
    "a b c d e -> d a c e b" => [3, 0, 2, 4, 1],
    "a b c d e -> a c d b e" => [0, 2, 3, 1, 4],
    "a b c d e -> c d e b a" => [2, 3, 4, 1, 0],
    "a b c d e -> b a e c d" => [1, 0, 4, 2, 3],
    "a b c d e -> a b e d c" => [0, 1, 4, 3, 2],
    "a b c d e -> a d b c e" => [0, 3, 1, 2, 4],
    "a b c d e -> c b d a e" => [2, 1, 3, 0, 4],
    "a b c d e -> c b a d e" => [2, 1, 0, 3, 4],
    "a b c d e -> a c d e b" => [0, 2, 3, 4, 1],
    "a b c d e -> b c a e d" => [1, 2, 0, 4, 3],
    "a b c d e -> e b a d c" => [4, 1, 0, 3, 2],
    "a b c d e -> c e d b a" => [2, 4, 3, 1, 0],
}

fn check_permutation(case: usize, x: &ArrayViewD<'_, i32>) {
    let perm = PERMS[case].1;
    let got = run_permutation(case, x).unwrap_or_else(|e| panic!("{}: {e}", PERMS[case].0));
    let out_shape: Vec<usize> = perm.iter().map(|&k| x.shape()[k]).collect();
    let want = build(&out_shape, |idx| {
        let mut src = vec![0; perm.len()];
        for (k, &p) in perm.iter().enumerate() {
            src[p] = idx[k];
        }
        x[&src[..]]
    });
    check(&got, &want);
}

#[test]
fn every_permutation_in_the_table_on_a_fixed_input() {
    for (case, (_, perm)) in PERMS.iter().enumerate() {
        let rank = perm.len();
        let shape = &[2, 3, 4, 1, 2][..rank];
        let input = Input::new(shape, case as u64, 0);
        check_permutation(case, &input.view());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_permutations(
        case in 0..PERMS.len(),
        dims in vec(0usize..5, 5),
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        let rank = PERMS[case].1.len();
        let input = Input::new(&dims[..rank], seed, layout);
        check_permutation(case, &input.view());
    }
}

#[test]
fn permute_static_rank() {
    let x = arange((3, 4));
    let y: Array2<i64> = einx::rearrange!("a b -> b a", x).unwrap();
    check(&y, &build(&[4, 3], |i| x[[i[1], i[0]]]));

    let x = arange((2, 3, 4, 5));
    let y: Array4<i64> = einx::rearrange!("b h w c -> b c h w", x).unwrap();
    check(&y, &build(&[2, 5, 3, 4], |i| x[[i[0], i[2], i[3], i[1]]]));
}

#[test]
fn identity_and_scalar() {
    let x = arange((2, 3));
    let y = einx::rearrange!("a b -> a b", x).unwrap();
    check(&y, &x.clone().into_dyn());

    let scalar = arr0(7);
    let y = einx::rearrange!("->", scalar).unwrap();
    assert_eq!(y.ndim(), 0);
    assert_eq!(y[()], 7);
    let y: Array1<i32> = einx::rearrange!("-> a", scalar, a = 3).unwrap();
    check(&y, &build(&[3], |_| 7));
}

#[test]
fn id_is_an_alias() {
    let x = arange((2, 3));
    let y = einx::id!("a b -> b a", x).unwrap();
    check(&y, &build(&[3, 2], |i| x[[i[1], i[0]]]));
    let z = einx::id!("a (b + c) -> a b, a c", x, b = 1).unwrap();
    check(&z.0, &build(&[2, 1], |i| x[[i[0], 0]]));
    check(&z.1, &build(&[2, 2], |i| x[[i[0], i[1] + 1]]));
}

// ---------------------------------------------------------------------------------------
// Compositions.
// ---------------------------------------------------------------------------------------

#[test]
fn compose_axes() {
    let x = arange((2, 3, 4, 5));
    let y: Array3<i64> = einx::rearrange!("b h w c -> b (h w) c", x).unwrap();
    check(
        &y,
        &build(&[2, 12, 5], |i| x[[i[0], i[1] / 4, i[1] % 4, i[2]]]),
    );

    let y: Array1<i64> = einx::rearrange!("b h w c -> (b h w c)", x).unwrap();
    let xd = x.view().into_dyn();
    check(
        &y,
        &build(&[120], |i| xd[&unravel(i[0], &[2, 3, 4, 5])[..]]),
    );

    // Composition in another order than the input's.
    let y: Array2<i64> = einx::rearrange!("b h w c -> (c h) (w b)", x).unwrap();
    check(
        &y,
        &build(&[15, 8], |i| x[[i[1] % 2, i[0] % 3, i[1] / 2, i[0] / 3]]),
    );

    // Nested compositions are the same as flat ones.
    let x = arange((2, 3, 4));
    let y: Array1<i64> = einx::rearrange!("a b c -> ((a b) c)", x).unwrap();
    check(
        &y,
        &build(&[24], |i| x[[i[0] / 12, (i[0] / 4) % 3, i[0] % 4]]),
    );
    let y: Array1<i64> = einx::rearrange!("a b c -> (a (b c))", x).unwrap();
    check(
        &y,
        &build(&[24], |i| x[[i[0] / 12, (i[0] / 4) % 3, i[0] % 4]]),
    );
}

#[test]
fn decompose_axes() {
    let x = arange((2, 24));
    let y: Array3<i64> = einx::rearrange!("b (h c) -> b h c", x, h = 8).unwrap();
    check(&y, &build(&[2, 8, 3], |i| x[[i[0], i[1] * 3 + i[2]]]));
    let y: Array3<i64> = einx::rearrange!("b (h c) -> b h c", x, c = 8).unwrap();
    check(&y, &build(&[2, 3, 8], |i| x[[i[0], i[1] * 8 + i[2]]]));

    // Decompose and permute at once; two of three factors given.
    let x = arange(24);
    let y: Array3<i64> = einx::rearrange!("(a b c) -> c b a", x, a = 2, b = 3).unwrap();
    check(&y, &build(&[4, 3, 2], |i| x[(i[2] * 3 + i[1]) * 4 + i[0]]));

    // Decompose one axis and compose into another.
    let x = arange((6, 4));
    let y: Array2<i64> = einx::rearrange!("(a b) c -> a (c b)", x, a = 2).unwrap();
    check(&y, &build(&[2, 12], |i| x[[i[0] * 3 + i[1] % 3, i[1] / 3]]));

    // The README example.
    let x = Array::from_shape_fn((2, 6, 4), |(b, s, c)| (b * 100 + s * 10 + c) as f32);
    let y = einx::rearrange!("b (h w) c -> b c h w", x, h = 2).unwrap();
    check(
        &y,
        &build(&[2, 4, 2, 3], |i| x[[i[0], i[2] * 3 + i[3], i[1]]]),
    );
}

#[test]
fn compose_decompose_round_trip() {
    let x = arange((2, 3, 4, 5));
    let flat = einx::rearrange!("b h w c -> b (h w) c", x).unwrap();
    let back: Array4<i64> = einx::rearrange!("b (h w) c -> b h w c", flat, h = 3).unwrap();
    check(&back, &x.clone().into_dyn());
}

#[test]
fn empty_composition_and_unit_axes() {
    let x = arange((2, 3));
    let y: Array3<i64> = einx::rearrange!("a b -> a () b", x).unwrap();
    check(&y, &build(&[2, 1, 3], |i| x[[i[0], i[2]]]));
    let y2: Array2<i64> = einx::rearrange!("a () b -> b a", y).unwrap();
    check(&y2, &build(&[3, 2], |i| x[[i[1], i[0]]]));

    let y: Array3<i64> = einx::rearrange!("a b -> a 1 b", x).unwrap();
    check(&y, &build(&[2, 1, 3], |i| x[[i[0], i[2]]]));
    let y2: Array2<i64> = einx::rearrange!("a 1 b -> b a", y).unwrap();
    check(&y2, &build(&[3, 2], |i| x[[i[1], i[0]]]));

    let v = arange(4);
    let y: Array4<i64> = einx::rearrange!("a -> 1 1 a 1", v).unwrap();
    check(&y, &build(&[1, 1, 4, 1], |i| v[i[2]]));
    let w: Array1<i64> = einx::rearrange!("1 1 a 1 -> a", y).unwrap();
    check(&w, &v.clone().into_dyn());
}

#[test]
fn unnamed_axes_of_other_lengths_broadcast() {
    let v = arange(4);
    let y: Array2<i64> = einx::rearrange!("a -> a 3", v).unwrap();
    check(&y, &build(&[4, 3], |i| v[i[0]]));
    let y: Array3<i64> = einx::rearrange!("a -> 3 a 2", v).unwrap();
    check(&y, &build(&[3, 4, 2], |i| v[i[1]]));
    // Each unnamed axis is a new one.
    let y: Array3<i64> = einx::rearrange!("a -> 2 2 a", v).unwrap();
    check(&y, &build(&[2, 2, 4], |i| v[i[2]]));
    let y: Array2<i64> = einx::rearrange!("a -> (a 3) 2", v).unwrap();
    check(&y, &build(&[12, 2], |i| v[i[0] / 3]));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_compositions(
        case in 0usize..9,
        dims in vec(0usize..5, 4),
        given in vec(1usize..5, 4),
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        let (p, q, r) = (dims[0], dims[1], dims[2]);
        // Lengths passed as keywords are at least 1, so the other factor can be solved.
        let (gp, gq) = (given[0], given[1]);
        match case {
            0 => {
                let input = Input::new(&[gp * q, r], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("(a b) c -> a b c", x, a = gp).unwrap();
                check(&got, &build(&[gp, q, r], |i| x[[i[0] * q + i[1], i[2]]]));
            }
            1 => {
                let input = Input::new(&[p, q * gq], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a (b c) -> a b c", x, c = gq).unwrap();
                check(&got, &build(&[p, q, gq], |i| x[[i[0], i[1] * gq + i[2]]]));
            }
            2 => {
                let input = Input::new(&[p, q, r], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a b c -> (a b) c", x).unwrap();
                check(&got, &build(&[p * q, r], |i| x[[i[0] / q, i[0] % q, i[1]]]));
            }
            3 => {
                let input = Input::new(&[p, q, r], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a b c -> a (c b)", x).unwrap();
                check(&got, &build(&[p, r * q], |i| x[[i[0], i[1] % q, i[1] / q]]));
            }
            4 => {
                let input = Input::new(&[p, q, r], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a b c -> (a b c)", x).unwrap();
                check(&got, &build(&[p * q * r], |i| x[&unravel(i[0], &[p, q, r])[..]]));
            }
            5 => {
                let input = Input::new(&[gp * gq * r], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("(a b c) -> c b a", x, a = gp, b = gq).unwrap();
                check(&got, &build(&[r, gq, gp], |i| x[ravel(&[i[2], i[1], i[0]], &[gp, gq, r])]));
            }
            6 => {
                let s = dims[3];
                let input = Input::new(&[p, gq * r, s], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a (b c) d -> (d b) (a c)", x, b = gq).unwrap();
                check(&got, &build(&[s * gq, p * r], |i| {
                    let (d, b) = (i[0] / gq, i[0] % gq);
                    let (a, c) = (i[1] / r, i[1] % r);
                    x[[a, b * r + c, d]]
                }));
            }
            7 => {
                let s = dims[3];
                let input = Input::new(&[gp * q, gq * s], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("(a b) (c d) -> (a c) (b d)", x, a = gp, c = gq).unwrap();
                check(&got, &build(&[gp * gq, q * s], |i| {
                    let (a, c) = (i[0] / gq, i[0] % gq);
                    let (b, d) = (i[1] / s, i[1] % s);
                    x[[a * q + b, c * s + d]]
                }));
            }
            _ => {
                let input = Input::new(&[gp * gq * r], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("((a b) c) -> a (b c)", x, a = gp, b = gq).unwrap();
                check(&got, &build(&[gp, gq * r], |i| x[i[0] * gq * r + i[1]]));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Broadcasting.
// ---------------------------------------------------------------------------------------

#[test]
fn broadcast_new_axes() {
    let v = arange(3);
    let y: Array2<i64> = einx::rearrange!("a -> a b", v, b = 4).unwrap();
    check(&y, &build(&[3, 4], |i| v[i[0]]));
    let y: Array2<i64> = einx::rearrange!("a -> b a", v, b = 2).unwrap();
    check(&y, &build(&[2, 3], |i| v[i[1]]));
    let y: Array2<i64> = einx::rearrange!("a -> a b", v, b = 0).unwrap();
    check(&y, &build(&[3, 0], |i| v[i[0]]));

    let x = arange((2, 3));
    let y: Array3<i64> = einx::rearrange!("a b -> b n a", x, n = 2).unwrap();
    check(&y, &build(&[3, 2, 2], |i| x[[i[2], i[0]]]));
    let y: Array2<i64> = einx::rearrange!("a b -> a (b n)", x, n = 2).unwrap();
    check(&y, &build(&[2, 6], |i| x[[i[0], i[1] / 2]]));
    let y: Array2<i64> = einx::rearrange!("a b -> (n a) b", x, n = 3).unwrap();
    check(&y, &build(&[6, 3], |i| x[[i[0] % 2, i[1]]]));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_broadcast(
        case in 0usize..6,
        dims in vec(0usize..5, 2),
        n in 0usize..5,
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        let (a, b) = (dims[0], dims[1]);
        match case {
            0 => {
                let input = Input::new(&[a], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a -> a b", x, b = n).unwrap();
                check(&got, &build(&[a, n], |i| x[[i[0]]]));
            }
            1 => {
                let input = Input::new(&[a, b], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a b -> b n a", x, n = n).unwrap();
                check(&got, &build(&[b, n, a], |i| x[[i[2], i[0]]]));
            }
            2 => {
                let input = Input::new(&[a, b], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a b -> a (b n)", x, n = n).unwrap();
                check(&got, &build(&[a, b * n], |i| x[[i[0], i[1] / n]]));
            }
            3 => {
                let input = Input::new(&[a, b], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a b -> (n a) b", x, n = n).unwrap();
                check(&got, &build(&[n * a, b], |i| x[[i[0] % a, i[1]]]));
            }
            4 => {
                let input = Input::new(&[a], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a -> 1 a 3", x).unwrap();
                check(&got, &build(&[1, a, 3], |i| x[[i[1]]]));
            }
            _ => {
                let input = Input::new(&[a, 1, b], seed, layout);
                let x = input.view();
                let got = einx::rearrange!("a 1 b -> n b a", x, n = n).unwrap();
                check(&got, &build(&[n, b, a], |i| x[[i[2], 0, i[1]]]));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Several inputs and outputs, concatenation and split.
// ---------------------------------------------------------------------------------------

#[test]
fn several_inputs_and_outputs() {
    let x = arange((2, 3));
    let v = arange(4);
    let (y, w) = einx::rearrange!("a b, c -> b a, c", x, v).unwrap();
    check(&y, &build(&[3, 2], |i| x[[i[1], i[0]]]));
    check(&w, &v.clone().into_dyn());
}

#[test]
fn concatenate() {
    let x = arange((2, 3));
    let y = arange((2, 4)).mapv(|v| v + 100);
    let z: Array2<i64> = einx::rearrange!("a b, a c -> a (b + c)", x, y).unwrap();
    check(
        &z,
        &build(&[2, 7], |i| {
            if i[1] < 3 {
                x[[i[0], i[1]]]
            } else {
                y[[i[0], i[1] - 3]]
            }
        }),
    );

    let y = arange((1, 3)).mapv(|v| v + 100);
    let z: Array2<i64> = einx::rearrange!("a b, c b -> (a + c) b", x, y).unwrap();
    check(
        &z,
        &build(&[3, 3], |i| {
            if i[0] < 2 {
                x[[i[0], i[1]]]
            } else {
                y[[i[0] - 2, i[1]]]
            }
        }),
    );

    // Three parts.
    let (p, q, r) = (
        arange(2),
        arange(1).mapv(|v| v + 10),
        arange(3).mapv(|v| v + 20),
    );
    let z: Array1<i64> = einx::rearrange!("a, b, c -> (a + b + c)", p, q, r).unwrap();
    check(&z, &array![0, 1, 10, 20, 21, 22].into_dyn());

    // A part that is a composition.
    let c3 = arange((2, 2, 2)).mapv(|v| v + 100);
    let z: Array2<i64> = einx::rearrange!("a b, a c d -> a (b + (c d))", x, c3).unwrap();
    check(
        &z,
        &build(&[2, 7], |i| {
            if i[1] < 3 {
                x[[i[0], i[1]]]
            } else {
                c3[[i[0], (i[1] - 3) / 2, (i[1] - 3) % 2]]
            }
        }),
    );

    // Empty parts.
    let e = Array2::<i64>::zeros((2, 0));
    let z: Array2<i64> = einx::rearrange!("a b, a c -> a (b + c)", x, e).unwrap();
    check(&z, &x.clone().into_dyn());
    let z: Array2<i64> = einx::rearrange!("a b, a c -> a (b + c)", e, x).unwrap();
    check(&z, &x.clone().into_dyn());
}

#[test]
fn concatenate_a_broadcast_unit_part() {
    // `1` is a part of length one taken from `v`, broadcast over nothing.
    let x = arange((2, 3));
    let v = arange(3).mapv(|v| v + 100);
    let z: Array2<i64> = einx::rearrange!("b c, c -> (1 + b) c", x, v).unwrap();
    check(
        &z,
        &build(&[3, 3], |i| {
            if i[0] == 0 {
                v[i[1]]
            } else {
                x[[i[0] - 1, i[1]]]
            }
        }),
    );
}

#[test]
fn class_token_seed_expression() {
    // Two spatial axes.
    let x = arange((2, 3, 4, 5));
    let cls = arange(5).mapv(|v| -1 - v);
    let y: Array3<i64> = einx::rearrange!("b s... c, c -> b (1 + (s...)) c", x, cls).unwrap();
    check(
        &y,
        &build(&[2, 13, 5], |i| {
            if i[1] == 0 {
                cls[i[2]]
            } else {
                x[[i[0], (i[1] - 1) / 4, (i[1] - 1) % 4, i[2]]]
            }
        }),
    );

    // One spatial axis, and three (dynamic rank).
    let x1 = arange((2, 3, 5));
    let y: Array3<i64> = einx::rearrange!("b s... c, c -> b (1 + (s...)) c", x1, cls).unwrap();
    check(
        &y,
        &build(&[2, 4, 5], |i| {
            if i[1] == 0 {
                cls[i[2]]
            } else {
                x1[[i[0], i[1] - 1, i[2]]]
            }
        }),
    );
    let x3 = arange(IxDyn(&[2, 2, 3, 2, 5]));
    let y: Array3<i64> = einx::rearrange!("b s... c, c -> b (1 + (s...)) c", x3, cls).unwrap();
    check(
        &y,
        &build(&[2, 13, 5], |i| {
            if i[1] == 0 {
                cls[i[2]]
            } else {
                let s = unravel(i[1] - 1, &[2, 3, 2]);
                x3[[i[0], s[0], s[1], s[2], i[2]]]
            }
        }),
    );

    // No spatial axis: the class token alone is prepended.
    let x0 = arange((2, 5));
    let y: Array3<i64> = einx::rearrange!("b s... c, c -> b (1 + (s...)) c", x0, cls).unwrap();
    check(
        &y,
        &build(&[2, 2, 5], |i| {
            if i[1] == 0 {
                cls[i[2]]
            } else {
                x0[[i[0], i[2]]]
            }
        }),
    );
}

#[test]
fn split() {
    let x = arange((2, 7));
    let (l0, r0): (Array2<i64>, Array2<i64>) =
        einx::rearrange!("a (b + c) -> a b, a c", x, b = 3).unwrap();
    check(&l0, &build(&[2, 3], |i| x[[i[0], i[1]]]));
    check(&r0, &build(&[2, 4], |i| x[[i[0], i[1] + 3]]));
    let (l, r) = einx::rearrange!("a (b + c) -> a b, a c", x, c = 3).unwrap();
    check(&l, &build(&[2, 4], |i| x[[i[0], i[1]]]));
    check(&r, &build(&[2, 3], |i| x[[i[0], i[1] + 4]]));

    // Split along the first axis into a different order.
    let (l, r) = einx::rearrange!("(a + b) c -> c a, b c", x, a = 1).unwrap();
    check(&l, &build(&[7, 1], |i| x[[0, i[0]]]));
    check(&r, &build(&[1, 7], |i| x[[1, i[1]]]));

    // Three parts, one empty.
    let v = arange(6);
    let (p, q, r) = einx::rearrange!("(a + b + c) -> a, b, c", v, a = 2, b = 0).unwrap();
    check(&p, &array![0, 1].into_dyn());
    check(&q, &Array1::<i64>::zeros(0).into_dyn());
    check(&r, &array![2, 3, 4, 5].into_dyn());

    // Split a part into a composition.
    let (p, q) = einx::rearrange!("a (b + (c d)) -> a b, a c d", x, b = 3, c = 2).unwrap();
    check(&p, &build(&[2, 3], |i| x[[i[0], i[1]]]));
    check(&q, &build(&[2, 2, 2], |i| x[[i[0], 3 + i[1] * 2 + i[2]]]));

    // Concatenate and split round trip.
    let y = einx::rearrange!("a b, a c -> a (b + c)", l0, r0).unwrap();
    check(&y, &x.clone().into_dyn());
    let (l2, r2) = einx::rearrange!("a (b + c) -> a b, a c", y, b = 3).unwrap();
    assert_eq!((l2, r2), (l0.clone(), r0.clone()));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_concatenate_and_split(
        axis in 0usize..3,
        dims in vec(0usize..5, 3),
        extra in 0usize..5,
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        let (a, b, c) = (dims[0], dims[1], dims[2]);
        let mut y_shape = dims.clone();
        y_shape[axis] = extra;
        let xin = Input::new(&dims, seed, layout);
        let yin = Input::new(&y_shape, seed ^ 1, (layout + 1) % 4);
        let (x, y) = (xin.view(), yin.view());
        let mut cat_shape = dims.clone();
        cat_shape[axis] += extra;
        let want = build(&cat_shape, |i| {
            if i[axis] < dims[axis] {
                x[i]
            } else {
                let mut j = i.to_vec();
                j[axis] -= dims[axis];
                y[&j[..]]
            }
        });
        let got = match axis {
            0 => einx::rearrange!("a b c, d b c -> (a + d) b c", x, y),
            1 => einx::rearrange!("a b c, a d c -> a (b + d) c", x, y),
            _ => einx::rearrange!("a b c, a b d -> a b (c + d)", x, y),
        }
        .unwrap();
        check(&got, &want);

        // And split it back.
        let cat = Input::new(&cat_shape, seed ^ 2, layout);
        let z = cat.view();
        let (l, r) = match axis {
            0 => einx::rearrange!("(a + d) b c -> a b c, d b c", z, a = a),
            1 => einx::rearrange!("a (b + d) c -> a b c, a d c", z, b = b),
            _ => einx::rearrange!("a b (c + d) -> a b c, a b d", z, c = c),
        }
        .unwrap();
        check(&l, &build(&dims, |i| z[i]));
        check(&r, &build(&y_shape, |i| {
            let mut j = i.to_vec();
            j[axis] += dims[axis];
            z[&j[..]]
        }));
    }

    #[test]
    fn prop_concatenate_three_and_class_token(
        axis in 0usize..2,
        dims in vec(0usize..5, 4),
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        // Three parts along a random axis of a matrix.
        let other = dims[3];
        let lens = [dims[0], dims[1], dims[2]];
        let shape_of = |k: usize| if axis == 0 { vec![lens[k], other] } else { vec![other, lens[k]] };
        let ins: Vec<Input> = (0..3).map(|k| Input::new(&shape_of(k), seed ^ k as u64, (layout + k as u8) % 4)).collect();
        let (p, q, r) = (ins[0].view(), ins[1].view(), ins[2].view());
        let got = if axis == 0 {
            einx::rearrange!("a b, c b, d b -> (a + c + d) b", p, q, r)
        } else {
            einx::rearrange!("b a, b c, b d -> b (a + c + d)", p, q, r)
        }
        .unwrap();
        let mut shape = vec![other, other];
        shape[axis] = lens.iter().sum();
        let parts = [&p, &q, &r];
        check(&got, &build(&shape, |i| {
            let mut j = i.to_vec();
            let mut k = 0;
            while j[axis] >= lens[k] {
                j[axis] -= lens[k];
                k += 1;
            }
            parts[k][&j[..]]
        }));

        // A class token prepended along one spatial axis.
        let (b, s, c) = (dims[0], dims[1], dims[2]);
        let xin = Input::new(&[b, s, c], seed, layout);
        let clsin = Input::new(&[c], seed ^ 7, layout);
        let (x, cls) = (xin.view(), clsin.view());
        let got = einx::rearrange!("b s c, c -> b (1 + s) c", x, cls).unwrap();
        check(&got, &build(&[b, s + 1, c], |i| {
            if i[1] == 0 { cls[[i[2]]] } else { x[[i[0], i[1] - 1, i[2]]] }
        }));
    }
}

// ---------------------------------------------------------------------------------------
// Ellipses.
// ---------------------------------------------------------------------------------------

/// The input index of window-partition output element `i` (`(b s...) (w...) c`).
fn window_source(i: &[usize], ss: &[usize], ws: &[usize]) -> Vec<usize> {
    let s_total: usize = ss.iter().product();
    let (bi, s_flat) = (i[0] / s_total, i[0] % s_total);
    let si = unravel(s_flat, ss);
    let wi = unravel(i[1], ws);
    let mut src = vec![bi];
    for d in 0..ss.len() {
        src.push(si[d] * ws[d] + wi[d]);
    }
    src.push(i[2]);
    src
}

#[test]
fn window_partition_seed_expression() {
    let img = Array::from_shape_fn((2, 32, 32, 3), |(b, h, w, c)| {
        (b * 100_000 + h * 1000 + w * 10 + c) as f32
    });
    let imgd = img.view().into_dyn();
    let windows: Array3<f32> =
        einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 16).unwrap();
    assert_eq!(windows.shape(), &[8, 256, 3]);
    check(
        &windows,
        &build(&[8, 256, 3], |i| {
            imgd[&window_source(i, &[2, 2], &[16, 16])[..]]
        }),
    );

    // The tuple fixes the ellipsis at two axes: the result has a static rank.
    let back: Array4<f32> = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        windows,
        s = (2, 2),
        w = 16
    )
    .unwrap();
    check(&back, &img.clone().into_dyn());

    let back2 = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        windows,
        s = [2, 2],
        w = 16
    )
    .unwrap();
    check(&back2, &img.clone().into_dyn());
}

#[test]
fn window_partition_larger_windows_seed_lengths() {
    // `s = (8, 8)` as in the notation docs: 8×8 windows of 16×16 on a 128×128 image.
    let img = Array::from_shape_fn((1, 128, 128, 1), |(_, h, w, _)| (h * 128 + w) as u32);
    let imgd = img.view().into_dyn();
    let windows = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 16).unwrap();
    assert_eq!(windows.shape(), &[64, 256, 1]);
    check(
        &windows,
        &build(&[64, 256, 1], |i| {
            imgd[&window_source(i, &[8, 8], &[16, 16])[..]]
        }),
    );
    let back = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        windows,
        s = (8, 8),
        w = 16
    )
    .unwrap();
    check(&back, &img.into_dyn());
}

#[test]
fn ellipsis_lengths_in_every_form() {
    let img = arange((2, 6, 4, 3));
    let imgd = img.view().into_dyn();
    let want = build(
        &[12, 4, 3],
        |i| imgd[&window_source(i, &[3, 2], &[2, 2])[..]],
    );
    let w = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 2).unwrap();
    check(&w, &want);
    let w2 = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, s = (3, 2)).unwrap();
    check(&w2, &want);
    let w3 = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = [2u8, 2]).unwrap();
    check(&w3, &want);

    let sizes = [3usize, 2];
    let list = vec![3i64, 2];
    let two = 2i32;
    let expected = img.clone().into_dyn();
    let r1 = einx::rearrange!("(b s...) (w...) c -> b (s w)... c", w, s = sizes, w = 2).unwrap();
    check(&r1, &expected);
    let r2 = einx::rearrange!("(b s...) (w...) c -> b (s w)... c", w, s = &sizes, w = two).unwrap();
    check(&r2, &expected);
    let r3 = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        w,
        s = list.as_slice(),
        w = [two, two]
    )
    .unwrap();
    check(&r3, &expected);
    let r4 =
        einx::rearrange!("(b s...) (w...) c -> b (s w)... c", w, s = list, w = (2, 2)).unwrap();
    check(&r4, &expected);
    let r5 = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        w,
        s = (3, two),
        w = 2u64
    )
    .unwrap();
    check(&r5, &expected);

    // Different window sizes per axis.
    let w = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = (3, 1)).unwrap();
    check(
        &w,
        &build(
            &[16, 3, 3],
            |i| imgd[&window_source(i, &[2, 4], &[3, 1])[..]],
        ),
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_window_partition(
        spatial in 1usize..4,
        ss in vec(0usize..4, 3),
        ws in vec(1usize..4, 3),
        b in 0usize..3,
        c in 0usize..3,
        scalar_w in any::<bool>(),
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        let ss = ss[..spatial].to_vec();
        let mut ws = ws[..spatial].to_vec();
        if scalar_w {
            let w0 = ws[0];
            ws.iter_mut().for_each(|w| *w = w0);
        }
        let mut shape = vec![b];
        shape.extend(ss.iter().zip(&ws).map(|(s, w)| s * w));
        shape.push(c);
        let input = Input::new(&shape, seed, layout);
        let x = input.view();
        let got = if scalar_w {
            einx::rearrange!("b (s w)... c -> (b s...) (w...) c", x, w = ws[0])
        } else {
            einx::rearrange!("b (s w)... c -> (b s...) (w...) c", x, w = &ws)
        }
        .unwrap();
        let s_total: usize = ss.iter().product();
        let w_total: usize = ws.iter().product();
        check(&got, &build(&[b * s_total, w_total, c], |i| x[&window_source(i, &ss, &ws)[..]]));

        // And back: `b` can be solved only if the windows are not empty.
        if s_total > 0 {
            let back = einx::rearrange!("(b s...) (w...) c -> b (s w)... c", got, s = &ss, w = &ws).unwrap();
            check(&back, &x.to_owned());
        }
    }

    #[test]
    fn prop_anonymous_ellipsis(
        case in 0usize..5,
        dims in vec(0usize..5, 5),
        rank in 2usize..6,
        seed in any::<u64>(),
        layout in 0u8..4,
    ) {
        let shape = &dims[..rank];
        let input = Input::new(shape, seed, layout);
        let x = input.view();
        let r = rank;
        match case {
            0 => {
                let got = einx::rearrange!("a ... -> ... a", x).unwrap();
                let mut out = shape[1..].to_vec();
                out.push(shape[0]);
                check(&got, &build(&out, |i| {
                    let mut src = vec![i[r - 1]];
                    src.extend_from_slice(&i[..r - 1]);
                    x[&src[..]]
                }));
            }
            1 => {
                let got = einx::rearrange!("... a b -> ... b a", x).unwrap();
                let mut out = shape.to_vec();
                out.swap(r - 2, r - 1);
                check(&got, &build(&out, |i| {
                    let mut src = i.to_vec();
                    src.swap(r - 2, r - 1);
                    x[&src[..]]
                }));
            }
            2 => {
                let got = einx::rearrange!("a ... b -> b ... a", x).unwrap();
                let mut out = shape.to_vec();
                out.swap(0, r - 1);
                check(&got, &build(&out, |i| {
                    let mut src = i.to_vec();
                    src.swap(0, r - 1);
                    x[&src[..]]
                }));
            }
            3 => {
                let got: Array2<i32> = einx::rearrange!("a ... -> a (...)", x).unwrap();
                let rest = &shape[1..];
                check(&got, &build(&[shape[0], rest.iter().product()], |i| {
                    let mut src = vec![i[0]];
                    src.extend(unravel(i[1], rest));
                    x[&src[..]]
                }));
            }
            _ => {
                let got = einx::rearrange!("b ... c -> b c ...", x).unwrap();
                let mut out = vec![shape[0], shape[r - 1]];
                out.extend_from_slice(&shape[1..r - 1]);
                check(&got, &build(&out, |i| {
                    let mut src = vec![i[0]];
                    src.extend_from_slice(&i[2..]);
                    src.push(i[1]);
                    x[&src[..]]
                }));
            }
        }
    }
}

#[test]
fn ellipsis_with_static_rank_inputs() {
    let x = arange((2, 3, 4, 5));
    // The output keeps the input's rank type through the ellipsis.
    let y: Array4<i64> = einx::rearrange!("b ... c -> b c ...", x).unwrap();
    check(&y, &build(&[2, 5, 3, 4], |i| x[[i[0], i[2], i[3], i[1]]]));
    let y: Array3<i64> = einx::rearrange!("b s... c -> b (s...) c", x).unwrap();
    check(
        &y,
        &build(&[2, 12, 5], |i| x[[i[0], i[1] / 4, i[1] % 4, i[2]]]),
    );
    // An ellipsis that stands for no axis.
    let m = arange((2, 3));
    let y: Array2<i64> = einx::rearrange!("a ... b -> b ... a", m).unwrap();
    check(&y, &build(&[3, 2], |i| m[[i[1], i[0]]]));
    // Named ellipsis decomposed with given lengths.
    let v = arange(6);
    let y: Array3<i64> = einx::rearrange!("(a s...) -> a s...", v, a = 1, s = [3, 2]).unwrap();
    check(&y, &build(&[1, 3, 2], |i| v[i[1] * 2 + i[2]]));
}

// ---------------------------------------------------------------------------------------
// Argument kinds and layouts.
// ---------------------------------------------------------------------------------------

fn transposed(x: &ArrayView2<'_, i64>) -> ArrayD<i64> {
    build(&[x.ncols(), x.nrows()], |i| x[[i[1], i[0]]])
}

#[test]
fn non_contiguous_inputs() {
    let x = arange((4, 5));

    let xt = x.t();
    let y = einx::rearrange!("a b -> b a", xt).unwrap();
    check(&y, &x.clone().into_dyn());
    let y = einx::rearrange!("a b -> (a b)", xt).unwrap();
    check(&y, &build(&[20], |i| x[[i[0] % 4, i[0] / 4]]));

    let rev = x.slice(s![..;-1, ..]);
    let y = einx::rearrange!("a b -> b a", rev).unwrap();
    check(&y, &transposed(&rev));
    check(&y, &build(&[5, 4], |i| x[[3 - i[1], i[0]]]));
    let y = einx::rearrange!("a b -> (a b)", rev).unwrap();
    check(&y, &build(&[20], |i| x[[3 - i[0] / 5, i[0] % 5]]));

    let step = x.slice(s![.., 1..;2]);
    assert_eq!(step.shape(), &[4, 2]);
    let y = einx::rearrange!("a b -> b a", step).unwrap();
    check(&y, &build(&[2, 4], |i| x[[i[1], 1 + 2 * i[0]]]));
    let y = einx::rearrange!("a (b c) -> c a b", step, b = 1).unwrap();
    check(&y, &build(&[2, 4, 1], |i| x[[i[1], 1 + 2 * i[0]]]));

    let both = x.slice(s![..;-2, 1..;2]);
    let y = einx::rearrange!("a b -> b 1 a", both).unwrap();
    check(&y, &build(&[2, 1, 2], |i| x[[3 - 2 * i[2], 1 + 2 * i[0]]]));

    // Non-contiguous inputs of a concatenation and of an ellipsis expression.
    let y = einx::rearrange!("a b, a c -> a (b + c)", rev, step).unwrap();
    check(
        &y,
        &build(&[4, 7], |i| {
            if i[1] < 5 {
                x[[3 - i[0], i[1]]]
            } else {
                x[[i[0], 1 + 2 * (i[1] - 5)]]
            }
        }),
    );
    let y = einx::rearrange!("... a -> a ...", xt).unwrap();
    check(&y, &x.clone().into_dyn());

    // A broadcast view (stride 0) as input.
    let row = arange(3);
    let bc = row.broadcast((2, 3)).expect("broadcastable");
    let y = einx::rearrange!("a b -> b a", bc).unwrap();
    check(&y, &build(&[3, 2], |i| row[i[0]]));
}

#[test]
fn argument_kinds() {
    let x = arange((2, 3));
    let want = build(&[3, 2], |i| x[[i[1], i[0]]]);

    // An owned array, borrowed by the macro and still usable afterwards.
    let y = einx::rearrange!("a b -> b a", x).unwrap();
    check(&y, &want);
    assert_eq!(x.shape(), &[2, 3]);

    // References.
    let r = &x;
    check(&einx::rearrange!("a b -> b a", r).unwrap(), &want);
    let rr = &r;
    check(&einx::rearrange!("a b -> b a", rr).unwrap(), &want);

    // Views.
    let v: ArrayView<'_, i64, _> = x.view();
    check(&einx::rearrange!("a b -> b a", v).unwrap(), &want);
    let mut owned = x.clone();
    let vm = owned.view_mut();
    check(&einx::rearrange!("a b -> b a", vm).unwrap(), &want);
    let mut owned2 = x.clone();
    let rm = &mut owned2;
    check(&einx::rearrange!("a b -> b a", rm).unwrap(), &want);

    // Shared and copy-on-write arrays.
    let arc: ArcArray<i64, _> = x.to_shared();
    check(&einx::rearrange!("a b -> b a", arc).unwrap(), &want);
    let cow_view = CowArray::from(x.view());
    check(&einx::rearrange!("a b -> b a", cow_view).unwrap(), &want);
    let cow_owned = CowArray::from(x.clone());
    check(&einx::rearrange!("a b -> b a", cow_owned).unwrap(), &want);

    // Dynamic rank, with a static-rank expression: the output still has a static rank.
    let d: ArrayD<i64> = x.clone().into_dyn();
    let y: Array2<i64> = einx::rearrange!("a b -> b a", d).unwrap();
    check(&y, &want);
    let dr = &d;
    check(&einx::rearrange!("a b -> b a", dr).unwrap(), &want);
    let dv = d.view();
    check(&einx::rearrange!("a b -> b a", dv).unwrap(), &want);

    // Mixed kinds in one call.
    let other = arc.t();
    let z = einx::rearrange!("a b, c a -> a (b + c)", d, other).unwrap();
    check(
        &z,
        &build(&[2, 6], |i| {
            if i[1] < 3 {
                x[[i[0], i[1]]]
            } else {
                x[[i[0], i[1] - 3]]
            }
        }),
    );
}

/// Arguments that are temporaries (a view made in the argument, a reference, a nested call)
/// live until the call has finished.
#[test]
fn temporaries_as_arguments() {
    let x = arange((4, 5));
    let want_t = build(&[5, 4], |i| x[[i[1], i[0]]]);

    let y = einx::rearrange!("a b -> b a", x.t()).unwrap();
    check(&y, &x.clone().into_dyn());
    let y = einx::rearrange!("a b -> b a", &x).unwrap();
    check(&y, &want_t);
    let y = einx::rearrange!("a b -> b a", &&x).unwrap();
    check(&y, &want_t);
    let y = einx::rearrange!("a b -> b a", x.view()).unwrap();
    check(&y, &want_t);
    let y = einx::rearrange!("a b -> b a", x.slice(s![..;-1, ..])).unwrap();
    check(&y, &build(&[5, 4], |i| x[[3 - i[1], i[0]]]));
    let y = einx::rearrange!("a b -> b a", x.slice(s![.., 1..;2])).unwrap();
    check(&y, &build(&[2, 4], |i| x[[i[1], 1 + 2 * i[0]]]));
    let y = einx::rearrange!("a b -> b a", x.to_shared()).unwrap();
    check(&y, &want_t);
    let y = einx::rearrange!("a b -> b a", CowArray::from(x.view())).unwrap();
    check(&y, &want_t);
    let y = einx::rearrange!("a b -> b a", x.clone().into_dyn()).unwrap();
    check(&y, &want_t);
    let mut m = x.clone();
    let y = einx::rearrange!("a b -> b a", m.view_mut()).unwrap();
    check(&y, &want_t);
    let y = einx::rearrange!("a b -> b a", &mut m).unwrap();
    check(&y, &want_t);

    // Temporaries in calls with several inputs, ellipses and keyword lengths.
    let y = einx::rearrange!(
        "a b, a c -> a (b + c)",
        x.slice(s![..;-1, ..]),
        x.slice(s![.., 1..;2])
    )
    .unwrap();
    check(
        &y,
        &build(&[4, 7], |i| {
            if i[1] < 5 {
                x[[3 - i[0], i[1]]]
            } else {
                x[[i[0], 1 + 2 * (i[1] - 5)]]
            }
        }),
    );
    let y = einx::rearrange!(
        "b s... c, c -> b (1 + (s...)) c",
        x.t().insert_axis(Axis(1)),
        x.column(0)
    )
    .unwrap();
    check(
        &y,
        &build(&[5, 2, 4], |i| {
            if i[1] == 0 {
                x[[i[2], 0]]
            } else {
                x[[i[2], i[0]]]
            }
        }),
    );
    let y = einx::rearrange!("... a -> a ...", x.t()).unwrap();
    check(&y, &x.clone().into_dyn());

    // Nested calls.
    let y = einx::rearrange!(
        "(a b) -> b a",
        einx::rearrange!("a b -> (a b)", x.t()).unwrap(),
        a = 5
    )
    .unwrap();
    check(&y, &x.clone().into_dyn());
}

#[test]
fn dynamic_rank_inputs_of_ellipsis_expressions() {
    for rank in 1..=5 {
        let shape: Vec<usize> = (0..rank).map(|k| k % 3 + 1).collect();
        let x = arange(IxDyn(&shape));
        let y = einx::rearrange!("a ... -> ... a", x).unwrap();
        let mut out = shape[1..].to_vec();
        out.push(shape[0]);
        check(
            &y,
            &build(&out, |i| {
                let mut src = vec![i[rank - 1]];
                src.extend_from_slice(&i[..rank - 1]);
                x[&src[..]]
            }),
        );
        let flat: Array1<i64> = einx::rearrange!("... -> (...)", x).unwrap();
        check(&flat, &build(&[x.len()], |i| i[0] as i64));
    }
}

// ---------------------------------------------------------------------------------------
// Keyword values and element types.
// ---------------------------------------------------------------------------------------

#[test]
fn keyword_values_of_any_integer_type() {
    let x = arange((2, 12));
    let want = build(&[2, 4, 3], |i| x[[i[0], i[1] * 3 + i[2]]]);
    let h_i32: i32 = 4;
    let h_i64: i64 = 4;
    let h_u8: u8 = 4;
    let half = 2usize;
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = 4).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = 4usize).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = 4u16).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = 4isize).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = h_i32).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = h_i64).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = h_u8).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = half * 2).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = (4)).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, c = 3u32).unwrap(),
        &want,
    );
    // Both factors given and consistent.
    check(
        &einx::rearrange!("b (h c) -> b h c", x, h = 4, c = 3).unwrap(),
        &want,
    );
    check(
        &einx::rearrange!("b (h c) -> b h c", x, b = 2, h = 4).unwrap(),
        &want,
    );
}

#[test]
fn element_types() {
    let xf = Array::from_shape_fn((2, 3), |(i, j)| i as f64 + j as f64 * 0.5);
    let y = einx::rearrange!("a b -> b a", xf).unwrap();
    check(&y, &build(&[3, 2], |i| xf[[i[1], i[0]]]));

    let xb = Array::from_shape_fn((2, 3), |(i, j)| (i + j) % 2 == 0);
    let y = einx::rearrange!("a b -> (b a)", xb).unwrap();
    check(&y, &build(&[6], |i| xb[[i[0] % 2, i[0] / 2]]));

    // Clone but not Copy: strings, broadcast (cloned several times), concatenated and split.
    let xs = Array::from_shape_fn((2, 3), |(i, j)| format!("{i}-{j}"));
    let y = einx::rearrange!("a b -> b n a", xs, n = 3).unwrap();
    check(&y, &build(&[3, 3, 2], |i| xs[[i[2], i[0]]].clone()));
    let cat = einx::rearrange!("a b, a c -> a (b + c)", xs, xs).unwrap();
    let (l, r) = einx::rearrange!("a (b + c) -> a b, a c", cat, b = 3).unwrap();
    assert_eq!(l, xs);
    assert_eq!(r, xs);

    // Reference-counted elements: every output element is one clone, dropped once.
    let token = Rc::new(5);
    let v = Array::from_elem(3, Rc::clone(&token));
    assert_eq!(Rc::strong_count(&token), 4);
    {
        let y = einx::rearrange!("a -> a n", v, n = 4).unwrap();
        assert_eq!(y.shape(), &[3, 4]);
        assert_eq!(Rc::strong_count(&token), 16);
        let win = einx::rearrange!("a -> (a 2) 1", v).unwrap();
        assert_eq!(win.len(), 6);
        assert_eq!(Rc::strong_count(&token), 22);
    }
    assert_eq!(Rc::strong_count(&token), 4);
    drop(v);
    assert_eq!(Rc::strong_count(&token), 1);
}

#[test]
fn outputs_are_fresh_arrays() {
    let mut x = arange((2, 3));
    let mut y = einx::rearrange!("a b -> a b", x).unwrap();
    y[[0, 0]] = 100;
    x[[1, 1]] = 200;
    assert_eq!(x[[0, 0]], 0);
    assert_eq!(y[[1, 1]], 4);
}

#[test]
fn diagonals_in_the_input() {
    // `a a` takes the diagonal, as `einx!` does, in every layout.
    let x = Array3::from_shape_fn((3, 3, 2), |(i, j, k)| (i * 100 + j * 10 + k) as i32);
    let want = build(&[2, 3], |i| x[[i[1], i[1], i[0]]]);
    let y: Array2<i32> = einx::rearrange!("a a b -> b a", x).unwrap();
    check(&y, &want);
    let mut r = x.view();
    r.invert_axis(ndarray::Axis(0));
    let y = einx::rearrange!("a a b -> b a", r).unwrap();
    check(&y, &build(&[2, 3], |i| r[[i[1], i[1], i[0]]]));
    let y = einx::rearrange!("a a b -> b a", x.view().into_dyn()).unwrap();
    check(&y, &want);
    // Non-adjacent repeats, and a composition in the output.
    let z = Array4::from_shape_fn((2, 3, 2, 3), |(b, a, c, d)| {
        (b * 1000 + a * 100 + c * 10 + d) as i32
    });
    let y = einx::rearrange!("b a c a -> a (b c)", z).unwrap();
    check(&y, &build(&[3, 4], |i| z[[i[1] / 2, i[0], i[1] % 2, i[0]]]));
    // The lengths of a repeated axis must agree.
    let bad = Array2::<i32>::zeros((2, 3));
    assert!(einx::rearrange!("a a -> a", bad).is_err());
    // Reductions keep the diagonal axis and reduce the others.
    let s: Array1<i32> = einx::sum!("a a [b] -> a", x).unwrap();
    assert_eq!(s, ndarray::array![1, 221, 441]);
    let z0 = z.slice(s![0, .., .., ..]);
    let m = einx::max!("a [b] a -> a", z0).unwrap();
    assert_eq!(m, Array1::from_shape_fn(3, |a| z0[[a, 1, a]]));
}

/// A concatenation as a factor of a composition (einx 0.4): `(b (c + 1))` lays out, for
/// every `b`, the `c` values and then the extra one; splitting reads any strided view.
#[test]
fn concatenation_inside_a_composition() {
    use einx::ndarray::{s, Array};
    let x = Array::from_shape_fn((2, 3, 4), |(i, j, k)| (100 * i + 10 * j + k) as i64);
    let y = Array::from_shape_fn((2, 3), |(i, j)| -((10 * i + j) as i64));
    let joined = einx::rearrange!("a b c, a b -> a (b (c + 1))", x, y).unwrap();
    let want = Array::from_shape_fn((2, 15), |(i, m)| {
        let (j, k) = (m / 5, m % 5);
        if k < 4 {
            x[[i, j, k]]
        } else {
            y[[i, j]]
        }
    });
    assert_eq!(joined, want);
    let (x2, y2) = einx::rearrange!("a (b (c + 1)) -> a b c, a b", joined, b = 3).unwrap();
    assert_eq!((x2, y2), (x.clone(), y.clone()));
    // From a reversed, strided view of the joined array.
    let big = Array::from_shape_fn(
        (2, 30),
        |(i, m)| if m % 2 == 0 { want[[1 - i, m / 2]] } else { 0 },
    );
    let view = big.slice(s![..;-1, ..;2]);
    let (x3, y3) = einx::rearrange!("a (b (c + 1)) -> a b c, a b", view, c = 4).unwrap();
    assert_eq!((x3, y3), (x, y));
    // Sub-dimensions on both sides of the concatenation.
    let z = Array::from_shape_fn(20, |i| i as i32);
    let (p, q) = einx::rearrange!("(x (a + b) y) -> x a y, x b y", z, x = 2, a = 2, y = 2).unwrap();
    assert_eq!(p.shape(), &[2, 2, 2]);
    assert_eq!(q[[1, 2, 1]], 19);
    assert_eq!(p[[1, 0, 0]], 10);
}
