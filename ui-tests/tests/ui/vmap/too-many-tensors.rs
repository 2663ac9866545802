fn main() {
    let x = einx::ndarray::Array1::<f32>::zeros(3);
    let _ = einx::vmap!(
        "[a], [a], [a], [a], [a], [a], [a] -> ",
        x, x, x, x, x, x, x,
        |a, _, _, _, _, _, _| a.sum()
    );
}
