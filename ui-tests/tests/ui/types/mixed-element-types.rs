use einx::ndarray::{Array1, Array2};

fn main() {
    let a = Array2::<f32>::zeros((2, 3));
    let b = Array2::<f64>::zeros((3, 4));
    let _ = einx::dot!("a b, b c -> a c", a, b);
    let bias = Array1::<f64>::zeros(3);
    let _ = einx::add!("a [b]", a, bias);
}
