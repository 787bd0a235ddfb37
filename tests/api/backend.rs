use hiregraph_persistence::Backend;

use crate::helpers::{postgres_admin_url, redis_url, spawn_app};

/// CI sets the Postgres and Redis variables; this fails if the suite silently ran on SQLite or the
/// in-process cache instead.
#[tokio::test]
async fn the_suite_runs_on_the_backend_it_was_asked_for() {
    let app = spawn_app().await;
    let expected = if postgres_admin_url().is_some() { Backend::Postgres } else { Backend::Sqlite };
    assert_eq!(app.app.db.backend, expected);
    let cache = if redis_url().is_some() { "redis" } else { "memory" };
    assert_eq!(app.app.cache.backend_name(), cache);
    if std::env::var("HIREGRAPH_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        assert_eq!(
            app.app.db.backend,
            Backend::Postgres,
            "HIREGRAPH_TEST_REQUIRE_POSTGRES=1 but the suite is not on Postgres"
        );
        assert_eq!(cache, "redis");
    }
    let ready = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}
