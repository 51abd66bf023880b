//! Rails' `db/schema.rb` (`ActiveRecord::Schema[X.Y].define(version: …)`, as `bin/rails db:schema:dump`
//! writes it for PostgreSQL) turned into the SQL it stands for, so the schema is known without a database:
//! `enable_extension`, `create_enum`, `create_table` blocks (the implicit `id`, `id:`/`primary_key:`,
//! column types with `limit`/`precision`/`scale`/`array`, `null: false`, defaults — literals and
//! `-> { "expr" }` — `t.index`, `t.check_constraint`), `add_index` and `add_foreign_key`. A line it does not
//! understand is left out and named; the dump's `version:` says which migrations it already holds.

/// The SQL of a `schema.rb`, one statement per line group at the line of its Ruby, so positions stay the
/// file's; the dumped version (every migration up to it is in the dump); lines not understood (1-based).
pub(super) struct SchemaRb {
    pub sql: String,
    pub version: Option<String>,
    pub skipped: Vec<usize>,
}

/// Reads `text` (a `schema.rb`).
pub(super) fn read(text: &str) -> SchemaRb {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![String::new(); lines.len()];
    let mut version = None;
    let mut skipped = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(v) = line.split("define(version: ").nth(1) {
            version = Some(v.chars().take_while(|c| c.is_ascii_digit() || *c == '_').filter(char::is_ascii_digit).collect());
        } else if let Some(rest) = line.strip_prefix("enable_extension ") {
            out[i] = format!("CREATE EXTENSION IF NOT EXISTS {};", ident(&args(rest).0[0]));
        } else if let Some(rest) = line.strip_prefix("create_enum ") {
            let (pos, _) = args(rest);
            let values: Vec<String> = pos.get(1).map(|v| list(v).iter().map(|s| literal(s)).collect()).unwrap_or_default();
            out[i] = format!("CREATE TYPE {} AS ENUM ({});", ident(&pos[0]), values.join(", "));
        } else if let Some(rest) = line.strip_prefix("create_table ") {
            let start = i;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && lines[i].trim() != "end" {
                body.push((i, lines[i].trim()));
                i += 1;
            }
            let (sql, bad) = create_table(rest.trim_end_matches("do |t|").trim().trim_end_matches(','), &body);
            out[start] = sql;
            skipped.extend(bad.into_iter().map(|n| n + 1));
        } else if let Some(rest) = line.strip_prefix("add_index ") {
            let (pos, opts) = args(rest);
            out[i] = index(&pos[0], pos.get(1).map_or("", String::as_str), &opts);
        } else if let Some(rest) = line.strip_prefix("add_foreign_key ") {
            out[i] = foreign_key(rest);
        } else if !(line.is_empty() || line.starts_with('#') || line == "end") {
            skipped.push(i + 1);
        }
        i += 1;
    }
    SchemaRb { sql: out.join("\n"), version, skipped }
}

/// `"users", force: :cascade` → (["users"], [("force", ":cascade")]); `name: -> { "now()" }` keeps its block.
fn args(text: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut cur) = (0i32, None::<char>, String::new());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '[' | '{' | '(') => {
                depth += 1;
                cur.push(c);
            }
            (None, ']' | '}' | ')') => {
                depth -= 1;
                cur.push(c);
            }
            (None, ',') if depth == 0 => parts.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    parts.push(cur);
    let mut pos = Vec::new();
    let mut opts = Vec::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        match p.split_once(": ").filter(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            Some((k, v)) => opts.push((k.to_string(), v.trim().to_string())),
            None => pos.push(p.to_string()),
        }
    }
    (pos, opts)
}

fn opt<'a>(opts: &'a [(String, String)], key: &str) -> Option<&'a str> {
    opts.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A Ruby string or symbol's text: `"users"` / `:users` → `users`.
fn unquote(v: &str) -> String {
    let v = v.trim();
    if let Some(s) = v.strip_prefix(':') {
        return s.trim_matches('"').to_string();
    }
    let inner = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
    inner.map_or_else(|| v.to_string(), |s| s.replace("\\\"", "\"").replace("\\\\", "\\"))
}

