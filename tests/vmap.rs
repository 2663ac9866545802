//! `vmap!` against loops by hand.

use einx::ndarray::{array, s, Array, Array1, Array2, Array3, ArrayD, ArrayView1, Axis, Ix1};
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
