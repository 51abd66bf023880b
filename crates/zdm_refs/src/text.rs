//! Text helpers shared by the matchers: a small lexer that finds string literals and comments, bracket
//! and indentation blocks, positions, and English plural forms of table names.

use std::ops::Range;

/// How a file's language writes comments and strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `//` and `/* */` comments (JavaScript, TypeScript, Rust, Go, Java, C#, PHP, Prisma).
    Slash,
    /// Rust: `//` and `/* */` comments, `'` only around one character (lifetimes are not strings).
    Rust,
    /// `#` comments (Python, Ruby, Elixir).
    Hash,
    /// A SQL file: `--` and `/* */` comments; the whole text is SQL.
    Sql,
}

impl Family {
    /// The family of a file by its extension, None for files zdm does not read as code.
    #[must_use]
    pub fn of(path: &str) -> Option<Family> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "rs" => Some(Family::Rust),
            "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "mts" | "cts" | "go" | "java" | "kt" | "scala" | "cs" | "php" | "prisma"
            | "swift" | "dart" => Some(Family::Slash),
            "py" | "rb" | "ex" | "exs" | "rake" => Some(Family::Hash),
            "sql" => Some(Family::Sql),
            _ => None,
        }
    }
}

/// String literals (their contents) and comments of a text.
#[derive(Debug, Default)]
pub struct Lexed {
    /// Byte ranges of string literal contents, in order.
    pub literals: Vec<Range<usize>>,
    /// Byte ranges of comments, in order.
    pub comments: Vec<Range<usize>>,
}

impl Lexed {
    /// True when `at` lies in a comment.
    #[must_use]
    pub fn in_comment(&self, at: usize) -> bool {
        let i = self.comments.partition_point(|c| c.end <= at);
        self.comments.get(i).is_some_and(|c| c.start <= at)
    }

    /// The literal whose contents hold `at`, if any.
    #[must_use]
    pub fn literal_at(&self, at: usize) -> Option<Range<usize>> {
        let i = self.literals.partition_point(|c| c.end < at);
        self.literals.get(i).filter(|c| c.start <= at).cloned()
    }
}

/// Finds comments and string literals. Double-quoted, backquoted and triple-quoted strings may span
/// lines; a single quote that is not closed on its line is not a string (Rust lifetimes, apostrophes).
/// Ruby heredocs (`<<~SQL`), Rust raw strings (`r#"…"#`) and Elixir sigils with `"""` are understood.
#[must_use]
pub fn lex(text: &str, family: Family) -> Lexed {
    let b = text.as_bytes();
    let mut out = Lexed::default();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let rest = &b[i..];
        let comment_end = match family {
            Family::Slash | Family::Rust | Family::Sql if rest.starts_with(b"/*") => Some(find(b, i + 2, b"*/").map_or(b.len(), |e| e + 2)),
            Family::Slash | Family::Rust if rest.starts_with(b"//") => Some(line_end(b, i)),
            Family::Sql if rest.starts_with(b"--") => Some(line_end(b, i)),
            Family::Hash if c == b'#' => Some(line_end(b, i)),
            _ => None,
        };
        if let Some(end) = comment_end {
            out.comments.push(i..end);
            i = end;
            continue;
        }
        if family == Family::Sql {
            // In SQL, quotes delimit values and quoted identifiers: the whole file is the SQL text.
            i += 1;
            continue;
        }
        if c == b'<' && rest.starts_with(b"<<") && family == Family::Hash {
            if let Some((body, end)) = heredoc(b, i) {
                out.literals.push(body);
                i = end;
                continue;
            }
        }
        if c == b'r' && (rest.starts_with(b"r#") || rest.starts_with(b"r\"")) && (i == 0 || !is_ident(b[i - 1])) {
            let hashes = rest[1..].iter().take_while(|&&h| h == b'#').count();
            if rest.get(1 + hashes) == Some(&b'"') {
                let start = i + 2 + hashes;
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                let end = find(b, start, &close).unwrap_or(b.len());
                out.literals.push(start..end);
                i = (end + close.len()).min(b.len());
                continue;
            }
        }
        if c == b'\'' && family == Family::Rust {
            let char_end = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&x| x == b'\'').map(|p| p + 2)
            } else {
                text[i + 1..].chars().next().map(|ch| ch.len_utf8() + 1).filter(|&e| rest.get(e) == Some(&b'\''))
            };
            i += char_end.map_or(1, |e| e + 1);
            continue;
        }
        if c == b'"' || c == b'\'' || c == b'`' {
            let triple = rest.len() >= 3 && rest[1] == c && rest[2] == c && c != b'`';
            if triple {
                let close = [c, c, c];
                let end = find(b, i + 3, &close).unwrap_or(b.len());
                out.literals.push(i + 3..end);
                i = (end + 3).min(b.len());
                continue;
            }
            let mut j = i + 1;
            let mut closed = false;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 2,
                    b'\n' if c == b'\'' => break,
                    x if x == c => {
                        closed = true;
                        break;
                    }
                    _ => j += 1,
                }
            }
            if closed {
                out.literals.push(i + 1..j);
                i = j + 1;
            } else {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

/// A Ruby heredoc starting at `at` (`<<~ID`, `<<-ID`, `<<ID`, quoted IDs too): its body and where it ends.
fn heredoc(b: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    let mut j = at + 2;
    if matches!(b.get(j), Some(b'~' | b'-')) {
        j += 1;
    }
    let quote = matches!(b.get(j), Some(b'\'' | b'"')).then(|| b[j]);
    if quote.is_some() {
        j += 1;
    }
    let start = j;
    while j < b.len() && (b[j].is_ascii_uppercase() || b[j] == b'_' || b[j].is_ascii_digit()) {
        j += 1;
    }
    if j == start || !b[start].is_ascii_uppercase() {
        return None;
    }
    let id = &b[start..j];
    let body_start = line_end(b, j) + 1;
    let mut line = body_start;
    while line < b.len() {
        let end = line_end(b, line);
        if b[line..end].trim_ascii() == id {
            return Some((body_start..line, end));
        }
        line = end + 1;
    }
    None
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > b.len() {
        return None;
    }
    b[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| p + from)
}

/// A byte that can be part of an identifier.
#[must_use]
pub fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// The range from the bracket at `open` to just past its matching bracket (quoted text skipped), or to
/// the end of the text when it is not closed.
#[must_use]
pub fn bracket_block(text: &str, open: usize) -> Range<usize> {
    let b = text.as_bytes();
    let (o, c) = match b.get(open) {
        Some(b'{') => (b'{', b'}'),
        Some(b'(') => (b'(', b')'),
        Some(b'[') => (b'[', b']'),
        _ => return open..open,
    };
    let mut depth = 0usize;
    let mut i = open;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let x = b[i];
        match quote {
            Some(_) if x == b'\\' => i += 1,
            Some(q) if x == q || (x == b'\n' && q == b'\'') => quote = None,
            Some(_) => {}
            None if x == b'"' || x == b'`' || x == b'\'' => quote = Some(x),
            None if x == o => depth += 1,
            None if x == c => {
                depth -= 1;
                if depth == 0 {
                    return open..i + 1;
                }
            }
            None => {}
        }
        i += 1;
    }
    open..b.len()
}

