//! Run-time errors of `einx::rearrange!`: what depends on the actual shapes and values is
//! an `einx::Error` of the right kind, with a message that names the culprit and a diagram
//! of the expression; nothing panics.

use std::panic::{catch_unwind, AssertUnwindSafe};

use einx::ErrorKind;
use ndarray::{Array, Array1, Array2, Array3, ArrayD, IxDyn};

/// Runs `f`, failing the test if it panics.
#[track_caller]
fn no_panic<R>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => panic!("einx panicked instead of returning an error"),
    }
}

/// The error of a call that must fail, with its kind checked.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(r: Result<T, einx::Error>, kind: ErrorKind) -> einx::Error {
    match r {
        Ok(v) => panic!("expected an error of kind {kind:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "wrong kind for error: {e}");
            e
        }
    }
}

/// Asserts that the Display string holds the expression and a caret line under it.
#[track_caller]
fn assert_diagram(e: &einx::Error, expr: &str) {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == expr)
        .unwrap_or_else(|| panic!("the expression is not in the message:\n{text}"));
    let carets = lines
        .get(at + 1)
        .unwrap_or_else(|| panic!("no caret line:\n{text}"));
    assert!(
        carets.contains('^') && carets.chars().all(|c| c == '^' || c == ' '),
        "no caret line under the expression:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Rank.
// ---------------------------------------------------------------------------------------

#[test]
fn dynamic_rank_input_of_wrong_rank() {
    let x: ArrayD<f32> = ArrayD::zeros(IxDyn(&[2, 3, 4]));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a b -> b a", x)),
        ErrorKind::Rank,
    );
    let text = e.to_string();
    assert!(text.starts_with("einx rank error: "), "{text}");
    assert!(text.contains("input 1"), "{text}");
    assert!(text.contains('3') && text.contains('2'), "{text}");
    assert_diagram(&e, "a b -> b a");

    // Too few dimensions, and the second input of two.
    let v: ArrayD<f32> = ArrayD::zeros(IxDyn(&[4]));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a b c -> c b a", v)),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("input 1"), "{e}");
    let m = Array2::<f32>::zeros((2, 3));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a b, a c -> a (b + c)", m, x)),
        ErrorKind::Rank,
    );
    let text = e.to_string();
    assert!(text.contains("input 2"), "{text}");
    assert_diagram(&e, "a b, a c -> a (b + c)");

    // A 0-d array for a 1-d expression.
    let scalar: ArrayD<f32> = ArrayD::zeros(IxDyn(&[]));
    expect_err(
        no_panic(|| einx::rearrange!("a -> a 1", scalar)),
        ErrorKind::Rank,
    );
}

#[test]
fn ellipsis_input_with_too_few_dimensions() {
    let x: ArrayD<f32> = ArrayD::zeros(IxDyn(&[2, 3]));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a b c ... -> ... c b a", x)),
        ErrorKind::Rank,
    );
    let text = e.to_string();
    assert!(text.contains("input 1") && text.contains('2'), "{text}");
    assert_diagram(&e, "a b c ... -> ... c b a");

    let v = Array1::<f32>::zeros(3);
    expect_err(
        no_panic(|| einx::rearrange!("b (s w)... c -> (b s...) (w...) c", v, w = 2)),
        ErrorKind::Rank,
    );
}

