//! Builders both migrations use: cascading foreign keys and named indexes.

use sea_orm_migration::prelude::*;

/// A foreign key from `from_table.from_col` to `to_table.id`, deleting with its parent.
pub fn fk(from_table: &'static str, from_col: &'static str, to_table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// An index named `ix_<table>_<name>` over `cols`.
pub fn index(table: &'static str, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{name}")).table(table);
    for col in cols {
        stmt.col(*col);
    }
    stmt.to_owned()
}
