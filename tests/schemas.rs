//! The SQLite and PostgreSQL schemas are the same: after the migrations of each tree
//! (`migrations/sqlite`, `migrations/postgres`), both databases are read back through their own
//! catalogues and described as one list of facts (tables; columns with their type family and
//! nullability; primary keys; indexes with their columns and uniqueness; foreign keys; CHECK
//! constraints by the columns and string literals they name; triggers by table, timing and
//! event). The two lists must be equal but for the differences in [`ALLOWED`], each with its
//! reason. What the triggers and checks do is not compared (their languages differ).
//!
//! It needs both backends, so it runs only when `LIAISON_TEST_POSTGRES_URL` names a server (CI's
//! PostgreSQL pass); otherwise it says that it was skipped.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{PG_ENV, TestDb};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

/// Which backend a fact is found on alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    Sqlite,
    Postgres,
}

/// The differences between the two schemas that are meant (or known, marked "to fix"): the
/// backend that has the fact, the fact as the test writes it (see its failure message), and
/// why. Empty: after the migrations the two schemas are the same. An entry that no longer
/// describes a difference fails the test, so the list stays exact.
const ALLOWED: &[(Only, &str, &str)] = &[];

#[test]
fn sqlite_and_postgres_schemas_are_the_same() {
    let Ok(pg_admin) = std::env::var(PG_ENV) else {
        println!(
            "SKIPPED: the schema comparison needs PostgreSQL too; set {PG_ENV} (CI's PostgreSQL \
             pass does) to run it. Nothing was compared."
        );
        return;
    };
    assert!(!pg_admin.is_empty(), "{PG_ENV} is set but empty");
    let dir = tempfile::tempdir().unwrap();
    let pg = TestDb::new(dir.path());
    assert!(pg.is_postgres());
    let sqlite_path = dir.path().join("schema.db");
    let sqlite_url = format!("sqlite://{}", sqlite_path.display());
    for url in [&sqlite_url, &pg.url] {
        liaison::db::Db::connect(url, 1, Duration::from_secs(30))
            .unwrap()
            .migrate()
            .unwrap();
    }

    let sqlite =
        sqlite_facts(&mut SqliteConnection::establish(sqlite_path.to_str().unwrap()).unwrap());
    let postgres = postgres_facts(&mut PgConnection::establish(&pg.url).unwrap());
    assert!(
        sqlite.iter().any(|f| f.starts_with("table ")) && postgres.len() > 50,
        "the catalogues said almost nothing: {sqlite:?} {postgres:?}"
    );

    let allowed = |only: Only, fact: &str| ALLOWED.iter().any(|(o, f, _)| *o == only && *f == fact);
    let mut unexplained = Vec::new();
    for fact in sqlite.difference(&postgres) {
        if !allowed(Only::Sqlite, fact) {
            unexplained.push(format!("only on SQLite:     {fact}"));
        }
    }
    for fact in postgres.difference(&sqlite) {
        if !allowed(Only::Postgres, fact) {
            unexplained.push(format!("only on PostgreSQL: {fact}"));
        }
    }
    // An entry that no longer describes a difference is stale: the list stays exact.
    let stale: Vec<_> = ALLOWED
        .iter()
        .filter(|(only, fact, _)| {
            let (has, lacks) = match only {
                Only::Sqlite => (&sqlite, &postgres),
                Only::Postgres => (&postgres, &sqlite),
            };
            !has.contains(*fact) || lacks.contains(*fact)
        })
        .map(|(only, fact, _)| format!("{only:?}: {fact}"))
        .collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "the schemas differ beyond tests/schemas.rs's ALLOWED list:\n{}\nstale ALLOWED entries:\n{}",
        unexplained.join("\n"),
        stale.join("\n")
    );
    println!(
        "compared {} facts of each schema ({} allowed differences)",
        sqlite.len(),
        ALLOWED.len()
    );
}

/// A declared or catalogue type, by family.
fn family(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    let family = if t.contains("int") || t == "serial" || t == "bigserial" {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") || t == "uuid" {
        "text"
    } else if t.starts_with("bool") {
        "boolean"
    } else if t.starts_with("timestamp") || t == "datetime" {
        "timestamp"
    } else if t == "date" {
        "date"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") || t == "numeric" {
        "real"
    } else if t == "blob" || t == "bytea" {
        "blob"
    } else if t.starts_with("json") {
        "json"
    } else {
        return format!("other({t})");
    };
    family.to_owned()
}

fn nullability(not_null: bool) -> &'static str {
    if not_null { "not null" } else { "null" }
}

/// How a CHECK constraint is compared: the columns it names and its string literals, sorted.
fn check_fact(table: &str, columns: &BTreeSet<String>, literals: BTreeSet<String>) -> String {
    let cols: Vec<_> = columns.iter().cloned().collect();
    let lits: Vec<_> = literals.into_iter().collect();
    format!(
        "check {table} on ({}): [{}]",
        cols.join(", "),
        lits.join(", ")
    )
}

