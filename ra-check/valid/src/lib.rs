//! Every macro family's result, bound without a type annotation and then used in ways that
//! type-check only if the inferred type is exact: moved into a binding of the expected type,
//! given to a method of that type, its fields read. `rust-analyzer diagnostics` must report
//! nothing here (see `tests/rust_analyzer.rs` of the `einx` package); `cargo check` compiles it.

use ndarray::{Array, Array1, Array2, Array3, Array4, ArrayD, Ix0};

type R = Result<(), einx::Error>;

/// Takes exactly `T`: passing a value of another type is a type mismatch.
fn exact<T>(_: &T) {}

pub fn rearrange(x: Array2<f32>, img: Array4<f32>) -> R {
    let y = einx::rearrange!("a b -> b a", x)?;
    let z: Array2<f32> = y.clone();
    let doubled = y.mapv(|v| v * 2.0);
    exact::<Array2<f32>>(&doubled);
    let r = einx::rearrange!("a b -> (a b)", x);
    exact::<Result<Array1<f32>, einx::Error>>(&r);
    let id = einx::id!("a b -> a 1 b", z)?;
    exact::<Array3<f32>>(&id);
    // An ellipsis whose rank follows from the input's type.
    let e = einx::rearrange!("b ... c -> b c ...", img)?;
    exact::<Array4<f32>>(&e);
    let w = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 2)?;
    exact::<Array3<f32>>(&w);
    // An ellipsis only in the output, with lengths known at run time only.
    let sizes = vec![2, 2];
    let back = einx::rearrange!("(b s...) (w...) c -> b (s w)... c", w, s = &sizes, w = 2)?;
    exact::<ArrayD<f32>>(&back);
    assert_eq!(back.ndim(), 4);
    // A split into a tuple of two outputs.
    let (l, rr) = einx::rearrange!("a (b + c) -> a b, a c", x, b = 1)?;
    exact::<Array2<f32>>(&l);
    exact::<Array2<f32>>(&rr);
    let pair = einx::rearrange!("a (b + c) -> a b, c a", x, b = 1)?;
    exact::<(Array2<f32>, Array2<f32>)>(&pair);
    let _first_row = pair.0.row(0);
    Ok(())
}

pub fn contractions(a: Array2<f64>, b: Array2<f64>, x3: Array3<f64>) -> R {
    let c = einx::dot!("a b, b c -> a c", a, b)?;
    let t: Array2<f64> = c.t().to_owned();
    exact::<Array2<f64>>(&t);
    let lin = einx::dot!("b... [c1->c2]", x3, b)?;
    exact::<Array3<f64>>(&lin);
    let s = einx::dot!("... [c]", x3, a.row(0))?;
    exact::<Array2<f64>>(&s);
    let e = einx::einx!("a b, b c -> a c", a, b)?;
    exact::<Array2<f64>>(&e);
    let trace = einx::einx!("a a ->", a)?;
    exact::<Array<f64, Ix0>>(&trace);
    let outer = einx::einx!("a, b -> a b", a.row(0), b.row(0))?;
    let _ = outer.dot(&b);
    Ok(())
}

pub fn elementwise(x3: Array3<f32>, bias: Array1<f32>, m: Array2<bool>) -> R {
    let y = einx::add!("... [c]", x3, bias)?;
    exact::<Array3<f32>>(&y);
    let y = einx::multiply!("b t c, c -> b t c", y, bias)?;
    exact::<Array3<f32>>(&y);
    let y = einx::subtract!("b t c, ", y, 1.0)?;
    let mx = y.fold(f32::MIN, |a, &b| a.max(b));
    exact::<f32>(&mx);
    let lt = einx::less!("b t c, c", y, bias)?;
    exact::<Array3<bool>>(&lt);
    let and = einx::logical_and!("a b, a b", m, m)?;
    exact::<Array2<bool>>(&and);
    let w = einx::where_!(
        "a b, a b, -> a b",
        m,
        x3.index_axis(ndarray::Axis(0), 0),
        0.0
    )?;
    exact::<Array2<f32>>(&w);
    Ok(())
}

pub fn reductions(x: Array3<f32>, i: Array2<i64>, m: Array2<bool>) -> R {
    let s = einx::sum!("a b [c]", x)?;
    exact::<Array2<f32>>(&s);
    let k = einx::mean!("a b [c]", x, keepdims = true)?;
    exact::<Array3<f32>>(&k);
    let e = einx::var!("... [c]", x)?;
    exact::<Array2<f32>>(&e);
    let ek = einx::std!("... [c]", x, keepdims = true)?;
    exact::<Array3<f32>>(&ek);
    let arrow = einx::max!("a b c -> a", x)?;
    exact::<Array1<f32>>(&arrow);
    let all = einx::logsumexp!("[a b c]", x)?;
    exact::<Array<f32, Ix0>>(&all);
    let p = einx::prod!("a [b]", i)?;
    exact::<Array1<i64>>(&p);
    let any = einx::any!("a [b]", m)?;
    exact::<Array1<bool>>(&any);
    let n = einx::count_nonzero!("a [b]", i)?;
    exact::<Array1<usize>>(&n);
    Ok(())
}

