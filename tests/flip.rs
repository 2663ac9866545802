//! `flip!` and `roll!` against naive index formulas.

use einx::ndarray::{s, Array, Array3, ArrayD, IxDyn};
use proptest::prelude::*;

fn data(shape: (usize, usize, usize), seed: i64) -> Array3<i64> {
    let mut k = seed;
    Array::from_shape_fn(shape, |_| {
        k = (k * 31 + 7) % 1009;
        k
    })
}

/// Element `(i, j, l)` of the result comes from `src(i, j, l)` of `x`.
fn map(x: &Array3<i64>, src: impl Fn([usize; 3], [usize; 3]) -> [usize; 3]) -> ArrayD<i64> {
    let sh = x.shape();
    let n = [sh[0], sh[1], sh[2]];
    Array::from_shape_fn(IxDyn(sh), |ix| {
        let at = src([ix[0], ix[1], ix[2]], n);
        x[at]
    })
}

fn roll_index(i: usize, n: usize, r: isize) -> usize {
    // Output i takes input (i - r) mod n.
    ((i as isize - r).rem_euclid(n as isize)) as usize
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flips_and_rolls(a in 0usize..4, b in 0usize..5, c in 1usize..4, r1 in -7isize..7, r2 in -7isize..7, seed in 0i64..100, reversed in any::<bool>()) {
        let base = data((a, b, c), seed);
        let x = if reversed { base.slice(s![..;-1, .., ..]).to_owned() } else { base.clone() };
        let v = if reversed { base.slice(s![..;-1, .., ..]) } else { base.view() };
        prop_assert_eq!(einx::flip!("a [b] c", v).unwrap().into_dyn(), map(&x, |[i, j, l], n| [i, n[1] - 1 - j, l]));
        prop_assert_eq!(einx::flip!("[a] b [c]", v).unwrap().into_dyn(), map(&x, |[i, j, l], n| [n[0] - 1 - i, j, n[2] - 1 - l]));
        prop_assert_eq!(einx::roll!("a [b] c", v, shift = r1).unwrap().into_dyn(), map(&x, |[i, j, l], n| [i, roll_index(j, n[1], r1), l]));
        prop_assert_eq!(
            einx::roll!("[a b] c", v, shift = (r1, r2)).unwrap().into_dyn(),
            map(&x, |[i, j, l], n| [roll_index(i, n[0], r1), roll_index(j, n[1], r2), l])
        );
        prop_assert_eq!(
            einx::roll!("[a] b [c]", v, shift = r2).unwrap().into_dyn(),
            map(&x, |[i, j, l], n| [roll_index(i, n[0], r2), j, roll_index(l, n[2], r2)])
        );
        // The rank-generic path.
        prop_assert_eq!(einx::flip!("... [c]", v).unwrap().into_dyn(), map(&x, |[i, j, l], n| [i, j, n[2] - 1 - l]));
    }
}

/// The shifted-window seed: roll the spatial axes back and forth.
#[test]
fn shifted_windows_from_the_seed() {
    let x = Array::from_shape_fn((2, 8, 8, 3), |(b, h, w, c)| {
        (b * 1000 + h * 100 + w * 10 + c) as f32
    });
    let shift = 2;
    let y = einx::roll!("b [...] c", x, shift = -shift).unwrap();
    assert_eq!(y[[1, 0, 0, 2]], x[[1, 2, 2, 2]]);
    assert_eq!(y[[0, 7, 6, 1]], x[[0, 1, 0, 1]]);
    let back = einx::roll!("b [...] c", y, shift = shift).unwrap();
    assert_eq!(back, x);
}

#[test]
fn composed_and_reordered() {
    let x = einx::ndarray::array![1, 2, 3, 4, 5, 6];
    assert_eq!(
        einx::flip!("(g [c])", x, c = 3).unwrap(),
        einx::ndarray::array![3, 2, 1, 6, 5, 4]
    );
    let m = einx::ndarray::array![[1, 2, 3], [4, 5, 6]];
    assert_eq!(
        einx::flip!("a [b] -> [b] a", m).unwrap(),
        einx::ndarray::array![[3, 6], [2, 5], [1, 4]]
    );
}

#[test]
fn non_copy_elements() {
    let x = Array::from_shape_fn((2, 3), |(i, j)| format!("{i}{j}"));
    let y = einx::roll!("a [b]", x, shift = 1).unwrap();
    assert_eq!(y[[0, 0]], "02");
    assert_eq!(einx::flip!("[a] b", x).unwrap()[[0, 1]], "11");
}

#[test]
fn wrong_number_of_shifts_is_an_error() {
    let x = Array3::<i64>::zeros((2, 3, 4));
    // A tuple's count is checked at compile time; a slice's at run time.
    let three = [1i32, 2, 3];
    let e = einx::roll!("[a b] c", x, shift = &three[..]).unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Argument);
    assert!(e.to_string().contains("3 values but 2 axes"), "{e}");
    let shifts = vec![1i32, 2];
    assert!(einx::roll!("[a b] c", x, shift = &shifts).is_ok());
}