fn string_literals(sql: &str) -> BTreeSet<String> {
    sql.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn on_delete(action: &str) -> &'static str {
    match action.to_ascii_uppercase().as_str() {
        "CASCADE" | "C" => "cascade",
        "SET NULL" | "N" => "set null",
        "SET DEFAULT" | "D" => "set default",
        "RESTRICT" | "R" => "restrict",
        _ => "no action",
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteTable {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    is_unique: i64,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = BigInt)]
    partial: i64,
}

#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    col: String,
    #[diesel(sql_type = Nullable<Text>)]
    ref_col: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn sqlite_facts(conn: &mut SqliteConnection) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    let tables: Vec<SqliteTable> = diesel::sql_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)
    .unwrap();
    for SqliteTable { name: table, sql } in tables {
        facts.insert(format!("table {table}"));
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!(
            "SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info('{table}')"
        ))
        .load(conn)
        .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let single_pk = columns.iter().filter(|c| c.pk > 0).count() == 1;
        for c in &columns {
            // An INTEGER PRIMARY KEY is the rowid: never null, numbered by SQLite, as an
            // identity column is by PostgreSQL.
            let rowid = single_pk && c.pk > 0 && c.r#type.eq_ignore_ascii_case("integer");
            facts.insert(format!(
                "column {table}.{}: {} {}{}",
                c.name,
                family(&c.r#type),
                nullability(c.not_null != 0 || rowid),
                if rowid { " identity" } else { "" }
            ));
            if c.pk > 0 {
                pk.push((c.pk, c.name.clone()));
            }
        }
        pk.sort();
        if !pk.is_empty() {
            let cols: Vec<_> = pk.into_iter().map(|(_, c)| c).collect();
            facts.insert(format!("primary key {table} ({})", cols.join(", ")));
        }
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list('{table}')"
        ))
        .load(conn)
        .unwrap();
        for i in indexes {
            if i.origin == "pk" {
                continue;
            }
            let cols: Vec<IndexColumn> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                i.name
            ))
            .load(conn)
            .unwrap();
            let cols: Vec<_> = cols
                .into_iter()
                .map(|c| c.name.unwrap_or_else(|| "(expression)".to_owned()))
                .collect();
            facts.insert(index_fact(
                &table,
                (i.origin == "c").then_some(i.name.as_str()),
                &cols,
                i.is_unique != 0,
                i.partial != 0,
            ));
        }
        let fks: Vec<SqliteForeignKey> = diesel::sql_query(format!(
            "SELECT id, \"table\" AS ref_table, \"from\" AS col, \"to\" AS ref_col, on_delete \
             FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
        ))
        .load(conn)
        .unwrap();
        let mut by_id: std::collections::BTreeMap<i64, Vec<SqliteForeignKey>> = Default::default();
        for fk in fks {
            by_id.entry(fk.id).or_default().push(fk);
        }
        for parts in by_id.values() {
            let cols: Vec<_> = parts.iter().map(|p| p.col.clone()).collect();
            let refs: Vec<_> = parts
                .iter()
                .map(|p| {
                    p.ref_col
                        .clone()
                        .unwrap_or_else(|| "(primary key)".to_owned())
                })
                .collect();
            facts.insert(fk_fact(
                &table,
                &cols,
                &parts[0].ref_table,
                &refs,
                on_delete(&parts[0].on_delete),
            ));
        }
        let triggers: Vec<Name> = diesel::sql_query(format!(
            "SELECT sql AS name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{table}'"
        ))
        .load(conn)
        .unwrap();
        for t in triggers {
            let words: Vec<String> = t
                .name
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
            let at = |w: &str| words.iter().position(|x| x == w);
            let timing = ["before", "after", "instead"]
                .into_iter()
                .find(|w| at(w).is_some())
                .expect("a trigger's timing");
            let event =
                words[at(timing).unwrap() + if timing == "instead" { 2 } else { 1 }].clone();
            facts.insert(format!("trigger {table}: {timing} {event}"));
        }
        let names: BTreeSet<String> = columns.iter().map(|c| c.name.clone()).collect();
        for check in sqlite_checks(&sql) {
            let named: BTreeSet<String> = check
                .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .filter(|w| names.contains(*w))
                .map(str::to_owned)
                .collect();
            // Words inside string literals are not column names.
            let outside: String = check.split('\'').step_by(2).collect::<Vec<_>>().join(" ");
            let named = named
                .into_iter()
                .filter(|n| {
                    outside
                        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                        .any(|w| w == n)
                })
                .collect();
            facts.insert(check_fact(&table, &named, string_literals(&check)));
        }
    }
    facts
}

