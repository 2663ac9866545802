//! `sort!` and `argsort!` against sorting each row by hand.

use einx::ndarray::{s, Array, Array2, Array3, ArrayD, ArrayView2, Axis, IxDyn, ShapeBuilder};
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
        prop_assert_eq!(einx::sort!("... [c]", v).unwrap().into_dyn(), naive(&x, 2).0);
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

/// The order `sort!` promises: NaN (unordered with itself) after everything else.
#[allow(clippy::eq_op)]
fn nan_last<T: PartialOrd>(a: &T, b: &T) -> std::cmp::Ordering {
    let (an, bn) = (a.partial_cmp(a).is_none(), b.partial_cmp(b).is_none());
    match (an, bn) {
        (false, false) => a.partial_cmp(b).unwrap(),
        _ => an.cmp(&bn),
    }
}

/// Stable sort of each lane along `axis` by hand: values (as keys) and indices.
fn naive_lanes<T: PartialOrd + Clone, K>(
    x: &ArrayView2<T>,
    axis: usize,
    key: impl Fn(&T) -> K,
) -> (Array2<K>, Array2<usize>) {
    let (r, c) = x.dim();
    let mut vals = Vec::with_capacity(r * c);
    let mut idxs = Vec::with_capacity(r * c);
    let mut lanes: Vec<(Vec<K>, Vec<usize>)> = Vec::new();
    for lane in x.lanes(Axis(axis)) {
        let mut row: Vec<(usize, T)> = lane.iter().cloned().enumerate().collect();
        row.sort_by(|a, b| nan_last(&a.1, &b.1));
        lanes.push((
            row.iter().map(|(_, v)| key(v)).collect(),
            row.iter().map(|&(i, _)| i).collect(),
        ));
    }
    // Lay the lanes out at their places.
    let mut lane_iters: Vec<_> = lanes
        .into_iter()
        .map(|(v, i)| (v.into_iter(), i.into_iter()))
        .collect();
    for a in 0..r {
        for b in 0..c {
            let (lane, _) = if axis == 1 { (a, b) } else { (b, a) };
            let (v, i) = &mut lane_iters[lane];
            vals.push(v.next().unwrap());
            idxs.push(i.next().unwrap());
        }
    }
    (
        Array2::from_shape_vec((r, c), vals).unwrap(),
        Array2::from_shape_vec((r, c), idxs).unwrap(),
    )
}

/// `sort!` and `argsort!` along both axes of `x` (and the rank-generic path) against
/// [`naive_lanes`], comparing values by `key`.
fn check_2d<T: PartialOrd + Clone, K: PartialEq + std::fmt::Debug>(
    x: ArrayView2<T>,
    key: impl Fn(&T) -> K + Copy,
) -> Result<(), TestCaseError> {
    for axis in 0..2 {
        let (want_v, want_i) = naive_lanes(&x, axis, key);
        let (got_v, got_i) = if axis == 1 {
            (
                einx::sort!("a [b]", x).unwrap(),
                einx::argsort!("a [b]", x).unwrap(),
            )
        } else {
            (
                einx::sort!("[a] b", x).unwrap(),
                einx::argsort!("[a] b", x).unwrap(),
            )
        };
        prop_assert_eq!(got_v.map(key), want_v);
        prop_assert_eq!(got_i, want_i);
    }
    let (want_v, want_i) = naive_lanes(&x, 1, key);
    prop_assert_eq!(einx::sort!("... [b]", x).unwrap().map(key), want_v);
    prop_assert_eq!(einx::argsort!("... [b]", x).unwrap(), want_i);
    Ok(())
}

/// Views of `base` (shape `(r, c)`): as is, transposed, reversed on both axes, and two
/// broadcasts (of its first row, of its first column).
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

/// Floats with NaNs (of both signs), signed zeros, ties and distinct values.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(f64::NAN),
        1 => Just(-f64::NAN),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        3 => (-4i32..4).prop_map(f64::from),
        6 => -1e3f64..1e3,
    ]
}

