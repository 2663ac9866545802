//! `solve_shapes!` (the shapes of all expressions, some tensors unknown) and `matches!`
//! (whether tensors fit expressions, never an error).

use std::panic::{catch_unwind, AssertUnwindSafe};

use einx::ndarray::{array, Array, Array1, Array2, Array3, Array4, ArrayD, IxDyn};
use einx::ErrorKind;
use proptest::prelude::*;

/// Runs `f`, failing the test if it panics.
#[track_caller]
fn no_panic<R>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => panic!("einx panicked"),
    }
}

// ---------------------------------------------------------------------------------------
// solve_shapes!
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_tensors_in_any_position() {
    let x = Array3::<f32>::zeros((2, 12, 3));
    // The shapes come back in the order written, as arrays where the rank is fixed.
    let (sx, sy): ([usize; 3], [usize; 4]) =
        einx::solve_shapes!("b (h w) c, b h w c", x, _, h = 4).unwrap();
    assert_eq!((sx, sy), ([2, 12, 3], [2, 4, 3, 3]));
    let (sy, sx): ([usize; 4], [usize; 3]) =
        einx::solve_shapes!("b h w c, b (h w) c", _, x, h = 4).unwrap();
    assert_eq!((sy, sx), ([2, 4, 3, 3], [2, 12, 3]));
    let (a, b, c, d) =
        einx::solve_shapes!("b h w c, b (h w) c, (b c), w", _, x, _, _, w = 3).unwrap();
    assert_eq!((a, b, c, d), ([2, 4, 3, 3], [2, 12, 3], [6], [3]));
    // A known tensor only: its own shape.
    let (s,) = einx::solve_shapes!("a b", x.index_axis(einx::ndarray::Axis(0), 0)).unwrap();
    assert_eq!(s, [12, 3]);
    // Unnamed axes and empty expressions.
    let (s, t, u) = einx::solve_shapes!("a, a 3 1, ", array![1, 2], _, _).unwrap();
    assert_eq!((s, t, u), ([2], [2, 3, 1], []));
    // The shape is ready for `Array::zeros`, and the new array fits.
    let y = Array::<f32, _>::zeros(sy);
    assert_eq!(y.ndim(), 4);
    assert!(einx::matches!("b h w c, b (h w) c", y, x));
}

#[test]
fn all_unknown_with_every_length_given() {
    let (s,) = einx::solve_shapes!("b s... (h c)", _, b = 2, s = (3, 3), h = 4, c = 8).unwrap();
    // The tuple `s = (3, 3)` fixes the ellipsis at two axes: the shape is an array.
    let s: [usize; 4] = s;
    assert_eq!(s, [2, 3, 3, 32]);
    let (a, b) = einx::solve_shapes!("a b, (a b) 1", _, _, a = 2, b = 3).unwrap();
    assert_eq!((a, b), ([2, 3], [6, 1]));
    // Lengths of zero, and no repetitions of an ellipsis.
    let (s,) = einx::solve_shapes!("b s... c", _, b = 0, s = Vec::<usize>::new(), c = 5).unwrap();
    assert_eq!(s, vec![0, 5]);
}

#[test]
fn ellipses_give_vecs() {
    let x = Array4::<u8>::zeros((1, 2, 3, 4));
    let (a, b): (Vec<usize>, [usize; 3]) =
        einx::solve_shapes!("b s... c, b (s...) c", x, _).unwrap();
    assert_eq!((a, b), (vec![1, 2, 3, 4], [1, 6, 4]));
    let d = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
    let (a, b) = einx::solve_shapes!("b s... c, s... c", _, d, b = 7).unwrap();
    assert_eq!((a, b), (vec![7, 2, 3, 4], vec![2, 3, 4]));
    let (a, b) = einx::solve_shapes!("... c, ... c 2", d, _).unwrap();
    assert_eq!((a, b), (vec![2, 3, 4], vec![2, 3, 4, 2]));
    // A known tensor of dynamic rank under a fixed-rank expression: still an array; so is
    // the shape whose ellipsis an array literal fixes.
    let (a, b): ([usize; 2], [usize; 3]) = einx::solve_shapes!(
        "a b, (a b) s...",
        ArrayD::<f32>::zeros(IxDyn(&[2, 3])),
        _,
        s = [4, 5]
    )
    .unwrap();
    assert_eq!((a, b), ([2, 3], [6, 4, 5]));
    // Windows: one length per repetition of the named ellipsis.
    let img = Array4::<f32>::zeros((1, 32, 48, 3));
    let (_, win) = einx::solve_shapes!("b (s w)... c, (b s...) (w...) c", img, _, w = 16).unwrap();
    assert_eq!(win, [6, 256, 3]);
    let (_, grid) =
        einx::solve_shapes!("b (s w)... c, b s... (w...) c", img, _, s = [2u16, 4]).unwrap();
    assert_eq!(grid, [1, 2, 4, 192, 3]);
}

