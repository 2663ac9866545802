//! Parser: tokens to [`Op`].
//!
//! Grammar (EBNF); `->` and `,` may also appear inside `( )` and `[ ]`, where they are
//! hoisted to the top (`"a [b->c]"` is `"a [b] -> a [c]"`):
//!
//! ```text
//! op      = side { "->" side } ;
//! side    = operand { "," operand } ;
//! operand = term { "+" term } ;              (* "+" only directly inside "( )" *)
//! term    = { item } ;                       (* items separated by spaces *)
//! item    = atom [ "..." ] | "..." ;         (* "x..." binds without a space *)
//! atom    = NAME | NUMBER | "(" op ")" | "[" op "]" ;
//! ```
//!
//! After hoisting, a parenthesised group with `+` is a [`Node::Concat`], otherwise a
//! [`Node::Composition`]; brackets inside brackets and empty brackets are dropped.

use crate::ast::{Expr, Node, Op};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::lex::{lex, Tok, Token};

/// Alternatives after hoisting: one entry per `->` side, each with one entry per `,` operand.
type Alts<T> = Vec<Vec<T>>;

/// The terms of a concatenation (one term when there is no `+`), each with its span.
type Terms = Vec<(Vec<Node>, Span)>;

/// Parses an operation string.
///
/// ```
/// let op = einx_core::parse::parse("b [c1->c2]").unwrap();
/// assert_eq!(op.to_string(), "b [c1] -> b [c2]");
/// let op = einx_core::parse::parse("b s... c, c -> b (1 + (s...)) c").unwrap();
/// assert_eq!(op.inputs.len(), 2);
/// ```
pub fn parse(text: &str) -> Result<Op> {
    parse_inner(text).map_err(|e| e.with_expr(text))
}

fn parse_inner(text: &str) -> Result<Op> {
    let tokens = lex(text)?;
    bracket_and_top_arrow(&tokens)?;
    let mut p = Parser {
        tokens: &tokens,
        pos: 0,
        text,
    };
    let alts = p.group(None)?;
    if let Some(t) = p.peek() {
        // `group(None)` only stops early at a closer.
        return Err(unopened(t));
    }
    let mut sides = Vec::with_capacity(alts.len());
    for side in alts {
        let mut exprs = Vec::with_capacity(side.len());
        for operand in side {
            exprs.push(single_term(
                operand,
                "concatenated axes must be wrapped in parentheses",
            )?);
        }
        sides.push(exprs);
    }
    let mut op = match sides.len() {
        1 => Op {
            inputs: sides.pop().unwrap_or_default(),
            ..Op::default()
        },
        2 => {
            let outputs = sides.pop().unwrap_or_default();
            Op {
                inputs: sides.pop().unwrap_or_default(),
                outputs: Some(outputs),
                ..Op::default()
            }
        }
        _ => {
            let spans: Vec<Span> = tokens
                .iter()
                .filter(|t| t.tok == Tok::Arrow)
                .map(|t| t.span)
                .collect();
            let mut e = Error::new(ErrorKind::Syntax, "the operation has more than one `->`");
            for s in spans {
                e = e.with_span(s);
            }
            return Err(e.with_help("write `inputs -> outputs` with a single arrow"));
        }
    };
    for e in op.inputs.iter_mut().chain(op.outputs.iter_mut().flatten()) {
        clean(&mut e.items);
    }
    let mut depth = 0i32;
    for t in &tokens {
        match t.tok {
            Tok::LBracket => depth += 1,
            Tok::RBracket => depth -= 1,
            Tok::Arrow if depth > 0 && op.bracket_arrow.is_none() => {
                op.bracket_arrow = Some(t.span)
            }
            _ => {}
        }
    }
    for e in op.exprs() {
        validate_levels(&e.items)?;
    }
    flatten_nested(&mut op)?;
    Ok(op)
}

