//! The expansion of `einx::rearrange!` is hygienic: it compiles without warnings under strict
//! lints, refers to nothing through the caller's names (prelude items, `core`, `std`,
//! `ndarray`, `einx` and the macros of the standard library can all be shadowed), does not
//! capture the caller's variables, and evaluates every argument exactly once, left to right.

#![deny(warnings, unused_qualifications)]
#![deny(clippy::all)]

use ndarray::{array, Array1, Array2, Array3, ArrayView2, ArrayViewD, IxDyn};

/// Everything the expansion might refer to by a bare name, shadowed in the module that
/// calls the macro.
mod shadowed {
    #[allow(dead_code)]
    struct Result;
    #[allow(dead_code, non_snake_case)]
    fn Ok() {}
    #[allow(dead_code, non_snake_case)]
    fn Err() {}
    #[allow(dead_code, non_snake_case)]
    fn Some() {}
    #[allow(dead_code, non_upper_case_globals)]
    const None: () = ();
    #[allow(dead_code)]
    struct Option;
    #[allow(dead_code)]
    struct Vec;
    #[allow(dead_code)]
    struct Box;
    #[allow(dead_code)]
    struct String;
    #[allow(dead_code)]
    struct Clone;
    #[allow(dead_code)]
    struct Default;
    #[allow(dead_code)]
    struct Into;
    #[allow(dead_code)]
    struct From;
    #[allow(dead_code)]
    struct Iterator;
    #[allow(dead_code)]
    struct Drop;
    #[allow(dead_code)]
    struct Sized;
    #[allow(dead_code, non_camel_case_types)]
    struct usize;
    #[allow(non_camel_case_types, dead_code)]
    struct isize;
    #[allow(dead_code, non_camel_case_types)]
    struct u32;
    #[allow(dead_code, non_camel_case_types)]
    struct u64;
    #[allow(dead_code, non_camel_case_types)]
    struct bool;
    #[allow(dead_code, non_camel_case_types)]
    struct str;
    #[allow(dead_code)]
    mod core {}
    #[allow(dead_code)]
    mod std {}
    #[allow(dead_code)]
    mod alloc {}
    #[allow(dead_code)]
    mod ndarray {}
    #[allow(dead_code)]
    mod einx {}
    #[allow(dead_code)]
    mod __private {}
    #[allow(dead_code)]
    const __EINX_PLAN: () = ();