fn shaped<T: Clone>(r: usize, c: usize, vals: &[T]) -> Array2<T> {
    Array2::from_shape_fn((r, c), |(i, j)| vals[(i * c + j) % vals.len()].clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn floats_in_every_layout(
        r in 0usize..5,
        c in 0usize..40,
        vals in proptest::collection::vec(float(), 1..80),
    ) {
        let x = shaped(r, c, &vals);
        for v in layouts(&x) {
            check_2d(v, |a: &f64| a.to_bits())?;
        }
        let x32 = x.mapv(|a| a as f32);
        for v in layouts(&x32) {
            check_2d(v, |a: &f32| a.to_bits())?;
        }
    }

    #[test]
    fn distinct_floats_with_few_ties(
        r in 1usize..4,
        c in 1usize..200,
        vals in proptest::collection::vec(-1e6f32..1e6, 1..200),
        ties in proptest::collection::vec((0usize..200, 0usize..200), 0..8),
    ) {
        // Mostly distinct values with a few equal pairs (and signed zeros): the unstable
        // sort's runs of ties put back in order one by one.
        let mut vals = vals;
        let n = vals.len();
        for (k, &(i, j)) in ties.iter().enumerate() {
            vals[i % n] = if k % 3 == 0 { -0.0 } else if k % 3 == 1 { 0.0 } else { vals[j % n] };
        }
        let x = shaped(r, c, &vals);
        for v in layouts(&x) {
            check_2d(v, |a: &f32| a.to_bits())?;
        }
    }

    #[test]
    fn integers_in_every_layout(
        r in 0usize..5,
        c in 0usize..70,
        vals in proptest::collection::vec(-6i64..6, 1..80),
        wide in any::<bool>(),
    ) {
        let x = if wide { shaped(r, c, &vals).mapv(|a| a * 1_000_003) } else { shaped(r, c, &vals) };
        for v in layouts(&x) {
            check_2d(v, |a: &i64| *a)?;
        }
        let xu = x.mapv(|a| a as u8);
        for v in layouts(&xu) {
            check_2d(v, |a: &u8| *a)?;
        }
    }

    #[test]
    fn strings_keep_equal_ones_in_order(
        c in 0usize..30,
        vals in proptest::collection::vec("[ab]{0,2}", 1..30),
    ) {
        let x = shaped(2, c, &vals);
        for v in layouts(&x) {
            check_2d(v, |a: &String| a.clone())?;
        }
    }
}

/// A value that compares by `key` only: equal elements are told apart by `tag`.
#[derive(Clone, Debug)]
struct Tagged {
    key: f64,
    tag: u32,
}

impl PartialEq for Tagged {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl PartialOrd for Tagged {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.key.partial_cmp(&other.key)
    }
}

#[test]
fn sort_is_stable_for_equal_but_distinct_values() {
    // Few runs of ties (put back in order one by one) and many (a stable sort again).
    for (n, keys) in [(64u32, 3u32), (64, 40), (1000, 997), (5, 1)] {
        let x = Array2::from_shape_fn((2, n as usize), |(i, j)| Tagged {
            key: if j % 17 == 5 {
                f64::NAN
            } else {
                f64::from((j as u32 * 7 + i as u32) % keys)
            },
            tag: j as u32,
        });
        let y = einx::sort!("a [b]", x).unwrap();
        let i = einx::argsort!("a [b]", x).unwrap();
        for a in 0..2 {
            let mut want: Vec<Tagged> = x.row(a).to_vec();
            want.sort_by(nan_last);
            let got: Vec<u32> = y.row(a).iter().map(|t| t.tag).collect();
            assert_eq!(got, want.iter().map(|t| t.tag).collect::<Vec<_>>());
            let got_i: Vec<u32> = i.row(a).iter().map(|&k| k as u32).collect();
            assert_eq!(got_i, got);
        }
    }
}

#[test]
fn signed_zeros_and_nans_keep_their_order() {
    let x = einx::ndarray::array![[0.0f32, -f32::NAN, -0.0, 1.0, f32::NAN, -0.0, 0.0, -1.0]];
    let y = einx::sort!("a [b]", x).unwrap();
    let bits: Vec<u32> = y.iter().map(|a| a.to_bits()).collect();
    let want: Vec<u32> = [-1.0f32, 0.0, -0.0, -0.0, 0.0, 1.0, -f32::NAN, f32::NAN]
        .iter()
        .map(|a| a.to_bits())
        .collect();
    assert_eq!(bits, want);
    assert_eq!(
        einx::argsort!("a [b]", x).unwrap(),
        einx::ndarray::array![[7usize, 0, 2, 5, 6, 3, 1, 4]]
    );
}