/// The expressions of a CREATE TABLE statement's CHECK constraints, comments left out.
fn sqlite_checks(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let upper = code.to_ascii_uppercase();
    let mut checks = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find("CHECK") {
        let start = from + at + "CHECK".len();
        let open = start + code[start..].find('(').expect("CHECK (");
        let mut depth = 0;
        let mut end = open;
        for (i, ch) in code[open..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        checks.push(code[open + 1..end].to_owned());
        from = end;
    }
    checks
}

fn index_fact(
    table: &str,
    explicit_name: Option<&str>,
    cols: &[String],
    unique: bool,
    partial: bool,
) -> String {
    let kind = if unique { "unique index" } else { "index" };
    // Indexes that back a UNIQUE constraint are named by each backend in its own way.
    let name = explicit_name.unwrap_or("(from a UNIQUE constraint)");
    let partial = if partial { " partial" } else { "" };
    format!("{kind} {table} {name} ({}){partial}", cols.join(", "))
}

fn fk_fact(
    table: &str,
    cols: &[String],
    ref_table: &str,
    refs: &[String],
    on_delete: &str,
) -> String {
    format!(
        "foreign key {table} ({}) -> {ref_table} ({}) on delete {on_delete}",
        cols.join(", "),
        refs.join(", ")
    )
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Bool)]
    identity: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Bool)]
    is_partial: bool,
    #[diesel(sql_type = Bool)]
    from_constraint: bool,
    #[diesel(sql_type = Text)]
    columns: String,
}

#[derive(QueryableByName)]
struct PgTrigger {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    timing: String,
    #[diesel(sql_type = Text)]
    event: String,
}

#[derive(QueryableByName)]
struct PgConstraint {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_columns: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// The names of a relation's attributes `attnums` (an int2vector or array), in order.
fn pg_attnames(rel: &str, attnums: &str) -> String {
    format!(
        "array_to_string(ARRAY(SELECT coalesce(a.attname, '(expression)') \
         FROM unnest({attnums}) WITH ORDINALITY AS k(attnum, n) \
         LEFT JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.attnum \
         ORDER BY k.n), ', ')"
    )
}

fn postgres_facts(conn: &mut PgConnection) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
         AND table_name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    let known: BTreeSet<String> = tables.into_iter().map(|t| t.name).collect();
    for table in &known {
        facts.insert(format!("table {table}"));
    }
    let columns: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, \
         is_nullable = 'YES' AS nullable, is_identity = 'YES' AS identity \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load(conn)
    .unwrap();
    for c in columns.iter().filter(|c| known.contains(&c.table_name)) {
        let identity = if c.identity { " identity" } else { "" };
        facts.insert(format!(
            "column {}.{}: {} {}{identity}",
            c.table_name,
            c.column_name,
            family(&c.data_type),
            nullability(!c.nullable)
        ));
    }
    let indexes: Vec<PgIndex> = diesel::sql_query(format!(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, \
         ix.indisunique AS is_unique, ix.indisprimary AS is_primary, \
         ix.indpred IS NOT NULL AS is_partial, \
         EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid \
                 AND c.contype IN ('u', 'p')) AS from_constraint, \
         {} AS columns \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'",
        pg_attnames("t.oid", "ix.indkey::int2[]")
    ))
    .load(conn)
    .unwrap();
    for i in indexes.iter().filter(|i| known.contains(&i.table_name)) {
        if i.is_primary {
            continue;
        }
        let cols: Vec<String> = i.columns.split(", ").map(str::to_owned).collect();
        facts.insert(index_fact(
            &i.table_name,
            (!i.from_constraint).then_some(i.index_name.as_str()),
            &cols,
            i.is_unique,
            i.is_partial,
        ));
    }
    let constraints: Vec<PgConstraint> = diesel::sql_query(format!(
        "SELECT c.conrelid::regclass::text AS table_name, c.contype::text AS kind, \
         {} AS columns, coalesce(c.confrelid::regclass::text, '') AS ref_table, \
         {} AS ref_columns, c.confdeltype::text AS on_delete, \
         pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'f', 'c')",
        pg_attnames("c.conrelid", "c.conkey"),
        pg_attnames("c.confrelid", "c.confkey"),
    ))
    .load(conn)
    .unwrap();
    for c in constraints.iter().filter(|c| known.contains(&c.table_name)) {
        let cols: Vec<String> = c.columns.split(", ").map(str::to_owned).collect();
        match c.kind.as_str() {
            "p" => {
                facts.insert(format!("primary key {} ({})", c.table_name, c.columns));
            }
            "f" => {
                let refs: Vec<String> = c.ref_columns.split(", ").map(str::to_owned).collect();
                facts.insert(fk_fact(
                    &c.table_name,
                    &cols,
                    &c.ref_table,
                    &refs,
                    on_delete(&c.on_delete),
                ));
            }
            _ => {
                // pg_get_constraintdef writes literals with casts ('open'::text): the literal
                // itself is what is compared.
                facts.insert(check_fact(
                    &c.table_name,
                    &cols.into_iter().collect(),
                    string_literals(&c.definition),
                ));
            }
        }
    }
    let triggers: Vec<PgTrigger> = diesel::sql_query(
        "SELECT event_object_table::text AS table_name, action_timing::text AS timing, \
         event_manipulation::text AS event FROM information_schema.triggers \
         WHERE trigger_schema = 'public'",
    )
    .load(conn)
    .unwrap();
    for t in triggers.iter().filter(|t| known.contains(&t.table_name)) {
        let timing = t.timing.to_ascii_lowercase();
        let timing = timing.split(' ').next().unwrap();
        facts.insert(format!(
            "trigger {}: {timing} {}",
            t.table_name,
            t.event.to_ascii_lowercase()
        ));
    }
    facts
}
