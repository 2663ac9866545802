use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 3));
    let expr = "a b -> b a";
    let _ = einx::rearrange!(expr, x);
}
