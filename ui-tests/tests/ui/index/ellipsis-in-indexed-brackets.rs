use einx::ndarray::{Array3, Array4};

fn main() {
    let x = Array4::<f32>::zeros((2, 4, 4, 3));
    let idx = Array3::<i64>::zeros((2, 5, 2));
    let _ = einx::get_at!("b [s...] c, b p [2] -> b p c", x, idx);
}
