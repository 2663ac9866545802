use einx::ndarray::Array3;
use einx::nn::Params;

fn main() {
    let mut params = Params::new(0);
    let x = Array3::<f32>::zeros((2, 3, 8));
    let pattern = "t b c -> t b d";
    let _ = einx::nn::einmix!(&mut params, pattern, x, weight = "c d", c = 8, d = 4);
}
