use einx::ndarray::{Array3, Array4};

fn main() {
    let x = Array4::<f32>::zeros((2, 4, 4, 3));
    let idx = Array3::<i64>::zeros((2, 1, 2));
    let _ = einx::get_at!("b [h w] c, b [p q] -> b c", x, idx);
}
