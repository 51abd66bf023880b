//! Where the project's database is: the connection string its own configuration names. Pure: the CLI
//! hands over the project files, the environment and the `.env` file's text.
//!
//! Order (first found wins): `DATABASE_URL` in the environment, then in `.env`; Prisma's `datasource`
//! `url` (`env("X")` or a literal); Rails `config/database.yml` (the `ZDM_ENV`, else `RAILS_ENV`, else
//! `development` section: `url:` or host/port/database/username/password, ERB `ENV["X"]` and
//! `ENV.fetch("X") { default }` resolved); `alembic.ini` `sqlalchemy.url`; a knexfile's `connection`
//! (a literal, or `process.env.X`); Django `settings.py` `DATABASES` written as literals.

use crate::model::ProjectFiles;
use std::collections::BTreeMap;

/// A connection string found in the project's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The connection string (holds the password: never print it unmasked).
    pub url: String,
    /// Where it was found (`DATABASE_URL`, `.env`, `config/database.yml (development)`).
    pub from: String,
}

/// Parses `.env` text: `KEY=value`, `export KEY=value`, quoted values, `#` comments.
#[must_use]
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        let v = v.trim();
        let v = if (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\'')) && v.len() >= 2 {
            v[1..v.len() - 1].to_string()
        } else {
            v.split(" #").next().unwrap_or(v).trim().to_string()
        };
        out.insert(k.trim().to_string(), v);
    }
    out
}

/// The project's connection string, if its configuration names one.
#[must_use]
pub fn discover(files: &ProjectFiles, env: &BTreeMap<String, String>, dotenv: Option<&str>) -> Option<Discovered> {
    let dot = dotenv.map(parse_dotenv).unwrap_or_default();
    let var = |name: &str| -> Option<(String, String)> {
        env.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| (v.clone(), format!("{name} in the environment")))
            .or_else(|| dot.get(name).filter(|v| !v.is_empty()).map(|v| (v.clone(), format!("{name} in .env"))))
    };
    let found = |url: String, from: String| Some(Discovered { url, from });
    if let Some((url, from)) = var("DATABASE_URL") {
        return found(url, from);
    }
    for f in files.files.iter().filter(|f| f.path.ends_with(".prisma")) {
        if let Some(d) = prisma(&f.contents, &var) {
            return found(d.0, format!("{} ({})", f.path, d.1));
        }
    }
    if let Some(f) = files.files.iter().find(|f| f.path == "config/database.yml") {
        let section = env.get("ZDM_ENV").or_else(|| env.get("RAILS_ENV")).map_or("development", String::as_str);
        if let Some(url) = rails(&f.contents, section, &var) {
            return found(url, format!("{} ({section})", f.path));
        }
    }
    for f in files.files.iter().filter(|f| crate::tools::common::file_name(&f.path) == "alembic.ini") {
        if let Some(url) = f.contents.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "sqlalchemy.url").then(|| sqlalchemy(v.trim()))?
        }) {
            return found(url, f.path.clone());
        }
    }
    for f in files.files.iter().filter(|f| crate::tools::common::file_name(&f.path).starts_with("knexfile.")) {
        if let Some((url, how)) = knex(&f.contents, &var) {
            return found(url, format!("{} ({how})", f.path));
        }
    }
    for f in files.files.iter().filter(|f| f.path.ends_with("settings.py") || f.path.contains("/settings/")) {
        if let Some(url) = django(&f.contents) {
            return found(url, f.path.clone());
        }
    }
    None
}

fn is_pg_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `postgresql+psycopg2://…` → `postgresql://…`; other engines and templates (`driver://…`) are not ours.
fn sqlalchemy(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let base = scheme.split('+').next()?;
    matches!(base, "postgresql" | "postgres").then(|| format!("postgresql://{rest}"))
}

/// The value of `name = "…"` or `name: '…'` on a line, quotes removed.
fn quoted_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let i = line.find(key)?;
    let rest = line[i + key.len()..].trim_start().strip_prefix([':', '='])?.trim_start();
    let q = rest.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = &rest[1..];
    Some(&body[..body.find(q)?])
}

type Var<'a> = dyn Fn(&str) -> Option<(String, String)> + 'a;

fn prisma(text: &str, var: &Var<'_>) -> Option<(String, String)> {
    let start = text.find("datasource ")?;
    let block = &text[start..start + text[start..].find('}')?];
    if !block.contains("postgres") {
        return None;
    }
    let line = block.lines().find(|l| l.trim_start().starts_with("url"))?;
    let value = line.split_once('=')?.1.trim();
    if let Some(inner) = value.strip_prefix("env(").and_then(|v| v.strip_suffix(')')) {
        let name = inner.trim().trim_matches('"');
        return var(name);
    }
    let lit = value.trim_matches('"');
    is_pg_url(lit).then(|| (lit.to_string(), "literal url".into()))
}