fn ident(v: &str) -> String {
    crate::model::quote_ident(&unquote(v))
}

fn literal(v: &str) -> String {
    crate::model::quote_literal(&unquote(v))
}

/// `["a", "b"]` → `["a", "b"]` items; a single value → itself.
fn list(v: &str) -> Vec<String> {
    match v.trim().strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) => args(inner).0,
        None => vec![v.trim().to_string()],
    }
}

/// A column default: `-> { "now()" }` → `now()`; a string, number or boolean as SQL.
fn default(v: &str) -> String {
    let v = v.trim();
    if let Some(expr) = v.strip_prefix("-> {").and_then(|s| s.strip_suffix('}')) {
        return unquote(expr.trim());
    }
    match v {
        "true" | "false" => v.to_string(),
        "nil" => "NULL".into(),
        "[]" => "'{}'".into(),
        "{}" => "'{}'".into(),
        _ if v.starts_with('"') || v.starts_with('\'') => literal(v),
        _ if v.parse::<f64>().is_ok() => v.to_string(),
        _ => literal(v),
    }
}

/// The SQL type of a `t.<kind>` column with its options.
fn sql_type(kind: &str, opts: &[(String, String)]) -> String {
    let limit = opt(opts, "limit");
    let precision = opt(opts, "precision").filter(|p| *p != "nil");
    let base = match kind {
        "string" => limit.map_or("character varying".to_string(), |l| format!("character varying({l})")),
        "integer" => match limit {
            Some("8") => "bigint".into(),
            Some("2") => "smallint".into(),
            _ => "integer".into(),
        },
        "float" => "double precision".into(),
        "decimal" | "numeric" => match (precision, opt(opts, "scale")) {
            (Some(p), Some(s)) => format!("numeric({p},{s})"),
            (Some(p), None) => format!("numeric({p})"),
            _ => "numeric".into(),
        },
        // Rails 7 dumps `datetime` with precision 6 unless it says `precision: nil`.
        "datetime" | "timestamp" => match opt(opts, "precision") {
            Some("nil") => "timestamp without time zone".into(),
            p => format!("timestamp({}) without time zone", p.unwrap_or("6")),
        },
        "timestamptz" => format!("timestamp({}) with time zone", precision.unwrap_or("6")),
        "time" => precision.map_or("time without time zone".to_string(), |p| format!("time({p}) without time zone")),
        "binary" => "bytea".into(),
        "enum" => opt(opts, "enum_type").map_or("text".to_string(), ident),
        "bit" => limit.map_or("bit".to_string(), |l| format!("bit({l})")),
        "bit_varying" => limit.map_or("bit varying".to_string(), |l| format!("bit varying({l})")),
        other => other.to_string(),
    };
    if opt(opts, "array") == Some("true") { format!("{base}[]") } else { base }
}

/// One column's definition from `t.<kind> "name", opts`.
fn column(kind: &str, name: &str, opts: &[(String, String)]) -> String {
    let mut def = format!("{} {}", ident(name), sql_type(kind, opts));
    if kind == "virtual" {
        let ty = opt(opts, "type").map_or("text".to_string(), |t| sql_type(&unquote(t), opts));
        let expr = opt(opts, "as").map(unquote).unwrap_or_default();
        return format!("{} {ty} GENERATED ALWAYS AS ({expr}) STORED", ident(name));
    }
    if let Some(d) = opt(opts, "default") {
        def.push_str(&format!(" DEFAULT {}", default(d)));
    }
    if opt(opts, "null") == Some("false") {
        def.push_str(" NOT NULL");
    }
    def
}