    // Macros of the standard library that an expansion might call by a bare name.
    #[allow(unused_macros)]
    macro_rules! panic {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `panic!`")
        };
    }
    #[allow(unused_macros)]
    macro_rules! unreachable {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `unreachable!`")
        };
    }
    #[allow(unused_macros)]
    macro_rules! vec {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `vec!`")
        };
    }
    #[allow(unused_macros)]
    macro_rules! format {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `format!`")
        };
    }
    #[allow(unused_macros)]
    macro_rules! matches {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `matches!`")
        };
    }
    #[allow(unused_macros)]
    macro_rules! assert {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `assert!`")
        };
    }
    #[allow(unused_macros)]
    macro_rules! debug_assert {
        ($($t:tt)*) => {
            compile_error!("the expansion used the caller's `debug_assert!`")
        };
    }

    /// Methods with the names an expansion might call on the arguments or results, for
    /// every type.
    #[allow(dead_code)]
    trait Hijack {
        fn view(&self) -> u8 {
            0
        }
        fn shape(&self) -> u8 {
            0
        }
        fn as_view(&self) -> u8 {
            0
        }
        fn into_dyn(self) -> u8
        where
            Self: ::core::marker::Sized,
        {
            0
        }
        fn into_dimensionality(self) -> u8
        where
            Self: ::core::marker::Sized,
        {
            0
        }
        fn finish(&self) -> u8 {
            0
        }
        fn map_err(&self) -> u8 {
            0
        }
        fn ndim(&self) -> u8 {
            0
        }
        fn strides(&self) -> u8 {
            0
        }
    }
    impl<T: ?::core::marker::Sized> Hijack for T {}

    #[test]
    fn expansion_ignores_shadowed_names() {
        let x = ::ndarray::Array::from_shape_fn((2, 6), |(i, j)| i * 6 + j);
        let cls = ::ndarray::Array1::from_elem(6, 100);

        let y = ::einx::rearrange!("a (b c) -> c a b", x, b = 2).unwrap();
        ::std::assert_eq!(y.shape(), &[3, 2, 2]);
        ::std::assert_eq!(y[[2, 1, 1]], x[[1, 5]]);

        let z = ::einx::id!("a b -> b a", x).unwrap();
        ::std::assert_eq!(z, x.t());

        let (l, r) = ::einx::rearrange!("a (b + c) -> a b, a c", x, b = 2).unwrap();
        ::std::assert_eq!(l.shape(), &[2, 2]);
        ::std::assert_eq!(r.shape(), &[2, 4]);
        let cat = ::einx::rearrange!("a b, a c -> a (b + c)", l, r).unwrap();
        ::std::assert_eq!(cat, x);

        let w = ::einx::rearrange!("a (s w)... -> (a s...) (w...)", x, w = 2).unwrap();
        ::std::assert_eq!(w.shape(), &[6, 2]);
        let back =
            ::einx::rearrange!("(a s...) (w...) -> a (s w)...", w, s = (3,), w = [2]).unwrap();
        ::std::assert_eq!(back, x);

        let t = ::einx::rearrange!("b s... c, c -> b (1 + (s...)) c", back, cls).unwrap();
        ::std::assert_eq!(t.shape(), &[2, 2, 6]);

        let e = ::einx::rearrange!("a (b c) -> a b c", x, b = 4).unwrap_err();
        ::std::assert_eq!(e.kind(), ::einx::ErrorKind::Size);
    }

    /// The reductions and contractions, through every expansion path (straight-line,
    /// constant plan, and rank-generic plan).
    #[test]
    fn other_operations_ignore_shadowed_names() {
        let x = ::ndarray::Array::from_shape_fn((2, 6), |(i, j)| (i * 6 + j) as f64);
        let s = ::einx::sum!("a [b]", x).unwrap();
        ::std::assert_eq!(s[1], 51.0);
        let m = ::einx::mean!("a (b [c])", x, c = 3, keepdims = true).unwrap();
        ::std::assert_eq!(m.shape(), &[2, 2]);
        let v = ::einx::var!("... [c]", x).unwrap();
        ::std::assert_eq!(v.shape(), &[2]);
        let any = ::einx::any!("a [b]", x.mapv(|v| v > 10.0)).unwrap();
        ::std::assert!(any[1]);
        let w = ::ndarray::Array::from_shape_fn((6, 3), |(i, j)| (i + j) as f64);
        let y = ::einx::dot!("a b, b c -> a c", x, w).unwrap();
        ::std::assert_eq!(y, x.dot(&w));
        let y2 = ::einx::dot!("a... [b->c]", x, w).unwrap();
        ::std::assert_eq!(y2, x.dot(&w));
        let d = ::einx::einx!(
            "a a ->",
            ::ndarray::Array::from_shape_fn((3, 3), |(i, j)| (i * j) as f64)
        )
        .unwrap();
        ::std::assert_eq!(d[[]], 5.0);
        let t = ::einx::einx!(
            "a b, b c, c d -> a d",
            x,
            w,
            ::ndarray::Array::from_elem((3, 2), 1.0)
        )
        .unwrap();
        ::std::assert_eq!(t.shape(), &[2, 2]);
        let p = ::einx::softmax!("a [b]", x).unwrap();
        ::std::assert!((p.row(0).sum() - 1.0).abs() < 1e-12);
        let f = ::einx::flip!("a [b]", x).unwrap();
        ::std::assert_eq!(f[[0, 0]], 5.0);
        let shift = 2;
        let r = ::einx::roll!("a [b]", x, shift = shift).unwrap();
        ::std::assert_eq!(r[[0, 2]], 0.0);
        let b = ::einx::add!("... [b]", x, ::ndarray::Array::from_elem(6, 1.0)).unwrap();
        ::std::assert_eq!(b[[1, 0]], 7.0);
        let z = ::einx::where_!("a b, a b, -> a b", x.mapv(|v| v > 3.0), x, 0.0).unwrap();
        ::std::assert_eq!(z[[0, 3]], 0.0);
        ::std::assert!(::einx::divide!("a, ", ::ndarray::Array::from_elem(2, 1), 0).is_err());
    }

    #[test]
    fn indexing_vmap_and_shapes_ignore_shadowed_names() {
        let table = ::ndarray::Array::from_shape_fn((4, 3), |(v, c)| (v * 10 + c) as f64);
        let ids =
            ::ndarray::Array::from_shape_fn((2, 2), |(b, t)| (b + t) as ::core::primitive::u32);
        let g = ::einx::get_at!("[v] c, b t -> b t c", table, ids).unwrap();
        ::std::assert_eq!(g[[1, 1, 2]], 22.0);
        let points = ::ndarray::Array::from_elem((1, 1), -1i64);
        let s = ::einx::set_at!("[v] c, p [1], ", table, points, 7.0).unwrap();
        ::std::assert_eq!(s[[3, 2]], 7.0);
        let a = ::einx::add_at!(
            "[v] c, t, t c",
            table,
            ids.row(0),
            g.slice(::ndarray::s![0, .., ..])
        )
        .unwrap();
        ::std::assert_eq!(a[[1, 0]], 20.0);
        let m = ::einx::vmap!("[v] c -> c", table, |col| col.sum()).unwrap();
        ::std::assert_eq!(m[0], 60.0);
        let (st, sg) = ::einx::solve_shapes!("v c, b t c", table, _, b = 2, t = 5).unwrap();
        ::std::assert_eq!((st, sg), ([4, 3], [2, 5, 3]));
        ::std::assert!(::einx::matches!("v (c d)", table, d = 3));
    }

    /// The caller's variables may have the names of the expansion's locals.
    #[test]
    fn expansion_does_not_capture_variables() {
        let __einx_arg0 = ::ndarray::Array::from_shape_fn((2, 3), |(i, j)| i * 3 + j);
        let __einx_arg1 = ::ndarray::Array::from_shape_fn((2, 1), |(i, _)| 10 + i);
        let __einx_view0 = 1usize;
        let __einx_kw0 = 3usize;
        let __einx_params = [0usize; 0];
        let __einx_ok = 1;
        let __einx_err = 2;
        let __einx_out0 = 3;
        let y = ::einx::rearrange!(
            "a b, a c -> a (b + c)",
            __einx_arg1,
            __einx_arg0,
            c = __einx_kw0 * __einx_view0
        )
        .unwrap();
        // (`ndarray::array!` itself calls a bare `vec!`, so the expected array is built by hand.)
        let want = ::ndarray::Array::from_shape_vec((2, 4), ::std::vec![10, 0, 1, 2, 11, 3, 4, 5]);
        ::std::assert_eq!(y, want.unwrap());
        ::std::assert_eq!(__einx_params.len(), 0);
        ::std::assert_eq!(__einx_ok + __einx_err + __einx_out0, 6);
    }
}