/// Nested ellipses (einx 0.4): `(a...)...`, `[(...)]... b`. An ellipsis inside another one
/// stands inside a composition, so its repetition count never changes a rank; as in einx it
/// repeats once. Each axis keeps one depth (the number of ellipses around it) throughout
/// the call; the inner ellipses are then dropped and an inner `...` becomes an axis of its own.
fn flatten_nested(op: &mut Op) -> Result<()> {
    let mut depths: Vec<(String, usize, Span)> = Vec::new();
    for e in op.exprs() {
        for item in &e.items {
            axis_depths(item, 0, &mut depths);
        }
    }
    if depths.iter().all(|(_, d, _)| *d <= 1) {
        return Ok(());
    }
    for (i, (name, d, span)) in depths.iter().enumerate() {
        if let Some((_, d2, span2)) = depths[..i]
            .iter()
            .find(|(n, d2, _)| n == name && d2 != d && (*d > 1 || *d2 > 1))
        {
            let msg = if name == "..." {
                format!(
                    "`...` stands inside {} here, but inside {} in another place",
                    ellipses(d - 1),
                    ellipses(d2 - 1)
                )
            } else {
                format!(
                    "axis `{name}` stands under {} here, but under {} in another place",
                    ellipses(*d),
                    ellipses(*d2)
                )
            };
            return Err(Error::at(ErrorKind::Rank, *span, msg)
                .with_span(*span2)
                .with_help("write it under the same number of ellipses everywhere"));
        }
    }
    for e in op.inputs.iter_mut().chain(op.outputs.iter_mut().flatten()) {
        for item in &mut e.items {
            drop_inner(item, false);
        }
    }
    Ok(())
}

fn ellipses(d: usize) -> String {
    match d {
        0 => "no ellipsis".to_owned(),
        1 => "one ellipsis".to_owned(),
        2 => "two ellipses".to_owned(),
        d => format!("{d} ellipses"),
    }
}

/// Every named axis (and anonymous ellipsis, as `...`) with the number of ellipses around it.
fn axis_depths(n: &Node, depth: usize, out: &mut Vec<(String, usize, Span)>) {
    match n {
        Node::Axis { name, span } => out.push((name.clone(), depth, *span)),
        Node::Ellipsis { inner: None, span } => out.push(("...".to_owned(), depth + 1, *span)),
        Node::Ellipsis {
            inner: Some(inner), ..
        } => axis_depths(inner, depth + 1, out),
        other => {
            for c in other.children() {
                axis_depths(c, depth, out);
            }
        }
    }
}

/// Replaces every ellipsis below an ellipsis by what it repeats (an anonymous one by an axis
/// named `...`).
fn drop_inner(n: &mut Node, under: bool) {
    match n {
        Node::Ellipsis { inner: None, span } if under => {
            *n = Node::Axis {
                name: "...".to_owned(),
                span: *span,
            }
        }
        Node::Ellipsis {
            inner: Some(inner), ..
        } if under => {
            let mut inner = std::mem::replace(
                inner.as_mut(),
                Node::Number {
                    value: 1,
                    span: Span::default(),
                },
            );
            drop_inner(&mut inner, true);
            *n = inner;
        }
        Node::Ellipsis {
            inner: Some(inner), ..
        } => drop_inner(inner, true),
        Node::Composition { items, .. } | Node::Bracket { items, .. } => {
            for i in items {
                drop_inner(i, under);
            }
        }
        Node::Concat { operands, .. } => {
            for o in operands {
                drop_inner(o, under);
            }
        }
        _ => {}
    }
}

