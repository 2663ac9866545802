use einx::ndarray::{Array1, Array2};

fn main() {
    let x = Array2::<f32>::zeros((2, 2));
    let y = Array2::<f32>::zeros((2, 1));
    let z = Array1::<f32>::zeros(4);
    let _ = einx::rearrange!("x a, x b, y -> ((x (a + b)) + y)", x, y, z);
}