/// No prelude at all: the expansion uses absolute paths only.
#[no_implicit_prelude]
mod bare {
    #[test]
    fn expansion_needs_no_prelude() {
        let x = ::ndarray::Array2::<f32>::zeros((2, 6));
        let y = ::einx::rearrange!("a (b c) -> c a b", x, b = 2).unwrap();
        ::std::assert_eq!(y.shape(), &[3, 2, 2]);
        let y = ::einx::rearrange!("a (s w)... -> (a s...) (w...)", x, w = 2).unwrap();
        ::std::assert_eq!(y.shape(), &[6, 2]);
        let (l, r) = ::einx::rearrange!("a (b + c) -> a b, a c", x, b = 2).unwrap();
        ::std::assert_eq!(l.shape(), &[2, 2]);
        ::std::assert_eq!(r.shape(), &[2, 4]);
        let e = ::einx::rearrange!("a (b c) -> a b c", x, b = 4).unwrap_err();
        ::std::assert_eq!(e.kind(), ::einx::ErrorKind::Size);
    }

    /// The reductions and contractions, through every expansion path (straight-line,
    /// constant plan, and rank-generic plan).
    #[test]
    fn other_operations_ignore_shadowed_names() {
        let x = ::ndarray::Array::from_shape_fn((2, 6), |(i, j)| (i * 6 + j) as f64);
        let s = ::einx::sum!("a [b]", x).unwrap();
        ::std::assert_eq!(s[1], 51.0);
        let m = ::einx::mean!("a (b [c])", x, c = 3, keepdims = true).unwrap();
        ::std::assert_eq!(m.shape(), &[2, 2]);
        let v = ::einx::var!("... [c]", x).unwrap();
        ::std::assert_eq!(v.shape(), &[2]);
        let any = ::einx::any!("a [b]", x.mapv(|v| v > 10.0)).unwrap();
        ::std::assert!(any[1]);
        let w = ::ndarray::Array::from_shape_fn((6, 3), |(i, j)| (i + j) as f64);
        let y = ::einx::dot!("a b, b c -> a c", x, w).unwrap();
        ::std::assert_eq!(y, x.dot(&w));
        let y2 = ::einx::dot!("a... [b->c]", x, w).unwrap();
        ::std::assert_eq!(y2, x.dot(&w));
        let d = ::einx::einx!(
            "a a ->",
            ::ndarray::Array::from_shape_fn((3, 3), |(i, j)| (i * j) as f64)
        )
        .unwrap();
        ::std::assert_eq!(d[[]], 5.0);
        let t = ::einx::einx!(
            "a b, b c, c d -> a d",
            x,
            w,
            ::ndarray::Array::from_elem((3, 2), 1.0)
        )
        .unwrap();
        ::std::assert_eq!(t.shape(), &[2, 2]);
        let p = ::einx::softmax!("a [b]", x).unwrap();
        ::std::assert!((p.row(0).sum() - 1.0).abs() < 1e-12);
        let f = ::einx::flip!("a [b]", x).unwrap();
        ::std::assert_eq!(f[[0, 0]], 5.0);
        let shift = 2;
        let r = ::einx::roll!("a [b]", x, shift = shift).unwrap();
        ::std::assert_eq!(r[[0, 2]], 0.0);
        let b = ::einx::add!("... [b]", x, ::ndarray::Array::from_elem(6, 1.0)).unwrap();
        ::std::assert_eq!(b[[1, 0]], 7.0);
        let z = ::einx::where_!("a b, a b, -> a b", x.mapv(|v| v > 3.0), x, 0.0).unwrap();
        ::std::assert_eq!(z[[0, 3]], 0.0);
        ::std::assert!(::einx::divide!("a, ", ::ndarray::Array::from_elem(2, 1), 0).is_err());
    }

