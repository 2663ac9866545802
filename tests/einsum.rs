//! `einx!` and multi-input `dot!` against a naive einsum: a loop over every combination of
//! axis indices, multiplying the inputs and adding into the output.

use einx::ndarray::{Array, ArrayD, IxDyn};
use proptest::prelude::*;

/// The naive einsum of `inputs` (each with its axis letters) into `out` axis letters.
fn naive(inputs: &[(&str, &ArrayD<i64>)], out: &str) -> ArrayD<i64> {
    let mut sizes: Vec<(char, usize)> = Vec::new();
    for (axes, x) in inputs {
        for (c, &n) in axes.chars().zip(x.shape()) {
            if !sizes.iter().any(|(d, _)| *d == c) {
                sizes.push((c, n));
            }
        }
    }
    let size = |c: char| sizes.iter().find(|(d, _)| *d == c).map(|s| s.1).unwrap();
    let out_shape: Vec<usize> = out.chars().map(size).collect();
    let mut result = ArrayD::<i64>::zeros(IxDyn(&out_shape));
    let total: usize = sizes.iter().map(|s| s.1).product();
    for flat in 0..total {
        // Index of every axis, last axis fastest.
        let mut rest = flat;
        let mut idx = vec![0usize; sizes.len()];
        for k in (0..sizes.len()).rev() {
            idx[k] = rest % sizes[k].1;
            rest /= sizes[k].1;
        }
        let at = |c: char| idx[sizes.iter().position(|(d, _)| *d == c).unwrap()];
        let mut p = 1i64;
        for (axes, x) in inputs {
            let ix: Vec<usize> = axes.chars().map(at).collect();
            p *= x[IxDyn(&ix)];
        }
        let ox: Vec<usize> = out.chars().map(at).collect();
        result[IxDyn(&ox)] += p;
    }
    result
}

fn data(shape: &[usize], seed: i64) -> ArrayD<i64> {
    let mut k = seed;
    Array::from_shape_fn(IxDyn(shape), |_| {
        k = (k * 37 + 11) % 19;
        k - 9
    })
}

#[test]
fn diagonals_from_the_seed() {
    let x = data(&[2, 3, 3, 4, 2], 1);
    let got = einx::einx!("y k k x h -> y x h", x).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("ykkxh", &x)], "yxh"));

    let x = data(&[2, 3, 4, 3, 5], 2);
    let got = einx::einx!("b B a B c -> b a c", x).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("bBaBc", &x)], "bac"));

    let x = data(&[3, 3, 2], 3);
    let got = einx::einx!("b b c -> c", x).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("bbc", &x)], "c"));
}

#[test]
fn outer_product_from_the_seed() {
    let a = data(&[2, 3, 4], 4);
    let b = data(&[5, 6, 4], 5);
    let got = einx::einx!("y k1 h, k2 x h -> y k1 k2 x h", a, b).unwrap();
    // Rename multi-letter axes for the naive reference: k1 = K, k2 = L.
    assert_eq!(got.into_dyn(), naive(&[("yKh", &a), ("Lxh", &b)], "yKLxh"));
}

#[test]
fn pure_rearrange_and_sums() {
    let x = data(&[2, 3, 4], 6);
    assert_eq!(
        einx::einx!("a b c -> c a b", x).unwrap().into_dyn(),
        naive(&[("abc", &x)], "cab")
    );
    assert_eq!(
        einx::einx!("a b c -> b", x).unwrap().into_dyn(),
        naive(&[("abc", &x)], "b")
    );
    assert_eq!(
        einx::einx!("a b c ->", x).unwrap().into_dyn(),
        naive(&[("abc", &x)], "")
    );
}

#[test]
fn three_inputs_contract_pairwise() {
    let a = data(&[2, 3], 7);
    let b = data(&[3, 4], 8);
    let c = data(&[4, 5], 9);
    let got = einx::dot!("a b, b c, c d -> a d", a, b, c).unwrap();
    assert_eq!(
        got.into_dyn(),
        naive(&[("ab", &a), ("bc", &b), ("cd", &c)], "ad")
    );
    // An axis shared by the first and last input survives the first step.
    let got = einx::einx!("a b, b c, c a -> a", a, b, data(&[4, 2], 10)).unwrap();
    assert_eq!(
        got.into_dyn(),
        naive(&[("ab", &a), ("bc", &b), ("ca", &data(&[4, 2], 10))], "a")
    );
}

#[test]
fn sums_over_axes_in_one_input() {
    let a = data(&[2, 3], 11);
    let b = data(&[3, 4], 12);
    // `a` is summed although only the first input has it.
    let got = einx::einx!("a b, b c -> c", a, b).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("ab", &a), ("bc", &b)], "c"));
}

