//! ORM definitions. Each finder returns the model blocks of a file with the table each maps to (the
//! explicit mapping, else the ORM's default name) and the fields of the block with the column each maps
//! to. A block mapped to a touched table gives an `orm-model` reference at its declaration; a field
//! mapped to a touched column of that table gives an `orm-field` reference. Fields are only looked for
//! inside the block, so a `name` field of another model never matches.
//!
//! Defaults: Prisma — the model name; Rails — the plural of the class in snake case; SQLAlchemy —
//! `__tablename__` only; Django — `<app>_<model lower case>` (app = the directory of `models.py`);
//! TypeORM — the class in snake case; Sequelize — the plural of the model name; Ecto — `schema "name"`;
//! Diesel — `table!` and `#[diesel(table_name = …)]`; Drizzle — `pgTable("name", …)`.

use crate::Found;
use crate::text::{Lexed, bracket_block, indent_block, plural, snake};
use regex::{Captures, Regex};
use std::ops::Range;
use std::sync::LazyLock;
use zdm_core::refs::{RefKind, RefTarget};

/// A model definition: where it is declared, its table, its body and its fields.
struct Model {
    at: usize,
    table: String,
    fields: Vec<(usize, String)>,
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("valid regex"));
    };
}

re!(PRISMA_MODEL, r"(?m)^\s*model\s+(\w+)\s*\{");
re!(PRISMA_TABLE_MAP, r#"@@map\(\s*(?:name:\s*)?"([^"]+)""#);
re!(PRISMA_FIELD, r"(?m)^[ \t]*(\w+)[ \t]+(\w+)(\[\])?\??([^\n]*)$");
re!(PRISMA_MAP, r#"@map\(\s*(?:name:\s*)?"([^"]+)""#);
re!(RAILS_CLASS, r"(?m)^[ \t]*class\s+(?:\w+::)*([A-Z]\w*)\s*<\s*(?:ApplicationRecord|ActiveRecord::Base|\w+Record)\b");
re!(RAILS_TABLE, r#"self\.table_name\s*=\s*["':]([\w.]+)"#);
re!(PY_CLASS, r"(?m)^[ \t]*class\s+(\w+)\s*\(([^)]*)\)\s*:");
re!(PY_TABLENAME, r#"__tablename__\s*(?::[^=]*)?=\s*["']([^"']+)["']"#);
re!(SQLA_FIELD, r#"(?m)^[ \t]+(\w+)\s*(?::[^=\n]*)?=\s*(?:\w+\.)?(?:Column|mapped_column)\s*\(\s*(?:["']([^"']+)["'])?"#);
re!(SQLA_TABLE, r#"\bTable\s*\(\s*["'](\w+)["']"#);
re!(SQLA_CORE_COLUMN, r#"\bColumn\s*\(\s*["'](\w+)["']"#);
re!(DJANGO_TABLE, r#"db_table\s*=\s*["']([^"']+)["']"#);
re!(DJANGO_FIELD, r"(?m)^[ \t]+(\w+)\s*=\s*(?:models\.)?(\w*Field|ForeignKey|OneToOneField)\s*\(([^\n]*)");
re!(DJANGO_COLUMN, r#"db_column\s*=\s*["']([^"']+)["']"#);
re!(
    TYPEORM_ENTITY,
    r#"@Entity\s*\(\s*(?:["'](\w+)["']|\{[^}]*?\bname\s*:\s*["'](\w+)["'][^}]*\})?[^)]*\)(?:\s*@\w+(?:\([^)]*\))?)*\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(\w+)[^{]*"#
);
re!(
    TYPEORM_FIELD,
    r"@(?:Column|PrimaryGeneratedColumn|PrimaryColumn|CreateDateColumn|UpdateDateColumn|DeleteDateColumn|VersionColumn|JoinColumn)\s*\(([^)]*)\)\s*(?:@\w+\s*\([^)]*\)\s*)*(?:(?:public|private|protected|readonly|declare)\s+)*(\w+)"
);
re!(NAME_OPTION, r#"\bname\s*:\s*["'](\w+)["']"#);
re!(DRIZZLE_TABLE, r#"\b(?:pgTable|mysqlTable|sqliteTable|\w+\.table)\s*\(\s*["'](\w+)["']\s*,\s*(?:\([^)]*\)\s*=>\s*\(?\s*)?\{"#);
re!(DRIZZLE_FIELD, r#"(?m)^[ \t]*["']?(\w+)["']?\s*:\s*[\w.]+\s*\(\s*(?:["'](\w+)["'])?"#);
re!(SEQUELIZE_DEFINE, r#"\.define\s*\(\s*["'](\w+)["']\s*,"#);
re!(SEQUELIZE_INIT, r"\b([A-Z]\w*)\.init\s*\(");
re!(SEQUELIZE_TABLE, r#"\btableName\s*:\s*["'](\w+)["']"#);
re!(SEQUELIZE_FIELD, r"(?m)^[ \t]*(\w+)\s*:\s*(\{|DataTypes\.|Sequelize\.|DataType\.)");
re!(SEQUELIZE_COLUMN, r#"\bfield\s*:\s*["'](\w+)["']"#);
re!(ECTO_SCHEMA, r#"(?m)^[ \t]*schema\s+"(\w+)"\s*do\b"#);
re!(ECTO_FIELD, r"(?m)^[ \t]*(field|belongs_to)\s+:(\w+)([^\n]*)");
re!(ECTO_SOURCE, r"\b(?:source|foreign_key):\s*:(\w+)");
re!(DIESEL_TABLE, r"\btable!\s*\{\s*(?:\w+\.)?(\w+)\s*(?:\([^)]*\))?\s*\{");
re!(DIESEL_COLUMN, r"(?m)^[ \t]*(?:#\[[^\]]*\]\s*)*(\w+)\s*->");
re!(DIESEL_STRUCT, r#"#\[(?:diesel\s*\(\s*)?table_name\s*=\s*"?(\w+)"?\s*\)?\]"#);
re!(RUST_FIELD, r"(?m)^[ \t]*(?:#\[diesel\(column_name\s*=\s*(\w+)\)\]\s*)?(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:");
re!(RUST_STRUCT, r"\bstruct\s+\w+[^{;]*\{");

pub(crate) fn find(path: &str, text: &str, lexed: &Lexed, targets: &[RefTarget], found: &mut Found<'_>) {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    let models = match ext {
        "prisma" => prisma(text),
        "rb" => rails(text),
        "py" => {
            let mut m = sqlalchemy(text);
            m.extend(django(path, text));
            m
        }
        "ts" | "tsx" | "js" | "jsx" | "mjs" | "cjs" | "mts" | "cts" => {
            let mut m = typeorm(text);
            m.extend(drizzle(text));
            m.extend(sequelize(text));
            m
        }
        "ex" | "exs" => ecto(text),
        "rs" => diesel(text),
        _ => Vec::new(),
    };
    for m in models {
        if lexed.in_comment(m.at) {
            continue;
        }
        for t in targets.iter().filter(|t| t.name == m.table) {
            found.push(m.at, t, None, RefKind::OrmModel);
            for (at, column) in &m.fields {
                if let Some(c) = t.columns.iter().find(|c| *c == column)
                    && !lexed.in_comment(*at)
                {
                    found.push(*at, t, Some(c), RefKind::OrmField);
                }
            }
        }
    }
}

fn group(c: &Captures<'_>, i: usize) -> Option<(usize, String)> {
    c.get(i).map(|m| (m.start(), m.as_str().to_string()))
}

/// Fields of `re` inside `body`: the column is the first of the groups `names` present, made by `map`.
fn fields_in(text: &str, body: &Range<usize>, re: &Regex, pick: impl Fn(&Captures<'_>) -> Option<(usize, String)>) -> Vec<(usize, String)> {
    re.captures_iter(&text[body.clone()]).filter_map(|c| pick(&c)).map(|(at, name)| (body.start + at, name)).collect()
}

fn prisma(text: &str) -> Vec<Model> {
    PRISMA_MODEL
        .captures_iter(text)
        .map(|c| {
            let whole = c.get(0).expect("match");
            let body = bracket_block(text, whole.end() - 1);
            let inner = &text[body.clone()];
            let table = PRISMA_TABLE_MAP.captures(inner).map_or_else(|| c[1].to_string(), |m| m[1].to_string());
            let fields = fields_in(text, &body, &PRISMA_FIELD, |f| {
                let rest = &f[4];
                if rest.contains("@relation") || f[1].starts_with("model") {
                    return None;
                }
                let mapped = PRISMA_MAP.captures(rest).map(|m| m[1].to_string());
                Some((f.get(1)?.start(), mapped.unwrap_or_else(|| f[1].to_string())))
            });
            Model { at: c.get(1).expect("group").start(), table, fields }
        })
        .collect()
}

fn rails(text: &str) -> Vec<Model> {
    RAILS_CLASS
        .captures_iter(text)
        .map(|c| {
            let at = c.get(1).expect("group").start();
            let body = indent_block(text, at, true);
            let inner = &text[body.clone()];
            let table = RAILS_TABLE
                .captures(inner)
                .map_or_else(|| plural(&snake(&c[1])), |m| m[1].rsplit('.').next().unwrap_or_default().to_string());
            // Rails models name columns as symbols (`validates :name`) and hash keys (`where(name: …)`).
            let symbols = Regex::new(r"(?:^|[^:\w]):(\w+)\b|\b(\w+):\s").expect("valid regex");
            let fields = fields_in(text, &body, &symbols, |f| group(f, 1).or_else(|| group(f, 2)));
            Model { at, table, fields }
        })
        .collect()
}

fn sqlalchemy(text: &str) -> Vec<Model> {
    let mut out: Vec<Model> = PY_CLASS
        .captures_iter(text)
        .filter_map(|c| {
            let at = c.get(1).expect("group").start();
            let body = indent_block(text, at, false);
            let table = PY_TABLENAME.captures(&text[body.clone()])?[1].to_string();
            let fields = fields_in(text, &body, &SQLA_FIELD, |f| group(f, 2).or_else(|| group(f, 1)));
            Some(Model { at, table, fields })
        })
        .collect();
    for c in SQLA_TABLE.captures_iter(text) {
        let whole = c.get(0).expect("match");
        let open = whole.start() + text[whole.start()..].find('(').unwrap_or(0);
        let body = bracket_block(text, open);
        let fields = fields_in(text, &body, &SQLA_CORE_COLUMN, |f| group(f, 1));
        out.push(Model { at: c.get(1).expect("group").start(), table: c[1].to_string(), fields });
    }
    out
}

fn django(path: &str, text: &str) -> Vec<Model> {
    let mut dirs = path.rsplit('/').skip(1);
    let file = path.rsplit('/').next().unwrap_or_default();
    let app = if file == "models.py" { dirs.next() } else { dirs.nth(1).filter(|_| path.contains("/models/")) };
    PY_CLASS
        .captures_iter(text)
        .filter(|c| c[2].split(',').any(|b| b.trim() == "models.Model" || b.trim() == "Model"))
        .filter_map(|c| {
            let at = c.get(1).expect("group").start();
            let body = indent_block(text, at, false);
            let inner = &text[body.clone()];
            let table =
                DJANGO_TABLE.captures(inner).map(|m| m[1].to_string()).or_else(|| app.map(|a| format!("{a}_{}", c[1].to_lowercase())))?;
            let fields = fields_in(text, &body, &DJANGO_FIELD, |f| {
                let column = DJANGO_COLUMN.captures(&f[3]).map(|m| m[1].to_string());
                let key = matches!(&f[2], "ForeignKey" | "OneToOneField");
                let name = column.unwrap_or_else(|| if key { format!("{}_id", &f[1]) } else { f[1].to_string() });
                Some((f.get(1)?.start(), name))
            });
            Some(Model { at, table, fields })
        })
        .collect()
}

fn typeorm(text: &str) -> Vec<Model> {
    TYPEORM_ENTITY
        .captures_iter(text)
        .map(|c| {
            let whole = c.get(0).expect("match");
            let open = whole.end() + text[whole.end()..].find('{').unwrap_or(0);
            let body = bracket_block(text, open);
            let class = c.get(3).expect("group");
            let table = c.get(1).or_else(|| c.get(2)).map_or_else(|| snake(class.as_str()), |m| m.as_str().to_string());
            let fields = fields_in(text, &body, &TYPEORM_FIELD, |f| {
                let named = NAME_OPTION.captures(&f[1]).map(|m| m[1].to_string());
                Some((f.get(2)?.start(), named.unwrap_or_else(|| f[2].to_string())))
            });
            Model { at: class.start(), table, fields }
        })
        .collect()
}

fn drizzle(text: &str) -> Vec<Model> {
    DRIZZLE_TABLE
        .captures_iter(text)
        .map(|c| {
            let whole = c.get(0).expect("match");
            let body = bracket_block(text, whole.end() - 1);
            let fields = fields_in(text, &body, &DRIZZLE_FIELD, |f| {
                Some((f.get(1)?.start(), f.get(2).map_or_else(|| f[1].to_string(), |m| m.as_str().to_string())))
            });
            Model { at: c.get(1).expect("group").start(), table: c[1].to_string(), fields }
        })
        .collect()
}

fn sequelize(text: &str) -> Vec<Model> {
    let calls = SEQUELIZE_DEFINE.captures_iter(text).chain(SEQUELIZE_INIT.captures_iter(text));
    calls
        .map(|c| {
            let whole = c.get(0).expect("match");
            let open = whole.start() + text[whole.start()..].find('(').unwrap_or(0);
            let call = bracket_block(text, open);
            let inner = &text[call.clone()];
            let table = SEQUELIZE_TABLE.captures(inner).map_or_else(|| plural(&c[1]), |m| m[1].to_string());
            // The attributes are the first object literal of the call.
            let attrs = inner.find('{').map_or(call.clone(), |p| bracket_block(text, call.start + p));
            let fields = fields_in(text, &attrs, &SEQUELIZE_FIELD, |f| {
                let key = f.get(1)?;
                let own = if &f[2] == "{" { bracket_block(&text[attrs.clone()], f.get(2)?.start()) } else { 0..0 };
                let mapped = SEQUELIZE_COLUMN.captures(&text[attrs.start + own.start..attrs.start + own.end]).map(|m| m[1].to_string());
                Some((key.start(), mapped.unwrap_or_else(|| key.as_str().to_string())))
            });
            let fields = fields.into_iter().filter(|(at, _)| depth_one(text, &attrs, *at)).collect();
            Model { at: c.get(1).expect("group").start(), table, fields }
        })
        .collect()
}

/// True when `at` sits directly inside the object `block` (not in a nested object).
fn depth_one(text: &str, block: &Range<usize>, at: usize) -> bool {
    let mut depth = 0i32;
    for ch in text[block.start..at].bytes() {
        match ch {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => depth -= 1,
            _ => {}
        }
    }
    depth == 1
}

fn ecto(text: &str) -> Vec<Model> {
    ECTO_SCHEMA
        .captures_iter(text)
        .map(|c| {
            let at = c.get(1).expect("group").start();
            let body = indent_block(text, at, true);
            let fields = fields_in(text, &body, &ECTO_FIELD, |f| {
                let source = ECTO_SOURCE.captures(&f[3]).map(|m| m[1].to_string());
                let default = if &f[1] == "belongs_to" { format!("{}_id", &f[2]) } else { f[2].to_string() };
                Some((f.get(2)?.start(), source.unwrap_or(default)))
            });
            Model { at, table: c[1].to_string(), fields }
        })
        .collect()
}

fn diesel(text: &str) -> Vec<Model> {
    let mut out: Vec<Model> = DIESEL_TABLE
        .captures_iter(text)
        .map(|c| {
            let whole = c.get(0).expect("match");
            let body = bracket_block(text, whole.end() - 1);
            let fields = fields_in(text, &body, &DIESEL_COLUMN, |f| group(f, 1));
            Model { at: c.get(1).expect("group").start(), table: c[1].to_string(), fields }
        })
        .collect();
    for c in DIESEL_STRUCT.captures_iter(text) {
        let whole = c.get(0).expect("match");
        let Some(s) = RUST_STRUCT.find(&text[whole.end()..]) else { continue };
        let body = bracket_block(text, whole.end() + s.end() - 1);
        let fields = fields_in(text, &body, &RUST_FIELD, |f| group(f, 1).or_else(|| group(f, 2)));
        out.push(Model { at: c.get(1).expect("group").start(), table: c[1].to_string(), fields });
    }
    out
}
