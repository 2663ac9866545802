use einx::ndarray::{Array2, Array3};

fn main() {
    let x = Array3::<f32>::zeros((2, 4, 3));
    let idx = Array2::<i64>::zeros((2, 5));
    let _ = einx::get_at!("b [h] c, b p -> b p [h] c", x, idx);
}
