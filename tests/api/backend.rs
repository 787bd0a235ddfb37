use hiregraph_persistence::{Backend, ConnectionTrait, DbBackend, Statement};

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

/// A statement for Postgres.
fn pg(sql: impl Into<String>) -> Statement {
    Statement::from_string(DbBackend::Postgres, sql)
}

/// The backend process a read ran on (Postgres only).
async fn backend_pid(pool: &hiregraph_persistence::db::Pool) -> Result<i32, hiregraph_persistence::DbErr> {
    let row = pool.query_one_raw(pg("SELECT pg_backend_pid() AS pid")).await?;
    Ok(row.expect("one row").try_get::<i32>("", "pid").unwrap())
}

/// On Postgres a read that ran to its end keeps its connection for the next read, out of sqlx's
/// pool (which would ping it on the way back). A read that fails, or that is dropped half-way,
/// gives its connection back to sqlx, and the next read gets correct answers.
#[tokio::test]
async fn postgres_reads_keep_their_connection_unless_they_fail_or_are_dropped_half_way() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CACHE", "off")]).await;
    if app.app.db.backend != Backend::Postgres {
        assert_eq!(app.app.db.conn.kept_idle(), 0, "SQLite keeps nothing out of its pool");
        return;
    }
    let pool = &app.app.db.conn;
    let first = backend_pid(pool).await.unwrap();
    let kept = pool.kept_idle();
    assert!(kept >= 1, "the read's connection is kept");
    assert_eq!(backend_pid(pool).await.unwrap(), first, "the next read takes the connection last kept");
    assert_eq!(pool.kept_idle(), kept);

    // A statement that fails: its connection goes back to sqlx.
    let failed = pool.query_one_raw(pg("SELECT 1 / 0 AS n")).await;
    assert!(failed.unwrap_err().to_string().contains("division by zero"));
    assert_eq!(pool.kept_idle(), kept - 1, "a failed read's connection is not kept");

    // A read dropped while Postgres still works on it: its connection goes back to sqlx too.
    let kept = pool.kept_idle();
    let slow = pool.query_one_raw(pg("SELECT pg_sleep(5) IS NULL AS slept"));
    assert!(tokio::time::timeout(std::time::Duration::from_millis(200), slow).await.is_err());
    assert_eq!(pool.kept_idle(), kept.saturating_sub(1), "a dropped read's connection is not kept");
    let row = pool.query_one_raw(pg("SELECT 41 + 1 AS n")).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i32>("", "n").unwrap(), 42, "the next read reads its own answer");
}

/// A kept connection whose Postgres backend went away (a restart, a failover, an operator's
/// `pg_terminate_backend`) costs its next read one retry on a connection from sqlx, not an error.
#[tokio::test]
async fn a_read_on_a_kept_connection_whose_backend_was_terminated_runs_again_on_a_live_one() {
    let app = crate::helpers::spawn_app_with(&[("HIREGRAPH_CACHE", "off")]).await;
    if app.app.db.backend != Backend::Postgres {
        return;
    }
    let pool = &app.app.db.conn;
    // Two connections kept: two reads at once, each on its own.
    let (one, two) = tokio::join!(
        pool.query_one_raw(pg("SELECT pg_sleep(0.2) IS NULL AS slept")),
        pool.query_one_raw(pg("SELECT pg_sleep(0.2) IS NULL AS slept")),
    );
    assert!(one.unwrap().is_some() && two.unwrap().is_some());
    assert!(pool.kept_idle() >= 2, "{} kept", pool.kept_idle());
    let doomed = backend_pid(pool).await.unwrap();
    // From a connection of sqlx's own, waiting until the backend has exited.
    let sql = format!("SELECT pg_terminate_backend({doomed}, 5000) AS done");
    let row = pool.sea_orm().query_one_raw(pg(sql)).await.unwrap().unwrap();
    assert!(row.try_get::<bool>("", "done").unwrap());
    let statements = app.app.db.stats.total();
    let now = backend_pid(pool).await.expect("the read runs again on a live connection");
    assert_ne!(now, doomed);
    assert_eq!(app.app.db.stats.total() - statements, 2, "the failed attempt and the retry are both counted");
    assert_eq!(pool.kept_idle(), 1, "the other kept connections went back to sqlx; the retry's is kept");
}

/// Readers hold at most the pool's size less two connections at once: when every reader's turn
/// is taken by slow reads, a writer still begins at once, and the reads queued behind them run
/// when a turn frees up.
#[tokio::test]
async fn slow_reads_filling_the_pool_leave_a_connection_for_a_writer() {
    use std::time::{Duration, Instant};
    let app =
        crate::helpers::spawn_app_with(&[("HIREGRAPH_DB_MAX_CONNECTIONS", "4"), ("HIREGRAPH_CACHE", "off")]).await;
    if app.app.db.backend != Backend::Postgres {
        return;
    }
    let slow = |pool: hiregraph_persistence::db::Pool| async move {
        let sql = "SELECT pg_sleep(1) IS NULL AS slept";
        pool.query_one_raw(pg(sql)).await.map(|row| row.is_some())
    };
    let reads: Vec<_> = (0..4).map(|_| tokio::spawn(slow(app.app.db.conn.clone()))).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let write = app.app.db.write().await.expect("a writer gets a connection while reads fill their turns");
    assert!(asked.elapsed() < Duration::from_millis(500), "the writer waited {:?}", asked.elapsed());
    write.commit().await.unwrap();
    let started = Instant::now();
    for read in reads {
        assert!(read.await.unwrap().unwrap());
    }
    // Two reads ran at a time: the last two began when the first two ended.
    assert!(started.elapsed() >= Duration::from_millis(1500), "four slow reads ended after {:?}", started.elapsed());
}
