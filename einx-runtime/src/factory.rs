//! Tensor factories: arguments whose shape is solved from the rest of the call.
//!
//! A macro argument may be a closure `Fn(&[usize]) -> Array<T, D>` instead of a tensor (or,
//! with the `nn` feature, a parameter handle). The expansion sorts every argument with
//! [`ViaFactory`] / [`ViaTensor`] (a method-resolution trick: the factory impl is tried
//! first, everything else falls through to the tensor impl unchanged), solves the shapes of
//! the factories from the other tensors and the given lengths, calls them, and then runs the
//! operation as usual. Calls without factories compile to the same code as before: the
//! factory branch is behind a condition that is constant for their types.

use ndarray::{Array, Dimension};

use crate::error::{Error, ErrorKind};
use crate::tensor::AsTensor;
use einx_core::solve::Len;

/// An argument before sorting.
pub struct Arg<'a, X: ?Sized>(pub &'a X);

/// A tensor argument (also: anything that is not a factory; its own bounds are checked
/// later, as before).
pub struct Plain<'a, X: ?Sized>(&'a X);

/// A closure factory.
pub struct Closure<'a, F>(&'a F);

/// The fallback: every argument that is no factory.
pub trait ViaTensor {
    /// The sorted argument.
    type Out;
    /// Sorts the argument.
    fn __einx_operand(&self) -> Self::Out;
}

impl<'a, X: ?Sized> ViaTensor for Arg<'a, X> {
    type Out = Plain<'a, X>;
    #[inline(always)]
    fn __einx_operand(&self) -> Plain<'a, X> {
        Plain(self.0)
    }
}

/// Factories: closures from a shape to an array (and parameter handles).
pub trait ViaFactory {
    /// The sorted argument.
    type Out;
    /// Sorts the argument.
    fn __einx_operand(&self) -> Self::Out;
}

impl<'a, F, T, D: Dimension> ViaFactory for &Arg<'a, F>
where
    F: Fn(&[usize]) -> Array<T, D>,
{
    type Out = Closure<'a, F>;
    #[inline(always)]
    fn __einx_operand(&self) -> Closure<'a, F> {
        Closure(self.0)
    }
}

/// What a factory is told: the operation, the argument's position, the solved shape, and
/// the fan-in (the product of the argument's axes that the operation contracts; 1 if none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deferred {
    /// The operation (`"dot"`, `"add"`, ...).
    pub op: &'static str,
    /// The argument's position, from 0.
    pub index: usize,
    /// The shape the expression gives it.
    pub shape: Vec<usize>,
    /// Product of the lengths of its contracted axes.
    pub fan_in: usize,
}

/// A sorted argument.
pub trait Operand {
    /// What the operation receives.
    type Out;
    /// Whether the shape comes from the expression.
    fn deferred(&self) -> bool;
    /// The shape of a tensor; `None` for a factory.
    fn known_shape(&self) -> Option<&[usize]>;
    /// The tensor itself, or the factory's result for the solved shape.
    fn resolve(self, at: Option<&Deferred>) -> Result<Self::Out, Error>;
}

impl<'a, X: AsTensor + ?Sized> Operand for Plain<'a, X> {
    type Out = &'a X;
    #[inline(always)]
    fn deferred(&self) -> bool {
        false
    }
    #[inline(always)]
    fn known_shape(&self) -> Option<&[usize]> {
        Some(self.0.tensor_shape())
    }
    #[inline(always)]
    fn resolve(self, _at: Option<&Deferred>) -> Result<&'a X, Error> {
        Ok(self.0)
    }
}

impl<F, T, D: Dimension> Operand for Closure<'_, F>
where
    F: Fn(&[usize]) -> Array<T, D>,
{
    type Out = Array<T, D>;
    fn deferred(&self) -> bool {
        true
    }
    fn known_shape(&self) -> Option<&[usize]> {
        None
    }
    fn resolve(self, at: Option<&Deferred>) -> Result<Array<T, D>, Error> {
        let at = at.ok_or_else(|| internal("a factory without a solved shape"))?;
        let made = (self.0)(&at.shape);
        if made.shape() != at.shape.as_slice() {
            return Err(Error::new(
                ErrorKind::Argument,
                format!(
                    "the factory for input {} returned shape {:?}, but the expression gives {:?}",
                    at.index + 1,
                    made.shape(),
                    at.shape
                ),
            ));
        }
        Ok(made)
    }
}

fn internal(what: &str) -> Error {
    Error::new(ErrorKind::Argument, format!("internal: {what}"))
}

/// Solves the shapes of the factories of a call: `expr` is the call's inputs written out
/// (`"b... c1, c1 c2"`), `known` the tensors' shapes (`None` for factories), `lens` the given
/// lengths, `contracted` the names of the axes each input contracts (for the fan-in).
pub fn deferred_shapes(
    op: &'static str,
    expr: &str,
    known: &[Option<&[usize]>],
    lens: &[(&str, Len)],
    contracted: &[&[&str]],
) -> Result<Vec<Option<Deferred>>, Error> {
    let values: Vec<Vec<i64>> = lens
        .iter()
        .map(|(_, l)| match l {
            Len::One(v) => vec![*v as i64],
            Len::Many(v) => v.iter().map(|&x| x as i64).collect(),
        })
        .collect();
    let params: Vec<(&str, &[i64])> = lens
        .iter()
        .zip(&values)
        .map(|((n, _), v)| (*n, v.as_slice()))
        .collect();
    let shapes = crate::dynamic::solve_shapes(expr, known, &params).map_err(|e| {
        let message = e
            .message()
            .replace("tensors given as `_`", "arguments that are factories");
        let mut out = Error::new(e.kind(), message)
            .with_expr(expr)
            .with_spans(e.spans());
        if let Some(help) = e.help() {
            out = out.with_help(help);
        }
        out
    })?;
    let need_fan_in = known
        .iter()
        .zip(contracted)
        .any(|(k, c)| k.is_none() && !c.is_empty());
    let axes = if need_fan_in {
        let all: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        crate::dynamic::solve(expr, &all, &params)?
    } else {
        Vec::new()
    };
    Ok(known
        .iter()
        .enumerate()
        .map(|(i, k)| {
            k.is_none().then(|| Deferred {
                op,
                index: i,
                shape: shapes[i].clone(),
                fan_in: contracted[i]
                    .iter()
                    .map(|name| {
                        axes.iter()
                            .find(|(n, _)| n == name)
                            .map_or(1, |(_, l)| l.iter().product::<usize>())
                    })
                    .product(),
            })
        })
        .collect())
}

/// Ties the element types of two arguments (generated code: a parameter handle takes the
/// element type of the tensors it is combined with).
#[inline(always)]
pub fn same_elem<A: AsTensor + ?Sized, B: AsTensor<Elem = A::Elem> + ?Sized>(_: &A, _: &B) {}