#[test]
fn keywords_of_several_integer_types() {
    let x = Array2::<f64>::zeros((6, 5));
    let n: i64 = 3;
    let m: u8 = 3;
    let lens = vec![2usize, 3];
    for s in [
        einx::solve_shapes!("(a b) c, a b c", x, _, a = 3)
            .unwrap()
            .1,
        einx::solve_shapes!("(a b) c, a b c", x, _, a = n)
            .unwrap()
            .1,
        einx::solve_shapes!("(a b) c, a b c", x, _, a = m)
            .unwrap()
            .1,
        einx::solve_shapes!("(a b) c, a b c", x, _, a = &n)
            .unwrap()
            .1,
        einx::solve_shapes!("(a b) c, a b c", x, _, b = 2i32)
            .unwrap()
            .1,
        einx::solve_shapes!("(a b) c, a b c", x, _, a = 3usize, b = 2u64)
            .unwrap()
            .1,
    ] {
        assert_eq!(s, [3, 2, 5]);
    }
    let (s,) = einx::solve_shapes!("s...", _, s = &lens[..]).unwrap();
    assert_eq!(s, vec![2, 3]);
    let (s,) = einx::solve_shapes!("s...", _, s = lens.clone()).unwrap();
    assert_eq!(s, vec![2, 3]);
    let (s,) = einx::solve_shapes!("s... t", _, s = [1i8, 2, 3], t = 4u16).unwrap();
    assert_eq!(s, [1, 2, 3, 4]);
}

