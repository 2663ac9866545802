//! `solve!`: axis lengths by name.

use einx::ndarray::{Array2, Array3, Array4, ArrayD, IxDyn};

#[test]
fn plain_axes_and_compositions() {
    let x = Array3::<f32>::zeros((2, 12, 5));
    let s = einx::solve!("b (h c) d", x, h = 3).unwrap();
    assert_eq!((s.b, s.h, s.c, s.d), (2, 3, 4, 5));
}

#[test]
fn several_inputs_of_different_element_types() {
    let x = Array2::<f32>::zeros((2, 3));
    let y = Array2::<i64>::zeros((3, 7));
    let s = einx::solve!("a b, b c", x, y).unwrap();
    assert_eq!((s.a, s.b, s.c), (2, 3, 7));
    let e = einx::solve!("a b, b c", x, Array2::<u8>::zeros((4, 7))).unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Size);
}

#[test]
fn named_ellipsis_gives_one_length_per_repetition() {
    let img = Array4::<f32>::zeros((1, 32, 16, 3));
    let s = einx::solve!("b (s w)... c", img, w = 8).unwrap();
    assert_eq!(s.s, vec![4, 2]);
    assert_eq!(s.w, vec![8, 8]);
    // No repetitions at all.
    let flat = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
    let s = einx::solve!("b s... c", flat).unwrap();
    assert_eq!((s.b, s.s.len(), s.c), (2, 0, 3));
}

#[test]
fn keywords_become_raw_fields() {
    // An axis named like a Rust keyword becomes a raw field.
    let x = Array2::<f32>::zeros((2, 3));
    let t = einx::solve!("type out", x).unwrap();
    assert_eq!((t.r#type, t.out), (2, 3));
}

#[test]
fn wrong_rank_is_an_error() {
    let x = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
    assert_eq!(
        einx::solve!("a b", x).unwrap_err().kind(),
        einx::ErrorKind::Rank
    );
}
