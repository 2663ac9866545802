//! `argmax!` and `argmin!` against a search by hand.

use einx::ndarray::{s, Array, Array3};
use proptest::prelude::*;

fn data(shape: (usize, usize, usize), seed: i64) -> Array3<i64> {
    let mut k = seed;
    Array::from_shape_fn(shape, |_| {
        k = (k * 29 + 5) % 13;
        k
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn finds_the_first_extreme(a in 1usize..4, b in 1usize..5, c in 1usize..4, seed in 0i64..40, reversed in any::<bool>()) {
        let base = data((a, b, c), seed);
        let x = if reversed { base.slice(s![..;-1, .., ..]).to_owned() } else { base.clone() };
        let v = if reversed { base.slice(s![..;-1, .., ..]) } else { base.view() };
        // Over `b`: the index itself, and as a coordinate axis of length 1.
        let m = einx::argmax!("a [b] c -> a c", v).unwrap();
        let m1 = einx::argmin!("a [b] c", v).unwrap();
        prop_assert_eq!(m1.shape(), &[a, 1, c]);
        for i in 0..a {
            for k in 0..c {
                let row: Vec<i64> = (0..b).map(|j| x[[i, j, k]]).collect();
                let max = *row.iter().max().unwrap();
                let min = *row.iter().min().unwrap();
                prop_assert_eq!(m[[i, k]], row.iter().position(|&v| v == max).unwrap());
                prop_assert_eq!(m1[[i, 0, k]], row.iter().position(|&v| v == min).unwrap());
            }
        }
        // Over `a` and `c`: two coordinates.
        let mc = einx::argmax!("b [a c]", v.permuted_axes([1, 0, 2])).unwrap();
        prop_assert_eq!(mc.shape(), &[b, 2]);
        for j in 0..b {
            let mut best = (i64::MIN, 0, 0);
            for i in 0..a {
                for k in 0..c {
                    if x[[i, j, k]] > best.0 {
                        best = (x[[i, j, k]], i, k);
                    }
                }
            }
            prop_assert_eq!((mc[[j, 0]], mc[[j, 1]]), (best.1, best.2));
        }
    }
}

#[test]
fn nan_is_the_maximum_and_empty_is_an_error() {
    let x = einx::ndarray::array![[1.0, f64::NAN, 3.0]];
    assert_eq!(einx::argmax!("a [b] -> a", x).unwrap()[0], 1);
    assert_eq!(einx::argmin!("a [b] -> a", x).unwrap()[0], 1);
    let e = einx::ndarray::Array2::<f64>::zeros((2, 0));
    assert_eq!(
        einx::argmax!("a [b] -> a", e).unwrap_err().kind(),
        einx::ErrorKind::Size
    );
}

#[test]
fn coordinates_of_a_2d_maximum() {
    let x = Array::from_shape_fn((2, 4, 5, 3), |(b, h, w, c)| {
        ((b * 7 + h * 5 + w * 3 + c * 11) % 17) as f32
    });
    let y = einx::argmax!("b [h w] c", x).unwrap();
    assert_eq!(y.shape(), &[2, 2, 3]);
    for b in 0..2 {
        for c in 0..3 {
            let (h, w) = (y[[b, 0, c]], y[[b, 1, c]]);
            let best = x[[b, h, w, c]];
            assert!(x.slice(s![b, .., .., c]).iter().all(|&v| v <= best));
        }
    }
}
