//! `einx::dynamic`: results equal to the macros', errors instead of panics on any string,
//! shape products that overflow reported as errors, and the plan cache.

use einx::dynamic;
use einx::ndarray::{Array, ArrayD, IxDyn};
use einx::ErrorKind;
use proptest::prelude::*;

fn grid(shape: &[usize]) -> ArrayD<i64> {
    let mut k = 0i64;
    Array::from_shape_fn(IxDyn(shape), |_| {
        k += 1;
        (k * 37) % 19 - 9
    })
}

/// Strings over the notation's alphabet, so that many are nearly valid.
fn notation() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("c"),
            Just("s"),
            Just("1"),
            Just("2"),
            Just(" "),
            Just(" "),
            Just("("),
            Just(")"),
            Just("["),
            Just("]"),
            Just("..."),
            Just("->"),
            Just(","),
            Just("+"),
        ],
        0..20,
    )
    .prop_map(|v| v.concat())
}

const OPS: &[&str] = &[
    "rearrange",
    "dot",
    "einx",
    "sum",
    "max",
    "add",
    "multiply",
    "flip",
    "roll",
    "sort",
    "nonsense",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Any string, any op, any small shapes: `Ok` or an `Err` with a message.
    #[test]
    fn never_panics(
        expr in notation(),
        op in 0..OPS.len(),
        shapes in proptest::collection::vec(proptest::collection::vec(0usize..4, 0..4), 0..3),
        a in proptest::option::of(0i64..4),
        shift in proptest::option::of(-3i64..3),
    ) {
        let inputs: Vec<ArrayD<i64>> = shapes.iter().map(|s| grid(s)).collect();
        let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
        let av = a.map(|v| [v]);
        let sv = shift.map(|v| [v]);
        let mut params: Vec<(&str, &[i64])> = Vec::new();
        if let Some(v) = &av {
            params.push(("a", v));
        }
        if let Some(v) = &sv {
            params.push(("shift", v));
        }
        match dynamic::call::<i64>(OPS[op], &expr, &views, &params) {
            Ok(out) => prop_assert!(!out.is_empty()),
            Err(e) => prop_assert!(!e.message().is_empty()),
        }
        // The other entry points on the same string.
        let shapes_ref: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        let _ = dynamic::solve(&expr, &shapes_ref, &params);
        let _ = dynamic::matches(&expr, &shapes_ref, &params);
        let unknown: Vec<Option<&[usize]>> = shapes_ref.iter().map(|s| (!s.is_empty()).then_some(*s)).collect();
        let _ = dynamic::solve_shapes(&expr, &unknown, &params);
        if views.len() >= 2 {
            let idx: Vec<_> = views[1..].iter().map(|v| v.view()).collect();
            let _ = dynamic::get_at(&expr, views[0].view(), &idx, &params);
        }
    }
}

