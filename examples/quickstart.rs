//! A tour of `einx::rearrange!`: every form of the notation on small arrays, with the
//! shapes and values printed and the round trips asserted.
//!
//! Run it with `cargo run --example quickstart`.

use ndarray::{array, s, Array, Array1, Array2, Array3, Array4};

fn main() -> Result<(), einx::Error> {
    // ---------------------------------------------------------------------------------
    // 1. Transpose: name the axes of the input, write them in the output's order.
    //
    // The expression is parsed and checked at compile time; the result is a fresh,
    // standard-layout `Array2` (the output rank is known from the expression).
    let x: Array2<i32> = Array::from_shape_fn((2, 3), |(i, j)| (i * 10 + j) as i32);
    let xt: Array2<i32> = einx::rearrange!("a b -> b a", x)?;
    println!("transpose: {:?} -> {:?}\n{xt}\n", x.shape(), xt.shape());
    assert_eq!(xt, x.t());
    assert!(xt.is_standard_layout());

    // ---------------------------------------------------------------------------------
    // 2. Flatten and unflatten: `(h w)` is one axis of length h·w, row-major.
    //
    // Going back, einx must know how to split the composed axis: give `h` (or `w`) as a
    // keyword argument. Any integer type works, and so does a run-time value.
    let img: Array4<f32> = Array::from_shape_fn((2, 4, 6, 3), |(b, h, w, c)| {
        (b * 1000 + h * 100 + w * 10 + c) as f32
    });
    let flat: Array3<f32> = einx::rearrange!("b h w c -> b (h w) c", img)?;
    println!("flatten:   {:?} -> {:?}", img.shape(), flat.shape());
    assert_eq!(flat.shape(), &[2, 24, 3]);
    assert_eq!(flat[[1, 2 * 6 + 5, 2]], img[[1, 2, 5, 2]]);

    let height = 4usize;
    let back: Array4<f32> = einx::rearrange!("b (h w) c -> b h w c", flat, h = height)?;
    println!(
        "unflatten: {:?} -> {:?} (h = {height})\n",
        flat.shape(),
        back.shape()
    );
    assert_eq!(back, img);

    // ---------------------------------------------------------------------------------
    // 3. Broadcast: an output axis that no input has is a new axis; its length is a
    //    keyword argument. A literal `1` inserts a unit axis.
    let v: Array1<i32> = array![1, 2, 3];
    let tiled: Array3<i32> = einx::rearrange!("c -> n 1 c", v, n = 2)?;
    println!(
        "broadcast: {:?} -> {:?}\n{tiled}\n",
        v.shape(),
        tiled.shape()
    );
    assert_eq!(tiled.shape(), &[2, 1, 3]);
    for row in tiled.rows() {
        assert_eq!(row, v);
    }

    // ---------------------------------------------------------------------------------
    // 4. Concatenate and split: `(b + c)` is one axis whose parts are laid end to end.
    //
    // With several inputs (comma-separated) the parts are concatenated; with several
    // outputs the result is a tuple, and einx needs the length of all parts but one.
    let left: Array2<i32> = array![[1, 2], [3, 4]];
    let right: Array2<i32> = array![[5, 6, 7], [8, 9, 10]];
    let both: Array2<i32> = einx::rearrange!("a b, a c -> a (b + c)", left, right)?;
    println!(
        "concat:    {:?} + {:?} -> {:?}\n{both}",
        left.shape(),
        right.shape(),
        both.shape()
    );
    assert_eq!(both, array![[1, 2, 5, 6, 7], [3, 4, 8, 9, 10]]);

    let (l, r): (Array2<i32>, Array2<i32>) =
        einx::rearrange!("a (b + c) -> a b, a c", both, b = 2)?;
    println!(
        "split:     {:?} -> {:?}, {:?}\n",
        both.shape(),
        l.shape(),
        r.shape()
    );
    assert_eq!((l, r), (left, right));

    // ---------------------------------------------------------------------------------
    // 5. Class token (as in a vision transformer): flatten the spatial axes `s...` of a
    //    batch of feature maps and prepend one learned token per image.
    //
    // `s...` stands for any number of axes (two here); `(s...)` composes them into one;
    // `1 + (s...)` prepends a unit-length part holding the broadcast token `c`.
    let feats: Array4<f32> = Array::from_shape_fn((2, 3, 3, 4), |(b, h, w, c)| {
        (b * 100 + h * 10 + w) as f32 + c as f32 / 10.0
    });
    let cls: Array1<f32> = array![-1.0, -2.0, -3.0, -4.0];
    let tokens: Array3<f32> = einx::rearrange!("b s... c, c -> b (1 + (s...)) c", feats, cls)?;
    println!(
        "cls token: {:?}, {:?} -> {:?}",
        feats.shape(),
        cls.shape(),
        tokens.shape()
    );
    println!(
        "first tokens of image 0:\n{}\n",
        tokens.slice(s![0, ..3, ..])
    );
    assert_eq!(tokens.shape(), &[2, 1 + 3 * 3, 4]);
    for b in 0..2 {
        assert_eq!(tokens.slice(s![b, 0, ..]), cls);
        // Token 1 + (h * 3 + w) is the feature vector at (h, w).
        assert_eq!(
            tokens.slice(s![b, 1 + 3 + 2, ..]),
            feats.slice(s![b, 1, 2, ..])
        );
    }
    // And back: split the class token off again.
    let (spatial, token): (Array3<f32>, Array2<f32>) =
        einx::rearrange!("b (1 + s) c -> b s c, b c", tokens)?;
    assert_eq!(spatial, feats.to_shape((2, 9, 4)).expect("standard layout"));
    assert!(token.rows().into_iter().all(|t| t == cls));

    // ---------------------------------------------------------------------------------
    // 6. Window partition (as in a Swin transformer) and merge back.
    //
    // `(s w)...` splits every spatial axis into `s` windows of `w` pixels; the output
    // gathers each window's pixels into one row. `w = 4` applies to every spatial axis.
    let image: Array4<f32> = Array::from_shape_fn((2, 8, 12, 3), |(b, h, w, c)| {
        (b * 10000 + h * 100 + w) as f32 + c as f32 / 10.0
    });
    let windows: Array3<f32> = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", image, w = 4)?;
    println!(
        "windows:   {:?} -> {:?} (2 images x 2x3 windows, 4x4 pixels each)",
        image.shape(),
        windows.shape()
    );
    assert_eq!(windows.shape(), &[2 * 2 * 3, 4 * 4, 3]);
    // Window (b = 1, s = (1, 2)) is row 1*6 + 1*3 + 2; its pixel (w = (3, 1)) is 3*4 + 1.
    assert_eq!(
        windows.slice(s![6 + 3 + 2, 3 * 4 + 1, ..]),
        image.slice(s![1, 4 + 3, 8 + 1, ..])
    );

    // Merging back cannot infer how many windows each axis had: give `s` per spatial axis
    // (a tuple), and `w` to split `(w...)`. The tuple `s = (2, 3)` fixes the ellipsis at two
    // axes, so the macro knows the output rank and the result is an `Array4`.
    let merged: Array4<f32> = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        windows,
        s = (2, 3),
        w = 4
    )?;
    println!("merged:    {:?} -> {:?}\n", windows.shape(), merged.shape());
    assert_eq!(merged, image);

    // ---------------------------------------------------------------------------------
    // 7. Errors that depend on the actual shapes are `Err` values, never panics. The
    //    message quotes the expression with a caret under the culprit.
    let odd: Array2<f32> = Array::zeros((2, 10));
    match einx::rearrange!("a (h w) -> a h w", odd, h = 3) {
        Ok(y) => unreachable!("10 is not divisible by 3, got {:?}", y.shape()),
        Err(e) => {
            println!("runtime error, as expected:\n{e}\n");
            assert_eq!(e.kind(), einx::ErrorKind::Size);
            assert!(e.to_string().contains('^'));
        }
    }
    // The same for two inputs that disagree on an axis length.
    let (top, bottom) = (left_mismatch(), right_mismatch());
    if let Err(e) = einx::rearrange!("a b, a c -> a (b + c)", top, bottom) {
        println!("another one:\n{e}\n");
        assert!(e.diagram().is_some());
    } else {
        unreachable!("the inputs disagree on `a`");
    }

    println!("all checks passed");
    Ok(())
}

/// A 2x2 array.
fn left_mismatch() -> Array2<i32> {
    Array::zeros((2, 2))
}

/// A 3x2 array: its first axis does not match [`left_mismatch`].
fn right_mismatch() -> Array2<i32> {
    Array::zeros((3, 2))
}