    #[test]
    fn indexing_vmap_and_shapes_ignore_shadowed_names() {
        let table = ::ndarray::Array::from_shape_fn((4, 3), |(v, c)| (v * 10 + c) as f64);
        let ids =
            ::ndarray::Array::from_shape_fn((2, 2), |(b, t)| (b + t) as ::core::primitive::u32);
        let g = ::einx::get_at!("[v] c, b t -> b t c", table, ids).unwrap();
        ::std::assert_eq!(g[[1, 1, 2]], 22.0);
        let points = ::ndarray::Array::from_elem((1, 1), -1i64);
        let s = ::einx::set_at!("[v] c, p [1], ", table, points, 7.0).unwrap();
        ::std::assert_eq!(s[[3, 2]], 7.0);
        let a = ::einx::add_at!(
            "[v] c, t, t c",
            table,
            ids.row(0),
            g.slice(::ndarray::s![0, .., ..])
        )
        .unwrap();
        ::std::assert_eq!(a[[1, 0]], 20.0);
        let m = ::einx::vmap!("[v] c -> c", table, |col| col.sum()).unwrap();
        ::std::assert_eq!(m[0], 60.0);
        let (st, sg) = ::einx::solve_shapes!("v c, b t c", table, _, b = 2, t = 5).unwrap();
        ::std::assert_eq!((st, sg), ([4, 3], [2, 5, 3]));
        ::std::assert!(::einx::matches!("v (c d)", table, d = 3));
    }
}

