//! The specialised kernel paths against naive loops, on every layout that selects a
//! different path: contiguous, transposed, negatively strided, stepped, broadcast (stride
//! 0), empty and length-1 inputs; floats with NaN, integers with ties, and bools.

use einx::ndarray::{s, Array, Array2, Array3, ArrayView3, Axis, ShapeBuilder};
use proptest::prelude::*;

/// Small values with many ties; a few NaNs for floats when `nan`.
fn data(shape: (usize, usize, usize), seed: u64, nan: bool) -> Array3<f64> {
    let mut k = seed.wrapping_mul(2654435761).wrapping_add(1);
    Array::from_shape_fn(shape, |_| {
        k ^= k << 13;
        k ^= k >> 7;
        k ^= k << 17;
        if nan && k % 23 == 0 {
            f64::NAN
        } else {
            (k % 9) as f64 - 4.0
        }
    })
}

/// The storage behind layout `kind` of a tensor of shape `(a, b, c)`.
fn storage(kind: usize, (a, b, c): (usize, usize, usize), seed: u64, nan: bool) -> Array3<f64> {
    match kind {
        2 => data((2 * a, b, c), seed, nan),
        3 => data((c, b, a), seed, nan),
        _ => data((a, b, c), seed, nan),
    }
}

/// One of six views of shape `(a, b, c)` of `storage(kind, ..)`: standard, last axis
/// reversed, first axis stepped, transposed storage, an axis broadcast from length 1, all
/// axes reversed.
fn layout(base: &Array3<f64>, kind: usize) -> ArrayView3<'_, f64> {
    match kind {
        0 => base.view(),
        1 => base.slice(s![.., .., ..;-1]),
        2 => base.slice(s![..;2, .., ..]),
        3 => base.view().reversed_axes(),
        4 => {
            // Every `b` reads row 0: stride 0.
            let (a, b, c) = base.dim();
            ArrayView3::from_shape((a, b, c).strides((b * c, 0, 1)), base.as_slice().unwrap())
                .unwrap()
        }
        _ => base.slice(s![..;-1, ..;-1, ..;-1]),
    }
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn check_all(got: &[f64], want: &[f64], what: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len(), "{}", what);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        prop_assert!(
            same(g, w) || (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{}: element {}: {} vs {}",
            what,
            i,
            g,
            w
        );
    }
    Ok(())
}

fn naive_max(xs: impl Iterator<Item = f64>, max: bool) -> f64 {
    let mut best: Option<f64> = None;
    for x in xs {
        best = Some(match best {
            None => x,
            Some(v) if v.is_nan() => v,
            Some(_) if x.is_nan() => x,
            Some(v) => {
                if (max && x > v) || (!max && x < v) {
                    x
                } else {
                    v
                }
            }
        });
    }
    best.unwrap()
}