/// `CREATE TABLE` for `create_table "users", opts do |t| … end`; the body lines not understood.
fn create_table(header: &str, body: &[(usize, &str)]) -> (String, Vec<usize>) {
    let (pos, opts) = args(header);
    let table = ident(&pos[0]);
    let mut defs = Vec::new();
    let mut after = Vec::new();
    let mut bad = Vec::new();
    let pk = opt(&opts, "primary_key").map(list);
    match opt(&opts, "id") {
        Some("false") => {}
        id => {
            let kind = id.map_or("bigint".to_string(), unquote);
            let name = pk.as_ref().filter(|p| p.len() == 1).map_or("id".to_string(), |p| unquote(&p[0]));
            let ty = match kind.as_str() {
                "bigint" | "primary_key" if opt(&opts, "default").is_none() => "bigserial".to_string(),
                "integer" | "serial" if opt(&opts, "default").is_none() => "serial".to_string(),
                other => sql_type(other, &opts),
            };
            let default = opt(&opts, "default").map(|d| format!(" DEFAULT {}", default(d))).unwrap_or_default();
            defs.push(format!("{} {ty}{default} PRIMARY KEY", crate::model::quote_ident(&name)));
        }
    }
    for (n, line) in body {
        let Some(rest) = line.strip_prefix("t.") else {
            if !line.is_empty() && !line.starts_with('#') {
                bad.push(*n);
            }
            continue;
        };
        let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let (cpos, copts) = args(rest);
        match kind {
            "index" => after.push(index(&pos[0], &cpos[0], &copts)),
            "check_constraint" => {
                let name = opt(&copts, "name").map(|n| format!("CONSTRAINT {} ", ident(n))).unwrap_or_default();
                defs.push(format!("{name}CHECK ({})", unquote(&cpos[0])));
            }
            "timestamps" => {
                defs.push(column("datetime", "created_at", &[("null".into(), "false".into())]));
                defs.push(column("datetime", "updated_at", &[("null".into(), "false".into())]));
            }
            _ if cpos.is_empty() => bad.push(*n),
            _ => defs.push(column(kind, &cpos[0], &copts)),
        }
    }
    if let Some(cols) = pk.filter(|p| p.len() > 1) {
        defs.push(format!("PRIMARY KEY ({})", cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")));
    }
    let mut sql = format!("CREATE TABLE {table} ({});", defs.join(", "));
    for a in after {
        sql.push(' ');
        sql.push_str(&a);
    }
    (sql, bad)
}

/// `CREATE [UNIQUE] INDEX name ON table USING method (columns) WHERE …;`
fn index(table: &str, columns: &str, opts: &[(String, String)]) -> String {
    // `["a", "b"]` are columns; a lone string is a column, or an expression (`"lower((email)::text)"`).
    let single = unquote(columns);
    let cols = if columns.trim().starts_with('[') {
        list(columns).iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
    } else if single.chars().all(|c| c.is_alphanumeric() || c == '_') {
        ident(columns)
    } else {
        single
    };
    let name = opt(opts, "name").map(|n| format!("{} ", ident(n))).unwrap_or_default();
    let unique = if opt(opts, "unique") == Some("true") { "UNIQUE " } else { "" };
    let using = opt(opts, "using").map(|u| format!(" USING {}", unquote(u))).unwrap_or_default();
    let filter = opt(opts, "where").map(|w| format!(" WHERE {}", unquote(w))).unwrap_or_default();
    format!("CREATE {unique}INDEX {name}ON {}{using} ({cols}){filter};", ident(table))
}

/// `add_foreign_key "posts", "users", column: "author_id", on_delete: :cascade` → `ALTER TABLE … ADD
/// CONSTRAINT …` (Rails' default column is the singular of the table plus `_id`: `users` → `user_id`).
fn foreign_key(rest: &str) -> String {
    let (pos, opts) = args(rest);
    let (from, to) = (unquote(&pos[0]), unquote(pos.get(1).map_or("", String::as_str)));
    let column = opt(&opts, "column").map_or_else(|| format!("{}_id", singular(&to)), unquote);
    let pk = opt(&opts, "primary_key").map_or("id".to_string(), unquote);
    let name = opt(&opts, "name").map(|n| format!("CONSTRAINT {} ", ident(n))).unwrap_or_default();
    let action = |key: &str, sql: &str| {
        opt(&opts, key).map(|a| format!(" {sql} {}", unquote(a).replace('_', " ").to_uppercase())).unwrap_or_default()
    };
    let not_valid = if opt(&opts, "validate") == Some("false") { " NOT VALID" } else { "" };
    format!(
        "ALTER TABLE {} ADD {name}FOREIGN KEY ({}) REFERENCES {} ({}){}{}{not_valid};",
        crate::model::quote_ident(&from),
        crate::model::quote_ident(&column),
        crate::model::quote_ident(&to),
        crate::model::quote_ident(&pk),
        action("on_delete", "ON DELETE"),
        action("on_update", "ON UPDATE"),
    )
}

/// English singular as ActiveSupport forms it for the usual table names.
fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["sses", "shes", "ches", "xes"].iter().any(|s| table.ends_with(s)) {
        table[..table.len() - 2].to_string()
    } else {
        table.strip_suffix('s').unwrap_or(table).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"# This file is auto-generated from the current state of the database.
ActiveRecord::Schema[7.1].define(version: 2024_03_01_120000) do
  # These are extensions that must be enabled in order to support this database
  enable_extension "plpgsql"

  create_enum "status", ["draft", "published"]

  create_table "posts", force: :cascade do |t|
    t.bigint "user_id", null: false
    t.string "title", limit: 200, null: false
    t.text "body"
    t.enum "status", default: "draft", null: false, enum_type: "status"
    t.decimal "price", precision: 10, scale: 2
    t.string "tags", default: [], array: true
    t.jsonb "meta", default: {}, null: false
    t.datetime "created_at", null: false
    t.datetime "published_at", precision: nil
    t.index ["user_id", "title"], name: "index_posts_on_user_id_and_title", unique: true
    t.index "lower((title)::text)", name: "index_posts_on_lower_title"
    t.check_constraint "char_length(title) > 0", name: "title_present"
  end

  create_table "users", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|
    t.string "email", null: false
    t.boolean "admin", default: false
    t.timestamps
    t.index ["email"], name: "index_users_on_email", unique: true, where: "(admin = false)"
  end

  add_foreign_key "posts", "users", on_delete: :cascade
end
"#;

    #[test]
    fn schema_rb_becomes_the_sql_it_stands_for() {
        let s = read(SCHEMA);
        assert_eq!(s.version.as_deref(), Some("20240301120000"));
        assert!(s.skipped.is_empty(), "{:?}", s.skipped);
        assert!(s.sql.contains("CREATE EXTENSION IF NOT EXISTS plpgsql;"), "{}", s.sql);
        assert!(s.sql.contains("CREATE TYPE status AS ENUM ('draft', 'published');"), "{}", s.sql);
        assert!(
            s.sql.contains(
                "CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint NOT NULL, title character varying(200) NOT NULL, body text, \
             status status DEFAULT 'draft' NOT NULL, price numeric(10,2), tags character varying[] DEFAULT '{}', \
             meta jsonb DEFAULT '{}' NOT NULL, created_at timestamp(6) without time zone NOT NULL, \
             published_at timestamp without time zone, CONSTRAINT title_present CHECK (char_length(title) > 0)); \
             CREATE UNIQUE INDEX index_posts_on_user_id_and_title ON posts (user_id, title); \
             CREATE INDEX index_posts_on_lower_title ON posts (lower((title)::text));"
            ),
            "{}",
            s.sql
        );
        assert!(
            s.sql.contains("CREATE TABLE users (id uuid DEFAULT gen_random_uuid() PRIMARY KEY, email character varying NOT NULL"),
            "{}",
            s.sql
        );
        assert!(s.sql.contains("WHERE (admin = false);"), "{}", s.sql);
        assert!(s.sql.contains("ALTER TABLE posts ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;"), "{}", s.sql);
        // Every statement parses with PostgreSQL's parser, at the line of its Ruby.
        crate::sql::parse(&s.sql).unwrap();
        assert_eq!(
            s.sql.lines().position(|l| l.starts_with("CREATE TABLE users")),
            SCHEMA.lines().position(|l| l.contains("create_table \"users\""))
        );
    }

    #[test]
    fn what_is_not_understood_is_named() {
        let s = read("ActiveRecord::Schema.define(version: 1) do\n  create_table \"a\" do |t|\n    t.foo\n  end\n  execute \"x\"\nend\n");
        assert_eq!(s.skipped, [3, 5]);
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("users"), "user");
    }
}