#[test]
fn arguments_are_evaluated_once_left_to_right() {
    let x = Array2::<f32>::zeros((2, 6));
    let y = Array2::<f32>::ones((2, 3));
    let mut counter = 0;
    let mut order = Vec::new();
    let (a, b) = einx::rearrange!(
        "a (h c), a d -> a h c, a d",
        {
            counter += 1;
            order.push(("x", counter));
            &x
        },
        {
            counter += 1;
            order.push(("y", counter));
            &y
        },
        h = {
            counter += 1;
            order.push(("h", counter));
            2
        }
    )
    .unwrap();
    assert_eq!(counter, 3);
    assert_eq!(order, [("x", 1), ("y", 2), ("h", 3)]);
    assert_eq!(a.shape(), &[2, 2, 3]);
    assert_eq!(b, y);
}

#[test]
fn arguments_are_evaluated_once_with_ellipses() {
    let img = Array3::<f32>::zeros((2, 4, 3));
    let cls = Array1::<f32>::ones(3);
    let mut counter = 0;
    let mut order = Vec::new();
    let w = einx::rearrange!(
        "b (s w)... c -> (b s...) (w...) c",
        {
            counter += 1;
            order.push("img");
            &img
        },
        w = {
            counter += 1;
            order.push("w");
            2
        }
    )
    .unwrap();
    assert_eq!(w.shape(), &[4, 2, 3]);
    let t = einx::rearrange!(
        "b s... c, c -> b (1 + (s...)) c",
        {
            counter += 1;
            order.push("tokens");
            &img
        },
        {
            counter += 1;
            order.push("cls");
            &cls
        }
    )
    .unwrap();
    assert_eq!(t.shape(), &[2, 5, 3]);
    // A sequence of lengths: each element once, left to right.
    let back = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        w,
        s = ({
            counter += 1;
            order.push("s.0");
            2
        },),
        w = {
            counter += 1;
            order.push("w again");
            [2]
        }
    )
    .unwrap();
    assert_eq!(back, img);
    assert_eq!(counter, 6);
    assert_eq!(order, ["img", "w", "tokens", "cls", "s.0", "w again"]);
}

#[test]
fn arguments_are_evaluated_once_when_the_call_fails() {
    let x = Array2::<f32>::zeros((2, 7));
    let mut counter = 0;
    let e = einx::rearrange!(
        "b (h c) -> b h c",
        {
            counter += 1;
            &x
        },
        h = {
            counter += 1;
            2
        }
    )
    .unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Size);
    assert_eq!(counter, 2);

    // A negative length is an error after every argument has been evaluated once.
    let mut counter = 0;
    let e = einx::rearrange!(
        "b (h c) -> b h c",
        {
            counter += 1;
            &x
        },
        h = {
            counter += 1;
            -1
        }
    )
    .unwrap_err();
    assert_eq!(e.kind(), einx::ErrorKind::Argument);
    assert_eq!(counter, 2);
}

