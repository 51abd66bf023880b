//! A Prisma schema (`schema.prisma`) turned into the DDL Prisma Migrate writes for PostgreSQL (its type
//! names: `TEXT`, `TIMESTAMP(3)`, `DECIMAL(65,30)`, `BIGSERIAL`…), for a
//! project with no migrations yet (`prisma db push`): enums, one table per model (`@@map` / `@map`
//! names), scalar types and `@db.*` native types, `?` nullability, scalar lists, `@id` / `@@id`,
//! `@default` (`autoincrement()` → serial, `now()`, `dbgenerated("…")`, literals; `uuid()`/`cuid()` are
//! set by the client, so no default), `@unique` / `@@unique` (`<table>_<cols>_key`), `@@index`
//! (`<table>_<cols>_idx`) and foreign keys from `@relation(fields, references, onDelete, onUpdate)`
//! (`<table>_<cols>_fkey`). Each statement sits at the line of its block, so positions stay the file's.

use crate::model::{quote_ident, quote_literal};
use std::collections::BTreeMap;

/// A field of a model, as written.
struct Field<'a> {
    name: &'a str,
    ty: &'a str,
    optional: bool,
    list: bool,
    attrs: &'a str,
}

/// A model or enum block: its kind, name, first line (0-based) and body lines.
struct Block<'a> {
    kind: &'a str,
    name: &'a str,
    line: usize,
    body: Vec<&'a str>,
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut current: Option<Block<'_>> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if let Some(b) = current.as_mut() {
            if line == "}" {
                out.extend(current.take());
            } else if !line.is_empty() {
                b.body.push(line);
            }
            continue;
        }
        let mut words = line.split_whitespace();
        if let (Some(kind @ ("model" | "enum")), Some(name), Some("{")) = (words.next(), words.next(), words.next()) {
            current = Some(Block { kind, name, line: n, body: Vec::new() });
        }
    }
    out
}

/// `@map("x")`, `@@map("x")`, `map: "x"` → `x`.
fn quoted_arg<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let at = attrs.find(key)? + key.len();
    let rest = attrs[at..].trim_start();
    let rest = rest.strip_prefix('(').unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// The parenthesised text after `name` (`@default(` → `now()`), balanced.