/// Resolves an ERB value: `<%= ENV["X"] %>`, `<%= ENV.fetch("X") { d } %>`, `<%= ENV.fetch('X', 'd') %>`.
/// `None` when it names a variable that is not set and has no default.
fn erb(value: &str, var: &Var<'_>) -> Option<String> {
    let Some(start) = value.find("<%=") else { return Some(value.trim_matches(['"', '\'']).to_string()) };
    let end = value.find("%>")?;
    let code = value[start + 3..end].trim();
    let name = code.split(['"', '\'']).nth(1)?;
    if !code.starts_with("ENV") {
        return None;
    }
    let default = code
        .split_once('{')
        .map(|(_, d)| d.trim_end_matches('}').trim().trim_matches(['"', '\'']).to_string())
        .or_else(|| code.split(['"', '\'']).nth(3).map(str::to_string));
    let resolved = var(name).map(|(v, _)| v).or(default)?;
    Some(format!("{}{resolved}{}", &value[..start], &value[end + 2..]))
}

fn rails(text: &str, section: &str, var: &Var<'_>) -> Option<String> {
    // Sections at indentation 0; `&anchor` sections and `<<: *anchor` merges, one level deep.
    let mut sections: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut anchors: BTreeMap<String, String> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let Some((name, rest)) = line.split_once(':') else { continue };
            current = name.trim().to_string();
            if let Some(a) = rest.trim().strip_prefix('&') {
                anchors.insert(a.trim().to_string(), current.clone());
            }
            sections.entry(current.clone()).or_default();
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent > 2 {
            continue;
        }
        if let Some((k, v)) = line.trim().split_once(':') {
            sections.entry(current.clone()).or_default().push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let own = sections.get(section)?;
    for (k, v) in own {
        if k == "<<"
            && let Some(base) = v.strip_prefix('*').and_then(|a| anchors.get(a.trim())).and_then(|s| sections.get(s))
        {
            for (bk, bv) in base {
                keys.entry(bk.clone()).or_insert_with(|| bv.clone());
            }
        }
    }
    for (k, v) in own.iter().filter(|(k, _)| k != "<<") {
        keys.insert(k.clone(), v.clone());
    }
    if !keys.get("adapter").is_some_and(|a| a.contains("postg")) && !keys.contains_key("url") {
        return None;
    }
    if let Some(u) = keys.get("url") {
        return erb(u, var).filter(|u| is_pg_url(u));
    }
    let get = |k: &str| keys.get(k).map(|v| erb(v, var));
    let database = get("database")??;
    let host = match get("host") {
        Some(h) => h?,
        None => String::new(),
    };
    let port = get("port").flatten().map(|p| format!(":{p}")).unwrap_or_default();
    let user = get("username").flatten();
    let password = get("password").flatten();
    let auth = match (user, password) {
        (Some(u), Some(p)) => format!("{u}:{p}@"),
        (Some(u), None) => format!("{u}@"),
        _ => String::new(),
    };
    Some(format!("postgresql://{auth}{host}{port}/{database}"))
}

fn knex(text: &str, var: &Var<'_>) -> Option<(String, String)> {
    if !(text.contains("'pg'") || text.contains("\"pg\"") || text.contains("postgres")) {
        return None;
    }
    for line in text.lines() {
        if let Some(lit) = quoted_after(line, "connection").filter(|l| is_pg_url(l)) {
            return Some((lit.to_string(), "literal connection".into()));
        }
        if let Some(i) = line.find("connection: process.env.") {
            let name: String = line[i + 24..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if let Some(found) = var(&name) {
                return Some(found);
            }
        }
    }
    None
}

fn django(text: &str) -> Option<String> {
    let start = text.find("DATABASES")?;
    let block = &text[start..];
    let engine = block.lines().find_map(|l| quoted_after(l, "'ENGINE'").or_else(|| quoted_after(l, "\"ENGINE\"")))?;
    if !engine.contains("postgresql") {
        return None;
    }
    let get =
        |k: &str| block.lines().take(20).find_map(|l| quoted_after(l, &format!("'{k}'")).or_else(|| quoted_after(l, &format!("\"{k}\""))));
    let name = get("NAME")?;
    let host = get("HOST").unwrap_or("");
    let port = get("PORT").filter(|p| !p.is_empty()).map(|p| format!(":{p}")).unwrap_or_default();
    let auth = match (get("USER"), get("PASSWORD")) {
        (Some(u), Some(p)) if !p.is_empty() => format!("{u}:{p}@"),
        (Some(u), _) if !u.is_empty() => format!("{u}@"),
        _ => String::new(),
    };
    Some(format!("postgresql://{auth}{host}{port}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProjectFile;

    fn files(list: &[(&str, &str)]) -> ProjectFiles {
        ProjectFiles::new(list.iter().map(|(p, c)| ProjectFile { path: (*p).into(), contents: (*c).into() }).collect())
    }

    fn env(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn environment_then_dotenv() {
        let none = files(&[]);
        let d = discover(&none, &env(&[("DATABASE_URL", "postgres://a:pw@h/db")]), Some("DATABASE_URL=postgres://b@h/x")).unwrap();
        assert_eq!((d.url.as_str(), d.from.as_str()), ("postgres://a:pw@h/db", "DATABASE_URL in the environment"));
        let d = discover(&none, &env(&[]), Some("# c\nexport DATABASE_URL=\"postgres://b@h/x\"\n")).unwrap();
        assert_eq!((d.url.as_str(), d.from.as_str()), ("postgres://b@h/x", "DATABASE_URL in .env"));
        assert_eq!(discover(&none, &env(&[]), None), None);
    }

    #[test]
    fn prisma_env_and_literal() {
        let f = files(&[("prisma/schema.prisma", "datasource db {\n  provider = \"postgresql\"\n  url = env(\"PG_URL\")\n}\n")]);
        let d = discover(&f, &env(&[]), Some("PG_URL=postgres://p@h/app")).unwrap();
        assert_eq!((d.url.as_str(), d.from.as_str()), ("postgres://p@h/app", "prisma/schema.prisma (PG_URL in .env)"));
        let f = files(&[("schema.prisma", "datasource db {\n  provider = \"postgresql\"\n  url = \"postgresql://x@h/lit\"\n}\n")]);
        assert_eq!(discover(&f, &env(&[]), None).unwrap().url, "postgresql://x@h/lit");
        let mysql = files(&[("schema.prisma", "datasource db {\n  provider = \"mysql\"\n  url = \"mysql://x@h/lit\"\n}\n")]);
        assert_eq!(discover(&mysql, &env(&[]), None), None);
    }

    #[test]
    fn rails_sections_anchors_and_erb() {
        let yml = "default: &default\n  adapter: postgresql\n  host: <%= ENV.fetch(\"DB_HOST\") { \"localhost\" } %>\n  username: app\n  password: <%= ENV[\"DB_PW\"] %>\n\ndevelopment:\n  <<: *default\n  database: shop_dev\n\nproduction:\n  <<: *default\n  url: <%= ENV[\"PROD_URL\"] %>\n";
        let f = files(&[("config/database.yml", yml)]);
        let d = discover(&f, &env(&[("DB_PW", "s3")]), None).unwrap();
        assert_eq!((d.url.as_str(), d.from.as_str()), ("postgresql://app:s3@localhost/shop_dev", "config/database.yml (development)"));
        // An unset password is left to libpq (`.pgpass`, trust); an unset host without a default means
        // the connection is not known.
        assert_eq!(discover(&f, &env(&[]), None).unwrap().url, "postgresql://app@localhost/shop_dev");
        let no_host =
            files(&[("config/database.yml", "development:\n  adapter: postgresql\n  host: <%= ENV[\"DB_HOST\"] %>\n  database: x\n")]);
        assert_eq!(discover(&no_host, &env(&[]), None), None);
        assert_eq!(discover(&no_host, &env(&[("DB_HOST", "db")]), None).unwrap().url, "postgresql://db/x");
        let d = discover(&f, &env(&[("RAILS_ENV", "production"), ("PROD_URL", "postgres://p@prod/db")]), None).unwrap();
        assert_eq!(d.url, "postgres://p@prod/db");
        let d = discover(&f, &env(&[("ZDM_ENV", "development"), ("RAILS_ENV", "production"), ("DB_PW", "x")]), None).unwrap();
        assert!(d.url.ends_with("/shop_dev"));
    }

    #[test]
    fn alembic_knex_django() {
        let f = files(&[("alembic.ini", "[alembic]\nsqlalchemy.url = postgresql+psycopg2://app:pw@db:5433/app\n")]);
        assert_eq!(discover(&f, &env(&[]), None).unwrap().url, "postgresql://app:pw@db:5433/app");
        let template = files(&[("alembic.ini", "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n")]);
        assert_eq!(discover(&template, &env(&[]), None), None);
        let k = files(&[("knexfile.js", "module.exports = { client: 'pg', connection: 'postgres://k@h/kdb' };\n")]);
        assert_eq!(discover(&k, &env(&[]), None).unwrap().url, "postgres://k@h/kdb");
        let k = files(&[("knexfile.ts", "export default { client: 'pg', connection: process.env.PG_CONN };\n")]);
        assert_eq!(discover(&k, &env(&[("PG_CONN", "postgres://e@h/e")]), None).unwrap().url, "postgres://e@h/e");
        let dj = "DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.postgresql',\n        'NAME': 'shop',\n        'USER': 'app',\n        'PASSWORD': 'pw',\n        'HOST': 'db',\n        'PORT': '5432',\n    }\n}\n";
        let f = files(&[("shop/settings.py", dj)]);
        assert_eq!(discover(&f, &env(&[]), None).unwrap().url, "postgresql://app:pw@db:5432/shop");
        let f = files(&[("shop/settings.py", "DATABASES = {\"default\": env.db(\"DATABASE_URL\")}\n")]);
        assert_eq!(discover(&f, &env(&[]), None), None);
    }
}
