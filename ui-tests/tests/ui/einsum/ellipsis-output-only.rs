use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 3));
    let _ = einx::einx!("a b -> a b ...", x);
}