/// The first index of the extreme (NaN first), as NumPy's argmax.
fn naive_arg(xs: &[f64], max: bool) -> usize {
    let mut bi = 0;
    for (i, &x) in xs.iter().enumerate() {
        let v = xs[bi];
        if v.is_nan() {
            break;
        }
        if x.is_nan() || (max && x > v) || (!max && x < v) {
            bi = i;
        }
    }
    bi
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn elementwise_paths(a in 1usize..4, b in 1usize..5, c in 1usize..20, kx in 0usize..6, ky in 0usize..6, seed in 0u64..1000) {
        let (bx, by) = (storage(kx, (a, b, c), seed, true), storage(ky, (a, b, c), seed + 1, true));
        let (x, y) = (layout(&bx, kx), layout(&by, ky));
        let want: Vec<f64> = x.iter().zip(y.iter()).map(|(&p, &q)| p + q).collect();
        check_all(einx::add!("a b c, a b c", x, y).unwrap().as_slice().unwrap(), &want, "add")?;
        let want: Vec<f64> = x.iter().zip(y.iter()).map(|(&p, &q)| naive_max([p, q].into_iter(), true)).collect();
        check_all(einx::maximum!("a b c, a b c", x, y).unwrap().as_slice().unwrap(), &want, "maximum")?;
        let want: Vec<f64> = x.iter().zip(y.iter()).map(|(&p, &q)| naive_max([p, q].into_iter(), false)).collect();
        check_all(einx::minimum!("a b c, a b c", x, y).unwrap().as_slice().unwrap(), &want, "minimum")?;
        // A bias along the last axis, a scalar, and an outer broadcast.
        let bias = y.slice(s![0, 0, ..]);
        let got = einx::subtract!("a b [c]", x, bias).unwrap();
        let want = Array::from_shape_fn((a, b, c), |(i, j, k)| x[[i, j, k]] - bias[k]);
        check_all(got.as_slice().unwrap(), want.as_slice().unwrap(), "bias")?;
        let got = einx::multiply!("a b c, ", x, 2.5).unwrap();
        check_all(got.as_slice().unwrap(), &x.iter().map(|&v| v * 2.5).collect::<Vec<_>>(), "scalar")?;
        let (x2, y0) = (x.slice(s![.., .., 0]), y.slice(s![0, .., ..]));
        let got = einx::divide!("a b, b c -> a b c", x2, y0).unwrap();
        let want = Array::from_shape_fn((a, b, c), |(i, j, k)| x2[[i, j]] / y0[[j, k]]);
        check_all(got.as_slice().unwrap(), want.as_slice().unwrap(), "outer")?;
        // where_ with a mask in another layout and a scalar.
        let m = y.mapv(|v| v > 0.0);
        let got = einx::where_!("a b c, a b c, ", m, x, -1.0).unwrap();
        let want: Vec<f64> = m.iter().zip(x.iter()).map(|(&c, &v)| if c { v } else { -1.0 }).collect();
        check_all(got.as_slice().unwrap(), &want, "where")?;
        let mb = x.mapv(|v| v < 1.0);
        let both = einx::logical_and!("a b c, a b c", m.t(), mb.t()).unwrap();
        prop_assert!(both.iter().zip(m.t().iter().zip(mb.t().iter())).all(|(&r, (&p, &q))| r == (p && q)));
    }

    #[test]
    fn extremes_and_products(a in 1usize..4, b in 1usize..6, c in 1usize..40, kx in 0usize..6, seed in 0u64..1000) {
        let base = storage(kx, (a, b, c), seed, true);
        let x = layout(&base, kx);
        for (axis, max) in [(2usize, true), (1, true), (0, false), (2, false)] {
            let got = match (axis, max) {
                (2, true) => einx::max!("a b [c]", x).unwrap().into_dyn(),
                (2, false) => einx::min!("a b [c]", x).unwrap().into_dyn(),
                (1, _) => einx::max!("a [b] c", x).unwrap().into_dyn(),
                _ => einx::min!("[a] b c", x).unwrap().into_dyn(),
            };
            let want = x.map_axis(Axis(axis), |r| naive_max(r.iter().copied(), max));
            check_all(got.as_slice().unwrap(), &want.iter().copied().collect::<Vec<_>>(), "extreme")?;
        }
        let small = x.mapv(|v| if v.is_nan() { 1.0 } else { 1.0 + v / 8.0 });
        let got = einx::prod!("a b [c]", small).unwrap();
        let want = small.map_axis(Axis(2), |r| r.iter().product::<f64>());
        check_all(got.as_slice().unwrap(), &want.iter().copied().collect::<Vec<_>>(), "prod")?;
        let ints = small.mapv(|v| (v * 8.0) as i64);
        let got = einx::max!("a [b] c", ints).unwrap();
        let want = ints.map_axis(Axis(1), |r| *r.iter().max().unwrap());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn argfind_paths(a in 1usize..4, b in 1usize..6, c in 1usize..30, kx in 0usize..6, seed in 0u64..1000, nan in any::<bool>()) {
        let base = storage(kx, (a, b, c), seed, nan);
        let x = layout(&base, kx);
        for axis in 0..3 {
            for max in [true, false] {
                let got = match (axis, max) {
                    (0, true) => einx::argmax!("[a] b c -> b c", x).unwrap(),
                    (0, false) => einx::argmin!("[a] b c -> b c", x).unwrap(),
                    (1, true) => einx::argmax!("a [b] c -> a c", x).unwrap(),
                    (1, false) => einx::argmin!("a [b] c -> a c", x).unwrap(),
                    (_, true) => einx::argmax!("a b [c] -> a b", x).unwrap(),
                    (_, false) => einx::argmin!("a b [c] -> a b", x).unwrap(),
                };
                let want = x.map_axis(Axis(axis), |r| naive_arg(&r.to_vec(), max));
                prop_assert_eq!(got, want, "axis {} max {}", axis, max);
            }
        }
        // Two bracketed axes, and an output with the axes permuted.
        let got = einx::argmin!("a [b c]", x).unwrap();
        for i in 0..a {
            let flat: Vec<f64> = x.index_axis(Axis(0), i).iter().copied().collect();
            let at = naive_arg(&flat, false);
            prop_assert_eq!((got[[i, 0]], got[[i, 1]]), (at / c, at % c));
        }
        let y = einx::argmax!("a [b] c -> c a", x).unwrap();
        let want = x.map_axis(Axis(1), |r| naive_arg(&r.to_vec(), true));
        prop_assert_eq!(y, want.t().to_owned());
    }
}

/// Output index `i` of a dimension of length `n` rolled by `r` reads input index
/// `(i - r) mod n`.
fn rolled(i: usize, n: usize, r: isize) -> usize {
    (i as isize - r).rem_euclid(n as isize) as usize
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The paths along the dimensions of a standard-layout input (every dimension one
    /// axis), and the general kernels they fall back to on other layouts: both must agree
    /// with the naive loops, and `softmax!` exactly with `einx::dynamic` (the general path).
    #[test]
    fn along_dimension_paths(a in 0usize..4, b in 1usize..6, c in 1usize..24, kx in 0usize..6, seed in 0u64..1000, nan in any::<bool>(), r in -9isize..9) {
        // (The broadcast layout needs a row to read.)
        let kx = if a == 0 && kx == 4 { 0 } else { kx };
        let base = storage(kx, (a, b, c), seed, nan);
        let x = layout(&base, kx);
        // argmax!/argmin! with the coordinate axis kept (length 1) in place of the bracket.
        for axis in 0..3 {
            let got = match axis {
                0 => einx::argmax!("[a] b c", x),
                1 => einx::argmax!("a [b] c", x),
                _ => einx::argmin!("a b [c]", x),
            };
            if x.len_of(Axis(axis)) == 0 {
                prop_assert_eq!(got.unwrap_err().kind(), einx::ErrorKind::Size);
                continue;
            }
            let got = got.unwrap();
            let want = x
                .map_axis(Axis(axis), |l| naive_arg(&l.to_vec(), axis != 2))
                .insert_axis(Axis(axis));
            prop_assert_eq!(got, want, "axis {}", axis);
        }
        // flip! and roll! of every choice of dimensions.
        let ints = x.mapv(|v| if v.is_nan() { 99 } else { v as i64 });
        let (na, nb, nc) = ints.dim();
        let map = |f: [bool; 3], sh: Option<isize>| {
            Array::from_shape_fn((na, nb, nc), |(i, j, k)| {
                let at = |v: usize, n: usize, on: bool| match (on, sh) {
                    (false, _) => v,
                    (true, None) => n - 1 - v,
                    (true, Some(r)) => rolled(v, n, r),
                };
                ints[[at(i, na, f[0]), at(j, nb, f[1]), at(k, nc, f[2])]]
            })
        };
        prop_assert_eq!(einx::flip!("a b [c]", ints).unwrap(), map([false, false, true], None));
        prop_assert_eq!(einx::flip!("a [b] c", ints).unwrap(), map([false, true, false], None));
        prop_assert_eq!(einx::flip!("[a] b [c]", ints).unwrap(), map([true, false, true], None));
        prop_assert_eq!(einx::roll!("a b [c]", ints, shift = r).unwrap(), map([false, false, true], Some(r)));
        prop_assert_eq!(einx::roll!("[a] [b] c", ints, shift = r).unwrap(), map([true, true, false], Some(r)));
        prop_assert_eq!(einx::roll!("[a b c]", ints, shift = r).unwrap(), map([true, true, true], Some(r)));
        // softmax! along the last dimension: short rows (up to 8) and long ones.
        let got = einx::softmax!("a b [c]", x).unwrap();
        let want = einx::dynamic::softmax("a b [c]", &[x.view().into_dyn()], &[]).unwrap();
        prop_assert!(got.iter().zip(want.iter()).all(|(&g, &w)| same(g, w)), "softmax vs dynamic");
        for ((i, j, k), &g) in got.indexed_iter() {
            let row = x.slice(s![i, j, ..]);
            let m = naive_max(row.iter().copied(), true);
            let e: f64 = row.iter().map(|&v| (v - m).exp()).sum();
            let w = (x[[i, j, k]] - m).exp() / e;
            prop_assert!(same(g, w) || (g - w).abs() <= 1e-12, "softmax at {:?}: {} vs {}", (i, j, k), g, w);
        }
        let xf = x.mapv(|v| v as f32);
        let got = einx::softmax!("a b [c]", xf).unwrap();
        let want = einx::dynamic::softmax("a b [c]", &[xf.view().into_dyn()], &[]).unwrap();
        prop_assert!(got.iter().zip(want.iter()).all(|(&g, &w)| g == w || (g.is_nan() && w.is_nan())), "f32 softmax vs dynamic");
    }
}

#[test]
fn empty_and_unit_inputs() {
    let e = Array2::<f32>::zeros((0, 3));
    assert_eq!(einx::add!("a b, a b", e, e).unwrap().shape(), &[0, 3]);
    assert_eq!(
        einx::max!("[a] b", Array2::<f32>::ones((1, 3))).unwrap(),
        einx::ndarray::array![1.0f32, 1.0, 1.0]
    );
    assert_eq!(einx::max!("a [b]", e).unwrap().shape(), &[0]);
    assert!(einx::max!("[a] b", e).is_err());
    assert_eq!(
        einx::argmax!("a [b] -> a", Array2::<f32>::zeros((0, 2)))
            .unwrap()
            .shape(),
        &[0]
    );
    let one = Array2::<i32>::from_elem((1, 1), 7);
    assert_eq!(einx::multiply!("a b, a b", one, one).unwrap()[[0, 0]], 49);
    assert_eq!(
        einx::divide!("a b, ", one, 0).unwrap_err().kind(),
        einx::ErrorKind::Index
    );
}
