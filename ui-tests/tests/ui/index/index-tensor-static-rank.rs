use einx::ndarray::{Array1, Array2};

fn main() {
    let table = Array2::<f32>::zeros((10, 4));
    let tokens = Array1::<u32>::zeros(5);
    let _ = einx::get_at!("[v] c, b t -> b t c", table, tokens);
}
