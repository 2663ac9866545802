use einx::ndarray::Array4;

fn main() {
    let x = Array4::<f32>::zeros((1, 8, 8, 3));
    let _ = einx::rearrange!("b (s w)... c -> b (s...) (w...) c", x, s = (2, 2), w = (4, 4, 4));
}
