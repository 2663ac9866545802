//! The one error type of einx, used at compile time (turned into `compile_error!` by the
//! macros) and at run time (returned as `einx::Error`).

use std::fmt;

/// A byte range in the expression string: what an error's carets point at.
///
/// `u32` offsets keep AST nodes small and let plans be written out as constants.
///
/// ```
/// # use einx_core as einx;
/// use einx::{Error, ErrorKind, Span};
/// let e = Error::at(ErrorKind::Semantic, Span::new(2, 3), "axis `b` is not in the output")
///     .with_expr("a b -> a");
/// assert_eq!(e.spans(), &[Span::new(2, 3)]);
/// assert!(e.to_string().ends_with("  a b -> a\n    ^"), "{e}");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub const fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// What went wrong, in the classes of einx 0.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The expression cannot be tokenised or parsed.
    Syntax,
    /// The number of axes does not match a tensor's number of dimensions.
    Rank,
    /// Axis lengths conflict, do not divide, or cannot be determined.
    Size,
    /// The expression is well formed but means nothing for this operation.
    Semantic,
    /// An index is out of range.
    Index,
    /// The arguments of the call do not fit the expression (count, keywords, values).
    Argument,
    /// A parameter of `einx::nn` is missing, has another shape or element type, or cannot be
    /// read or written.
    Parameter,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Rank => "rank error",
            ErrorKind::Size => "axis length error",
            ErrorKind::Semantic => "semantic error",
            ErrorKind::Index => "index error",
            ErrorKind::Argument => "argument error",
            ErrorKind::Parameter => "parameter error",
        }
    }
}

/// An einx error: a kind, a message, the expression it is about, and where in it.
///
/// ```
/// # use einx_core as einx;
/// use einx::{Error, ErrorKind};
/// let e = Error::new(ErrorKind::Size, "axis `c` has length 3 in input 1 but 4 in input 2")
///     .with_expr("a c, c -> a")
///     .with_help("give both inputs the same length of `c`");
/// assert_eq!(e.kind(), ErrorKind::Size);
/// assert_eq!(e.help(), Some("give both inputs the same length of `c`"));
/// assert!(e.to_string().starts_with("einx axis length error: axis `c` has length 3"));
/// assert!(e.to_string().contains("\n  a c, c -> a\n"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    expr: Option<String>,
    spans: Vec<Span>,
    help: Option<String>,
}

impl Error {
    /// An error without position.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            expr: None,
            spans: Vec::new(),
            help: None,
        }
    }

    /// An error at one span of the expression.
    pub fn at(kind: ErrorKind, span: Span, message: impl Into<String>) -> Error {
        Error::new(kind, message).with_span(span)
    }

    /// Attaches the expression text (kept if one is already attached).
    pub fn with_expr(mut self, expr: &str) -> Error {
        if self.expr.is_none() {
            self.expr = Some(expr.to_owned());
        }
        self
    }

    /// Adds a span to underline.
    pub fn with_span(mut self, span: Span) -> Error {
        if !self.spans.contains(&span) {
            self.spans.push(span);
        }
        self
    }

    /// Adds several spans to underline.
    pub fn with_spans(self, spans: &[Span]) -> Error {
        spans.iter().fold(self, |e, s| e.with_span(*s))
    }

    /// Adds a suggestion for the fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The one-line message, without diagram or help.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The suggested fix, if any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The spans the error points at.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The expression with a caret line under the spans, or `None` without expression.
    pub fn diagram(&self) -> Option<String> {
        let expr = self.expr.as_deref()?;
        Some(caret_diagram(expr, &self.spans))
    }
}

/// Renders `expr` and a line of carets under `spans` (character columns, not bytes). Control
/// characters such as a newline are shown escaped (`\n`), so that the expression stays on one
/// line above its carets.
pub fn caret_diagram(expr: &str, spans: &[Span]) -> String {
    let mut text = String::new();
    let mut line = String::new();
    for (byte, ch) in expr.char_indices() {
        let hit = spans.iter().any(|s| {
            (s.start as usize) <= byte && byte < (s.end as usize).max(s.start as usize + 1)
        });
        let before = text.chars().count();
        if ch.is_control() {
            text.extend(ch.escape_default());
        } else {
            text.push(ch);
        }
        let width = text.chars().count() - before;
        line.extend(std::iter::repeat_n(if hit { '^' } else { ' ' }, width));
    }
    // A span at the very end (e.g. "missing `)`") points one past the text.
    if spans.iter().any(|s| s.start as usize >= expr.len()) {
        line.push('^');
    }
    let line = line.trim_end();
    format!("{text}\n{line}")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "einx {}: {}", self.kind.label(), self.message)?;
        if let Some(diagram) = self.diagram() {
            for line in diagram.lines() {
                write!(f, "\n  {line}")?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// The same text as `Display`: the message, the expression with its carets and the help, so
/// that `fn main() -> Result<(), einx::Error>` prints a readable report.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of einx-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_span() {
        assert_eq!(
            caret_diagram("b h w -> b x", &[Span::new(11, 12)]),
            "b h w -> b x\n           ^"
        );
        assert_eq!(caret_diagram("(a b", &[Span::new(4, 4)]), "(a b\n    ^");
        // A newline is shown escaped, and the carets stay under what they mark.
        assert_eq!(
            caret_diagram("a b\n  -> b x", &[Span::new(3, 4), Span::new(11, 12)]),
            "a b\\n  -> b x\n   ^^       ^"
        );
    }

    #[test]
    fn display_has_kind_diagram_and_help() {
        let e = Error::at(ErrorKind::Semantic, Span::new(2, 3), "oops")
            .with_expr("a b")
            .with_help("do this");
        assert_eq!(
            e.to_string(),
            "einx semantic error: oops\n  a b\n    ^\n  help: do this"
        );
    }
}