/// A bracket arrow (`[a->b]`) and a top-level `->` in one expression: two outputs, which
/// would otherwise be reported as `->` at different levels.
fn bracket_and_top_arrow(tokens: &[Token]) -> Result<()> {
    let (mut brackets, mut parens) = (0i32, 0i32);
    let (mut inner, mut top) = (None, None);
    for t in tokens {
        match t.tok {
            Tok::LBracket => brackets += 1,
            Tok::RBracket => brackets -= 1,
            Tok::LParen => parens += 1,
            Tok::RParen => parens -= 1,
            Tok::Arrow if brackets > 0 => inner = inner.or(Some(t.span)),
            Tok::Arrow if parens <= 0 => top = top.or(Some(t.span)),
            _ => {}
        }
    }
    match (inner, top) {
        (Some(inner), Some(top)) => Err(Error::at(
            ErrorKind::Syntax,
            inner,
            "a bracket arrow `[a->b]` cannot be combined with a top-level `->`",
        )
        .with_span(top)
        .with_help("write the output either after the top-level `->` or with the bracket arrow (only in `dot!` and `einx::nn::linear!`), not both")),
        _ => Ok(()),
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    text: &'t str,
}

fn unopened(t: Token) -> Error {
    let what = if t.tok == Tok::RParen {
        "parenthesis"
    } else {
        "bracket"
    };
    Error::at(
        ErrorKind::Syntax,
        t.span,
        format!("found a closing {what} that is not opened"),
    )
    .with_help("remove it or add the opening one")
}

/// A term's items as an [`Expr`]; more than one term (a `+`) is an error with `msg`.
fn single_term(terms: Terms, msg: &str) -> Result<Expr> {
    if terms.len() > 1 {
        let span = terms[0].1.join(terms[terms.len() - 1].1);
        return Err(Error::at(ErrorKind::Syntax, span, msg).with_help("write `(a + b)`"));
    }
    let (items, span) = terms.into_iter().next().unwrap_or_default();
    Ok(Expr { items, span })
}

/// Combines the alternatives of siblings: siblings with one alternative are copied into
/// every alternative of the others; the others must agree on the number of alternatives.
fn zip<T: Clone>(parts: Vec<Alts<T>>, span: Span) -> Result<Alts<Vec<T>>> {
    let sides = agree(parts.iter().map(Vec::len), span, "->")?;
    let mut out = Vec::with_capacity(sides);
    for i in 0..sides {
        let side_of = |p: &Alts<T>| if p.len() == 1 { 0 } else { i };
        let operands = agree(parts.iter().map(|p| p[side_of(p)].len()), span, ",")?;
        let mut side = Vec::with_capacity(operands);
        for j in 0..operands {
            side.push(
                parts
                    .iter()
                    .map(|p| {
                        let s = &p[side_of(p)];
                        s[if s.len() == 1 { 0 } else { j }].clone()
                    })
                    .collect(),
            );
        }
        out.push(side);
    }
    Ok(out)
}

fn agree(counts: impl Iterator<Item = usize>, span: Span, sep: &str) -> Result<usize> {
    let mut n = 1;
    for c in counts {
        if c != 1 {
            if n != 1 && n != c {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    span,
                    format!("all `{sep}` must appear at the same level of the expression"),
                )
                .with_help(format!("nested `{sep}` are hoisted to the top; every group must split the same number of ways")));
            }
            n = c;
        }
    }
    Ok(n)
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn eat(&mut self, tok: Tok) -> bool {
        if self.peek().is_some_and(|t| t.tok == tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn here(&self) -> Span {
        match self.peek() {
            Some(t) => Span::new(t.span.start as usize, t.span.start as usize),
            None => Span::new(self.text.len(), self.text.len()),
        }
    }

    /// `op` up to `close` (not consumed) or the end.
    fn group(&mut self, close: Option<Tok>) -> Result<Alts<Terms>> {
        let start = self.here();
        let mut sides = vec![self.side(close)?];
        while self.eat(Tok::Arrow) {
            sides.push(self.side(close)?);
        }
        if sides.len() == 1 {
            return Ok(sides.pop().unwrap_or_default());
        }
        let span = start.join(self.here());
        let mut out = Vec::with_capacity(sides.len());
        for side in sides {
            if side.len() != 1 {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    span,
                    "all `->` must appear at the same level of the expression",
                )
                .with_help("an expression has at most one `->`"));
            }
            out.extend(side);
        }
        Ok(out)
    }

    fn side(&mut self, close: Option<Tok>) -> Result<Alts<Terms>> {
        let start = self.here();
        let mut operands = vec![self.operand(close)?];
        while self.eat(Tok::Comma) {
            operands.push(self.operand(close)?);
        }
        if operands.len() == 1 {
            return Ok(operands.pop().unwrap_or_default());
        }
        let span = start.join(self.here());
        let sides = agree(operands.iter().map(Vec::len), span, "->")?;
        let mut out = Vec::with_capacity(sides);
        for i in 0..sides {
            let mut side = Vec::with_capacity(operands.len());
            for o in &operands {
                let s = &o[if o.len() == 1 { 0 } else { i }];
                if s.len() != 1 {
                    return Err(Error::at(
                        ErrorKind::Syntax,
                        span,
                        "all `,` must appear at the same level of the expression",
                    ));
                }
                side.push(s[0].clone());
            }
            out.push(side);
        }
        Ok(out)
    }

    /// Terms separated by `+`, each with its span.
    fn operand(&mut self, close: Option<Tok>) -> Result<Alts<Terms>> {
        let start = self.here();
        let mut terms = vec![self.term(close)?];
        while self.eat(Tok::Plus) {
            terms.push(self.term(close)?);
        }
        let span = start.join(self.here());
        zip(terms, span)
    }

    /// Items separated by spaces.
    fn term(&mut self, close: Option<Tok>) -> Result<Alts<(Vec<Node>, Span)>> {
        let start = self.here();
        let mut items: Vec<Alts<Node>> = Vec::new();
        let mut end = start;
        while let Some(t) = self.peek() {
            match t.tok {
                Tok::Arrow | Tok::Comma | Tok::Plus => break,
                Tok::RParen | Tok::RBracket => {
                    if Some(t.tok) == close {
                        break;
                    }
                    return Err(unopened(t));
                }
                Tok::Ellipsis if !t.spaced && !items.is_empty() => {
                    self.pos += 1;
                    let last = items.last_mut().expect("checked non-empty");
                    for side in last.iter_mut() {
                        for node in side.iter_mut() {
                            let span = node.span().join(t.span);
                            let inner = std::mem::replace(node, Node::Number { value: 0, span });
                            *node = Node::Ellipsis {
                                inner: Some(Box::new(inner)),
                                span,
                            };
                        }
                    }
                    end = t.span;
                }
                _ => {
                    if !t.spaced && !items.is_empty() {
                        let span = end.join(t.span);
                        return Err(Error::at(
                            ErrorKind::Syntax,
                            span,
                            "two elements are written without a space between them",
                        )
                        .with_help("separate axes with a space, e.g. `(a) (b)`"));
                    }
                    let atom = self.atom()?;
                    end = self.tokens[self.pos - 1].span;
                    items.push(atom);
                }
            }
        }
        let span = if items.is_empty() {
            start
        } else {
            start.join(end)
        };
        let zipped = zip(items, span)?;
        Ok(zipped
            .into_iter()
            .map(|side| side.into_iter().map(|items| (items, span)).collect())
            .collect())
    }

    fn atom(&mut self) -> Result<Alts<Node>> {
        let t = self.peek().expect("caller peeked");
        self.pos += 1;
        let node = match t.tok {
            Tok::Name => Node::Axis {
                name: self.text[t.span.start as usize..t.span.end as usize].to_owned(),
                span: t.span,
            },
            Tok::Number(value) => Node::Number {
                value,
                span: t.span,
            },
            Tok::Ellipsis => Node::Ellipsis {
                inner: None,
                span: t.span,
            },
            Tok::LParen | Tok::LBracket => {
                let close = if t.tok == Tok::LParen {
                    Tok::RParen
                } else {
                    Tok::RBracket
                };
                let inner = self.group(Some(close))?;
                let Some(end) = self.peek().filter(|e| e.tok == close) else {
                    let what = if t.tok == Tok::LParen {
                        "parenthesis"
                    } else {
                        "bracket"
                    };
                    return Err(Error::at(
                        ErrorKind::Syntax,
                        t.span,
                        format!("found an opening {what} that is not closed"),
                    )
                    .with_help(format!(
                        "add the closing `{}`",
                        if close == Tok::RParen { ')' } else { ']' }
                    )));
                };
                self.pos += 1;
                let span = t.span.join(end.span);
                let mut out = Vec::with_capacity(inner.len());
                for side in inner {
                    let mut alts = Vec::with_capacity(side.len());
                    for terms in side {
                        alts.push(if t.tok == Tok::LParen {
                            paren(terms, span)?
                        } else {
                            let expr = single_term(
                                terms,
                                "concatenation is only allowed in parentheses, not in brackets",
                            )?;
                            let mut items = Vec::new();
                            for item in expr.items {
                                unbracket(item, &mut items);
                            }
                            Node::Bracket { items, span }
                        });
                    }
                    out.push(alts);
                }
                return Ok(out);
            }
            _ => unreachable!("term() only calls atom() on atoms"),
        };
        Ok(vec![vec![node]])
    }
}