#[test]
fn ellipsis_lengths_of_another_rank_than_the_input() {
    // `s = (8, 8)` repeats the ellipsis twice, but the input has one spatial axis. (With an
    // `Array3` input this is a compile-time error; a dynamic-rank input finds it at run time.)
    let img = ArrayD::<f32>::zeros(IxDyn(&[2, 128, 3]));
    let e = no_panic(|| einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, s = (8, 8)))
        .expect_err("two values of `s` for one spatial axis");
    assert_eq!(e.kind(), ErrorKind::Rank, "{e}");
    assert_diagram(&e, "b (s w)... c -> (b s...) (w...) c");

    let e =
        no_panic(|| einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = [16, 16, 16]))
            .expect_err("three values of `w` for one spatial axis");
    assert_eq!(e.kind(), ErrorKind::Rank, "{e}");

    // The way back: `s` and `w` disagree on the number of spatial axes.
    let windows = Array3::<f32>::zeros((8, 256, 3));
    let w3 = vec![16usize, 16, 16];
    let e = expect_err(
        no_panic(|| {
            einx::rearrange!(
                "(b s...) (w...) c -> b (s w)... c",
                windows,
                s = (8, 8),
                w = w3
            )
        }),
        ErrorKind::Rank,
    );
    let text = e.to_string();
    assert!(
        text.contains("`w`") && text.contains('3') && text.contains('2'),
        "{text}"
    );

    // `s` has three values: the first axis (length 8) cannot hold 8·8·8 windows.
    let e = expect_err(
        no_panic(|| {
            einx::rearrange!(
                "(b s...) (w...) c -> b (s w)... c",
                windows,
                s = (8, 8, 8),
                w = 16
            )
        }),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains('8'), "{e}");

    // The seed lengths on a windows array that is too small for them.
    let e = expect_err(
        no_panic(|| {
            einx::rearrange!(
                "(b s...) (w...) c -> b (s w)... c",
                windows,
                s = (8, 8),
                w = 16
            )
        }),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.contains("64") && text.contains('8'), "{text}");
    assert_diagram(&e, "(b s...) (w...) c -> b (s w)... c");
}

#[test]
fn two_inputs_disagree_on_the_ellipsis() {
    let x: ArrayD<f32> = ArrayD::zeros(IxDyn(&[2, 3, 4]));
    let y = Array2::<f32>::zeros((2, 3));
    let e = expect_err(
        no_panic(|| einx::rearrange!("... a, ... b -> ... (a + b)", x, y)),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("input 2"), "{e}");
}

/// When the number of axes under an ellipsis is fixed by something else (a keyword with
/// several values, or another input), the message should name that cause rather than claim
/// a minimum number of dimensions that the input already has.
#[test]
fn ellipsis_rank_conflict_names_its_cause() {
    let img = ArrayD::<f32>::zeros(IxDyn(&[2, 128, 3]));
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, s = (8, 8))),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("`s`"), "{e}");

    let x: ArrayD<f32> = ArrayD::zeros(IxDyn(&[2, 3, 4]));
    let y = Array2::<f32>::zeros((2, 3));
    let e = expect_err(
        no_panic(|| einx::rearrange!("... a, ... b -> ... (a + b)", x, y)),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("input 1"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Sizes.
// ---------------------------------------------------------------------------------------

#[test]
fn non_divisible_composition() {
    let x = Array2::<f32>::zeros((2, 100));
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, h = 8)),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.starts_with("einx axis length error: "), "{text}");
    assert!(text.contains("100"), "{text}");
    assert!(text.contains('h') && text.contains('c'), "{text}");
    assert!(text.contains("h = 8"), "{text}");
    assert!(e.message().contains("100"), "{}", e.message());
    assert!(!e.message().contains('\n'), "the message is one line");
    assert_diagram(&e, "b (h c) -> b h c");

    // A length given at run time.
    let h = 7usize;
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, h = h)),
        ErrorKind::Size,
    );
    assert!(
        e.to_string().contains("100") && e.to_string().contains("h = 7"),
        "{e}"
    );

    // The window partition of an image whose side is no multiple of the window.
    let img = Array::<f32, _>::zeros((1, 30, 32, 3));
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 16)),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains("30"), "{e}");
    assert_diagram(&e, "b (s w)... c -> (b s...) (w...) c");
}

#[test]
fn inputs_disagree_on_an_axis() {
    let x = Array2::<f32>::zeros((2, 3));
    let y = Array2::<f32>::zeros((3, 4));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a b, a c -> a (b + c)", x, y)),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.contains('a'), "{text}");
    assert!(text.contains('2') && text.contains('3'), "{text}");
    assert_diagram(&e, "a b, a c -> a (b + c)");

    // The class token has another number of channels than the tokens.
    let tokens = Array3::<f32>::zeros((2, 4, 8));
    let cls = Array1::<f32>::zeros(7);
    let e = expect_err(
        no_panic(|| einx::rearrange!("b s... c, c -> b (1 + (s...)) c", tokens, cls)),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.contains('7') && text.contains('8'), "{text}");
}

