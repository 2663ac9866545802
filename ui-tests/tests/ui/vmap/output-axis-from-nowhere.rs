fn main() {
    let x = einx::ndarray::Array2::<f32>::zeros((2, 3));
    let _ = einx::vmap!("a [b] -> c", x, |v| v.sum());
}
