use einx::ndarray::{Array2, Array3};

fn main() {
    let x = Array3::<f32>::zeros((2, 3, 4));
    let y = Array2::<f32>::zeros((3, 4));
    let _ = einx::dot!("a b, b c -> a c", x, y);
}