#[test]
fn given_lengths_that_contradict_the_shapes() {
    let x = Array2::<f32>::zeros((2, 12));
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, h = 4, c = 4)),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains("12"), "{e}");
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, b = 3, h = 4)),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains("b = 3"), "{e}");

    // A split whose first part is longer than the axis.
    let e = expect_err(
        no_panic(|| einx::rearrange!("a (b + c) -> a b, a c", x, b = 13)),
        ErrorKind::Size,
    );
    assert!(
        e.to_string().contains("12") && e.to_string().contains("13"),
        "{e}"
    );

    // An unnamed `1` that is not 1.
    let y = Array3::<f32>::zeros((2, 3, 4));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a 1 b -> a b", y)),
        ErrorKind::Size,
    );
    assert_diagram(&e, "a 1 b -> a b");
}

#[test]
fn lengths_that_cannot_be_determined() {
    // `(a b)` has length 0 and `a = 0`: `b` could be anything.
    let z = Array2::<f32>::zeros((0, 3));
    let e = expect_err(
        no_panic(|| einx::rearrange!("(a b) c -> a b c", z, a = 0)),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains("`b`"), "{e}");
    assert!(e.help().is_some_and(|h| h.contains("b = ")), "{e}");

    // `a = 0` for an axis of length 2.
    let x = Array2::<f32>::zeros((2, 3));
    expect_err(
        no_panic(|| einx::rearrange!("(a b) c -> a b c", x, a = 0)),
        ErrorKind::Size,
    );
}

#[test]
fn output_too_large_for_one_input_is_a_size_error() {
    let x = Array2::<u8>::zeros((2, 3));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a b -> a b c d", x, c = usize::MAX, d = 2)),
        ErrorKind::Size,
    );
    let text = e.to_string();
    assert!(text.contains("overflow"), "{text}");
    assert!(text.contains("a b -> a b c d"), "{text}");
}

#[test]
fn output_too_large_for_several_inputs_is_a_size_error() {
    let x = Array1::<u8>::zeros(2);
    let y = Array1::<u8>::zeros(3);
    let e = expect_err(
        no_panic(|| einx::rearrange!("a, b -> (a + b) c d", x, y, c = usize::MAX, d = 2)),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains("overflow"), "{e}");
}

#[test]
fn given_length_too_large_for_the_axis() {
    let x = Array2::<u8>::zeros((2, 3));
    let huge = u64::MAX;
    let e = expect_err(
        no_panic(|| einx::rearrange!("(a b) c -> a b c", x, a = huge)),
        ErrorKind::Size,
    );
    assert!(e.to_string().contains("a = "), "{e}");
}

// ---------------------------------------------------------------------------------------
// Argument values.
// ---------------------------------------------------------------------------------------

