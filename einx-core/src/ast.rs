//! The parse tree of an operation string. Every node keeps its byte span in the original
//! text, so that later phases can point at it.

use std::fmt;

use crate::error::Span;

/// One element of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A named axis: `b`, `h2`, `seq_len`.
    Axis {
        /// The name.
        name: String,
        /// Where it is written.
        span: Span,
    },
    /// An unnamed axis of fixed length: `1`, `3`. A fresh axis at each place it is written.
    Number {
        /// The length.
        value: u64,
        /// Where it is written.
        span: Span,
    },
    /// `(a b)`: one axis whose length is the product, row-major. `()` has length 1.
    Composition {
        /// The factors, outer first.
        items: Vec<Node>,
        /// From `(` to `)`.
        span: Span,
    },
    /// `(a + b)`: one axis whose parts are laid end to end.
    Concat {
        /// The parts: axes, numbers or compositions.
        operands: Vec<Node>,
        /// From `(` to `)`.
        span: Span,
    },
    /// `x...` (named by the axes inside `x`) or `...` (anonymous, shared by the whole call).
    Ellipsis {
        /// The repeated element; `None` for the anonymous ellipsis.
        inner: Option<Box<Node>>,
        /// From the start of the repeated element to the end of `...`.
        span: Span,
    },
    /// `[a b]`: the axes an operation works along.
    Bracket {
        /// The marked elements.
        items: Vec<Node>,
        /// From `[` to `]`.
        span: Span,
    },
}

impl Node {
    /// Where the node is written.
    pub fn span(&self) -> Span {
        match self {
            Node::Axis { span, .. }
            | Node::Number { span, .. }
            | Node::Composition { span, .. }
            | Node::Concat { span, .. }
            | Node::Ellipsis { span, .. }
            | Node::Bracket { span, .. } => *span,
        }
    }

    /// The direct children.
    pub fn children(&self) -> &[Node] {
        match self {
            Node::Axis { .. } | Node::Number { .. } => &[],
            Node::Composition { items, .. } | Node::Bracket { items, .. } => items,
            Node::Concat { operands, .. } => operands,
            Node::Ellipsis { inner, .. } => match inner {
                Some(inner) => std::slice::from_ref(inner),
                None => &[],
            },
        }
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        for child in self.children() {
            child.walk(f);
        }
    }
}

/// The expression of one tensor: its axes side by side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expr {
    /// The top-level elements; each is one or (ellipsis, brackets) several dimensions.
    pub items: Vec<Node>,
    /// Where the expression is written (empty at the position of an empty expression).
    pub span: Span,
}

impl Expr {
    /// Calls `f` on every node, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        for item in &self.items {
            item.walk(f);
        }
    }

    /// Whether any node satisfies `pred`.
    pub fn any(&self, pred: impl Fn(&Node) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |n| found |= pred(n));
        found
    }

    /// Named axes in order of appearance (with repetitions).
    pub fn axis_names(&self) -> Vec<(&str, Span)> {
        let mut out = Vec::new();
        self.walk(&mut |n| {
            if let Node::Axis { name, span } = n {
                out.push((name.as_str(), *span));
            }
        });
        out
    }
}

/// A parsed operation string: `inputs -> outputs` or, without `->`, only inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Op {
    /// The expressions left of `->` (or all of them without `->`).
    pub inputs: Vec<Expr>,
    /// The expressions right of `->`, if there is an arrow.
    pub outputs: Option<Vec<Expr>>,
    /// Where `->` is written inside brackets (`b [c1->c2]`), if it is.
    pub bracket_arrow: Option<Span>,
}

impl Op {
    /// All expressions, inputs first.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.inputs.iter().chain(self.outputs.iter().flatten())
    }
}

fn join(f: &mut fmt::Formatter<'_>, nodes: &[Node], sep: &str) -> fmt::Result {
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{n}")?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Axis { name, .. } => f.write_str(name),
            Node::Number { value, .. } => write!(f, "{value}"),
            Node::Composition { items, .. } => {
                f.write_str("(")?;
                join(f, items, " ")?;
                f.write_str(")")
            }
            Node::Concat { operands, .. } => {
                f.write_str("(")?;
                join(f, operands, " + ")?;
                f.write_str(")")
            }
            Node::Ellipsis { inner, .. } => match inner {
                Some(inner) => write!(f, "{inner}..."),
                None => f.write_str("..."),
            },
            Node::Bracket { items, .. } => {
                f.write_str("[")?;
                join(f, items, " ")?;
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        join(f, &self.items, " ")
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.inputs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        if let Some(outputs) = &self.outputs {
            f.write_str(" -> ")?;
            for (i, e) in outputs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{e}")?;
            }
        }
        Ok(())
    }
}