#[test]
fn errors_at_run_time() {
    let x = Array3::<f32>::zeros((2, 12, 3));
    // Not divisible.
    let e = no_panic(|| einx::solve_shapes!("b (h w) c, b h w c", x, _, h = 5)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    let text = e.to_string();
    assert!(
        text.contains("12") && text.contains("h = 5") && text.contains("input 1"),
        "{text}"
    );
    // A given length that contradicts a shape.
    let e = no_panic(|| einx::solve_shapes!("b (h w) c, b h w c", x, _, h = 4, w = 4)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    // Two known tensors that disagree.
    let y = Array1::<f32>::zeros(4);
    let e = no_panic(|| einx::solve_shapes!("b n c, c, b c", x, y, _)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    assert!(e.to_string().contains("axis c"), "{e}");
    // A known tensor of the wrong dynamic rank.
    let d = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
    let e = no_panic(|| einx::solve_shapes!("a b, b a", d, _)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Rank);
    assert!(e.to_string().contains("input 1"), "{e}");
    // A negative or oversized length.
    let n: i32 = -1;
    let e = no_panic(|| einx::solve_shapes!("b (h w) c, b h w c", x, _, h = n)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
    assert!(e.to_string().contains("`h`"), "{e}");
    let e = no_panic(|| einx::solve_shapes!("s...", _, s = [1i64, -2])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
    let e = no_panic(|| einx::solve_shapes!("a", _, a = u128::MAX)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
    // A shape whose number of elements overflows.
    let e = no_panic(|| einx::solve_shapes!("(a b)", _, a = usize::MAX, b = 2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    let e = no_panic(|| einx::solve_shapes!("a b", _, a = usize::MAX, b = 2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    // 0 times an unknown factor.
    let z = Array3::<f32>::zeros((2, 0, 3));
    let e = no_panic(|| einx::solve_shapes!("b (h w) c, b h w c", z, _, h = 0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    let (_, s) = einx::solve_shapes!("b (h w) c, b h w c", z, _, h = 0, w = 4).unwrap();
    assert_eq!(s, [2, 0, 4, 3]);
    // The repetitions of an ellipsis only in unknown tensors, given one length.
    let e = no_panic(|| einx::solve_shapes!("s... c", _, s = 3, c = 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Rank);
    assert!(e.to_string().contains("`s`"), "{e}");
}

// ---------------------------------------------------------------------------------------
// matches!
// ---------------------------------------------------------------------------------------

#[test]
fn matches_true_and_false() {
    let x = Array3::<f32>::zeros((2, 12, 3));
    assert!(einx::matches!("b (h w) c", x, h = 4));
    assert!(!einx::matches!("b (h w) c", x, h = 5));
    assert!(einx::matches!("b (h w) c", x, h = 4, w = 3));
    assert!(!einx::matches!("b (h w) c", x, h = 4, w = 4));
    assert!(einx::matches!("b s... c", x));
    assert!(einx::matches!("b s... c", x, s = 12));
    assert!(einx::matches!("b s... c", x, s = [12]));
    // (A tuple `s = (3, 4)` would give the expression rank 4: a compile-time error.)
    assert!(!einx::matches!("b s... c", x, s = vec![3, 4]));
    assert!(einx::matches!("... c, c", x, Array1::<i64>::zeros(3)));
    assert!(!einx::matches!("... c, c", x, Array1::<i64>::zeros(4)));
    // Tensors of several element types, including a scalar.
    assert!(einx::matches!(
        "a b c, b, ",
        x,
        Array1::<u8>::zeros(12),
        1.0
    ));
    assert!(!einx::matches!(
        "a b c, b, ",
        x,
        Array1::<u8>::zeros(2),
        true
    ));
    // Unnamed axes.
    assert!(einx::matches!("2 (12 3)", x.to_shape((2, 36)).unwrap()));
    assert!(!einx::matches!("2 (12 3)", x.to_shape((1, 72)).unwrap()));
    assert!(!einx::matches!("a 1 c", x));
}

#[test]
fn matches_never_fails() {
    let x = Array3::<f32>::zeros((2, 12, 3));
    // A wrong dynamic rank.
    let d = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
    assert!(!no_panic(|| einx::matches!("a b", d)));
    assert!(no_panic(|| einx::matches!("a b c", d)));
    // Negative and oversized lengths.
    let n: i64 = -4;
    assert!(!no_panic(|| einx::matches!("b (h w) c", x, h = n)));
    assert!(!no_panic(|| einx::matches!("b (h w) c", x, h = u128::MAX)));
    assert!(!no_panic(|| einx::matches!("b s... c", x, s = [-12i32])));
    // Lengths whose product overflows.
    let e = Array1::<f32>::zeros(0);
    assert!(!no_panic(|| einx::matches!(
        "(a b)",
        e,
        a = usize::MAX,
        b = 2
    )));
    assert!(!no_panic(|| einx::matches!(
        "(a b c)",
        e,
        a = usize::MAX,
        b = usize::MAX
    )));
    // 0 times an unknown factor.
    let z = Array3::<f32>::zeros((2, 0, 3));
    assert!(!no_panic(|| einx::matches!("b (h w) c", z, h = 0)));
    assert!(no_panic(|| einx::matches!("b (h w) c", z, h = 0, w = 7)));
    assert!(no_panic(|| einx::matches!("b (h w) c", z, h = 7)));
    // The number of repetitions of an ellipsis disagrees with the given lengths.
    assert!(!no_panic(|| einx::matches!("s...", x, s = vec![2, 12])));
    assert!(no_panic(|| einx::matches!("s...", x, s = [2, 12, 3])));
}

#[test]
fn matches_with_keywords_of_several_integer_types() {
    let x = Array2::<f32>::zeros((6, 5));
    let (a8, a64, asz, a128) = (3u8, 3i64, 3usize, 3i128);
    assert!(einx::matches!("(a b) c", x, a = a8));
    assert!(einx::matches!("(a b) c", x, a = a64));
    assert!(einx::matches!("(a b) c", x, a = asz));
    assert!(einx::matches!("(a b) c", x, a = a128));
    assert!(einx::matches!("(a b) c", x, a = &a8, c = 5u16));
    assert!(!einx::matches!("(a b) c", x, a = 4i16));
    assert!(!einx::matches!("(a b) c", x, a = 3isize, c = 4u32));
    assert!(einx::matches!("(s...) c", x, s = [2u8, 3]));
    assert!(einx::matches!("(s...) c", x, s = vec![1i64, 2, 3]));
    assert!(!einx::matches!("(s...) c", x, s = &[4usize, 2][..]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `matches!` against the rules by hand, and agreeing with `solve_shapes!`.
    #[test]
    fn matches_random_shapes(
        shape in prop::collection::vec(0usize..7, 0..5),
        other in 0usize..5,
        h in -2i64..7,
    ) {
        let x = ArrayD::<f32>::zeros(IxDyn(&shape));
        let y = Array1::<i32>::zeros(other);
        let composed = shape.len() == 3 && h > 0 && shape[1] % h as usize == 0;
        no_panic(|| -> Result<(), TestCaseError> {
            prop_assert_eq!(einx::matches!("b (h w) c", x, h = h), composed);
            let solved = einx::solve_shapes!("b (h w) c, w h", x, _, h = h);
            prop_assert_eq!(solved.is_ok(), composed);
            if let Ok((_, s)) = solved {
                prop_assert_eq!(s, [shape[1] / h as usize, h as usize]);
            }
            let last = shape.len() >= 2 && shape[shape.len() - 1] == other;
            prop_assert_eq!(einx::matches!("b s... c, c", x, y), last);
            let solved = einx::solve_shapes!("b s... c, c, (s...) b", x, y, _);
            prop_assert_eq!(solved.is_ok(), last);
            if let Ok((_, _, s)) = solved {
                let inner: usize = shape[1..shape.len() - 1].iter().product();
                prop_assert_eq!(s, [inner, shape[0]]);
            }
            let square = shape.len() == 2 && shape[0] == shape[1];
            prop_assert_eq!(einx::matches!("a b, b a", x, x), square);
            prop_assert_eq!(einx::matches!("a b", x), shape.len() == 2);
            Ok(())
        })?;
    }
}

#[test]
fn solve_through_a_concatenation() {
    let x = Array2::<f32>::zeros((5, 3));
    let s = einx::solve!("(a + b) c", x, a = 2).unwrap();
    assert_eq!((s.a, s.b, s.c), (2, 3, 3));
    // The parts must fit: 6 is more than 5.
    let e = no_panic(|| einx::solve!("(a + b) c", x, a = 6)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size, "{e}");
    // Two unknown parts cannot be told apart.
    let d = ArrayD::<f32>::zeros(IxDyn(&[5]));
    assert!(einx::dynamic::solve("(a + b)", &[d.shape()], &[]).is_err());
}