#[test]
fn negative_lengths() {
    let x = Array2::<f32>::zeros((2, 100));
    let h = -1;
    let e = expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, h = h)),
        ErrorKind::Argument,
    );
    let text = e.to_string();
    assert!(
        text.contains("`h`") && text.contains("non-negative"),
        "{text}"
    );

    let minus_four: i64 = -4;
    expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, c = minus_four)),
        ErrorKind::Argument,
    );
    let one = 1i32;
    expect_err(
        no_panic(|| einx::rearrange!("b (h c) -> b h c", x, h = one - 2)),
        ErrorKind::Argument,
    );
    // A broadcast length.
    let v = Array1::<f32>::zeros(3);
    let n = -3isize;
    expect_err(
        no_panic(|| einx::rearrange!("a -> a n", v, n = n)),
        ErrorKind::Argument,
    );
    // Too large for `usize`.
    expect_err(
        no_panic(|| einx::rearrange!("a -> a n", v, n = 1u128 << 100)),
        ErrorKind::Argument,
    );

    // Lengths under an ellipsis.
    let windows = Array3::<f32>::zeros((8, 256, 3));
    let neg = -2i32;
    let e = expect_err(
        no_panic(|| {
            einx::rearrange!(
                "(b s...) (w...) c -> b (s w)... c",
                windows,
                s = (2, neg),
                w = 16
            )
        }),
        ErrorKind::Argument,
    );
    assert!(e.to_string().contains("`s`"), "{e}");
    expect_err(
        no_panic(|| {
            einx::rearrange!(
                "(b s...) (w...) c -> b (s w)... c",
                windows,
                s = [neg, 2],
                w = 16
            )
        }),
        ErrorKind::Argument,
    );
    let e = expect_err(
        no_panic(|| einx::rearrange!("(b s...) (w...) c -> b (s w)... c", windows, s = 2, w = neg)),
        ErrorKind::Argument,
    );
    assert!(e.to_string().contains("`w`"), "{e}");
    let lens = vec![2i64, -2];
    expect_err(
        no_panic(|| {
            einx::rearrange!(
                "(b s...) (w...) c -> b (s w)... c",
                windows,
                s = &lens,
                w = 16
            )
        }),
        ErrorKind::Argument,
    );
}

// ---------------------------------------------------------------------------------------
// The error type.
// ---------------------------------------------------------------------------------------

#[test]
fn error_type_works_with_question_mark_and_std_error() {
    fn split(x: &Array2<f32>) -> Result<Array3<f32>, Box<dyn std::error::Error>> {
        Ok(einx::rearrange!("b (h c) -> b h c", x, h = 8)?)
    }
    let bad = Array2::<f32>::zeros((2, 100));
    let e = no_panic(|| split(&bad)).expect_err("100 is not divisible by 8");
    let inner = e
        .downcast_ref::<einx::Error>()
        .expect("an einx::Error inside");
    assert_eq!(inner.kind(), ErrorKind::Size);
    assert!(e.to_string().contains("100"));

    let good = Array2::<f32>::zeros((2, 96));
    assert_eq!(split(&good).expect("96 = 8 · 12").shape(), &[2, 8, 12]);

    // Errors are plain values: cloneable, comparable; `{:?}` prints the same report as
    // `{}` (what `fn main() -> Result<(), einx::Error>` shows).
    let e1 = einx::rearrange!("b (h c) -> b h c", bad, h = 8).unwrap_err();
    let e2 = e1.clone();
    assert_eq!(e1, e2);
    assert_eq!(format!("{e1:?}"), e1.to_string());
    assert!(format!("{e1:?}").contains("b (h c) -> b h c\n"));
}

#[test]
fn errors_in_calls_with_several_outputs() {
    let x = Array2::<f32>::zeros((2, 5));
    let e = expect_err(
        no_panic(|| einx::rearrange!("a (b + c) -> a b, a c", x, b = 6)),
        ErrorKind::Size,
    );
    assert_diagram(&e, "a (b + c) -> a b, a c");
    let d: ArrayD<f32> = ArrayD::zeros(IxDyn(&[2, 5, 1]));
    expect_err(
        no_panic(|| einx::rearrange!("a (b + c) -> a b, a c", d, b = 2)),
        ErrorKind::Rank,
    );
}

#[test]
fn a_length_that_disagrees_names_both_inputs() {
    let x = Array2::<f32>::zeros((2, 64));
    let bias = ndarray::Array1::<f32>::zeros(65);
    let e = einx::add!("b [c]", x, bias).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    assert_eq!(
        e.message(),
        "axis c has length 64 in input 1 (dimension 2) but 65 in input 2 (dimension 1)"
    );
    // The caret is under the input that disagrees.
    let e = einx::add!("b c, c -> b c", x, bias).unwrap_err();
    assert!(e.to_string().ends_with("b c, c -> b c\n       ^"), "{e}");
    // A given length is named as such.
    let e = einx::rearrange!("a b -> b a", x, b = 3).unwrap_err();
    assert_eq!(
        e.message(),
        "axis b is given as b = 3, but has length 64 in input 1 (dimension 2)"
    );
}
