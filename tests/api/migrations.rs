use hiregraph_migrations::{Migrator, MigratorTrait};

use crate::helpers::spawn_app;

/// Every migration can be rolled back and applied again, on every backend.
#[tokio::test]
async fn migrations_run_up_down_and_up_again() {
    let app = spawn_app().await;
    let conn = &app.app.db.conn;
    assert!(Migrator::get_pending_migrations(conn).await.unwrap().is_empty());
    Migrator::down(conn, None).await.unwrap();
    assert_eq!(Migrator::get_pending_migrations(conn).await.unwrap().len(), Migrator::migrations().len());
    Migrator::up(conn, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(conn).await.unwrap().is_empty());
    // The schema is whole again: a user can register.
    app.register("after-migrations").await;
}
