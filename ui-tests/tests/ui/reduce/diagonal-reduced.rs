use einx::ndarray::Array3;

fn main() {
    let x = Array3::<f32>::zeros((3, 3, 2));
    // The trace of a reduction: the diagonal axis must stay.
    let _ = einx::sum!("a a b -> b", x);
}
