//! Full-text search over postings, kept up to date by the database itself: title and skills
//! weigh most, then the company's name, the summary, and the description.
//!
//! Postgres: a `search_vector` tsvector column on `postings` (English stemming), set by triggers
//! when a posting's text, its skills or its company's name change, with a GIN index.
//! SQLite: an FTS5 table `posting_fts` (Porter stemming) keyed through `posting_search_ids`,
//! rewritten by triggers on the same changes; its rank is BM25 with the same column weights.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
ALTER TABLE postings ADD COLUMN search_vector tsvector;

CREATE FUNCTION hg_posting_document(title text, summary text, description text, skills text, company text)
RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
  SELECT setweight(to_tsvector('english', coalesce(title, '')), 'A')
      || setweight(to_tsvector('english', coalesce(skills, '')), 'A')
      || setweight(to_tsvector('english', coalesce(company, '')), 'B')
      || setweight(to_tsvector('english', coalesce(summary, '')), 'C')
      || setweight(to_tsvector('english', coalesce(description, '')), 'D')
$$;

CREATE FUNCTION hg_posting_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := hg_posting_document(NEW.title, NEW.summary, NEW.description,
    (SELECT string_agg(s.name, ' ') FROM posting_skills s WHERE s.posting_id = NEW.id),
    (SELECT c.name FROM companies c WHERE c.id = NEW.company_id));
  RETURN NEW;
END $$;

CREATE TRIGGER postings_search_row BEFORE INSERT OR UPDATE OF title, summary, description, company_id
  ON postings FOR EACH ROW EXECUTE FUNCTION hg_posting_search_row();

CREATE FUNCTION hg_posting_search_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
  UPDATE postings p SET search_vector = hg_posting_document(p.title, p.summary, p.description,
    (SELECT string_agg(s.name, ' ') FROM posting_skills s WHERE s.posting_id = p.id),
    (SELECT c.name FROM companies c WHERE c.id = p.company_id))
  WHERE p.id = ANY(ids)
$$;

CREATE FUNCTION hg_posting_skills_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM hg_posting_search_refresh(ARRAY(SELECT DISTINCT posting_id FROM changed));
  RETURN NULL;
END $$;

CREATE TRIGGER posting_skills_search_insert AFTER INSERT ON posting_skills
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION hg_posting_skills_search();
CREATE TRIGGER posting_skills_search_delete AFTER DELETE ON posting_skills
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION hg_posting_skills_search();

CREATE FUNCTION hg_company_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM hg_posting_search_refresh(ARRAY(
    SELECT p.id FROM postings p JOIN new_rows n ON n.id = p.company_id JOIN old_rows o ON o.id = n.id
    WHERE n.name IS DISTINCT FROM o.name));
  RETURN NULL;
END $$;

CREATE TRIGGER companies_search AFTER UPDATE ON companies
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hg_company_search();

UPDATE postings p SET search_vector = hg_posting_document(p.title, p.summary, p.description,
  (SELECT string_agg(s.name, ' ') FROM posting_skills s WHERE s.posting_id = p.id),
  (SELECT c.name FROM companies c WHERE c.id = p.company_id));

CREATE INDEX postings_search ON postings USING gin (search_vector);
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS companies_search ON companies;
DROP TRIGGER IF EXISTS posting_skills_search_insert ON posting_skills;
DROP TRIGGER IF EXISTS posting_skills_search_delete ON posting_skills;
DROP TRIGGER IF EXISTS postings_search_row ON postings;
DROP FUNCTION IF EXISTS hg_company_search();
DROP FUNCTION IF EXISTS hg_posting_skills_search();
DROP FUNCTION IF EXISTS hg_posting_search_refresh(uuid[]);
DROP FUNCTION IF EXISTS hg_posting_search_row();
DROP FUNCTION IF EXISTS hg_posting_document(text, text, text, text, text);
DROP INDEX IF EXISTS postings_search;
ALTER TABLE postings DROP COLUMN IF EXISTS search_vector;
"#;

/// SQLite statements that rewrite the search rows of the postings `p` for which `which` holds.
fn sqlite_refresh(which: &str) -> String {
    format!(
        "INSERT OR IGNORE INTO posting_search_ids (posting_id) SELECT p.id FROM postings p WHERE {which};
         DELETE FROM posting_fts WHERE rowid IN
           (SELECT s.id FROM posting_search_ids s JOIN postings p ON p.id = s.posting_id WHERE {which});
         INSERT INTO posting_fts (rowid, title, skills, company, summary, description)
           SELECT s.id, p.title,
             coalesce((SELECT group_concat(k.name, ' ') FROM posting_skills k WHERE k.posting_id = p.id), ''),
             coalesce((SELECT c.name FROM companies c WHERE c.id = p.company_id), ''),
             coalesce(p.summary, ''), p.description
           FROM postings p JOIN posting_search_ids s ON s.posting_id = p.id WHERE {which};"
    )
}

fn sqlite_up() -> Vec<String> {
    let trigger = |name: &str, event: &str, which: &str| {
        format!("CREATE TRIGGER {name} AFTER {event} FOR EACH ROW BEGIN {} END", sqlite_refresh(which))
    };
    vec![
        "CREATE TABLE posting_search_ids (id INTEGER PRIMARY KEY, posting_id BLOB NOT NULL UNIQUE)".into(),
        "CREATE VIRTUAL TABLE posting_fts USING fts5(title, skills, company, summary, description, \
         tokenize = 'porter unicode61 remove_diacritics 2')"
            .into(),
        "INSERT INTO posting_fts (posting_fts, rank) VALUES ('rank', 'bm25(10.0, 8.0, 4.0, 2.0, 1.0)')".into(),
        trigger("postings_search_insert", "INSERT ON postings", "p.id = new.id"),
        trigger(
            "postings_search_update",
            "UPDATE OF title, summary, description, company_id ON postings",
            "p.id = new.id",
        ),
        trigger("posting_skills_search_insert", "INSERT ON posting_skills", "p.id = new.posting_id"),
        trigger("posting_skills_search_delete", "DELETE ON posting_skills", "p.id = old.posting_id"),
        trigger("companies_search", "UPDATE OF name ON companies", "p.company_id = new.id"),
        "CREATE TRIGGER postings_search_delete AFTER DELETE ON postings FOR EACH ROW BEGIN
           DELETE FROM posting_fts WHERE rowid IN (SELECT id FROM posting_search_ids WHERE posting_id = old.id);
           DELETE FROM posting_search_ids WHERE posting_id = old.id;
         END"
        .into(),
        sqlite_refresh("1 = 1"),
    ]
}

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS postings_search_insert",
    "DROP TRIGGER IF EXISTS postings_search_update",
    "DROP TRIGGER IF EXISTS postings_search_delete",
    "DROP TRIGGER IF EXISTS posting_skills_search_insert",
    "DROP TRIGGER IF EXISTS posting_skills_search_delete",
    "DROP TRIGGER IF EXISTS companies_search",
    "DROP TABLE IF EXISTS posting_fts",
    "DROP TABLE IF EXISTS posting_search_ids",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(POSTGRES_UP).await?;
            }
            DatabaseBackend::Sqlite => {
                for sql in sqlite_up() {
                    db.execute_unprepared(&sql).await?;
                }
            }
            other => return Err(DbErr::Migration(format!("search is not built for {other:?}"))),
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(POSTGRES_DOWN).await?;
            }
            _ => {
                for sql in SQLITE_DOWN {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }
}
