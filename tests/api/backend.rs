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

/// On Postgres every pooled connection plans a prepared statement once (the default), or per
/// execution when `HIREGRAPH_DB_GENERIC_PLANS=false`; SQLite has no such setting.
#[tokio::test]
async fn postgres_connections_reuse_generic_plans_unless_told_not_to() {
    use hiregraph_persistence::{ConnectionTrait, DbBackend, Statement};
    for (setting, expected) in [(None, "force_generic_plan"), (Some("false"), "auto")] {
        let app = match setting {
            None => spawn_app().await,
            Some(value) => crate::helpers::spawn_app_with(&[("HIREGRAPH_DB_GENERIC_PLANS", value)]).await,
        };
        if app.app.db.backend != Backend::Postgres {
            return;
        }
        let row = app
            .app
            .db
            .conn
            .query_one_raw(Statement::from_string(DbBackend::Postgres, "SHOW plan_cache_mode"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<String>("", "plan_cache_mode").unwrap(), expected);
    }
}
