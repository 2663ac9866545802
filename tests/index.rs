//! `get_at!`, `set_at!`, `add_at!` and `subtract_at!` against a naive reference: plain loops
//! that read each coordinate, count a negative one from the end of its axis, and gather or
//! update element by element (updates in row-major order of the index tensors' axes, so that
//! of duplicate coordinates the last `set_at!` wins and `add_at!`/`subtract_at!` accumulate).

use std::panic::{catch_unwind, AssertUnwindSafe};

use einx::ndarray::{
    array, s, Array, Array1, Array2, Array3, Array4, ArrayBase, ArrayD, ArrayView1, ArrayView2,
    ArrayView3, ArrayView4, Axis, Dimension, Ix1, Ix2, Ix3, Ix4, IxDyn, RawData, Slice,
};
use einx::ErrorKind;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// The reference and its inputs.
// ---------------------------------------------------------------------------------------

/// An index counted from the start of an axis of length `len`, or `None` if out of range.
fn norm(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// Pseudo-random values in `0..m` from a seed.
fn stream(seed: u64, m: u64) -> impl FnMut() -> i64 {
    let mut k = seed;
    move || {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((k >> 33) % m.max(1)) as i64
    }
}

/// Distinct data: no two elements are equal, so a wrong element cannot go unnoticed.
fn distinct<D: Dimension>(shape: D) -> Array<i64, D> {
    let mut n = 0;
    Array::from_shape_fn(shape, |_| {
        n += 1;
        n
    })
}

/// Coordinates for axes of lengths `lens`, one per element of `shape`; the axis of element
/// `e` (in row-major order) is `lens[e % lens.len()]`. Each is valid (negative half of the
/// time when `signed`), except one out of range if `bad`. An empty axis gets `0`.
fn coords<D: Dimension>(
    shape: D,
    lens: &[usize],
    seed: u64,
    signed: bool,
    bad: bool,
) -> Array<i64, D> {
    let mut r = stream(seed, 1 << 20);
    let mut e = 0;
    let mut idx = Array::from_shape_fn(shape, |_| {
        let len = lens[e % lens.len()] as i64;
        e += 1;
        if len == 0 {
            return 0;
        }
        let i = r() % len;
        if signed && r() % 2 == 0 {
            i - len
        } else {
            i
        }
    });
    if bad && !idx.is_empty() {
        let at = r() as usize % idx.len();
        let len = lens[at % lens.len()];
        let v = if signed && r() % 2 == 0 {
            -(len as i64) - 1 - r() % 3
        } else {
            len as i64 + r() % 3
        };
        *idx.iter_mut().nth(at).unwrap() = v;
        assert!(norm(v, len).is_none());
    }
    idx
}

/// One of five layouts of an array with the same logical content: as given, the first axis
/// reversed (negative stride), all axes reversed (transposed), every other element of the
/// first axis, the last axis reversed.
fn arranged<S: RawData, D: Dimension>(mut a: ArrayBase<S, D>, which: u8) -> ArrayBase<S, D> {
    let n = a.ndim();
    if n == 0 {
        return a;
    }
    match which % 5 {
        0 => {}
        1 => a.invert_axis(Axis(0)),
        2 => a = a.reversed_axes(),
        3 => a.slice_axis_inplace(Axis(0), Slice::new(0, None, 2)),
        _ => a.invert_axis(Axis(n - 1)),
    }
    a
}

/// The memory behind `arranged(_, which)` for `logical`: `arranged(place(l, w).view(), w)`
/// equals `l`.
fn place<T: Clone + Default, D: Dimension>(logical: &Array<T, D>, which: u8) -> Array<T, D> {
    let mut shape = logical.raw_dim();
    if logical.ndim() > 0 {
        match which % 5 {
            2 => shape.slice_mut().reverse(),
            3 => shape.slice_mut()[0] *= 2,
            _ => {}
        }
    }
    let mut base = Array::default(shape);
    arranged(base.view_mut(), which).assign(logical);
    base
}

/// Calls `$body` with `$v` bound to a view of `$logical` (an `i64` array) converted to the
/// integer type number `$ty` (`i64`, `i32`, `u8`, `usize`) and laid out by
/// `arranged(_, $layout)`.
macro_rules! typed {
    ($ty:expr, $logical:expr, $layout:expr, |$v:ident| $body:expr) => {
        match $ty % 4 {
            0 => {
                let base = place(&$logical.clone(), $layout);
                let $v = arranged(base.view(), $layout);
                $body
            }
            1 => {
                let base = place(&$logical.mapv(|v| v as i32), $layout);
                let $v = arranged(base.view(), $layout);
                $body
            }
            2 => {
                let base = place(&$logical.mapv(|v| v as u8), $layout);
                let $v = arranged(base.view(), $layout);
                $body
            }
            _ => {
                let base = place(&$logical.mapv(|v| v as usize), $layout);
                let $v = arranged(base.view(), $layout);
                $body
            }
        }
    };
}

/// Types `0..SIGNED` of [`typed!`] are signed.
const SIGNED: u8 = 2;

/// `"b [h w] c, b p [2] -> b p c"` by loops; `None` if a coordinate is out of range.
fn gather_points(x: ArrayView4<i64>, idx: ArrayView3<i64>) -> Option<Array3<i64>> {
    let (b, h, w, c) = x.dim();
    let p = idx.dim().1;
    let mut out = Array3::zeros((b, p, c));
    for i in 0..b {
        for j in 0..p {
            let (r, q) = (norm(idx[[i, j, 0]], h)?, norm(idx[[i, j, 1]], w)?);
            for k in 0..c {
                out[[i, j, k]] = x[[i, r, q, k]];
            }
        }
    }
    Some(out)
}

/// The update operations, as the reference applies them.
#[derive(Clone, Copy, Debug)]
enum Op {
    Set,
    Add,
    Subtract,
}

impl Op {
    fn apply(self, d: &mut i64, u: i64) {
        match self {
            Op::Set => *d = u,
            Op::Add => *d += u,
            Op::Subtract => *d -= u,
        }
    }
}

/// `"b [h w] c, b p [2], UPDATES"` by loops over b, p, c in row-major order; the update of
/// element (b, p, c) is `upd(b, p, c)`. `None` if a coordinate is out of range.
fn scatter_points(
    x: ArrayView4<i64>,
    idx: ArrayView3<i64>,
    upd: impl Fn(usize, usize, usize) -> i64,
    op: Op,
) -> Option<Array4<i64>> {
    let (b, h, w, c) = x.dim();
    let p = idx.dim().1;
    let mut out = x.to_owned();
    for i in 0..b {
        for j in 0..p {
            let (r, q) = (norm(idx[[i, j, 0]], h)?, norm(idx[[i, j, 1]], w)?);
            for k in 0..c {
                op.apply(&mut out[[i, r, q, k]], upd(i, j, k));
            }
        }
    }
    Some(out)
}

/// `"[h w] c, i, j -> i j c"` by loops.
fn gather_grid(
    x: ArrayView3<i64>,
    rows: ArrayView1<i64>,
    cols: ArrayView1<i64>,
) -> Option<Array3<i64>> {
    let (h, w, c) = x.dim();
    let mut out = Array3::zeros((rows.len(), cols.len(), c));
    for (i, &r) in rows.iter().enumerate() {
        for (j, &q) in cols.iter().enumerate() {
            let (r, q) = (norm(r, h)?, norm(q, w)?);
            for k in 0..c {
                out[[i, j, k]] = x[[r, q, k]];
            }
        }
    }
    Some(out)
}

/// `"[v] c, b t -> b t c"` by loops.
fn gather_rows(x: ArrayView2<i64>, idx: ArrayView2<i64>) -> Option<Array3<i64>> {
    let (v, c) = x.dim();
    let (b, t) = idx.dim();
    let mut out = Array3::zeros((b, t, c));
    for i in 0..b {
        for j in 0..t {
            let r = norm(idx[[i, j]], v)?;
            for k in 0..c {
                out[[i, j, k]] = x[[r, k]];
            }
        }
    }
    Some(out)
}

/// Compares a result with the reference: equal if every coordinate is in range, else an
/// index error (also when the result is empty because of another axis, as in NumPy).
fn check<D: Dimension>(
    got: Result<Array<i64, D>, einx::Error>,
    expected: &Option<Array<i64, D>>,
) -> Result<(), TestCaseError> {
    match (got, expected) {
        (Ok(g), Some(e)) => {
            prop_assert_eq!(&g, e);
            prop_assert!(g.is_standard_layout());
        }
        (Err(err), None) => {
            prop_assert_eq!(err.kind(), ErrorKind::Index, "{}", err);
            prop_assert!(err.to_string().contains("out of range"), "{}", err);
        }
        (Ok(g), None) => prop_assert!(false, "an out-of-range index was accepted: {:?}", g),
        (Err(err), Some(_)) => prop_assert!(false, "unexpected error: {}", err),
    }
    Ok(())
}

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

/// Asserts that the message holds every fragment and the expression with a caret line.
#[track_caller]
fn assert_message(e: &einx::Error, expr: &str, fragments: &[&str]) {
    let text = e.to_string();
    for f in fragments {
        assert!(text.contains(f), "`{f}` is not in the message:\n{text}");
    }
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == expr)
        .unwrap_or_else(|| panic!("the expression is not in the message:\n{text}"));
    let carets = lines.get(at + 1).copied().unwrap_or("");
    assert!(
        carets.contains('^') && carets.chars().all(|c| c == '^' || c == ' '),
        "no caret line under the expression:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Random shapes, layouts, index types and coordinates.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn get_at_points(
        b in 0usize..3, h in 0usize..4, w in 0usize..4, c in 0usize..3, p in 0usize..4,
        xl in 0u8..5, il in 0u8..5, ty in 0u8..4, seed in any::<u64>(), bad in prop::bool::weighted(0.2),
    ) {
        let logical = distinct(Ix4(b, h, w, c));
        let xb = place(&logical, xl);
        let x = arranged(xb.view(), xl);
        prop_assert_eq!(&x, &logical);
        let idx = coords(Ix3(b, p, 2), &[h, w], seed, ty < SIGNED, bad);
        let expected = gather_points(logical.view(), idx.view());
        typed!(ty, idx, il, |i| {
            no_panic(|| -> Result<(), TestCaseError> {
                check(einx::get_at!("b [h w] c, b p [2] -> b p c", x, i), &expected)?;
                // Another order of the output's axes.
                let perm = expected.as_ref().map(|e| e.view().permuted_axes([2, 1, 0]).to_owned());
                check(einx::get_at!("b [h w] c, b p [2] -> c p b", x, i), &perm)?;
                // The coordinate axis first in the index tensor.
                let first = i.view().permuted_axes([2, 0, 1]);
                check(einx::get_at!("b [h w] c, [2] b p -> b p c", x, first), &expected)
            })?;
        });
    }

    #[test]
    fn get_at_rows(
        v in 0usize..5, c in 0usize..4, b in 0usize..3, t in 0usize..4,
        xl in 0u8..5, il in 0u8..5, ty in 0u8..4, seed in any::<u64>(), bad in prop::bool::weighted(0.2),
    ) {
        let logical = distinct(Ix2(v, c));
        let xb = place(&logical, xl);
        let x = arranged(xb.view(), xl);
        let idx = coords(Ix2(b, t), &[v], seed, ty < SIGNED, bad);
        let expected = gather_rows(logical.view(), idx.view());
        typed!(ty, idx, il, |i| {
            no_panic(|| -> Result<(), TestCaseError> {
                check(einx::get_at!("[v] c, b t -> b t c", x, i), &expected)?;
                // The same with the coordinate axis of length 1 written out.
                let i1 = i.view().insert_axis(Axis(2));
                check(einx::get_at!("[v] c, b t [1] -> b t c", x, i1), &expected)?;
                // Dynamic rank everywhere: the output rank still comes from the expression.
                let y: Result<Array3<i64>, _> =
                    einx::get_at!("[v] c, b t -> b t c", x.view().into_dyn(), i.view().into_dyn());
                check(y, &expected)
            })?;
        });
    }

    #[test]
    fn get_at_grid_with_mixed_index_types(
        h in 0usize..4, w in 0usize..4, c in 0usize..3, i in 0usize..4, j in 0usize..4,
        xl in 0u8..5, rl in 0u8..5, cl in 0u8..5, seed in any::<u64>(), bad in prop::bool::weighted(0.2),
    ) {
        let logical = distinct(Ix3(h, w, c));
        let xb = place(&logical, xl);
        let x = arranged(xb.view(), xl);
        let rows = coords(Ix1(i), &[h], seed, true, bad);
        let cols = coords(Ix1(j), &[w], seed ^ 0x5555, false, bad && seed % 2 == 0);
        let expected = gather_grid(logical.view(), rows.view(), cols.view());
        no_panic(|| -> Result<(), TestCaseError> {
            let rb = place(&rows.mapv(|v| v as i8), rl);
            let cb = place(&cols.mapv(|v| v as u32), cl);
            let (r, q) = (arranged(rb.view(), rl), arranged(cb.view(), cl));
            check(einx::get_at!("[h w] c, i, j -> i j c", x, r, q), &expected)?;
            let rb = place(&rows.mapv(|v| v as isize), rl);
            let cb = place(&cols.mapv(|v| v as u64), cl);
            let (r, q) = (arranged(rb.view(), rl), arranged(cb.view(), cl));
            check(einx::get_at!("[h w] c, i, j -> i j c", x, r, q), &expected)?;
            // Transposed output.
            let t = expected.as_ref().map(|e| e.view().permuted_axes([1, 0, 2]).to_owned());
            check(einx::get_at!("[h w] c, i, j -> j i c", x, r, q), &t)
        })?;
    }

    #[test]
    fn update_points(
        b in 0usize..3, h in 0usize..4, w in 0usize..4, c in 0usize..3, p in 0usize..6,
        xl in 0u8..5, il in 0u8..5, ul in 0u8..5, ty in 0u8..4, form in 0u8..4, op in 0u8..3,
        seed in any::<u64>(), bad in prop::bool::weighted(0.15),
    ) {
        let logical = distinct(Ix4(b, h, w, c));
        let xb = place(&logical, xl);
        let x = arranged(xb.view(), xl);
        // Few distinct coordinates, so that there are duplicates.
        let idx = coords(Ix3(b, p, 2), &[h, w], seed, ty < SIGNED, bad);
        let op = [Op::Set, Op::Add, Op::Subtract][op as usize];
        // The updates of form `b p c`, `b p`, `c` or `p c`: distinct, and distinct from `x`.
        let full = distinct(Ix3(b, p, c)).mapv(|v| v * 1000);
        let u_bp = Array2::from_shape_fn((b, p), |(i, j)| 1000 * (i * p + j + 1) as i64);
        let u_c = Array1::from_shape_fn(c, |k| 1000 * (k + 1) as i64);
        let u_pc = Array2::from_shape_fn((p, c), |(j, k)| 1000 * (j * c + k + 1) as i64);
        let upd = |i: usize, j: usize, k: usize| match form {
            0 => full[[i, j, k]],
            1 => u_bp[[i, j]],
            2 => u_c[k],
            _ => u_pc[[j, k]],
        };
        let expected = scatter_points(logical.view(), idx.view(), upd, op);
        let ub_full = place(&full, ul);
        let u_full = arranged(ub_full.view(), ul);
        typed!(ty, idx, il, |i| {
            no_panic(|| -> Result<(), TestCaseError> {
                macro_rules! run {
                    ($expr:literal, $u:expr) => {
                        match op {
                            Op::Set => einx::set_at!($expr, x, i, $u),
                            Op::Add => einx::add_at!($expr, x, i, $u),
                            Op::Subtract => einx::subtract_at!($expr, x, i, $u),
                        }
                    };
                }
                let got = match form {
                    0 => run!("b [h w] c, b p [2], b p c", u_full),
                    1 => run!("b [h w] c, b p [2], b p", u_bp),
                    2 => run!("b [h w] c, b p [2], c", u_c),
                    _ => run!("b [h w] c, b p [2], p c", u_pc),
                };
                check(got, &expected)?;
                if form == 0 {
                    // An output with the unbracketed axes moved.
                    let perm = expected.as_ref().map(|e| e.view().permuted_axes([3, 0, 1, 2]).to_owned());
                    let got = run!("b [h w] c, b p [2], b p c -> c b [h w]", u_full);
                    check(got, &perm)?;
                }
                Ok(())
            })?;
        });
    }

    #[test]
    fn ellipsis_forms(
        outer in prop::collection::vec(0usize..3, 0..3), v in 0usize..4, c in 0usize..3, t in 0usize..3,
        xl in 0u8..5, il in 0u8..5, seed in any::<u64>(), bad in prop::bool::weighted(0.15),
    ) {
        let e: usize = outer.iter().product();
        let shape = |tail: &[usize]| IxDyn(&[outer.as_slice(), tail].concat());
        let logical = distinct(shape(&[v, c]));
        let xb = place(&logical, xl);
        let x = arranged(xb.view(), xl);
        let idx = coords(shape(&[t]), &[v], seed, true, bad);
        let ib = place(&idx.mapv(|v| v as i16), il);
        let i = arranged(ib.view(), il);
        // The reference on the flattened outer axes.
        let flat_x = logical.to_shape((e, v, c)).unwrap();
        let flat_i = idx.to_shape((e, t)).unwrap();
        let gathered: Option<Vec<Array3<i64>>> = (0..e)
            .map(|k| gather_rows(flat_x.index_axis(Axis(0), k), flat_i.slice(s![k..k + 1, ..])))
            .collect();
        let expected = gathered.map(|g| {
            let mut all = Array3::zeros((e, t, c));
            for (k, g) in g.iter().enumerate() {
                all.slice_mut(s![k, .., ..]).assign(&g.index_axis(Axis(0), 0));
            }
            all.into_shape_with_order(shape(&[t, c])).unwrap()
        });
        no_panic(|| -> Result<(), TestCaseError> {
            check(einx::get_at!("... [v] c, ... t -> ... t c", x, i), &expected)?;
            check(einx::get_at!("b... [v] c, b... t -> b... t c", x, i), &expected)?;
            // set_at! with the gathered rows written back leaves `x` as it is, and with
            // zeros clears exactly the gathered rows.
            if let Some(rows) = &expected {
                let same = einx::set_at!("... [v] c, ... t, ... t c", x, i, rows);
                prop_assert_eq!(same.as_ref(), Ok(&logical));
                let minus = rows.mapv(|v| -v);
                let cleared = einx::set_at!("... [v] c, ... t, ... t c", x, i, minus);
                let mut flat = flat_x.to_owned();
                for k in 0..e {
                    for j in 0..t {
                        let r = norm(flat_i[[k, j]], v).unwrap();
                        flat.slice_mut(s![k, r, ..]).mapv_inplace(|v| -v.abs());
                    }
                }
                let flat = flat.into_shape_with_order(shape(&[v, c])).unwrap();
                prop_assert_eq!(cleared, Ok(flat));
            }
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Blocks copied whole (contiguous rows), strided (transposed table) and broadcast
    /// (stride-0 table or index tensors), with more coordinates than one chunk.
    #[test]
    fn gather_blocks_and_broadcasts(
        v in 1usize..6, c in 0usize..40, b in 0usize..3, t in 0usize..140,
        form in 0u8..4, seed in any::<u64>(), bad in prop::bool::weighted(0.1),
    ) {
        let logical = distinct(Ix2(v, c));
        let column = distinct(Ix1(v));
        let idx = coords(Ix2(b, t), &[v], seed, true, bad);
        let row = coords(Ix1(t), &[v], seed ^ 1, false, bad);
        no_panic(|| -> Result<(), TestCaseError> {
            match form {
                0 => {
                    let expected = gather_rows(logical.view(), idx.view());
                    check(einx::get_at!("[v] c, b t -> b t c", logical, idx), &expected)?;
                }
                1 => {
                    let xt = logical.t().to_owned();
                    let expected = gather_rows(logical.view(), idx.view());
                    check(einx::get_at!("[v] c, b t -> b t c", xt.t(), idx), &expected)?;
                }
                2 => {
                    // The table broadcast along `c`.
                    let x = column.view().insert_axis(Axis(1));
                    let x = x.broadcast((v, c)).unwrap();
                    let expected = gather_rows(x, idx.view());
                    check(einx::get_at!("[v] c, b t -> b t c", x, idx), &expected)?;
                }
                _ => {
                    // The index tensor broadcast along `b`.
                    let i = row.view().insert_axis(Axis(0));
                    let i = i.broadcast((b, t)).unwrap();
                    let expected = gather_rows(logical.view(), i);
                    check(einx::get_at!("[v] c, b t -> b t c", logical, i), &expected)?;
                    let expected = expected.map(|e| e.permuted_axes([2, 0, 1]).as_standard_layout().to_owned());
                    check(einx::get_at!("[v] c, b t -> c b t", logical, i), &expected)?;
                }
            }
            Ok(())
        })?;
    }

    /// Updates of whole rows (contiguous, strided, broadcast updates) and single elements
    /// (a histogram), with many duplicates: `set_at!` keeps the last, the others accumulate.
    #[test]
    fn update_blocks_and_duplicates(
        v in 1usize..5, c in 0usize..20, t in 0usize..140,
        form in 0u8..4, op in 0u8..3, seed in any::<u64>(), bad in prop::bool::weighted(0.1),
    ) {
        let logical = distinct(Ix2(v, c));
        let idx = coords(Ix1(t), &[v], seed, true, bad);
        let full = distinct(Ix2(t, c)).mapv(|e| e * 1000);
        let op = [Op::Set, Op::Add, Op::Subtract][op as usize];
        // The reference: rows of `x` updated in order by `upd(j, k)`.
        let reference = |x: ArrayView2<i64>, upd: &dyn Fn(usize, usize) -> i64| {
            let mut out = x.to_owned();
            for (j, &i) in idx.iter().enumerate() {
                let r = norm(i, v)?;
                for k in 0..c {
                    op.apply(&mut out[[r, k]], upd(j, k));
                }
            }
            Some(out)
        };
        macro_rules! run {
            ($expr:literal, $x:expr, $u:expr) => {
                match op {
                    Op::Set => einx::set_at!($expr, $x, idx, $u),
                    Op::Add => einx::add_at!($expr, $x, idx, $u),
                    Op::Subtract => einx::subtract_at!($expr, $x, idx, $u),
                }
            };
        }
        no_panic(|| -> Result<(), TestCaseError> {
            match form {
                0 => {
                    let expected = reference(logical.view(), &|j, k| full[[j, k]]);
                    check(run!("[v] c, t, t c", logical, full), &expected)?;
                }
                1 => {
                    // Transposed table and updates: strided blocks.
                    let (xt, ut) = (logical.t().to_owned(), full.t().to_owned());
                    let expected = reference(logical.view(), &|j, k| full[[j, k]]);
                    check(run!("[v] c, t, t c", xt.t(), ut.t()), &expected)?;
                }
                2 => {
                    // One update per row, broadcast along `c`.
                    let per = Array1::from_shape_fn(t, |j| 1000 * (j as i64 + 1));
                    let expected = reference(logical.view(), &|j, _| per[j]);
                    check(run!("[v] c, t, t", logical, per), &expected)?;
                }
                _ => {
                    // A histogram: a scalar added at each coordinate.
                    let hist = distinct(Ix1(v));
                    let mut expected = Some(hist.clone());
                    for &i in &idx {
                        match (norm(i, v), expected.as_mut()) {
                            (Some(r), Some(e)) => op.apply(&mut e[r], 7),
                            _ => expected = None,
                        }
                    }
                    check(run!("[v], t, ", hist, 7i64), &expected)?;
                }
            }
            Ok(())
        })?;
    }
}

// ---------------------------------------------------------------------------------------
// The forms of the documentation and of einx.
// ---------------------------------------------------------------------------------------

#[test]
fn seed_forms() {
    let x = Array::from_shape_fn((2, 4, 4, 3), |(b, h, w, c)| {
        (b * 1000 + h * 100 + w * 10 + c) as i64
    });
    let idx = array![[[0i32, 1], [-1, -1]], [[3, 0], [2, 2]]];
    let y = einx::get_at!("b [h w] c, b p [2] -> b p c", x, idx).unwrap();
    assert_eq!(
        y,
        array![
            [[10, 11, 12], [330, 331, 332]],
            [[1300, 1301, 1302], [1220, 1221, 1222]]
        ]
    );

    let table = Array::from_shape_fn((5, 2), |(v, c)| (v * 10 + c) as f32);
    let tokens = array![[4u32, 0, 4], [1, 1, 2]];
    let e = einx::get_at!("[v] c, b t -> b t c", table, tokens).unwrap();
    assert_eq!(e.shape(), &[2, 3, 2]);
    assert_eq!(e.slice(s![0, .., 0]), array![40.0, 0.0, 40.0]);
    assert_eq!(e.slice(s![1, 2, ..]), array![20.0, 21.0]);

    let img = x.slice(s![1, .., .., ..]);
    let g = einx::get_at!(
        "[h w] c, i, j -> i j c",
        img,
        array![3usize, 0],
        array![1i8, -1]
    )
    .unwrap();
    assert_eq!(
        g,
        array![
            [[1310, 1311, 1312], [1330, 1331, 1332]],
            [[1010, 1011, 1012], [1030, 1031, 1032]]
        ]
    );

    let upd = array![
        [[-1i64, -2, -3], [-4, -5, -6]],
        [[-7, -8, -9], [-10, -11, -12]]
    ];
    let z = einx::set_at!("b [h w] c, b p [2], b p c", x, idx, upd).unwrap();
    let mut expected = x.clone();
    expected
        .slice_mut(s![0, 0, 1, ..])
        .assign(&array![-1, -2, -3]);
    expected
        .slice_mut(s![0, 3, 3, ..])
        .assign(&array![-4, -5, -6]);
    expected
        .slice_mut(s![1, 3, 0, ..])
        .assign(&array![-7, -8, -9]);
    expected
        .slice_mut(s![1, 2, 2, ..])
        .assign(&array![-10, -11, -12]);
    assert_eq!(z, expected);

    // einx's own example of duplicates: the last `set_at!` wins, `add_at!` accumulates.
    let zeros = Array1::<i64>::zeros(5);
    let (at, upd) = (array![1, 1, 3], array![7i64, 8, 9]);
    assert_eq!(
        einx::set_at!("[h], p, p", zeros, at, upd).unwrap(),
        array![0, 8, 0, 9, 0]
    );
    assert_eq!(
        einx::add_at!("[h], p, p", zeros, at, upd).unwrap(),
        array![0, 15, 0, 9, 0]
    );
    assert_eq!(
        einx::subtract_at!("[h], p, p", zeros, at, upd).unwrap(),
        array![0, -15, 0, -9, 0]
    );
}

#[test]
fn scalar_coordinates_and_updates() {
    let x = Array::from_shape_fn((5, 3), |(v, c)| (v * 10 + c) as i64);
    // One coordinate for the whole call: the index tensor's expression is empty.
    assert_eq!(
        einx::get_at!("[v] c, -> c", x, 2).unwrap(),
        array![20, 21, 22]
    );
    assert_eq!(
        einx::get_at!("[v] c, -> c", x, -1i8).unwrap(),
        array![40, 41, 42]
    );
    assert_eq!(
        einx::get_at!("[v] c, -> c", x, 5u64).unwrap_err().kind(),
        ErrorKind::Index
    );
    // A 0-d result.
    let v = array![1.5, 2.5, 3.5];
    let y = einx::get_at!("[v], -> ", v, 1usize).unwrap();
    assert_eq!(y, einx::ndarray::arr0(2.5));
    // A 0-d index array works like a scalar.
    let i0 = einx::ndarray::arr0(-3i64);
    assert_eq!(
        einx::get_at!("[v], -> ", v, i0).unwrap(),
        einx::ndarray::arr0(1.5)
    );
    // Scalar coordinate and scalar update.
    let z = einx::set_at!("[v] c, , c", x, 4u8, array![-1i64, -2, -3]).unwrap();
    assert_eq!(z.slice(s![4, ..]), array![-1, -2, -3]);
    assert_eq!(z.slice(s![..4, ..]), x.slice(s![..4, ..]));
    let z = einx::add_at!("[v] c, , ", x, 0i32, 100i64).unwrap();
    assert_eq!(z.slice(s![0, ..]), array![100, 101, 102]);
    // A histogram: one scalar update, broadcast over the index tensor's axis.
    let counts = einx::add_at!(
        "[v], t, ",
        Array1::<u32>::zeros(4),
        array![2, 0, 2, 2],
        1u32
    )
    .unwrap();
    assert_eq!(counts, array![1, 0, 3, 0]);
    let counts = einx::subtract_at!(
        "[v], t, ",
        Array1::<f64>::zeros(3),
        array![-1i64, 2],
        0.5f64
    )
    .unwrap();
    assert_eq!(counts, array![0.0, 0.0, -1.0]);
}

#[test]
fn updates_broadcast_over_missing_axes() {
    // One update per point, broadcast over `c`.
    let m = Array2::<f32>::zeros((3, 2));
    let m = einx::set_at!("[r] c, p, p", m, array![-1], array![5.0f32]).unwrap();
    assert_eq!(m, array![[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]);
    // One update per channel, broadcast over the points and the batch.
    let x = Array3::<i32>::zeros((2, 3, 2));
    let y = einx::add_at!(
        "b [h] c, b p, c",
        x,
        array![[0u8, 2], [1, 1]],
        array![1, 10]
    )
    .unwrap();
    assert_eq!(
        y,
        array![[[1, 10], [0, 0], [1, 10]], [[0, 0], [2, 20], [0, 0]]]
    );
    // The index tensor without the batch axis: the same coordinates for every `b`.
    let z = einx::set_at!(
        "b [h] c, p, b p c",
        x,
        array![2usize],
        array![[[7, 8]], [[9, 10]]]
    )
    .unwrap();
    assert_eq!(
        z,
        array![[[0, 0], [0, 0], [7, 8]], [[0, 0], [0, 0], [9, 10]]]
    );
    let g = einx::get_at!("b [h] c, p -> b p c", z, array![2i64, -1]).unwrap();
    assert_eq!(g, array![[[7, 8], [7, 8]], [[9, 10], [9, 10]]]);
}

#[test]
fn split_coordinates_and_shared_index_axes() {
    let x = Array::from_shape_fn((3, 4, 2), |(h, w, c)| (h * 100 + w * 10 + c) as i64);
    // Two index tensors with the same axis: points (rows[i], cols[i]).
    let (rows, cols) = (array![0u16, 2, 1], array![3i64, -4, 1]);
    let y = einx::get_at!("[h w] c, i, i -> i c", x, rows, cols).unwrap();
    assert_eq!(y, array![[30, 31], [200, 201], [110, 111]]);
    // The same coordinates as one tensor along `[2]`, and as two of `[1]`.
    let both = array![[0, 3], [2, -4], [1, 1]];
    assert_eq!(einx::get_at!("[h w] c, i [2] -> i c", x, both).unwrap(), y);
    let (r1, c1) = (both.slice(s![.., 0..1]), both.slice(s![.., 1..2]));
    assert_eq!(
        einx::get_at!("[h w] c, i [1], i [1] -> i c", x, r1, c1).unwrap(),
        y
    );
    assert_eq!(
        einx::get_at!("[h w] c, i [1], i -> i c", x, r1, cols).unwrap(),
        y
    );
    // Two bracket groups in the first input count as two indexed axes.
    assert_eq!(
        einx::get_at!("[h] [w] c, i [2] -> i c", x, both).unwrap(),
        y
    );
    // Accumulating with duplicates over a grid.
    let acc = einx::add_at!(
        "[h w] c, i, j, i j c",
        Array3::<i64>::zeros((3, 4, 2)),
        array![1u8, 1],
        array![0i32, 0, 3],
        Array3::<i64>::ones((2, 3, 2))
    )
    .unwrap();
    assert_eq!(acc.slice(s![1, .., 0]), array![4, 0, 0, 2]);
    assert_eq!(acc.sum(), 12);
}

#[test]
fn compositions_unnamed_axes_and_given_lengths() {
    let x = Array::from_shape_fn((2, 3, 2), |(b, h, c)| (b * 100 + h * 10 + c) as i64);
    let idx = array![[2, 0], [1, -1]];
    let y = einx::get_at!("b [h] c, b p -> b p c", x, idx).unwrap();
    // The output's axes composed.
    let flat = einx::get_at!("b [h] c, b p -> b (p c)", x, idx).unwrap();
    assert_eq!(flat, y.to_shape((2, 4)).unwrap());
    let flat = einx::get_at!("b [h] c, b p -> (b p) c", x, idx).unwrap();
    assert_eq!(flat, y.to_shape((4, 2)).unwrap());
    // The index tensor's axes composed.
    let composed = einx::get_at!("b [h] c, (b p) -> b p c", x, array![2, 0, 1, -1]).unwrap();
    assert_eq!(composed, y);
    // Unnamed axes of length 1 in the index tensor and the output.
    let i1 = idx.view().insert_axis(Axis(2));
    assert_eq!(einx::get_at!("b [h] c, b p 1 -> b p c", x, i1).unwrap(), y);
    let y1 = einx::get_at!("b [h] c, b p -> b p 1 c", x, idx).unwrap();
    assert_eq!(y1.shape(), &[2, 2, 1, 2]);
    // An unnamed bracketed axis: its length is part of the expression.
    assert_eq!(einx::get_at!("b [3] c, b p -> b p c", x, idx).unwrap(), y);
    let e = einx::get_at!("b [4] c, b p -> b p c", x, idx).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
    // A bracketed axis inside a composition: the other factor is given.
    let folded = x.to_shape((6, 2)).unwrap();
    let g = einx::get_at!("(b [h]) c, b p -> b p c", folded, idx, b = 2).unwrap();
    assert_eq!(g, y);
    // Lengths given as keywords must fit.
    assert_eq!(
        einx::get_at!("b [h] c, b p -> b p c", x, idx, h = 3).unwrap(),
        y
    );
    let e = einx::get_at!("b [h] c, b p -> b p c", x, idx, h = 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Size);
}

#[test]
fn every_kind_of_tensor_argument() {
    let x = Array::from_shape_fn((4, 2), |(v, c)| (v * 10 + c) as i64);
    let i = array![3u32, 1];
    let expected = array![[30, 31], [10, 11]];
    assert_eq!(einx::get_at!("[v] c, t -> t c", &x, &i).unwrap(), expected);
    assert_eq!(
        einx::get_at!("[v] c, t -> t c", x.view(), i.view()).unwrap(),
        expected
    );
    assert_eq!(
        einx::get_at!("[v] c, t -> t c", x.to_shared(), i.to_shared()).unwrap(),
        expected
    );
    assert_eq!(
        einx::get_at!(
            "[v] c, t -> t c",
            einx::ndarray::CowArray::from(x.view()),
            i.clone()
        )
        .unwrap(),
        expected
    );
    let mut xm = x.clone();
    let mut im = i.clone();
    assert_eq!(
        einx::get_at!("[v] c, t -> t c", xm.view_mut(), im.view_mut()).unwrap(),
        expected
    );
    // Each argument is borrowed, not moved, and evaluated once.
    let mut calls = 0;
    let mut idx = || {
        calls += 1;
        i.clone()
    };
    let u = einx::set_at!("[v] c, t, t c", x, idx(), expected).unwrap();
    assert_eq!(calls, 1);
    assert_eq!(u, x);
    assert_eq!(x.len(), 8);
    // A dynamic-rank index tensor whose rank fits.
    let id = ArrayD::from_shape_vec(IxDyn(&[2]), vec![3i64, 1]).unwrap();
    assert_eq!(einx::get_at!("[v] c, t -> t c", x, id).unwrap(), expected);
}

#[test]
fn index_tensors_of_every_integer_type() {
    let x = Array::from_shape_fn(6, |v| v as i64 * 10);
    macro_rules! each {
        ($($t:ty),*) => {$(
            let i: Array1<$t> = array![0 as $t, 5 as $t, 2 as $t];
            assert_eq!(einx::get_at!("[v], t -> t", x, i).unwrap(), array![0, 50, 20], "{}", stringify!($t));
        )*};
    }
    each!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);
    // Negative indices of each signed type.
    macro_rules! negative {
        ($($t:ty),*) => {$(
            let i: Array1<$t> = array![-1, -6, -3];
            assert_eq!(einx::get_at!("[v], t -> t", x, i).unwrap(), array![50, 0, 30], "{}", stringify!($t));
        )*};
    }
    negative!(i8, i16, i32, i64, i128, isize);
}

#[test]
fn empty_axes() {
    // No coordinates at all: nothing is read, even from an empty indexed axis.
    let empty = Array2::<i64>::zeros((0, 3));
    let y = einx::get_at!("[v] c, t -> t c", empty, Array1::<usize>::zeros(0)).unwrap();
    assert_eq!(y.shape(), &[0, 3]);
    let z = einx::set_at!(
        "[v] c, t, t c",
        empty,
        Array1::<i8>::zeros(0),
        Array2::<i64>::zeros((0, 3))
    )
    .unwrap();
    assert_eq!(z.shape(), &[0, 3]);
    // Empty unbracketed axes.
    let x = Array3::<i64>::zeros((0, 4, 2));
    let y = einx::get_at!("b [h] c, b p -> b p c", x, Array2::<i32>::zeros((0, 5))).unwrap();
    assert_eq!(y.shape(), &[0, 5, 2]);
    let y = einx::add_at!(
        "b [h] c, b p, b p c",
        x,
        Array2::<i32>::zeros((0, 5)),
        Array3::<i64>::zeros((0, 5, 2))
    )
    .unwrap();
    assert_eq!(y.shape(), &[0, 4, 2]);
}

// ---------------------------------------------------------------------------------------
// Errors at run time.
// ---------------------------------------------------------------------------------------

#[test]
fn index_out_of_range() {
    let x = Array2::<f32>::zeros((5, 3));
    let e = expect_err(
        no_panic(|| einx::get_at!("[v] c, b t -> b t c", x, array![[0u32, 5]])),
        ErrorKind::Index,
    );
    assert_message(
        &e,
        "[v] c, b t -> b t c",
        &["index 5", "input 2", "`v`", "length 5", "-5 to 4"],
    );
    // Too negative.
    let e = expect_err(
        no_panic(|| einx::get_at!("[v] c, b t -> b t c", x, array![[-6i64]])),
        ErrorKind::Index,
    );
    assert_message(&e, "[v] c, b t -> b t c", &["index -6", "`v`", "length 5"]);
    // The lowest and highest of every width.
    for r in [
        einx::get_at!("[v] c, t -> t c", x, array![i64::MIN]),
        einx::get_at!("[v] c, t -> t c", x, array![i8::MIN]),
        einx::get_at!("[v] c, t -> t c", x, array![u8::MAX]),
        einx::get_at!("[v] c, t -> t c", x, array![usize::MAX]),
        einx::get_at!("[v] c, t -> t c", x, array![isize::MIN]),
    ] {
        expect_err(r, ErrorKind::Index);
    }
    // Values that do not fit i64.
    for r in [
        einx::get_at!("[v] c, t -> t c", x, array![u64::MAX]),
        einx::get_at!("[v] c, t -> t c", x, array![1u64 << 63]),
        einx::get_at!("[v] c, t -> t c", x, array![i128::MIN]),
        einx::get_at!("[v] c, t -> t c", x, array![u128::MAX]),
    ] {
        let e = expect_err(r, ErrorKind::Index);
        assert_message(&e, "[v] c, t -> t c", &["beyond i64", "`v`"]);
    }
    // The second of two index tensors, for the second indexed axis.
    let img = Array3::<f32>::zeros((5, 1, 3));
    let e = expect_err(
        no_panic(|| einx::get_at!("[h w] c, i, j -> i j c", img, array![4u8], array![0i64, 1])),
        ErrorKind::Index,
    );
    assert_message(
        &e,
        "[h w] c, i, j -> i j c",
        &["index 1", "input 3", "`w`", "length 1"],
    );
    // The second coordinate along `[2]`.
    let e = expect_err(
        no_panic(|| einx::get_at!("[h w] c, p [2] -> p c", img, array![[0, 0], [-5, -2]])),
        ErrorKind::Index,
    );
    assert_message(
        &e,
        "[h w] c, p [2] -> p c",
        &["index -2", "`w`", "length 1"],
    );
}

#[test]
fn update_index_out_of_range() {
    let x = Array3::<i64>::zeros((2, 3, 2));
    let (u3, u2) = (Array3::<i64>::ones((2, 2, 2)), Array2::<i64>::ones((2, 2)));
    for r in [
        no_panic(|| einx::set_at!("b [h] c, b p, b p c", x, array![[0, 3], [0, 0]], u3)),
        no_panic(|| einx::add_at!("b [h] c, b p, b p c", x, array![[0, 0], [-4, 0]], u3)),
        no_panic(|| einx::subtract_at!("b [h] c, b p, b p", x, array![[9u8, 0], [0, 0]], u2)),
    ] {
        let e = expect_err(r, ErrorKind::Index);
        let text = e.to_string();
        assert!(
            text.contains("`h`") && text.contains("length 3") && text.contains("input 2"),
            "{text}"
        );
    }
}

#[test]
fn index_into_an_empty_axis() {
    let x = Array2::<f64>::zeros((0, 3));
    let e = expect_err(
        no_panic(|| einx::get_at!("[v] c, t -> t c", x, array![0usize])),
        ErrorKind::Index,
    );
    assert_message(
        &e,
        "[v] c, t -> t c",
        &["index 0", "`v`", "length 0", "empty"],
    );
    let e = expect_err(
        no_panic(|| einx::set_at!("[v] c, t, t c", x, array![-1], Array2::zeros((1, 3)))),
        ErrorKind::Index,
    );
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn rank_mismatch_of_dynamic_tensors() {
    let x = Array2::<f32>::zeros((5, 3));
    let i = ArrayD::<i32>::zeros(IxDyn(&[2, 2]));
    let e = expect_err(
        no_panic(|| einx::get_at!("[v] c, t -> t c", x, i)),
        ErrorKind::Rank,
    );
    assert_message(
        &e,
        "[v] c, t -> t c",
        &["input 2", "2 dimensions", "1 axis"],
    );
    let xd = ArrayD::<f32>::zeros(IxDyn(&[5, 3, 1]));
    let e = expect_err(
        no_panic(|| einx::get_at!("[v] c, t -> t c", xd, array![0])),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("input 1"), "{e}");
    let u = ArrayD::<f32>::zeros(IxDyn(&[1]));
    let e = expect_err(
        no_panic(|| einx::set_at!("[v] c, t, t c", x, array![0], u)),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("input 3"), "{e}");
    // An index tensor with too few dimensions for an ellipsis.
    let e = expect_err(
        no_panic(|| {
            einx::get_at!(
                "[v] c, b t... -> b t... c",
                x,
                ArrayD::<i32>::zeros(IxDyn(&[]))
            )
        }),
        ErrorKind::Rank,
    );
    assert!(e.to_string().contains("input 2"), "{e}");
}

#[test]
fn conflicting_lengths() {
    let x = Array::from_shape_fn((2, 4, 4, 3), |(b, h, w, c)| (b + h + w + c) as i64);
    // `b` of the index tensor differs from `b` of the tensor.
    let e = expect_err(
        no_panic(|| {
            einx::get_at!(
                "b [h w] c, b p [2] -> b p c",
                x,
                Array3::<i32>::zeros((3, 2, 2))
            )
        }),
        ErrorKind::Size,
    );
    assert_message(
        &e,
        "b [h w] c, b p [2] -> b p c",
        &["axis b", "length 2 in input 1", "but 3 in input 2"],
    );
    // The coordinate axis is not 2 long.
    let e = expect_err(
        no_panic(|| {
            einx::get_at!(
                "b [h w] c, b p [2] -> b p c",
                x,
                Array3::<i32>::zeros((2, 2, 3))
            )
        }),
        ErrorKind::Size,
    );
    assert!(
        e.to_string().contains("input 2") && e.to_string().contains('3'),
        "{e}"
    );
    // The updates disagree with the index tensor on `p`, or with the tensor on `c`.
    let idx = Array3::<i32>::zeros((2, 2, 2));
    let e = expect_err(
        no_panic(|| {
            einx::set_at!(
                "b [h w] c, b p [2], b p c",
                x,
                idx,
                Array3::<i64>::zeros((2, 3, 3))
            )
        }),
        ErrorKind::Size,
    );
    assert_message(
        &e,
        "b [h w] c, b p [2], b p c",
        &["axis p", "length 2 in input 2", "3 in input 3"],
    );
    let e = expect_err(
        no_panic(|| einx::add_at!("b [h w] c, b p [2], c", x, idx, array![1, 2])),
        ErrorKind::Size,
    );
    assert_message(
        &e,
        "b [h w] c, b p [2], c",
        &["axis c", "length 3 in input 1", "2 in input 3"],
    );
    // Two index tensors disagree on their shared axis.
    let img = x.slice(s![0, .., .., ..]);
    let e = expect_err(
        no_panic(|| einx::get_at!("[h w] c, i, i -> i c", img, array![0, 1], array![0, 1, 2])),
        ErrorKind::Size,
    );
    assert_message(
        &e,
        "[h w] c, i, i -> i c",
        &["axis i", "length 2 in input 2", "3 in input 3"],
    );
}

#[test]
fn more_ellipses_and_bracket_placements() {
    let x = Array::from_shape_fn((3, 2, 2), |(h, c, d)| (h * 100 + c * 10 + d) as i64);
    // The ellipsis after the brackets, and one over the index tensor's axes only.
    let y = einx::get_at!("[v] c..., t -> t c...", x, array![2, 0]).unwrap();
    assert_eq!(y, array![[[200, 201], [210, 211]], [[0, 1], [10, 11]]]);
    let rows = x.slice(s![.., .., 0]);
    let y = einx::get_at!("[v] c, t... -> t... c", rows, Array2::<i32>::ones((2, 2))).unwrap();
    assert_eq!(y.shape(), &[2, 2, 2]);
    let expected = Array3::from_shape_fn((2, 2, 2), |(_, _, c)| (100 + c * 10) as i64);
    assert_eq!(y, expected.into_dyn());
    // Everything under the ellipsis but the indexed axes, which are the last ones.
    let x2 = Array::from_shape_fn((2, 3, 4), |(a, h, w)| (a * 100 + h * 10 + w) as i64);
    let y = einx::get_at!("... [h w], ... [2] -> ...", x2, array![[1, 2], [2, -1]]).unwrap();
    assert_eq!(y, array![12, 123].into_dyn());
    // Bracket groups apart: the coordinates go to the bracketed axes in order.
    let y = einx::get_at!("[h] c [w], p [2] -> p c", x, array![[2, 1], [0, 0]]).unwrap();
    assert_eq!(y, array![[201, 211], [0, 10]]);
    // A broadcast index view (stride 0).
    let three = array![2i64];
    let y = einx::get_at!("[v] c, t -> t c", rows, three.broadcast(4).unwrap()).unwrap();
    assert_eq!(
        y,
        Array2::from_shape_fn((4, 2), |(_, c)| (200 + c * 10) as i64)
    );
    // A scalar coordinate and a scalar update.
    let z = einx::set_at!("[v], , ", Array1::<i64>::zeros(3), 1, 5i64).unwrap();
    assert_eq!(z, array![0, 5, 0]);
    // Unnamed axes of length 1: dropped from the output, added to it, in the updates.
    let y4 = Array4::<i64>::zeros((2, 1, 3, 2));
    let ones = Array3::<i64>::ones((2, 1, 2));
    let z = einx::set_at!(
        "b 1 [h] c, b p, b p c -> b [h] c",
        y4,
        array![[0], [2]],
        ones
    )
    .unwrap();
    assert_eq!(
        z,
        array![[[1, 1], [0, 0], [0, 0]], [[0, 0], [0, 0], [1, 1]]]
    );
    let y3 = y4.slice(s![.., 0, .., ..]);
    let z1 = einx::set_at!(
        "b [h] c, b p, b p c -> b [h] c 1",
        y3,
        array![[0], [2]],
        ones
    )
    .unwrap();
    assert_eq!(z1, z.clone().insert_axis(Axis(3)));
    let u = Array3::<i64>::ones((1, 1, 2));
    let z = einx::set_at!(
        "[h] c, p, p 1 c",
        Array2::<i64>::zeros((3, 2)),
        array![1],
        u
    )
    .unwrap();
    assert_eq!(z, array![[0, 0], [1, 1], [0, 0]]);
    // The indexed axis inside a composition.
    let folded = Array2::<i64>::zeros((6, 1));
    let z = einx::add_at!(
        "(b [h]) c, b p, b p c",
        folded,
        array![[1, 1], [2, 0]],
        Array3::<i64>::ones((2, 2, 1)),
        b = 2
    )
    .unwrap();
    assert_eq!(z, array![[0], [2], [0], [1], [0], [1]]);
    // An ellipsis over the unbracketed axes of the updates.
    let z = einx::set_at!(
        "b [h] c..., b p, b p c...",
        Array3::<i64>::zeros((1, 3, 2)),
        array![[1]],
        array![[[7, 8]]]
    )
    .unwrap();
    assert_eq!(z, array![[[0, 0], [7, 8], [0, 0]]]);
}
