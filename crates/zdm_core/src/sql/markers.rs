//! Keeping a migration tool's section markers out of the SQL zdm writes. Tools split a file on lines such
//! as `-- migrate:down` (dbmate) or `-- +goose Down`; a multi-line string literal or comment of the user's
//! holding such a line would split the file in the wrong place. The text is re-emitted so that no line
//! starts with a marker, with the same meaning: a comment line gets a leading blank, and a string constant
//! (plain, escape or dollar-quoted — also a whole `DO` body or `EXECUTE` string that contains it) becomes an
//! escape string `E'…'` whose newlines are written `\n`.

use pg_query::protobuf::Token;

/// `sql` with no line for which `is_marker` holds, meaning the same.
///
/// # Errors
/// A message naming the line, when a marker line sits where it cannot be re-emitted (a Unicode-escape
/// string, a quoted identifier, or text that does not scan).
pub fn guard_line_starts(sql: &str, is_marker: impl Fn(&str) -> bool) -> Result<String, String> {
    let marked: Vec<(usize, usize)> = line_starts(sql).enumerate().filter(|(_, start)| is_marker(line_at(sql, *start))).collect();
    if marked.is_empty() {
        return Ok(sql.to_string());
    }
    let tokens = pg_query::scan_tokens(sql).map_err(|e| format!("cannot scan the generated SQL: {e}"))?;
    // (start, end, replacement), applied from the end.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (line, offset) in marked {
        let text = line_at(sql, offset);
        let first = offset + (text.len() - text.trim_start().len());
        // The token holding the line's start, or (after leading blanks) starting at its first character.
        let inside = tokens
            .iter()
            .find(|t| (t.start as usize) <= offset && offset < t.end as usize)
            .or_else(|| tokens.iter().find(|t| t.start as usize == first));
        let Some(token) = inside else {
            return Err(format!("line {} would be read as a section marker and is not inside a comment or string", line + 1));
        };
        let (start, end) = (token.start as usize, token.end as usize);
        match Token::try_from(token.token) {
            // A leading blank is enough for a tool that wants its marker at the start of the line (dbmate).
            // A tool that trims the line first (goose, node-pg-migrate) needs something before the `--`:
            // an empty block comment in front of a line comment, a `*` inside a block comment.
            Ok(Token::SqlComment | Token::CComment) if !is_marker(&format!(" {text}")) => edits.push((offset, offset, " ".into())),
            Ok(Token::SqlComment) => edits.push((first, first, "/**/".into())),
            Ok(Token::CComment) => edits.push((first, first, "* ".into())),
            Ok(Token::Sconst) if edits.iter().all(|e| e.0 != start) => edits.push((start, end, escape_string(&sql[start..end])?)),
            Ok(Token::Sconst) => {}
            _ => return Err(format!("line {} would be read as a section marker and cannot be re-emitted", line + 1)),
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = sql.to_string();
    for (start, end, text) in edits {
        out.replace_range(start..end, &text);
    }
    Ok(out)
}

fn line_starts(sql: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(sql.match_indices('\n').map(|(i, _)| i + 1)).filter(move |s| *s < sql.len())
}

fn line_at(sql: &str, start: usize) -> &str {
    let rest = &sql[start..];
    rest.split('\n').next().unwrap_or(rest)
}

/// A string constant as written → the same value as an escape string with no raw newline.
fn escape_string(raw: &str) -> Result<String, String> {
    let value = if let Some(body) = raw.strip_prefix('$') {
        let tag_end = body.find('$').ok_or("unterminated dollar quote")?;
        let tag = &raw[..tag_end + 2];
        raw.strip_prefix(tag).and_then(|r| r.strip_suffix(tag)).ok_or("unterminated dollar quote")?.to_string()
    } else if let Some(inner) = raw.strip_prefix(['E', 'e']).and_then(|r| r.strip_prefix('\'')).and_then(|r| r.strip_suffix('\'')) {
        // Already an escape string: a raw newline and `\n` mean the same inside it.
        return Ok(format!("E'{}'", inner.replace('\r', "\\r").replace('\n', "\\n")));
    } else if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        if inner.contains("'\n") || inner.contains("' \n") {
            return Err("a string continued over lines ('…' '…') holds a section marker".into());
        }
        inner.replace("''", "'")
    } else {
        return Err(format!("a string constant of this form cannot be re-emitted: {}", raw.chars().take(20).collect::<String>()));
    };
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'").replace('\r', "\\r").replace('\n', "\\n");
    Ok(format!("E'{escaped}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbmate(line: &str) -> bool {
        line.strip_prefix("--").is_some_and(|r| r.trim_start().starts_with("migrate:"))
    }

    #[test]
    fn text_without_markers_is_untouched() {
        let sql = "INSERT INTO t VALUES ('a\nb');";
        assert_eq!(guard_line_starts(sql, dbmate).unwrap(), sql);
    }

    #[test]
    fn literals_and_comments_are_re_emitted() {
        let sql = "INSERT INTO t VALUES ('a\n-- migrate:down\nit''s \\ x');\n/* c\n-- migrate:up */ SELECT 1;";
        let out = guard_line_starts(sql, dbmate).unwrap();
        assert_eq!(out, "INSERT INTO t VALUES (E'a\\n-- migrate:down\\nit\\'s \\\\ x');\n/* c\n -- migrate:up */ SELECT 1;");
        let dollar = "DO $zdm$\nBEGIN\n  RAISE NOTICE '%', 'x\n-- migrate:down';\nEND\n$zdm$;";
        let out = guard_line_starts(dollar, dbmate).unwrap();
        assert!(out.starts_with("DO E'\\nBEGIN\\n  RAISE NOTICE \\'%\\', \\'x\\n-- migrate:down\\';\\nEND\\n';"), "{out}");
        assert!(!out.lines().any(dbmate));
    }

    #[test]
    fn markers_read_after_blanks_get_a_non_blank_before_them() {
        // goose: any line that trims to `--…+goose…` is an annotation.
        let goose = |l: &str| l.trim_start().starts_with("--") && l.contains("+goose");
        let sql = "SELECT 1; -- +goose Down here is fine\n-- +goose Down\n  -- +goose Up\n/* c\n-- +goose Down */ SELECT 2;";
        let out = guard_line_starts(sql, goose).unwrap();
        assert_eq!(
            out,
            "SELECT 1; -- +goose Down here is fine\n/**/-- +goose Down\n  /**/-- +goose Up\n/* c\n* -- +goose Down */ SELECT 2;"
        );
        assert!(!out.lines().any(goose));
        assert!(pg_query::split_with_scanner(&out).unwrap().len() == 2);
    }
}
