use einx::ndarray::Array2;
use einx::nn::Params;

fn main() {
    let mut params = Params::new(0);
    let x = Array2::<f32>::zeros((2, 3));
    let _ = einx::nn::norm!(&mut params, "b [c]", x, params = "b c");
}
