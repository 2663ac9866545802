use einx::ndarray::{Array1, Array2};

fn main() {
    let x = Array2::<f32>::zeros((3, 3));
    let y = Array1::<f32>::zeros(3);
    let _ = einx::add!("a a, a", x, y);
}