fn call_args<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let start = attrs.find(name)? + name.len();
    let bytes = attrs.as_bytes();
    let (mut depth, mut quoted) = (1, false);
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(&attrs[start..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `[a, b]` → `["a", "b"]` (the field list of `@@index([a, b(sort: Desc)])`, `fields: [a]`).
fn field_list(text: &str) -> Vec<&str> {
    let Some(inner) = text.find('[').and_then(|s| text[s + 1..].find(']').map(|e| &text[s + 1..s + 1 + e])) else {
        return Vec::new();
    };
    inner.split(',').map(|f| f.split('(').next().unwrap_or("").trim()).filter(|f| !f.is_empty()).collect()
}

fn parse_field(line: &str) -> Option<Field<'_>> {
    if line.starts_with('@') {
        return None;
    }
    let (name, rest) = line.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (ty, attrs) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let list = ty.ends_with("[]");
    let optional = ty.ends_with('?');
    let ty = ty.trim_end_matches('?').trim_end_matches("[]");
    Some(Field { name, ty, optional, list, attrs: attrs.trim() })
}

/// The PostgreSQL type of a scalar field (`@db.*` first), or `None` for a relation field.
fn column_type(f: &Field<'_>, enums: &BTreeMap<&str, String>, models: &[&str]) -> Option<String> {
    if let Some(native) = f.attrs.split_whitespace().find_map(|a| a.strip_prefix("@db.")) {
        let (name, args) = native.split_once('(').map_or((native, ""), |(n, a)| (n, a.trim_end_matches(')')));
        let with = |base: &str| if args.is_empty() { base.to_string() } else { format!("{base}({args})") };
        return Some(
            match name {
                "Text" => "TEXT".into(),
                "VarChar" => with("VARCHAR"),
                "Char" => with("CHAR"),
                "Uuid" => "UUID".into(),
                "SmallInt" => "SMALLINT".into(),
                "Integer" => "INTEGER".into(),
                "BigInt" => "BIGINT".into(),
                "Real" => "REAL".into(),
                "DoublePrecision" => "DOUBLE PRECISION".into(),
                "Decimal" => with("DECIMAL"),
                "Timestamp" => with("TIMESTAMP"),
                "Timestamptz" => with("TIMESTAMPTZ"),
                "Time" => with("TIME"),
                "Timetz" => with("TIMETZ"),
                "Bit" => with("BIT"),
                "VarBit" => with("VARBIT"),
                "JsonB" => "JSONB".into(),
                "ByteA" => "BYTEA".into(),
                other => other.to_uppercase(),
            } + if f.list { "[]" } else { "" },
        );
    }
    let base = match f.ty {
        "String" => "TEXT".to_string(),
        "Boolean" => "BOOLEAN".into(),
        "Int" => "INTEGER".into(),
        "BigInt" => "BIGINT".into(),
        "Float" => "DOUBLE PRECISION".into(),
        "Decimal" => "DECIMAL(65,30)".into(),
        "DateTime" => "TIMESTAMP(3)".into(),
        "Json" => "JSONB".into(),
        "Bytes" => "BYTEA".into(),
        t if enums.contains_key(t) => enums[t].clone(),
        t if models.contains(&t) => return None,
        // `Unsupported("tsvector")`
        t => t.strip_prefix("Unsupported(\"").and_then(|u| u.strip_suffix("\")")).unwrap_or(t).to_string(),
    };
    Some(if f.list { format!("{base}[]") } else { base })
}

/// A `@default(…)` as SQL, or `None` when the database has no default (set by the client).
fn default_sql(args: &str, enum_type: bool) -> Option<String> {
    let a = args.trim();
    match a {
        "autoincrement()" | "uuid()" | "cuid()" | "nanoid()" | "ulid()" => None,
        "now()" => Some("CURRENT_TIMESTAMP".into()),
        "true" | "false" => Some(a.to_string()),
        _ if a.starts_with("uuid(") || a.starts_with("cuid(") || a.starts_with("nanoid(") => None,
        _ if a.starts_with("dbgenerated(") => call_args(a, "dbgenerated(").map(|e| e.trim().trim_matches('"').replace("\\\"", "\"")),
        _ if a.starts_with('"') => Some(quote_literal(a.trim_matches('"'))),
        _ if a.parse::<f64>().is_ok() => Some(a.to_string()),
        _ if a.starts_with('[') => Some("'{}'".into()),
        // An enum value.
        _ if enum_type => Some(quote_literal(a)),
        _ => None,
    }
}

/// The DDL of `text` (a Prisma schema) with every table and enum on the line of its block, the foreign
/// keys on the last line.
pub(super) fn ddl(text: &str) -> String {
    let blocks = blocks(text);
    let mut enums: BTreeMap<&str, String> = BTreeMap::new();
    let mut tables: BTreeMap<&str, String> = BTreeMap::new();
    for b in &blocks {
        let mapped = b.body.iter().find_map(|l| l.strip_prefix("@@map").and_then(|_| quoted_arg(l, "@@map"))).unwrap_or(b.name);
        if b.kind == "enum" {
            enums.insert(b.name, quote_ident(mapped));
        } else {
            tables.insert(b.name, mapped.to_string());
        }
    }
    let models: Vec<&str> = tables.keys().copied().collect();
    let mut out = vec![String::new(); text.lines().count().max(1)];
    let mut foreign_keys = Vec::new();
    for b in &blocks {
        out[b.line] = if b.kind == "enum" {
            let values: Vec<String> = b
                .body
                .iter()
                .filter(|l| !l.starts_with("@@"))
                .map(|l| quote_literal(quoted_arg(l, "@map").unwrap_or_else(|| l.split_whitespace().next().unwrap_or(""))))
                .collect();
            format!("CREATE TYPE {} AS ENUM ({});", enums[b.name], values.join(", "))
        } else {
            model(b, &tables, &enums, &models, &mut foreign_keys)
        };
    }
    // Foreign keys once every table exists, as Prisma Migrate orders them.
    if let Some(last) = out.last_mut() {
        for fk in foreign_keys {
            last.push(' ');
            last.push_str(&fk);
        }
    }
    out.join("\n")
}

fn model(
    b: &Block<'_>,
    tables: &BTreeMap<&str, String>,
    enums: &BTreeMap<&str, String>,
    models: &[&str],
    foreign_keys: &mut Vec<String>,
) -> String {
    let table = &tables[b.name];
    let fields: Vec<Field<'_>> = b.body.iter().filter_map(|l| parse_field(l)).collect();
    let column_of = |field: &str| -> String {
        fields.iter().find(|f| f.name == field).map_or(field, |f| quoted_arg(f.attrs, "@map").unwrap_or(f.name)).to_string()
    };
    let cols = |list: &[&str]| list.iter().map(|f| quote_ident(&column_of(f))).collect::<Vec<_>>().join(", ");
    let names = |list: &[&str]| list.iter().map(|f| column_of(f)).collect::<Vec<_>>().join("_");
    let mut defs = Vec::new();
    let mut after = Vec::new();
    for f in &fields {
        let Some(ty) = column_type(f, enums, models) else {
            // A relation field: the foreign key, when this side holds it.
            if let Some(rel) = call_args(f.attrs, "@relation(").filter(|r| r.contains("fields:")) {
                let from = field_list(&rel[rel.find("fields:").unwrap_or(0)..]);
                let to = field_list(&rel[rel.find("references:").unwrap_or(0)..]);
                let target_table = tables.get(f.ty).map_or(f.ty, String::as_str);
                let name = quoted_arg(rel, "map:").map_or_else(|| format!("{table}_{}_fkey", names(&from)), str::to_string);
                let action = |key: &str, default: &str| {
                    rel.split(key).nth(1).and_then(|r| r.trim_start().split([',', ')', ' ']).next()).map_or(default.to_string(), |a| {
                        match a {
                            "SetNull" => "SET NULL",
                            "SetDefault" => "SET DEFAULT",
                            "NoAction" => "NO ACTION",
                            "Cascade" => "CASCADE",
                            _ => "RESTRICT",
                        }
                        .to_string()
                    })
                };
                let on_delete = action("onDelete:", if f.optional { "SET NULL" } else { "RESTRICT" });
                let to_cols: Vec<String> = to.iter().map(|c| quote_ident(c)).collect();
                foreign_keys.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {on_delete} ON UPDATE {};",
                    quote_ident(table),
                    quote_ident(&name),
                    cols(&from),
                    quote_ident(target_table),
                    to_cols.join(", "),
                    action("onUpdate:", "CASCADE"),
                ));
            }
            continue;
        };
        let column = column_of(f.name);
        let default = call_args(f.attrs, "@default(");
        let serial = default.is_some_and(|d| d.trim() == "autoincrement()");
        let ty = match (serial, ty.as_str()) {
            (true, "INTEGER") => "SERIAL".to_string(),
            (true, "BIGINT") => "BIGSERIAL".to_string(),
            (true, "SMALLINT") => "SMALLSERIAL".to_string(),
            _ => ty,
        };
        let mut def = format!("{} {ty}", quote_ident(&column));
        if !f.optional && !f.list {
            def.push_str(" NOT NULL");
        }
        if let Some(d) = default.and_then(|d| default_sql(d, enums.contains_key(f.ty))) {
            def.push_str(&format!(" DEFAULT {d}"));
        }
        defs.push(def);
        if f.attrs.split_whitespace().any(|a| a == "@id" || a.starts_with("@id(")) {
            let name =
                call_args(f.attrs, "@id(").and_then(|a| quoted_arg(a, "map:")).map_or_else(|| format!("{table}_pkey"), str::to_string);
            defs.push(format!("CONSTRAINT {} PRIMARY KEY ({})", quote_ident(&name), quote_ident(&column)));
        }
        if f.attrs.split_whitespace().any(|a| a == "@unique" || a.starts_with("@unique(")) {
            let name = call_args(f.attrs, "@unique(")
                .and_then(|a| quoted_arg(a, "map:"))
                .map_or_else(|| format!("{table}_{column}_key"), str::to_string);
            after.push(format!("CREATE UNIQUE INDEX {} ON {} ({});", quote_ident(&name), quote_ident(table), quote_ident(&column)));
        }
    }
    for l in b.body.iter().filter(|l| l.starts_with("@@")) {
        let list = field_list(l);
        let named = |suffix: &str| {
            quoted_arg(l, "map:")
                .or_else(|| quoted_arg(l, "name:"))
                .map_or_else(|| format!("{table}_{}_{suffix}", names(&list)), str::to_string)
        };
        if l.starts_with("@@id(") {
            let name = quoted_arg(l, "map:").map_or_else(|| format!("{table}_pkey"), str::to_string);
            defs.push(format!("CONSTRAINT {} PRIMARY KEY ({})", quote_ident(&name), cols(&list)));
        } else if l.starts_with("@@unique(") {
            after.push(format!("CREATE UNIQUE INDEX {} ON {} ({});", quote_ident(&named("key")), quote_ident(table), cols(&list)));
        } else if l.starts_with("@@index(") {
            let using = l
                .split("type:")
                .nth(1)
                .and_then(|t| t.trim_start().split([',', ')', ' ']).next())
                .map(|t| format!(" USING {}", t.to_lowercase()))
                .unwrap_or_default();
            after.push(format!("CREATE INDEX {} ON {}{using} ({});", quote_ident(&named("idx")), quote_ident(table), cols(&list)));
        }
    }
    let mut sql = format!("CREATE TABLE {} ({});", quote_ident(table), defs.join(", "));
    for a in after {
        sql.push(' ');
        sql.push_str(&a);
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Role {
  USER
  ADMIN @map("admin")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  name      String?  @map("full_name") @db.VarChar(200)
  role      Role     @default(USER)
  createdAt DateTime @default(now()) @map("created_at")
  posts     Post[]

  @@map("users")
}

/// A post.
model Post {
  id       String  @id @default(uuid()) @db.Uuid
  title    String
  tags     String[]
  authorId Int     @map("author_id")
  author   User    @relation(fields: [authorId], references: [id], onDelete: Cascade)

  @@unique([authorId, title])
  @@index([title(sort: Desc)], type: Hash)
}
"#;

    #[test]
    fn models_become_prisma_migrates_ddl() {
        let sql = ddl(SCHEMA);
        assert!(sql.contains("CREATE TYPE \"Role\" AS ENUM ('USER', 'admin');"), "{sql}");
        assert!(
            sql.contains(
                "CREATE TABLE users (id SERIAL NOT NULL, CONSTRAINT users_pkey PRIMARY KEY (id), email TEXT NOT NULL, \
             full_name VARCHAR(200), role \"Role\" NOT NULL DEFAULT 'USER', created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP); \
             CREATE UNIQUE INDEX users_email_key ON users (email);"
            ),
            "{sql}"
        );
        assert!(sql.contains("CREATE TABLE \"Post\" (id UUID NOT NULL, CONSTRAINT \"Post_pkey\" PRIMARY KEY (id), title TEXT NOT NULL, tags TEXT[], author_id INTEGER NOT NULL);"), "{sql}");
        assert!(sql.contains("ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_author_id_fkey\" FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE;"), "{sql}");
        assert!(sql.contains("CREATE UNIQUE INDEX \"Post_author_id_title_key\" ON \"Post\" (author_id, title);"), "{sql}");
        assert!(sql.contains("CREATE INDEX \"Post_title_idx\" ON \"Post\" USING hash (title);"), "{sql}");
        let line = |needle: &str| sql.lines().position(|l| l.contains(needle));
        assert_eq!(line("CREATE TABLE users"), SCHEMA.lines().position(|l| l.starts_with("model User")));
        crate::sql::parse(&sql).unwrap();
    }
}
