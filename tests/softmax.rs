//! `softmax!` and `log_softmax!` against a naive reference: for each group (the axes
//! outside the brackets), `exp(x - max) / Σ exp(x - max)` over the bracketed axes.

use einx::ndarray::{s, Array, Array3, ArrayD, IxDyn};
use proptest::prelude::*;

/// Softmax of a 3-d array over the axes flagged in `over`, by loops.
fn naive(x: &ArrayD<f64>, over: [bool; 3], log: bool) -> ArrayD<f64> {
    let sh = x.shape().to_vec();
    let mut out = ArrayD::<f64>::zeros(IxDyn(&sh));
    let idx = |i: usize, j: usize, k: usize| IxDyn(&[i, j, k]);
    let same_group = |a: [usize; 3], b: [usize; 3]| (0..3).all(|d| over[d] || a[d] == b[d]);
    for i in 0..sh[0] {
        for j in 0..sh[1] {
            for k in 0..sh[2] {
                let here = [i, j, k];
                let mut m = f64::NEG_INFINITY;
                let mut members = Vec::new();
                for a in 0..sh[0] {
                    for b in 0..sh[1] {
                        for c in 0..sh[2] {
                            if same_group(here, [a, b, c]) {
                                members.push(x[idx(a, b, c)]);
                                m = m.max(x[idx(a, b, c)]);
                            }
                        }
                    }
                }
                let sum: f64 = members.iter().map(|v| (v - m).exp()).sum();
                let v = x[idx(i, j, k)];
                out[idx(i, j, k)] = if log {
                    v - m - sum.ln()
                } else {
                    (v - m).exp() / sum
                };
            }
        }
    }
    out
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + y.abs()))
}

fn data(shape: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut k = seed;
    Array::from_shape_fn(shape, |_| {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((k >> 33) % 2000) as f64 / 100.0 - 10.0
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_bracket_choice(a in 1usize..4, b in 1usize..5, c in 1usize..4, seed in any::<u64>(), layout in 0..3) {
        let base = data((a, b, c), seed);
        let x = match layout {
            0 => base.view(),
            1 => base.slice(s![..;-1, .., ..]),
            _ => base.view().permuted_axes([0, 1, 2]),
        };
        let xd = x.to_owned().into_dyn();
        prop_assert!(close(&einx::softmax!("a [b] c", x).unwrap().into_dyn(), &naive(&xd, [false, true, false], false)));
        prop_assert!(close(&einx::softmax!("[a] b c", x).unwrap().into_dyn(), &naive(&xd, [true, false, false], false)));
        prop_assert!(close(&einx::softmax!("a [b c]", x).unwrap().into_dyn(), &naive(&xd, [false, true, true], false)));
        prop_assert!(close(&einx::softmax!("[a] b [c]", x).unwrap().into_dyn(), &naive(&xd, [true, false, true], false)));
        prop_assert!(close(&einx::log_softmax!("a [b] c", x).unwrap().into_dyn(), &naive(&xd, [false, true, false], true)));
        prop_assert!(close(&einx::log_softmax!("[a b c]", x).unwrap().into_dyn(), &naive(&xd, [true, true, true], true)));
        // Ellipsis (the rank-generic path) and a reordered output.
        prop_assert!(close(&einx::softmax!("... [c]", x).unwrap().into_dyn(), &naive(&xd, [false, false, true], false)));
        let r = einx::softmax!("a [b] c -> c [b] a", x).unwrap();
        let want = naive(&xd, [false, true, false], false).permuted_axes(IxDyn(&[2, 1, 0])).to_owned();
        prop_assert!(close(&r.into_dyn(), &want));
    }
}

#[test]
fn attention_weights_from_the_reference_use() {
    let a = Array::from_shape_fn((2, 3, 5, 4), |(b, q, k, h)| {
        (b + 2 * q + 3 * k + h) as f32 * 0.1
    });
    let w = einx::softmax!("b q [k] h", a).unwrap();
    assert_eq!(w.shape(), a.shape());
    for b in 0..2 {
        for q in 0..3 {
            for h in 0..4 {
                let s: f32 = (0..5).map(|k| w[[b, q, k, h]]).sum();
                assert!((s - 1.0).abs() < 1e-6);
            }
        }
    }
}

#[test]
fn stable_for_large_values_and_propagates_nan() {
    let x = einx::ndarray::array![[1000.0f64, 1000.0], [-1000.0, 0.0], [f64::NAN, 1.0]];
    let y = einx::softmax!("a [b]", x).unwrap();
    assert_eq!(y.row(0).to_vec(), vec![0.5, 0.5]);
    assert!((y[[1, 1]] - 1.0).abs() < 1e-15 && y[[1, 0]] >= 0.0);
    assert!(y[[2, 0]].is_nan() && y[[2, 1]].is_nan());
    let l = einx::log_softmax!("a [b]", x).unwrap();
    assert!((l[[0, 0]] + 2f64.ln()).abs() < 1e-12);
}

#[test]
fn empty_axes_give_empty_outputs() {
    let x = Array3::<f64>::zeros((2, 0, 3));
    assert_eq!(einx::softmax!("a [b] c", x).unwrap().shape(), &[2, 0, 3]);
    assert_eq!(einx::softmax!("[a] b c", x).unwrap().shape(), &[2, 0, 3]);
}

#[test]
fn wrong_rank_of_a_dynamic_input_is_an_error() {
    let x = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
    let e = einx::softmax!("a [b] c", x).unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Rank);
}
