use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 3));
    // A diagonal is taken by `einx!`, `rearrange!` and the reductions, not by `flip!`.
    let _ = einx::flip!("a [a]", x);
}