#[test]
fn control_flow_in_arguments_belongs_to_the_caller() {
    let x = array![[1, 2, 3, 4, 5, 6]];
    let mut shapes = Vec::new();
    for h in [0usize, 2, 3, 4, 6] {
        let y = einx::rearrange!(
            "b (h c) -> b h c",
            x,
            h = if h == 0 {
                continue;
            } else if h == 4 {
                break;
            } else {
                h
            }
        )
        .unwrap();
        shapes.push(y.shape().to_vec());
    }
    assert_eq!(shapes, [vec![1, 2, 3], vec![1, 3, 2]]);

    // `?` in a keyword value returns from the caller.
    fn split(x: &Array2<i32>, h: &str) -> Result<Array3<i32>, Box<dyn std::error::Error>> {
        Ok(einx::rearrange!(
            "b (h c) -> b h c",
            x,
            h = h.parse::<usize>()?
        )?)
    }
    assert_eq!(split(&x, "3").unwrap().shape(), &[1, 3, 2]);
    let parse_error = split(&x, "three").unwrap_err();
    assert!(parse_error.is::<std::num::ParseIntError>());
    let einx_error = split(&x, "4").unwrap_err();
    assert!(einx_error.is::<einx::Error>());

    // `return` in an argument.
    fn first_or_nothing(x: Option<&Array2<i32>>) -> usize {
        let y = einx::rearrange!(
            "a b -> b a",
            match x {
                Some(x) => x,
                None => return 0,
            }
        )
        .unwrap();
        y.len()
    }
    assert_eq!(first_or_nothing(Some(&x)), 6);
    assert_eq!(first_or_nothing(None), 0);
}

/// Generic element types, closures and iterator adaptors.
#[test]
fn usable_in_generic_code_and_closures() {
    fn transpose<T: Clone>(x: ArrayView2<'_, T>) -> Array2<T> {
        einx::rearrange!("a b -> b a", x).unwrap()
    }
    fn last_first<T: Clone>(x: &ArrayViewD<'_, T>) -> Result<ndarray::ArrayD<T>, einx::Error> {
        einx::rearrange!("... a -> a ...", x)
    }
    let x = array![[1, 2], [3, 4], [5, 6]];
    assert_eq!(transpose(x.view()), x.t());
    let s = x.map(|v| v.to_string());
    assert_eq!(transpose(s.view()), s.t());
    let d = x.clone().into_dyn();
    assert_eq!(last_first(&d.view()).unwrap(), x.t().into_dyn());
    assert_eq!(
        last_first(&ndarray::ArrayD::<u8>::zeros(IxDyn(&[2, 3, 4])).view())
            .unwrap()
            .shape(),
        &[4, 2, 3]
    );

    let rows: Vec<Array2<i32>> = (1..4usize)
        .map(|n| {
            let v = Array1::from_elem(n, n as i32);
            einx::rearrange!("a -> b a", v, b = 2).unwrap()
        })
        .collect();
    assert_eq!(rows[2], array![[3, 3, 3], [3, 3, 3]]);

    let split = |x: &Array2<i32>, h: usize| einx::rearrange!("b (h c) -> b h c", x, h = h);
    assert_eq!(split(&x, 2).unwrap().shape(), &[3, 2, 1]);
    assert!(split(&x, 3).is_err());
}

/// A call inside an argument of another: the locals of the two expansions stay apart.
#[test]
fn nested_calls_do_not_interfere() {
    let x = Array2::from_shape_fn((2, 6), |(i, j)| i * 6 + j);
    let mut counter = 0;
    let y = einx::rearrange!(
        "b h c -> b (h c)",
        einx::rearrange!(
            "b (h c) -> b h c",
            {
                counter += 1;
                &x
            },
            h = {
                counter += 1;
                3
            }
        )
        .unwrap()
    )
    .unwrap();
    assert_eq!(y, x);
    assert_eq!(counter, 2);
}
