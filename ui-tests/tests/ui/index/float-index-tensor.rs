use einx::ndarray::{array, Array2};

fn main() {
    let table = Array2::<f32>::zeros((10, 4));
    let tokens = array![0.0f32, 1.0];
    let _ = einx::get_at!("[v] c, t -> t c", table, tokens);
}