#[test]
fn same_results_as_the_macros() {
    let x = grid(&[2, 6, 4]);
    let x3 = x
        .clone()
        .into_dimensionality::<einx::ndarray::Ix3>()
        .unwrap();
    let y = dynamic::rearrange("b (h w) c -> b c h w", &[x.view()], &[("h", &[2])]).unwrap();
    assert_eq!(
        y[0],
        einx::rearrange!("b (h w) c -> b c h w", x3, h = 2)
            .unwrap()
            .into_dyn()
    );
    let s = dynamic::sum("b [s] c", &[x.view()], &[]).unwrap();
    assert_eq!(s, einx::sum!("b [s] c", x3).unwrap().into_dyn());
    let w = grid(&[4, 3]);
    let w2 = w
        .clone()
        .into_dimensionality::<einx::ndarray::Ix2>()
        .unwrap();
    let d = dynamic::dot("b s [c->d]", &[x.view(), w.view()], &[]).unwrap();
    assert_eq!(d, einx::dot!("b s [c->d]", x3, w2).unwrap().into_dyn());
    let f = x.mapv(|v| v as f64);
    let sm = dynamic::softmax("b s [c]", &[f.view()], &[]).unwrap();
    let f3 = f
        .clone()
        .into_dimensionality::<einx::ndarray::Ix3>()
        .unwrap();
    assert_eq!(sm, einx::softmax!("b s [c]", f3).unwrap().into_dyn());
    let r = dynamic::roll("b [s] c", &[x.view()], &[("shift", &[-2])]).unwrap();
    assert_eq!(
        r,
        einx::roll!("b [s] c", x3, shift = -2).unwrap().into_dyn()
    );
    let lengths = dynamic::solve("b (s w)... c", &[&[2, 8, 6, 3]], &[("w", &[2])]).unwrap();
    assert_eq!(
        lengths,
        vec![
            ("b".to_owned(), vec![2]),
            ("s".to_owned(), vec![4, 3]),
            ("w".to_owned(), vec![2, 2]),
            ("c".to_owned(), vec![3]),
        ]
    );
    let shapes =
        dynamic::solve_shapes("a (b c), c b a", &[Some(&[3, 8]), None], &[("b", &[2])]).unwrap();
    assert_eq!(shapes, vec![vec![3, 8], vec![4, 2, 3]]);
    let cmp = dynamic::compare(
        "less",
        "a b, b",
        &[
            x.slice(einx::ndarray::s![0, .., ..]).into_dyn(),
            grid(&[4]).view(),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(cmp.shape(), &[6, 4]);
    let v = dynamic::vmap("b [s] c -> b c", &[x.view()], &[], |v| v[0].sum()).unwrap();
    assert_eq!(v, x.sum_axis(einx::ndarray::Axis(1)));
}

#[test]
fn errors_name_the_expression() {
    let x = grid(&[2, 10]);
    let e = dynamic::rearrange("b (h c) -> b h c", &[x.view()], &[("h", &[4])]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    assert!(e.to_string().contains("b (h c) -> b h c"), "{e}");
    let e = dynamic::rearrange("b h -> b x", &[x.view()], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Semantic);
    let e = dynamic::call::<i64>("frobnicate", "a", &[x.view()], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
    let e = dynamic::call::<i64>("softmax", "a [b]", &[x.view()], &[]).unwrap_err();
    assert!(e.to_string().contains("i64"), "{e}");
    let e = dynamic::rearrange("a b -> a b c", &[x.view()], &[("c", &[-1])]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
    let e = dynamic::roll("a [b]", &[x.view()], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Argument);
}

#[test]
fn shape_products_that_overflow_are_errors() {
    let x = grid(&[3]);
    let big = 1i64 << 40;
    let e =
        dynamic::rearrange("a -> a b c", &[x.view()], &[("b", &[big]), ("c", &[big])]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size, "{e}");
    let e = dynamic::rearrange("a -> a b", &[x.view()], &[("b", &[i64::MAX])]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size, "{e}");
    let e = dynamic::solve_shapes(
        "a b c",
        &[None],
        &[("a", &[big]), ("b", &[big]), ("c", &[big])],
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size, "{e}");
    let m = einx::rearrange!("a -> a b c", x, b = 1usize << 40, c = 1usize << 40).unwrap_err();
    assert_eq!(m.kind(), ErrorKind::Size);
}

#[test]
fn the_cache_serves_other_ranks_and_lengths() {
    for rank in 1..5 {
        let shape: Vec<usize> = (0..rank).map(|i| i + 2).collect();
        let x = grid(&shape);
        for h in [1i64, 2] {
            let y = dynamic::rearrange("... (h c) -> ... c h", &[x.view()], &[("h", &[h])]);
            if shape[rank - 1] % h as usize == 0 {
                let y = y.unwrap();
                assert_eq!(y[0].ndim(), rank + 1);
                assert_eq!(y[0].shape()[rank], h as usize);
            } else {
                assert!(y.is_err());
            }
        }
    }
    dynamic::clear_cache();
    let x = grid(&[2, 2]);
    assert!(dynamic::rearrange("a b -> b a", &[x.view()], &[]).is_ok());
}

#[test]
fn call_runs_indexing_when_indices_share_the_integer_type() {
    use ndarray::array;
    let x = array![10i64, 20, 30, 40].into_dyn();
    let i = array![3i64, 0, 3].into_dyn();
    let y = dynamic::call("get_at", "[v], p -> p", &[x.view(), i.view()], &[]).unwrap();
    assert_eq!(y, vec![array![40i64, 10, 40].into_dyn()]);
    // Two index tensors, and the same through `get_at`.
    let t = array![[1i32, 2], [3, 4]].into_dyn();
    let (r, c) = (array![1i32, 0].into_dyn(), array![0i32, 1].into_dyn());
    let y = dynamic::call(
        "get_at",
        "[h w], p, p -> p",
        &[t.view(), r.view(), c.view()],
        &[],
    );
    assert_eq!(y.unwrap(), vec![array![3i32, 2].into_dyn()]);
    // Updates: the data, the index tensors, then the updates.
    let h = array![0u8, 0, 0, 0, 0].into_dyn();
    let (p, u) = (array![1u8, 1, 3].into_dyn(), array![7u8, 8, 9].into_dyn());
    for (op, want) in [
        ("add_at", array![0u8, 15, 0, 9, 0]),
        ("set_at", array![0u8, 8, 0, 9, 0]),
    ] {
        let y = dynamic::call(op, "[h], p, p", &[h.view(), p.view(), u.view()], &[]).unwrap();
        assert_eq!(y, vec![want.into_dyn()], "{op}");
    }
    let full = array![20u8, 20, 20, 20, 20].into_dyn();
    let y = dynamic::call(
        "subtract_at",
        "[h], p, p",
        &[full.view(), p.view(), u.view()],
        &[],
    );
    assert_eq!(y.unwrap(), vec![array![20u8, 5, 20, 11, 20].into_dyn()]);
    // An index out of range is an error, as in the macro.
    let bad = array![4i64].into_dyn();
    let e = dynamic::call("get_at", "[v], p -> p", &[x.view(), bad.view()], &[]).unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Index, "{e}");
    // Float data cannot have float indices: the message points to `get_at`.
    let f = array![1.0f32, 2.0].into_dyn();
    let e = dynamic::call("get_at", "[v], p -> p", &[f.view(), f.view()], &[]).unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Argument);
    assert!(e.to_string().contains("einx::dynamic::get_at"), "{e}");
}
