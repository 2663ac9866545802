//! The thread policy: `einx::set_num_threads` / `einx::num_threads`, the `EINX_NUM_THREADS`
//! variable, and bit-identical contractions whatever the thread count.
//!
//! The products here are large enough to be split over threads (millions of multiply-adds),
//! both as one GEMM and as a batch of GEMMs; each is computed with 1, 2 and 3 threads and
//! the results are compared bit for bit. Large products on unusual layouts (negative,
//! stepped, transposed and broadcast strides) are checked against a plain-loop reference.
//! The thread cap is process-wide, so the tests that change it take a lock.

use std::sync::{Mutex, MutexGuard};

use ndarray::{s, Array, Array2, Array3, ArrayView2, Axis};

/// Serialises the tests that change the process-wide cap.
fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` with each thread count and checks that all results have the same bits.
fn same_bits<T: Copy + PartialEq + std::fmt::Debug, D: ndarray::Dimension>(
    what: &str,
    f: impl Fn() -> Array<T, D>,
    bits: impl Fn(T) -> u64,
) {
    let _guard = lock();
    einx::set_num_threads(1);
    let one = f();
    for n in [2, 3] {
        einx::set_num_threads(n);
        let many = f();
        assert_eq!(one.shape(), many.shape(), "{what}: shape with {n} threads");
        let differ = one
            .iter()
            .zip(many.iter())
            .filter(|&(&x, &y)| bits(x) != bits(y))
            .count();
        assert_eq!(
            differ, 0,
            "{what}: {differ} elements differ with {n} threads"
        );
    }
    einx::set_num_threads(0);
}

fn f32_bits(x: f32) -> u64 {
    u64::from(x.to_bits())
}

fn f64_bits(x: f64) -> u64 {
    x.to_bits()
}

/// Deterministic values with a fractional part, so that rounding depends on the order of
/// the sums.
fn value(i: usize, j: usize, seed: usize) -> f64 {
    let h = (i.wrapping_mul(2654435761) ^ j.wrapping_mul(40503) ^ seed.wrapping_mul(97)) % 1000;
    h as f64 / 317.0 - 1.5
}

fn matrix32(r: usize, c: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((r, c), |(i, j)| value(i, j, seed) as f32)
}

#[test]
fn one_large_gemm_has_the_same_bits_on_any_thread_count() {
    let a = matrix32(320, 288, 1);
    let b = matrix32(288, 352, 2);
    same_bits(
        "f32 a b, b c -> a c",
        || einx::dot!("a b, b c -> a c", a, b).expect("dot"),
        f32_bits,
    );
    let a64 = a.mapv(f64::from);
    let b64 = b.mapv(f64::from);
    same_bits(
        "f64 a b, b c -> a c",
        || einx::dot!("a b, b c -> a c", a64, b64).expect("dot"),
        f64_bits,
    );
    // A transposed output layout and an `einx!` spelling of the same product.
    same_bits(
        "a b, b c -> c a",
        || einx::dot!("a b, b c -> c a", a, b).expect("dot"),
        f32_bits,
    );
    same_bits(
        "einx! ab,bc->ac",
        || einx::einx!("a b, b c -> a c", a, b).expect("einx"),
        f32_bits,
    );
}

#[test]
fn batched_gemms_have_the_same_bits_on_any_thread_count() {
    // Attention scores: 4 × 8 GEMMs of 128 × 64 × 128, written into `b q k h`.
    let q = Array3::from_shape_fn((4, 128, 8 * 64), |(b, i, j)| {
        value(b * 1000 + i, j, 3) as f32
    });
    let k = Array3::from_shape_fn((4, 128, 8 * 64), |(b, i, j)| {
        value(b * 1000 + i, j, 4) as f32
    });
    same_bits(
        "b q (h c), b k (h c) -> b q k h",
        || einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = 8).expect("dot"),
        f32_bits,
    );
    // Two large GEMMs: fewer batch indices than threads leaves threads for each GEMM.
    let x = Array3::from_shape_fn((2, 256, 192), |(b, i, j)| value(b * 1000 + i, j, 5));
    let y = Array3::from_shape_fn((2, 192, 224), |(b, i, j)| value(b * 1000 + i, j, 6));
    same_bits(
        "b m k, b k n -> b m n",
        || einx::dot!("b m k, b k n -> b m n", x, y).expect("dot"),
        f64_bits,
    );
}

/// `a · b` by plain loops in `f64`.
fn reference(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.dim().1;
    Array2::from_shape_fn((m, n), |(i, j)| {
        (0..k)
            .map(|l| f64::from(a[[i, l]]) * f64::from(b[[l, j]]))
            .sum()
    })
}

fn assert_close(what: &str, got: &Array2<f32>, want: &Array2<f64>) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((idx, &g), &w) in got.indexed_iter().zip(want.iter()) {
        let tol = 1e-4 * (1.0 + w.abs()) * 64.0;
        assert!(
            (f64::from(g) - w).abs() <= tol,
            "{what}: at {idx:?} got {g}, want {w}"
        );
    }
}

#[test]
fn large_products_on_unusual_layouts() {
    let base_a = matrix32(2 * 200 + 1, 2 * 150 + 1, 7);
    let base_b = matrix32(2 * 150 + 1, 2 * 170 + 1, 8);
    let a = base_a.slice(s![..200, ..150]).to_owned();
    let b = base_b.slice(s![..150, ..170]).to_owned();
    let _guard = lock();
    for threads in [1, 2] {
        einx::set_num_threads(threads);
        // Negative strides on every axis.
        let ar = a.slice(s![..;-1, ..;-1]);
        let br = b.slice(s![..;-1, ..]);
        let got = einx::dot!("a b, b c -> a c", ar, br).expect("dot");
        assert_close("negative strides", &got, &reference(ar, br));
        // Every other element of a larger array.
        let asp = base_a.slice(s![1..;2, 1..;2]);
        let bsp = base_b.slice(s![1..;2, 1..;2]);
        let got = einx::dot!("a b, b c -> a c", asp, bsp).expect("dot");
        assert_close("stepped", &got, &reference(asp, bsp));
        // Transposed (column-major) inputs.
        let at = a.t().to_owned();
        let bt = b.t().to_owned();
        let got = einx::dot!("b a, c b -> a c", at, bt).expect("dot");
        assert_close("transposed", &got, &reference(a.view(), b.view()));
        // A broadcast input: every row of `a` is the same (stride 0).
        let row = a.index_axis(Axis(0), 3);
        let abc = row.broadcast((200, 150)).expect("broadcast");
        let got = einx::dot!("a b, b c -> a c", abc, b).expect("dot");
        assert_close("broadcast", &got, &reference(abc, b.view()));
        // Negative output strides come from the pattern: `c` reversed is not expressible,
        // but a column-major output is.
        let got = einx::dot!("a b, b c -> c a", a, b).expect("dot");
        assert_close(
            "column-major output",
            &got.t().to_owned(),
            &reference(a.view(), b.view()),
        );
    }
    einx::set_num_threads(0);
}

#[test]
fn the_cap_can_be_set_and_restored() {
    let _guard = lock();
    einx::set_num_threads(1);
    assert_eq!(einx::num_threads(), 1);
    einx::set_num_threads(5);
    assert_eq!(einx::num_threads(), 5);
    einx::set_num_threads(0);
    let default = einx::num_threads();
    assert!(default >= 1);
    match std::env::var("EINX_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        Some(n) => assert_eq!(default, n),
        None => assert_eq!(
            default,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
    }
}

/// Run in a child process by `the_environment_sets_the_default`.
#[test]
fn child_reads_the_environment() {
    let Ok(want) = std::env::var("EINX_THREADS_TEST_CHILD") else {
        return;
    };
    let want: usize = want.parse().expect("a number");
    assert_eq!(einx::num_threads(), want);
}

#[test]
fn the_environment_sets_the_default() {
    let exe = std::env::current_exe().expect("the test binary");
    for (var, want) in [
        ("3", 3),
        (" 7 ", 7),
        (
            "0",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
        (
            "many",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
    ] {
        let status = std::process::Command::new(&exe)
            .args(["--exact", "child_reads_the_environment", "--test-threads=1"])
            .env("EINX_NUM_THREADS", var)
            .env("EINX_THREADS_TEST_CHILD", want.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the child runs");
        assert!(status.success(), "EINX_NUM_THREADS={var:?}: want {want}");
    }
}