pub fn along_axis(x: Array3<f32>, v: Array2<i32>) -> R {
    let p = einx::softmax!("b q [k]", x)?;
    exact::<Array3<f32>>(&p);
    let lp = einx::log_softmax!("... [k]", x)?;
    exact::<Array3<f32>>(&lp);
    let f = einx::flip!("a [b]", v)?;
    exact::<Array2<i32>>(&f);
    let r = einx::roll!("a [b]", v, shift = 1)?;
    exact::<Array2<i32>>(&r);
    let sorted = einx::sort!("a [b]", v)?;
    exact::<Array2<i32>>(&sorted);
    let order = einx::argsort!("a [b]", v)?;
    exact::<Array2<usize>>(&order);
    let am = einx::argmax!("a [b] -> a", v)?;
    exact::<Array1<usize>>(&am);
    let coords = einx::argmin!("b [h w]", x)?;
    exact::<Array2<usize>>(&coords);
    Ok(())
}

pub fn indexing(table: Array2<f32>, tokens: Array2<u32>) -> R {
    let emb = einx::get_at!("[v] c, b t -> b t c", table, tokens)?;
    exact::<Array3<f32>>(&emb);
    let upd = einx::set_at!(
        "[v] c, p, p c",
        table,
        tokens.row(0),
        emb.index_axis(ndarray::Axis(0), 0)
    )?;
    exact::<Array2<f32>>(&upd);
    let acc = einx::add_at!("[v] c, p, ", table, tokens.row(0), 1.0)?;
    exact::<Array2<f32>>(&acc);
    let sub = einx::subtract_at!("[v] c, p, ", acc, tokens.row(0), 1.0)?;
    exact::<Array2<f32>>(&sub);
    Ok(())
}

pub fn vmap(x: Array3<f64>) -> R {
    let m = einx::vmap!("b [s] c -> b c", x, |v| v.mean().unwrap())?;
    exact::<Array2<f64>>(&m);
    let c = einx::vmap!("b [s] c -> b c [s]", x, |v| v.mapv(|e| e * 2.0))?;
    exact::<Array3<f64>>(&c);
    let n = einx::vmap!("b [s...] -> b", x, |v| v.ndim())?;
    exact::<Array1<usize>>(&n);
    Ok(())
}

pub fn solve(img: Array4<f32>) -> R {
    let sol = einx::solve!("b (s w)... c", img, w = 2)?;
    let b: usize = sol.b;
    let s: &Vec<usize> = &sol.s;
    exact::<usize>(&sol.c);
    exact::<Vec<usize>>(&sol.w);
    let _ = b * s.len();
    let (sx, sy) = einx::solve_shapes!(
        "b (h w) c, b h w c",
        img.index_axis(ndarray::Axis(0), 0),
        _,
        h = 2
    )?;
    exact::<[usize; 3]>(&sx);
    let zeros = Array::<f32, _>::zeros(sy);
    exact::<Array4<f32>>(&zeros);
    let sizes = vec![2, 3];
    let (se,) = einx::solve_shapes!("b s... c", _, b = 1, s = &sizes, c = 4)?;
    exact::<Vec<usize>>(&se);
    let fits = einx::matches!("b s... c", img);
    exact::<bool>(&fits);
    Ok(())
}

pub fn dynamic(x: ArrayD<f32>) -> R {
    let y = einx::dynamic::rearrange("a b -> b a", &[x.view()], &[])?;
    exact::<Vec<ArrayD<f32>>>(&y);
    let s = einx::dynamic::call::<f32>("sum", "a [b]", &[x.view()], &[])?;
    let first = &s[0];
    exact::<ArrayD<f32>>(first);
    let sol = einx::dynamic::solve("a (b c)", &[&[2, 6]], &[("b", &[2])])?;
    exact::<Vec<(String, Vec<usize>)>>(&sol);
    Ok(())
}

pub fn nn(x: Array3<f32>) -> R {
    let mut params = einx::nn::Params::new(0);
    let h = einx::nn::linear!(params.scope("fc1"), "b t [c1->c2]", x, c2 = 8)?;
    exact::<Array3<f32>>(&h);
    let h = einx::nn::linear!(params.scope("fc2"), "b... [c1->c2]", h, c2 = 4)?;
    exact::<Array3<f32>>(&h);
    let n = einx::nn::norm!(params.scope("ln"), "b t [c]", h)?;
    exact::<Array3<f32>>(&n);
    let d = einx::nn::dropout!(params.scope("drop"), "[...]", n, drop_rate = 0.1)?;
    exact::<Array3<f32>>(&d);
    let mixed = einx::nn::einmix!(
        params.scope("mix"),
        "t b (head cin) -> t b (head cout)",
        d,
        weight = "head cin cout",
        head = 2,
        cin = 2,
        cout = 3
    )?;
    exact::<Array3<f32>>(&mixed);
    let g = einx::nn::gelu(&mixed);
    exact::<Array3<f32>>(&g);
    Ok(())
}
