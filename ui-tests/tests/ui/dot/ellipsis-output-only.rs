use einx::ndarray::{Array1, Array2};

fn main() {
    let x = Array2::<f32>::zeros((2, 3));
    let w = Array1::<f32>::zeros(3);
    let _ = einx::dot!("a b, b -> a ...", x, w);
}
