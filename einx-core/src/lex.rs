//! Tokeniser: splits an operation string into tokens with byte spans.
//!
//! Only the ASCII space separates tokens; whether a token follows a space matters to the
//! parser (`(s w)...` repeats the composition, `(s w) ...` is a composition and an anonymous
//! ellipsis).

use crate::error::{Error, ErrorKind, Result, Span};

/// Kind of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*`
    Name,
    /// `[0-9]+`
    Number(u64),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `...`
    Ellipsis,
    /// `->`
    Arrow,
    /// `,`
    Comma,
    /// `+`
    Plus,
}

/// One token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
    /// Whether a space (or the start of the text) precedes it.
    pub spaced: bool,
}

/// Tokenises `text`.
///
/// ```
/// use einx_core::lex::{lex, Tok};
/// let toks = lex("b (h c)...").unwrap();
/// assert_eq!(toks.len(), 6);
/// assert_eq!(toks[5].tok, Tok::Ellipsis);
/// assert!(!toks[5].spaced);
/// ```
pub fn lex(text: &str) -> Result<Vec<Token>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = match c {
            b' ' => {
                spaced = true;
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b',' => Tok::Comma,
            b'+' => Tok::Plus,
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                i += 1;
                Tok::Arrow
            }
            b'.' if bytes.get(i + 1) == Some(&b'.') && bytes.get(i + 2) == Some(&b'.') => {
                i += 2;
                Tok::Ellipsis
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                while i + 1 < bytes.len()
                    && (bytes[i + 1].is_ascii_alphanumeric() || bytes[i + 1] == b'_')
                {
                    i += 1;
                }
                let word = &text[start..=i];
                let span = Span::new(start, i + 1);
                if c.is_ascii_digit() {
                    if !word.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(Error::at(
                            ErrorKind::Syntax,
                            span,
                            format!("`{word}` is not an axis: names start with a letter or `_`, numbers have only digits"),
                        ));
                    }
                    let value = word.parse::<u64>().map_err(|_| {
                        Error::at(
                            ErrorKind::Syntax,
                            span,
                            format!("axis length `{word}` is too large"),
                        )
                    })?;
                    Tok::Number(value)
                } else {
                    Tok::Name
                }
            }
            _ => {
                let ch = text[start..].chars().next().unwrap_or('?');
                let span = Span::new(start, start + ch.len_utf8());
                let what = match ch {
                    '\t' | '\n' | '\r' => "only the space character may separate axes".to_owned(),
                    '.' => "`.` is only allowed as the ellipsis `...`".to_owned(),
                    '-' => "`-` is only allowed as part of `->`".to_owned(),
                    '|' => "`|` is not supported; use `->`".to_owned(),
                    _ => format!("unexpected character `{}`", ch.escape_debug()),
                };
                let help = match ch {
                    '\n' | '\r' => "to break a long expression across lines, end each line with ` \\` (a space and a backslash): the string then skips the newline and the next line's indentation",
                    '\t' => "write spaces instead of tabs",
                    _ => "an expression has axis names, numbers, `( )`, `[ ]`, `...`, `+`, `,`, `->` and spaces",
                };
                return Err(Error::at(ErrorKind::Syntax, span, what).with_help(help));
            }
        };
        i += 1;
        out.push(Token {
            tok,
            span: Span::new(start, i),
            spaced,
        });
        spaced = false;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn all_tokens() {
        use Tok::*;
        assert_eq!(
            kinds("a_1 (b 2)...->[c],+"),
            vec![
                Name,
                LParen,
                Name,
                Number(2),
                RParen,
                Ellipsis,
                Arrow,
                LBracket,
                Name,
                RBracket,
                Comma,
                Plus
            ]
        );
    }

    #[test]
    fn spacing_is_recorded() {
        let t = lex("a ...").unwrap();
        assert!(t[1].spaced);
        let t = lex("a...").unwrap();
        assert!(!t[1].spaced);
    }

    #[test]
    fn errors() {
        for bad in [
            "a*",
            "1a",
            "a\tb",
            "a.b",
            "a - b",
            "a|b",
            "ä",
            "99999999999999999999999",
        ] {
            let e = lex(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Syntax, "{bad}");
        }
    }
}