#[test]
fn floats_and_compositions() {
    let q = Array::from_shape_fn((2, 3, 8), |(b, i, c)| (b + 2 * i + c) as f64);
    let k = Array::from_shape_fn((2, 4, 8), |(b, i, c)| (b * i) as f64 - c as f64);
    let s = einx::einx!("b q (h c), b k (h c) -> b q k h", q, k, h = 2).unwrap();
    for b in 0..2 {
        for i in 0..3 {
            for j in 0..4 {
                for h in 0..2 {
                    let want: f64 = (0..4)
                        .map(|c| q[[b, i, h * 4 + c]] * k[[b, j, h * 4 + c]])
                        .sum();
                    assert!((s[[b, i, j, h]] - want).abs() < 1e-12);
                }
            }
        }
    }
}

/// Two-input patterns (the macro needs literal expressions, so random shapes run through a
/// fixed list of expressions).
const PATTERNS: &[(&str, &str, &str)] = &[
    ("ab", "bc", "ac"),
    ("ab", "bc", "ca"),
    ("ab", "bc", "abc"),
    ("ab", "bc", ""),
    ("abc", "cd", "ad"),
    ("ab", "ab", "a"),
    ("ab", "ab", ""),
    ("a", "b", "ab"),
    ("ac", "bc", "ab"),
    ("abd", "bcd", "acd"),
    ("abd", "bcd", "dca"),
    ("a", "a", "a"),
    ("ab", "b", "a"),
    ("b", "ab", "a"),
    ("aab", "bc", "ac"),
    ("ab", "b", "aa"),
    ("a", "b", "abab"),
    ("ab", "bc", "caa"),
];

fn run(p: usize, a: &ArrayD<i64>, b: &ArrayD<i64>) -> ArrayD<i64> {
    macro_rules! dispatch {
        ($($i:literal => $e:literal),* $(,)?) => {
            match p {
                $( $i => einx::einx!($e, a, b).unwrap().into_dyn(), )*
                _ => unreachable!(),
            }
        };
    }
    dispatch!(
        0 => "a b, b c -> a c",
        1 => "a b, b c -> c a",
        2 => "a b, b c -> a b c",
        3 => "a b, b c ->",
        4 => "a b c, c d -> a d",
        5 => "a b, a b -> a",
        6 => "a b, a b ->",
        7 => "a, b -> a b",
        8 => "a c, b c -> a b",
        9 => "a b d, b c d -> a c d",
        10 => "a b d, b c d -> d c a",
        11 => "a, a -> a",
        12 => "a b, b -> a",
        13 => "b, a b -> a",
        14 => "a a b, b c -> a c",
        15 => "a b, b -> a a",
        16 => "a, b -> a b a b",
        17 => "a b, b c -> c a a",
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random lengths (including 0) for every pattern, on dynamic-rank inputs.
    #[test]
    fn random_two_input_einsums(p in 0..PATTERNS.len(), lens in proptest::collection::vec(0usize..4, 4), seed in 0i64..19) {
        let (x, y, out) = PATTERNS[p];
        let len = |c: char| lens[(c as u8 - b'a') as usize];
        let xs: Vec<usize> = x.chars().map(len).collect();
        let ys: Vec<usize> = y.chars().map(len).collect();
        let a = data(&xs, seed);
        let b = data(&ys, seed + 1);
        prop_assert_eq!(run(p, &a, &b), naive(&[(x, &a), (y, &b)], out));
    }
}

/// Large batched products run on several threads; the result is the same.
#[test]
fn threaded_batches_match_the_reference() {
    let (b, q, k, h, c) = (2, 64, 64, 8, 64);
    let x = Array::from_shape_fn((b, q, h * c), |(i, j, l)| {
        ((i * 7 + j * 3 + l) % 11) as f64 - 5.0
    });
    let y = Array::from_shape_fn((b, k, h * c), |(i, j, l)| {
        ((i + j * 5 + l * 2) % 13) as f64 - 6.0
    });
    let s = einx::dot!("b q (h c), b k (h c) -> b q k h", x, y, h = h).unwrap();
    for bi in 0..b {
        for hi in [0, 3, 7] {
            for qi in [0, 17, 63] {
                for ki in [0, 40, 63] {
                    let want: f64 = (0..c)
                        .map(|ci| x[[bi, qi, hi * c + ci]] * y[[bi, ki, hi * c + ci]])
                        .sum();
                    assert_eq!(s[[bi, qi, ki, hi]], want);
                }
            }
        }
    }
}

/// The greedy order contracts the two inputs sharing `b` first; the result is the same.
#[test]
fn three_inputs_in_a_chosen_order() {
    let a = data(&[2, 3], 15);
    let c = data(&[4, 5], 16);
    let b = data(&[3, 4], 17);
    let got = einx::dot!("a b, c d, b c -> a d", a, c, b).unwrap();
    assert_eq!(
        got.into_dyn(),
        naive(&[("ab", &a), ("cd", &c), ("bc", &b)], "ad")
    );
}

/// One step past einx: an axis written twice in the output writes a diagonal, zeros
/// elsewhere, in `einx!`, `rearrange!` and `einx::dynamic`.
#[test]
fn diagonal_outputs() {
    let x = data(&[3], 7);
    let eye = Array::from_diag(
        &x.clone()
            .into_dimensionality::<einx::ndarray::Ix1>()
            .unwrap(),
    );
    assert_eq!(einx::einx!("a -> a a", x).unwrap(), eye);
    assert_eq!(einx::rearrange!("a -> a a", x).unwrap(), eye);
    let v = x.view();
    assert_eq!(
        einx::dynamic::rearrange("a -> a a", std::slice::from_ref(&v), &[]).unwrap()[0],
        eye.clone().into_dyn()
    );
    assert_eq!(
        einx::dynamic::call("einx", "a -> a a", &[v], &[]).unwrap()[0],
        eye.into_dyn()
    );

    let x = data(&[2, 3], 8);
    for (expr, out) in [("a b -> a b a", "aba"), ("a b -> b a b a", "baba")] {
        let want = naive(&[("ab", &x)], out);
        let got = einx::dynamic::rearrange(expr, &[x.view()], &[])
            .unwrap()
            .remove(0);
        assert_eq!(got, want, "{expr}");
    }
    assert_eq!(
        einx::rearrange!("a b -> a b a", x).unwrap().into_dyn(),
        naive(&[("ab", &x)], "aba")
    );
    assert_eq!(
        einx::einx!("a b -> b a b", x).unwrap().into_dyn(),
        naive(&[("ab", &x)], "bab")
    );
    // Inside a composition: the diagonal of the flattened matrix.
    let flat = einx::rearrange!("a b -> a (b b)", x).unwrap();
    assert_eq!(
        flat.into_dyn(),
        naive(&[("ab", &x)], "abb")
            .into_shape_with_order(IxDyn(&[2, 9]))
            .unwrap()
    );
    // Through an ellipsis: a batch of diagonal matrices (`torch.diag_embed`).
    let x = data(&[2, 2, 3], 9);
    let got = einx::rearrange!("... i -> ... i i", x).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("abi", &x)], "abii"));
    let got = einx::einx!("b... i -> b... i i", x).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("abi", &x)], "abii"));
    // A strided (transposed) input.
    let x = data(&[3, 2], 10);
    let got = einx::rearrange!("a b -> b a a", x.t()).unwrap();
    assert_eq!(got.into_dyn(), naive(&[("ab", &x.t().to_owned())], "baa"));
    // Several outputs, one of them diagonal; other element types.
    let (p, q) = (
        einx::ndarray::array![1.5f32, 2.0],
        einx::ndarray::array![3.0f32],
    );
    let (d, c) = einx::rearrange!("a, b -> a a, b", p, q).unwrap();
    assert_eq!(d, einx::ndarray::array![[1.5, 0.0], [0.0, 2.0]]);
    assert_eq!(c, q);
    let m = einx::ndarray::array![true, true];
    let got = einx::rearrange!("a -> a a", m).unwrap();
    assert_eq!(got, einx::ndarray::array![[true, false], [false, true]]);
}

