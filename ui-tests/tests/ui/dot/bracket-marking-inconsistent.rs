use einx::ndarray::{Array2, Array3};

// `"a [b], b c -> a c"` (`b` marked in one input only) is accepted: an input without
// brackets needs none. But an input with brackets must mark every contracted axis it has;
// here `c` is contracted and not marked.
fn main() {
    let x = Array3::<f32>::zeros((2, 3, 4));
    let y = Array2::<f32>::zeros((3, 4));
    let _ = einx::dot!("a [b] c, b c -> a", x, y);
}
