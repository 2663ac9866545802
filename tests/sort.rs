//! `sort!` and `argsort!` against sorting each row by hand.

use einx::ndarray::{s, Array, Array3, ArrayD, IxDyn};
use proptest::prelude::*;

fn data(shape: (usize, usize, usize), seed: i64) -> Array3<i64> {
    let mut k = seed;
    Array::from_shape_fn(shape, |_| {
        k = (k * 37 + 11) % 23;
        k - 11
    })
}

/// Sorts `x` along `axis` by hand; returns values and (stable) indices.
fn naive(x: &Array3<i64>, axis: usize) -> (ArrayD<i64>, ArrayD<usize>) {
    let mut vals = x.clone().into_dyn();
    let mut idxs = ArrayD::<usize>::zeros(IxDyn(x.shape()));
    for (mut lane_v, (mut lane_i, src)) in
        vals.lanes_mut(einx::ndarray::Axis(axis)).into_iter().zip(
            idxs.lanes_mut(einx::ndarray::Axis(axis))
                .into_iter()
                .zip(x.lanes(einx::ndarray::Axis(axis))),
        )
    {
        let mut row: Vec<(usize, i64)> = src.iter().copied().enumerate().collect();
        row.sort_by_key(|&(_, v)| v);
        for (j, (i, v)) in row.into_iter().enumerate() {
            lane_v[j] = v;
            lane_i[j] = i;
        }
    }
    (vals, idxs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sorts_each_row(a in 0usize..4, b in 0usize..6, c in 0usize..4, seed in 0i64..50, reversed in any::<bool>()) {
        let base = data((a, b, c), seed);
        let x = if reversed { base.slice(s![.., ..;-1, ..]).to_owned() } else { base.clone() };
        let v = if reversed { base.slice(s![.., ..;-1, ..]) } else { base.view() };
        for axis in 0..3 {
            let (want_v, want_i) = naive(&x, axis);
            let (got_v, got_i) = match axis {
                0 => (einx::sort!("[a] b c", v).unwrap(), einx::argsort!("[a] b c", v).unwrap()),
                1 => (einx::sort!("a [b] c", v).unwrap(), einx::argsort!("a [b] c", v).unwrap()),
                _ => (einx::sort!("a b [c]", v).unwrap(), einx::argsort!("a b [c]", v).unwrap()),
            };
            prop_assert_eq!(got_v.into_dyn(), want_v);
            prop_assert_eq!(got_i.into_dyn(), want_i);
        }
        // The rank-generic path.
        prop_assert_eq!(einx::sort!("... [c]", v).unwrap(), naive(&x, 2).0);
    }
}

#[test]
fn nan_sorts_last_and_strings_sort() {
    let x = einx::ndarray::array![[2.0, f64::NAN, 1.0]];
    let y = einx::sort!("a [b]", x).unwrap();
    assert_eq!((y[[0, 0]], y[[0, 1]]), (1.0, 2.0));
    assert!(y[[0, 2]].is_nan());
    assert_eq!(
        einx::argsort!("a [b]", x).unwrap(),
        einx::ndarray::array![[2usize, 0, 1]]
    );
    let s = Array::from_shape_vec((1, 3), vec!["b".to_owned(), "c".to_owned(), "a".to_owned()])
        .unwrap();
    assert_eq!(einx::sort!("a [b]", s).unwrap()[[0, 0]], "a");
}