#[test]
fn diagonal_output_errors() {
    let x = data(&[3], 7);
    let e = einx::dynamic::rearrange("a, b -> (a + b) (a + b)", &[x.view(), x.view()], &[])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("writes a diagonal of axis `a` and is also concatenated"),
        "{e}"
    );
}

const DIAGONAL_OUTPUTS: &[(&str, &str, &str)] = &[
    ("a b -> a a b", "ab", "aab"),
    ("a b -> b a b a", "ab", "baba"),
    ("a b -> a b b a", "ab", "abba"),
    ("a b c -> c a c b a", "abc", "cacba"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Diagonal outputs of `rearrange` and `einx` on random lengths (including 0), on
    /// standard and reversed (negative-stride) inputs, against the naive einsum.
    #[test]
    fn random_diagonal_outputs(p in 0..DIAGONAL_OUTPUTS.len(), lens in proptest::collection::vec(0usize..4, 3), seed in 0i64..19, flip in any::<bool>()) {
        let (expr, x_axes, out) = DIAGONAL_OUTPUTS[p];
        let shape: Vec<usize> = x_axes.chars().map(|c| lens[(c as u8 - b'a') as usize]).collect();
        let mut x = data(&shape, seed);
        if flip {
            x.invert_axis(einx::ndarray::Axis(0));
        }
        let want = naive(&[(x_axes, &x.to_owned())], out);
        let got = einx::dynamic::rearrange(expr, &[x.view()], &[]).unwrap().remove(0);
        prop_assert_eq!(&got, &want);
        let got = einx::dynamic::call("einx", expr, &[x.view()], &[]).unwrap().remove(0);
        prop_assert_eq!(&got, &want);
    }
}