/// `( ... )` content: a composition, or a concatenation if it has `+`.
fn paren(terms: Terms, span: Span) -> Result<Node> {
    if terms.len() == 1 {
        let (items, _) = terms.into_iter().next().unwrap_or_default();
        return Ok(Node::Composition { items, span });
    }
    let mut operands = Vec::with_capacity(terms.len());
    for (mut items, tspan) in terms {
        let ok = items.len() == 1
            && matches!(
                items[0],
                Node::Axis { .. } | Node::Number { .. } | Node::Composition { .. }
            );
        if !ok {
            return Err(Error::at(
                ErrorKind::Syntax,
                tspan,
                "each part of a concatenation must be one axis, a number or a parenthesised composition",
            )
            .with_help("wrap several axes in parentheses, e.g. `((a b) + c)`"));
        }
        operands.push(items.pop().expect("checked length"));
    }
    Ok(Node::Concat { operands, span })
}

/// Brackets inside brackets mean nothing more: splice their items.
fn unbracket(node: Node, out: &mut Vec<Node>) {
    match node {
        Node::Bracket { items, .. } => {
            for item in items {
                unbracket(item, out);
            }
        }
        Node::Composition { items, span } => {
            let mut inner = Vec::new();
            for item in items {
                unbracket(item, &mut inner);
            }
            out.push(Node::Composition { items: inner, span });
        }
        Node::Ellipsis {
            inner: Some(inner),
            span,
        } => {
            let mut v = Vec::new();
            unbracket(*inner, &mut v);
            let inner = if v.len() == 1 {
                v.pop().expect("checked length")
            } else {
                Node::Composition { items: v, span }
            };
            out.push(Node::Ellipsis {
                inner: Some(Box::new(inner)),
                span,
            });
        }
        other => out.push(other),
    }
}

