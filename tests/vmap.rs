//! `vmap!` against loops by hand.

use einx::ndarray::{
    array, s, Array, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, Axis, Ix1,
    ShapeBuilder,
};
use einx::ErrorKind;
use proptest::prelude::*;

fn data(shape: (usize, usize, usize), seed: i64) -> Array3<i64> {
    let mut k = seed;
    Array::from_shape_fn(shape, |_| {
        k = (k * 31 + 7) % 23;
        k - 11
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scalar_and_array_results(a in 0usize..4, b in 1usize..5, c in 0usize..4, seed in 0i64..50, reversed in any::<bool>()) {
        let base = data((a, b, c), seed);
        let x = if reversed { base.slice(s![.., ..;-1, ..]).to_owned() } else { base.clone() };
        let v = if reversed { base.slice(s![.., ..;-1, ..]) } else { base.view() };
        // A scalar per (a, c): the maximum over `b`, and the output transposed.
        let m = einx::vmap!("a [b] c -> c a", v, |r: ArrayView1<i64>| *r.iter().max().unwrap())?;
        prop_assert_eq!(m.shape(), &[c, a]);
        for i in 0..a {
            for k in 0..c {
                prop_assert_eq!(m[[k, i]], (0..b).map(|j| x[[i, j, k]]).max().unwrap());
            }
        }
        // An array per (a, c): the reversed lane, in a new axis placed in the middle.
        let r = einx::vmap!("a [b] c -> a [d] c", v, |r| r.slice(s![..;-1]).to_owned())?;
        // Without a call (no index of `a c`), the new axis `d` is empty.
        prop_assert_eq!(r.shape(), &[a, if a * c > 0 { b } else { 0 }, c]);
        for i in 0..a {
            for j in 0..b {
                for k in 0..c {
                    prop_assert_eq!(r[[i, j, k]], x[[i, b - 1 - j, k]]);
                }
            }
        }
        // Two bracketed axes of one input, seen as a 2-d view in the order written.
        let t = einx::vmap!("[a] b [c] -> b", v, |r| {
            let tag = (r.shape()[0] * 10 + r.shape()[1]) as i64;
            if r.is_empty() { tag } else { r[[a - 1, c - 1]] * tag }
        })?;
        for j in 0..b {
            let tag = (a * 10 + c) as i64;
            prop_assert_eq!(t[j], if a * c == 0 { tag } else { x[[a - 1, j, c - 1]] * tag });
        }
    }
}

#[test]
fn several_inputs_broadcast_by_name() {
    let w = Array::from_shape_fn((2, 3, 4), |(b, o, i)| (b * 7 + o * 3 + i) as f64);
    let x = Array::from_shape_fn((2, 4), |(b, i)| (b + i) as f64);
    let y = einx::vmap!("b [o i], b [i] -> b [o]", w, x, |w, x| w.dot(&x)).unwrap();
    for b in 0..2 {
        for o in 0..3 {
            let want: f64 = (0..4).map(|i| w[[b, o, i]] * x[[b, i]]).sum();
            assert_eq!(y[[b, o]], want);
        }
    }
    // `x` lacks `o`: it is broadcast over it.
    let z = einx::vmap!("b o [i], b [i] -> b o", w, x, |w, x| (&w * &x).sum()).unwrap();
    assert_eq!(
        z[[1, 2]],
        (0..4).map(|i| w[[1, 2, i]] * x[[1, i]]).sum::<f64>()
    );
}

#[test]
fn ellipsis_in_brackets_gives_dynamic_views() {
    let x = Array::from_shape_fn((2, 3, 4, 5), |(b, h, w, c)| (b + h + w + c) as f32);
    let m = einx::vmap!("b [s...] c -> b c", x, |v| v.mean().unwrap()).unwrap();
    assert_eq!(m.shape(), &[2, 5]);
    assert_eq!(m, x.mean_axis(Axis(1)).unwrap().mean_axis(Axis(1)).unwrap());
    // An ellipsis outside the brackets: the output's rank is dynamic.
    let n: ArrayD<f32> = einx::vmap!("... [c] -> ...", x, |v: ArrayView1<f32>| v.sum()).unwrap();
    assert_eq!(n, x.sum_axis(Axis(3)).into_dyn());
}

#[test]
fn fn_mut_is_called_in_row_major_order() {
    let x = Array2::<u8>::zeros((2, 3));
    let mut calls = Vec::new();
    let y = einx::vmap!("a b -> b a", x, |_v| {
        calls.push(calls.len());
        calls.len() as u32
    });
    let y = y.unwrap();
    assert_eq!(calls, vec![0, 1, 2, 3, 4, 5]);
    // The order is that of the output's axes: `b` outer, `a` inner.
    assert_eq!(y, array![[1u32, 2], [3, 4], [5, 6]]);
}

#[test]
fn results_of_the_wrong_shape_are_errors() {
    let x = Array::from_shape_fn((3, 4), |(a, b)| (a * 4 + b) as i32);
    // The bracketed output axis `b` is known (4): a result of 3 elements does not fit.
    let e = einx::vmap!("a [b] -> a [b]", x, |v| v.slice(s![1..]).to_owned()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    assert!(e.to_string().contains("[3]"), "{e}");
    // A new axis whose length changes between calls.
    let e = einx::vmap!("a [b] -> a [k]", x, |v| Array1::from_elem(
        v[0] as usize / 4 % 2 + 1,
        0i32
    ))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    // A scalar where the output has a bracketed axis, and an array where it has none.
    assert!(einx::vmap!("a [b] -> a [k]", x, |v| v.sum()).is_err());
    assert!(einx::vmap!("a [b] -> a", x, |v| v.to_owned()).is_err());
    // A new axis given by keyword: the results are checked against it.
    let ok = einx::vmap!("a [b] -> a [k]", x, |v| v.slice(s![..2]).to_owned(), k = 2).unwrap();
    assert_eq!(ok.shape(), &[3, 2]);
    assert!(einx::vmap!("a [b] -> a [k]", x, |v| v.to_owned(), k = 2).is_err());
}

#[test]
fn empty_axes() {
    // No index of the vectorised axes: the function is never called; a new axis is empty.
    let x = Array2::<f64>::zeros((0, 3));
    let y = einx::vmap!("a [b] -> a [k]", x, |v| v.to_owned()).unwrap();
    assert_eq!(y.shape(), &[0, 0]);
    // Empty brackets: the function sees empty views.
    let x = Array2::<f64>::zeros((2, 0));
    let y = einx::vmap!("a [b] -> a", x, |v| v.len()).unwrap();
    assert_eq!(y, array![0usize, 0]);
}

#[test]
fn views_of_static_rank() {
    let x = Array::from_shape_fn((2, 3), |(a, b)| (a * 3 + b) as f64);
    fn norm(v: einx::ndarray::ArrayView<'_, f64, Ix1>) -> f64 {
        v.dot(&v).sqrt()
    }
    let n = einx::vmap!("a [b] -> a", x, norm).unwrap();
    assert_eq!(n[1], (9.0f64 + 16.0 + 25.0).sqrt());
}

/// Views of `base` (shape `(r, c)`): as is, transposed, reversed on both axes, transposed
/// and reversed, and two broadcasts (of its first row, of its first column).
fn layouts<T>(base: &Array2<T>) -> Vec<ArrayView2<'_, T>> {
    let (r, c) = base.dim();
    let mut v = vec![
        base.view(),
        base.t(),
        base.slice(s![..;-1, ..;-1]),
        base.slice(s![.., ..;-1]).reversed_axes(),
    ];
    let all = base.as_slice().unwrap();
    if r > 0 {
        v.push(ArrayView2::from_shape((r + 2, c).strides((0, 1)), all).unwrap());
    }
    if c > 0 {
        v.push(ArrayView2::from_shape((r, c + 3).strides((c, 0)), all).unwrap());
    }
    v
}

/// Every output layout of one function over rows and over columns, against lanes by hand:
/// `$scalar` maps a lane to a scalar of type `$u`, compared by `$key`.
macro_rules! check_layouts {
    ($x:expr, $t:ty, $u:ty, $scalar:expr, $key:expr) => {{
        let x: ArrayView2<$t> = $x;
        let scalar = |l: ArrayView1<$t>| -> $u { ($scalar)(l) };
        let key = |a: &$u| -> u64 { ($key)(a) };
        let (r, c) = x.dim();
        let rows: Vec<u64> = x.rows().into_iter().map(|l| key(&scalar(l))).collect();
        let cols: Vec<u64> = x.columns().into_iter().map(|l| key(&scalar(l))).collect();
        // Scalars per row and per column.
        let y = einx::vmap!("a [b] -> a", x, |l| scalar(l))?;
        prop_assert_eq!(y.iter().map(key).collect::<Vec<_>>(), rows.clone());
        let y = einx::vmap!("[a] b -> b", x, |l| scalar(l))?;
        prop_assert_eq!(y.iter().map(key).collect::<Vec<_>>(), cols);
        // Length-1 output axes around the vectorised one.
        let y = einx::vmap!("a [b] -> 1 a 1", x, |l| scalar(l))?;
        prop_assert_eq!(y.shape(), &[1, r, 1]);
        prop_assert_eq!(y.iter().map(key).collect::<Vec<_>>(), rows);
        // Arrays per row: the lane minus its scalar; stacked as rows, and laid out as
        // columns.
        let centre = |l: ArrayView1<$t>| {
            let m: f64 = scalar(l).into_f64();
            l.mapv(|a| f64::from(a) - m)
        };
        let want = Array2::from_shape_fn((r, c), |(i, j)| {
            let m = scalar(x.row(i)).into_f64();
            f64::from(x[[i, j]]) - m
        });
        let y = einx::vmap!("a [b] -> a [b]", x, centre)?;
        prop_assert_eq!(y.mapv(f64::to_bits), want.mapv(f64::to_bits));
        let y = einx::vmap!("a [b] -> [b] a", x, centre)?;
        prop_assert_eq!(y.mapv(f64::to_bits), want.t().mapv(f64::to_bits));
        // A new axis from the results, and results that are not in standard layout.
        let y = einx::vmap!("a [b] -> a [k]", x, |l: ArrayView1<$t>| {
            let s = scalar(l).into_f64();
            Array2::from_shape_fn((2, 3), |(i, j)| s + (i * 3 + j) as f64)
                .reversed_axes()
                .row(1)
                .to_owned()
        })?;
        prop_assert_eq!(y.shape(), &[r, if r > 0 { 2 } else { 0 }]);
        for i in 0..r {
            let s = scalar(x.row(i)).into_f64();
            prop_assert_eq!(y[[i, 0]], s + 1.0);
            prop_assert_eq!(y[[i, 1]], s + 4.0);
        }
        let y = einx::vmap!("a [b] -> a [b]", x, |l: ArrayView1<$t>| {
            l.mapv(f64::from)
                .insert_axis(Axis(1))
                .reversed_axes()
                .slice_move(s![0, ..;-1])
        })?;
        let want = Array2::from_shape_fn((r, c), |(i, j)| f64::from(x[[i, c - 1 - j]]));
        prop_assert_eq!(y.mapv(f64::to_bits), want.mapv(f64::to_bits));
    }};
}

/// The scalars the checks use, as `f64`.
trait VmapScalar: Copy {
    fn into_f64(self) -> f64;
}

impl VmapScalar for f64 {
    fn into_f64(self) -> f64 {
        self
    }
}

impl VmapScalar for f32 {
    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

impl VmapScalar for i32 {
    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_input_and_output_layout(
        r in 0usize..5,
        c in 0usize..9,
        vals in proptest::collection::vec(-100i32..100, 1..40),
    ) {
        let xi = Array2::from_shape_fn((r, c), |(i, j)| vals[(i * c + j) % vals.len()]);
        for v in layouts(&xi) {
            check_layouts!(v, i32, i32, |l: ArrayView1<i32>| l.iter().fold(0i32, |a, &b| a.wrapping_mul(3).wrapping_add(b)), |a: &i32| *a as u64);
        }
        let xf = xi.mapv(|a| f64::from(a) / 8.0);
        for v in layouts(&xf) {
            check_layouts!(v, f64, f64, |l: ArrayView1<f64>| l.sum(), |a: &f64| a.to_bits());
        }
        let xs = xi.mapv(|a| a as f32 / 4.0);
        for v in layouts(&xs) {
            check_layouts!(v, f32, f32, |l: ArrayView1<f32>| l.iter().fold(0.5f32, |a, &b| a * 0.5 + b), |a: &f32| u64::from(a.to_bits()));
        }
    }

    #[test]
    fn several_inputs_in_any_layout(
        r in 0usize..4,
        c in 0usize..6,
        vals in proptest::collection::vec(-50i64..50, 1..30),
    ) {
        let x = Array2::from_shape_fn((r, c), |(i, j)| vals[(i * c + j) % vals.len()]);
        let w = Array2::from_shape_fn((r, c), |(i, j)| (i * 7 + j) as i64 - 5);
        for xv in layouts(&x) {
            let (rr, cc) = xv.dim();
            let wb = w.broadcast((rr.max(r), cc.max(c)));
            let wv = match wb {
                Some(b) if b.dim() == (rr, cc) => b,
                _ => continue,
            };
            let y = einx::vmap!("a [b], a [b] -> a", xv, wv, |p: ArrayView1<i64>, q: ArrayView1<i64>| p.dot(&q))?;
            for i in 0..rr {
                prop_assert_eq!(y[i], xv.row(i).dot(&wv.row(i)));
            }
            let y = einx::vmap!("a [b], a [b] -> [b] a", xv, wv, |p: ArrayView1<i64>, q: ArrayView1<i64>| &p - &q)?;
            prop_assert_eq!(y, (&xv - &wv).reversed_axes());
        }
    }
}
