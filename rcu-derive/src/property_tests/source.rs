//! Source text that knows where its tokens are.

use super::*;

/// A position as `proc_macro2` reports it: line from 1, column from 0, in characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Pos {
    pub(super) line: usize,
    pub(super) column: usize,
}

impl fmt::Debug for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl From<LineColumn> for Pos {
    fn from(lc: LineColumn) -> Self {
        Pos { line: lc.line, column: lc.column }
    }
}

/// Where a token (or a run of tokens) starts and ends.
#[derive(Clone, Copy, Debug)]
pub(super) struct Loc {
    pub(super) start: Pos,
    pub(super) end: Pos,
}

impl Loc {
    pub(super) fn to(self, other: Loc) -> Loc {
        Loc { start: self.start, end: other.end }
    }
}

pub(super) struct Src {
    pub(super) text: String,
    pub(super) pos: Pos,
}

impl Src {
    /// The text starts with a newline: `Span::call_site()` reports line 1, column 0 in tests,
    /// so no token of the input may sit there, or an unspanned error would pass for a spanned one.
    pub(super) fn new() -> Self {
        let mut src = Src { text: String::new(), pos: Pos { line: 1, column: 0 } };
        src.raw("\n");
        src
    }

    pub(super) fn raw(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\n' {
                self.pos = Pos { line: self.pos.line + 1, column: 0 };
            } else {
                self.pos.column += 1;
            }
        }
        self.text.push_str(text);
    }

    /// Writes `text` and a space; returns where `text` is.
    pub(super) fn tok(&mut self, text: &str) -> Loc {
        let start = self.pos;
        self.raw(text);
        let end = self.pos;
        self.raw(" ");
        Loc { start, end }
    }

    /// Where the next token will start.
    pub(super) fn next(&self) -> Loc {
        let mut end = self.pos;
        end.column += 1;
        Loc { start: self.pos, end }
    }
}