/// The lines below the line holding `at` that are indented deeper than it (blank lines included), and
/// the closing `end` line at its own indentation when `with_end` (Ruby, Elixir): the body of a Python
/// class or a Ruby / Elixir `do … end` block.
#[must_use]
pub fn indent_block(text: &str, at: usize, with_end: bool) -> Range<usize> {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let indent = |line: &str| line.len() - line.trim_start().len();
    let base = indent(&text[start..]);
    let mut pos = text[at..].find('\n').map_or(text.len(), |p| at + p + 1);
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |p| pos + p);
        let line = &text[pos..end];
        if !line.trim().is_empty() && indent(line) <= base {
            if with_end && line.trim_start().starts_with("end") {
                return start..end;
            }
            return start..pos;
        }
        pos = end + 1;
    }
    start..text.len()
}

/// 1-based line and column (in characters) of byte offsets, and the text of a line.
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// Indexes `text`.
    #[must_use]
    pub fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, c)| *c == b'\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    /// Line and column of byte `at`.
    #[must_use]
    pub fn pos(&self, at: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= at);
        let start = self.starts[line - 1];
        (line, self.text.get(start..at).map_or(1, |t| t.chars().count() + 1))
    }

    /// The trimmed text of line `line` (1-based), cut to 120 characters.
    #[must_use]
    pub fn snippet(&self, line: usize) -> String {
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map_or(self.text.len(), |e| e - 1);
        let t = self.text[start..end].trim();
        if t.chars().count() > 120 { t.chars().take(119).collect::<String>() + "…" } else { t.to_string() }
    }
}

/// `OrderItem` → `order_item`.
#[must_use]
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// English plural of the last word (`user` → `users`, `category` → `categories`, `address` → `addresses`).
#[must_use]
pub fn plural(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.ends_with('y') && !lower.ends_with("ay") && !lower.ends_with("ey") && !lower.ends_with("oy") && !lower.ends_with("uy") {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|e| lower.ends_with(e)) {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// English singular of the last word (`users` → `user`, `categories` → `category`), the word itself when
/// it does not look plural.
#[must_use]
pub fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["sses", "xes", "ches", "shes", "zes"].iter().any(|e| word.ends_with(e)) {
        word[..word.len() - 2].to_string()
    } else if word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_strings_comments_heredocs_and_lifetimes() {
        let t = "fn f<'a>(x: &'a str) { q(\"SELECT 1\"); } // \"no\"\n";
        let l = lex(t, Family::Rust);
        assert_eq!(l.literals.iter().map(|r| &t[r.clone()]).collect::<Vec<_>>(), ["SELECT 1"]);
        assert_eq!(l.comments.len(), 1);
        let r = "x = <<~SQL\n  SELECT name FROM users\nSQL\n# 'c'\n";
        let l = lex(r, Family::Hash);
        assert_eq!(&r[l.literals[0].clone()], "  SELECT name FROM users\n");
        assert!(l.in_comment(r.find("'c'").unwrap()));
        let p = "q = \"\"\"\nSELECT \"x\"\n\"\"\"";
        assert_eq!(&p[lex(p, Family::Hash).literals[0].clone()], "\nSELECT \"x\"\n");
    }

    #[test]
    fn words() {
        assert_eq!(
            (plural("category"), plural("address"), plural("user"), plural("day")),
            ("categories".into(), "addresses".into(), "users".into(), "days".into())
        );
        assert_eq!(
            (singular("categories"), singular("addresses"), singular("users"), singular("boss")),
            ("category".into(), "address".into(), "user".into(), "boss".into())
        );
        assert_eq!(snake("OrderItem"), "order_item");
    }

    #[test]
    fn blocks() {
        let t = "class A:\n    x = 1\n\n    y = 2\nz = 3\n";
        assert_eq!(&t[indent_block(t, 0, false)], "class A:\n    x = 1\n\n    y = 2\n");
        let r = "  class A < B\n    x\n  end\nfoo";
        assert_eq!(&r[indent_block(r, 2, true)], "  class A < B\n    x\n  end");
        let b = "f({ a: '}', b: { c }) }";
        assert_eq!(&b[bracket_block(b, 1)], "({ a: '}', b: { c })");
    }
}
