use hiregraph_migrations::{Migrator, MigratorTrait};

use crate::helpers::spawn_app;

/// Every migration can be rolled back and applied again, on every backend.
#[tokio::test]
async fn migrations_run_up_down_and_up_again() {
    let app = spawn_app().await;
    let conn = app.app.db.conn.sea_orm();
    assert!(Migrator::get_pending_migrations(conn).await.unwrap().is_empty());
    Migrator::down(conn, None).await.unwrap();
    assert_eq!(Migrator::get_pending_migrations(conn).await.unwrap().len(), Migrator::migrations().len());
    Migrator::up(conn, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(conn).await.unwrap().is_empty());
    // The schema is whole again: a user can register.
    app.register("after-migrations").await;
}

/// The read model of a posting's child rows, as the migration and the bench generator fill it
/// from the child tables in SQL, reads back the same as the one the write path stores.
#[tokio::test]
async fn posting_children_filled_in_sql_read_the_same_as_written() {
    use hiregraph_persistence::ConnectionTrait;
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CACHE", "off")]).await;
    let owner = app.register("owner").await;
    let company = app.create_company(&owner, "Acme").await;
    let mut input = crate::helpers::complete_posting(&company, "Rust Engineer");
    input["locations"] = serde_json::json!([
        { "city": "Berlin", "region": "BE", "country": "DE" },
        { "country": "PT", "remote": true },
        { "city": "Austin", "region": "TX", "country": "US" },
    ]);
    input["skills"] = serde_json::json!([{ "name": "Rust", "required": true }, { "name": "Go" }, { "name": "SQL" }]);
    input["benefits"] = serde_json::json!(["Equity", "Remote budget"]);
    input["responsibilities"] = serde_json::json!(["Build", "Run"]);
    input["requiredQualifications"] = serde_json::json!(["Rust"]);
    input["preferredQualifications"] = serde_json::json!(["Postgres", "Kafka"]);
    let id = app.create_posting(&owner, input).await;
    let read = || async {
        app.ok(
            "query($id: ID!) { posting(id: $id) { locations { city region country remote } skills { name required }
                benefits responsibilities requiredQualifications preferredQualifications } }",
            serde_json::json!({ "id": id }),
            Some(&owner.access),
        )
        .await
    };
    let written = read().await;
    assert_eq!(written["posting"]["locations"].as_array().unwrap().len(), 3);
    let db = &app.app.db.conn;
    db.execute_unprepared("UPDATE postings SET children = NULL").await.unwrap();
    let fill = hiregraph_migrations::fill_children_sql(db.get_database_backend(), "children IS NULL");
    db.execute_unprepared(&fill).await.unwrap();
    assert_eq!(read().await, written);
}
