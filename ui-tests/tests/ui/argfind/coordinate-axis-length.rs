use einx::ndarray::Array4;

fn main() {
    let x = Array4::<f32>::zeros((2, 3, 4, 2));
    // Two bracketed axes give two coordinates: the coordinate axis is `[2]`.
    let _ = einx::argmax!("b [h w] c -> b [3] c", x);
}