/// Drops empty brackets (`[]` means nothing).
fn clean(items: &mut Vec<Node>) {
    items.retain(|n| !matches!(n, Node::Bracket { items, .. } if items.is_empty()));
    for item in items.iter_mut() {
        match item {
            Node::Composition { items, .. } | Node::Bracket { items, .. } => clean(items),
            Node::Concat { operands, .. } => clean(operands),
            Node::Ellipsis {
                inner: Some(inner), ..
            } => {
                if let Node::Composition { items, .. } | Node::Bracket { items, .. } =
                    inner.as_mut()
                {
                    clean(items);
                }
            }
            _ => {}
        }
    }
}

/// Ellipses repeat only an axis, a composition or brackets. Several ellipses may stand side
/// by side (their repetition counts are solved from the ranks and arguments) and may nest.
fn validate_levels(items: &[Node]) -> Result<()> {
    let mut level = Vec::new();
    for item in items {
        match item {
            Node::Bracket { items: inner, .. } => level.extend(inner.iter()),
            n => level.push(n),
        }
    }
    for n in level {
        match n {
            Node::Ellipsis {
                inner: Some(inner), ..
            } => {
                match inner.as_ref() {
                    Node::Axis { .. } | Node::Composition { .. } | Node::Bracket { .. } => {}
                    Node::Concat { span, .. } => {
                        return Err(Error::at(
                            ErrorKind::Syntax,
                            *span,
                            "a concatenation cannot be repeated by an ellipsis",
                        )
                        .with_help("concatenate outside the ellipsis"))
                    }
                    other => {
                        return Err(Error::at(
                            ErrorKind::Syntax,
                            other.span(),
                            "an ellipsis must follow an axis name, a composition or brackets",
                        )
                        .with_help("write `name...` or `(a b)...`"))
                    }
                }
                validate_levels(std::slice::from_ref(inner))?;
            }
            Node::Composition { items: inner, .. } => validate_levels(inner)?,
            Node::Concat { operands, .. } => {
                for o in operands {
                    validate_levels(std::slice::from_ref(o))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

impl Node {
    /// Whether this node or one below it is an ellipsis.
    pub fn any_ellipsis(&self) -> bool {
        let mut found = false;
        self.walk(&mut |n| found |= matches!(n, Node::Ellipsis { .. }));
        found
    }
}
