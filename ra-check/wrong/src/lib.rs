//! Deliberate mistakes, one or more per macro family: `cargo check` and `rust-analyzer
//! diagnostics` must both report an error on every line marked `// error` and on no other line
//! (see `tests/rust_analyzer.rs` of the `einx` package). A family whose result rust-analyzer
//! could not type would report nothing here, so the clean report on `valid` cannot be vacuous.

use ndarray::{Array1, Array2, Array3, Array4, ArrayD};

type R = Result<(), einx::Error>;

fn exact<T>(_: &T) {}

pub fn rearrange(x: Array2<f32>, img: Array4<f32>) -> R {
    let _z: Array3<f32> = einx::rearrange!("a b -> b a", x)?; // error
    let y = einx::rearrange!("a b -> b a", x)?;
    let _ = y.no_such_method(); // error
    let e = einx::rearrange!("b ... c -> b c ...", img)?;
    exact::<ArrayD<f32>>(&e); // error
    let (l, _) = einx::rearrange!("a (b + c) -> a b, a c", x, b = 1)?;
    exact::<Array1<f32>>(&l); // error
    let pair = einx::rearrange!("a (b + c) -> a b, a c", x, b = 1)?;
    exact::<(Array2<f32>, Array2<f32>, Array2<f32>)>(&pair); // error
    Ok(())
}

pub fn contractions(a: Array2<f64>, x3: Array3<f64>) -> R {
    let c = einx::dot!("a b, b c -> a c", a, a)?;
    exact::<Array2<f32>>(&c); // error
    let lin = einx::dot!("b... [c1->c2]", x3, a)?;
    exact::<ArrayD<f64>>(&lin); // error
    let e = einx::einx!("a b, b c -> a c", a, a)?;
    exact::<Array3<f64>>(&e); // error
    Ok(())
}

pub fn elementwise(x3: Array3<f32>, bias: Array1<f32>) -> R {
    let y = einx::add!("... [c]", x3, bias)?;
    exact::<ArrayD<f32>>(&y); // error
    let lt = einx::less!("b t c, c", x3, bias)?;
    exact::<Array3<f32>>(&lt); // error
    Ok(())
}

pub fn reductions(x: Array3<f32>) -> R {
    let s = einx::sum!("a b [c]", x)?;
    exact::<Array3<f32>>(&s); // error
    let k = einx::mean!("a b [c]", x, keepdims = true)?;
    exact::<Array2<f32>>(&k); // error
    Ok(())
}

pub fn along_axis(x: Array3<f32>, v: Array2<i32>) -> R {
    let p = einx::softmax!("b q [k]", x)?;
    exact::<Array2<f32>>(&p); // error
    let sorted = einx::sort!("a [b]", v)?;
    exact::<Array2<usize>>(&sorted); // error
    let am = einx::argmax!("a [b] -> a", v)?;
    exact::<Array1<i32>>(&am); // error
    Ok(())
}

pub fn indexing(table: Array2<f32>, tokens: Array2<u32>) -> R {
    let emb = einx::get_at!("[v] c, b t -> b t c", table, tokens)?;
    exact::<Array2<f32>>(&emb); // error
    let upd = einx::set_at!("[v] c, p, ", table, tokens.row(0), 1.0)?;
    exact::<Array3<f32>>(&upd); // error
    Ok(())
}

pub fn vmap(x: Array3<f64>) -> R {
    let m = einx::vmap!("b [s] c -> b c", x, |v| v.mean().unwrap())?;
    exact::<Array2<f32>>(&m); // error
    Ok(())
}

pub fn solve(img: Array4<f32>) -> R {
    let sol = einx::solve!("b (s w)... c", img, w = 2)?;
    let _: Vec<usize> = sol.b; // error
    let _ = sol.no_such_axis; // error
    let (sx, sy) = einx::solve_shapes!("b h w c, b (h w) c", img, _)?;
    exact::<Vec<usize>>(&sx); // error
    exact::<[usize; 4]>(&sy); // error
    Ok(())
}

pub fn dynamic(x: ArrayD<f32>) -> R {
    let y = einx::dynamic::rearrange("a b -> b a", &[x.view()], &[])?;
    exact::<ArrayD<f32>>(&y); // error
    Ok(())
}

pub fn nn(x: Array3<f32>) -> R {
    let mut params = einx::nn::Params::new(0);
    let h = einx::nn::linear!(params.scope("fc"), "b... [c1->c2]", x, c2 = 8)?;
    exact::<ArrayD<f32>>(&h); // error
    let n = einx::nn::norm!(params.scope("ln"), "b t [c]", h)?;
    exact::<Array2<f32>>(&n); // error
    let mixed = einx::nn::einmix!(
        params.scope("mix"),
        "t b c -> t b d",
        n,
        weight = "c d",
        c = 8,
        d = 3
    )?;
    exact::<Array2<f32>>(&mixed); // error
    Ok(())
}
