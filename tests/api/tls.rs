//! TLS to Postgres: a Postgres of this test's own with `ssl=on` and a certificate it generates
//! (openssl), reached with `sslmode=verify-full` and the right CA (the server runs, over TLS), and
//! refused with a wrong host name, a wrong CA, or a missing CA file.

use std::path::{Path, PathBuf};
use std::process::Command;

use hiregraph_api::settings::Settings;
use hiregraph_api::startup::Application;
use hiregraph_persistence::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::helpers::JWT_SECRET;

/// A Postgres with TLS on a spare port, its files in a folder of its own; stopped and removed
/// when dropped.
struct TlsPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn run(program: &Path, args: &[&str], as_postgres: bool) -> std::process::Output {
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args).output().unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
}

fn ok(output: std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    ok(output, &format!("openssl {}", args.join(" ")));
}

/// A CA, and a server certificate it signs for `localhost` only.
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for ca in ["ca", "other-ca"] {
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        let (key, pem, subject) = (format!("{ca}.key"), format!("{ca}.pem"), format!("/CN=hiregraph test {ca}"));
        args.extend(["-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subject]);
        args.extend([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(dir, &args);
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
    openssl(dir, &args);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

impl TlsPostgres {
    /// `None` where Postgres' server binaries are not installed (outside CI only).
    fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| versions.filter_map(Result::ok).map(|v| v.path().join("bin")).max())
            .filter(|bin| bin.join("postgres").exists());
        let Some(bin) = bin else {
            assert!(std::env::var("CI").is_err(), "CI needs Postgres' server binaries under /usr/lib/postgresql");
            eprintln!("skipped: no Postgres server binaries under /usr/lib/postgresql");
            return None;
        };
        // Postgres refuses to run as root: then it runs as the postgres user.
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = std::env::temp_dir().join(format!("hiregraph-tls-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        certificates(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = Self { dir: dir.clone(), bin, port, as_postgres };
        if as_postgres {
            ok(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).output().unwrap(), "chown");
        }
        ok(Command::new("chmod").args(["600"]).arg(dir.join("server.key")).output().unwrap(), "chmod");
        let data = dir.join("data");
        let data = data.to_str().unwrap();
        ok(
            run(&server.bin.join("initdb"), &["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], as_postgres),
            "initdb",
        );
        let options = format!(
            "-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key -c fsync=off",
            dir = dir.display()
        );
        let log = dir.join("postgres.log");
        ok(
            run(
                &server.bin.join("pg_ctl"),
                &["-D", data, "-o", &options, "-l", log.to_str().unwrap(), "-w", "start"],
                as_postgres,
            ),
            "pg_ctl start",
        );
        Some(server)
    }

    fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{params}", self.port)
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ =
            run(&self.bin.join("pg_ctl"), &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"], self.as_postgres);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn settings(url: &str, data_dir: &Path) -> Result<Settings, String> {
    let vars = [
        ("DATABASE_URL", url.to_owned()),
        ("HIREGRAPH_BIND", "127.0.0.1:0".to_owned()),
        ("HIREGRAPH_DATA_DIR", data_dir.display().to_string()),
        ("HIREGRAPH_JWT_SECRET", JWT_SECRET.to_owned()),
        ("HIREGRAPH_WORKERS", "1".to_owned()),
        ("HIREGRAPH_DB_MAX_CONNECTIONS", "2".to_owned()),
        ("HIREGRAPH_DB_ACQUIRE_TIMEOUT_MS", "3000".to_owned()),
        ("HIREGRAPH_CACHE_PREFIX", format!("tls{}", uuid::Uuid::now_v7().simple())),
    ];
    let vars = vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Settings::from_map(&vars).map_err(|e| e.to_string())
}

async fn build(url: &str, data_dir: &Path) -> Result<Application, String> {
    Application::build(settings(url, data_dir)?).await.map_err(|e| e.to_string())
}

/// The server on `port` answers a query that reads the database.
async fn assert_answers(port: u16) {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&json!({ "query": "{ postings(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["postings"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn verify_full_connects_with_the_right_ca_and_refuses_a_wrong_host_or_ca() {
    let Some(pg) = TlsPostgres::start() else { return };
    let data_dir = pg.dir.join("app");
    let ca = format!("sslrootcert={}", pg.file("ca.pem"));

    // The right CA and host: the server starts, migrates and answers, over TLS.
    let app = build(&pg.url("localhost", &format!("sslmode=verify-full&{ca}")), &data_dir).await.expect("verify-full");
    let (port, handle) = (app.port(), app.handle());
    let state = app.state();
    let serving = tokio::spawn(app.run_until_stopped());
    assert_answers(port).await;
    let ssl = state
        .db
        .conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT ssl::text AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ssl.try_get::<String>("", "ssl").unwrap(), "true", "the pool's connections use TLS");
    handle.stop(true).await;
    let _ = serving.await;

    // The certificate names localhost, not 127.0.0.1; another CA did not sign it.
    let wrong_host = build(&pg.url("127.0.0.1", &format!("sslmode=verify-full&{ca}")), &data_dir).await.err().unwrap();
    assert!(wrong_host.contains("certificate"), "{wrong_host}");
    let other = format!("sslmode=verify-full&sslrootcert={}", pg.file("other-ca.pem"));
    let wrong_ca = build(&pg.url("localhost", &other), &data_dir).await.err().unwrap();
    assert!(wrong_ca.contains("certificate"), "{wrong_ca}");
    // verify-ca checks the chain, not the name; require only encrypts.
    assert!(build(&pg.url("127.0.0.1", &format!("sslmode=verify-ca&{ca}")), &data_dir).await.is_ok());
    assert!(build(&pg.url("127.0.0.1", "sslmode=require"), &data_dir).await.is_ok());

    // A CA file that is not there is named before connecting.
    let missing = settings(&pg.url("localhost", "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), &data_dir);
    let missing = missing.err().unwrap();
    assert!(missing.contains("DATABASE_URL") && missing.contains("/nonexistent/ca.pem"), "{missing}");
}

/// A `redis-server` serving only TLS on a spare port with the certificate of `certificates`.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tls_redis(dir: &Path) -> Option<TlsRedis> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = |name: &str| dir.join(name).display().to_string();
    let child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--tls-cert-file", &file("server.crt"), "--tls-key-file", &file("server.key")])
        .args(["--tls-ca-cert-file", &file("ca.pem"), "--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn();
    let Ok(child) = child else {
        assert!(std::env::var("CI").is_err(), "CI needs redis-server");
        eprintln!("skipped: redis-server is not installed");
        return None;
    };
    let redis = TlsRedis { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(redis);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("redis-server did not listen on {port}");
}

#[tokio::test]
async fn rediss_is_verified_against_the_configured_ca() {
    let dir = std::env::temp_dir().join(format!("hiregraph-rediss-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir);
    let Some(redis) = tls_redis(&dir) else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let start = |ca: &str| {
        let mut vars: std::collections::HashMap<String, String> = [
            ("REDIS_URL", format!("rediss://localhost:{}", redis.port)),
            ("HIREGRAPH_REDIS_CA_FILE", dir.join(ca).display().to_string()),
            ("HIREGRAPH_BIND", "127.0.0.1:0".to_owned()),
            ("HIREGRAPH_DEMO_DATA", "off".to_owned()),
            ("HIREGRAPH_WORKERS", "1".to_owned()),
            ("HIREGRAPH_CACHE_PREFIX", format!("rediss{}", uuid::Uuid::now_v7().simple())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        vars.insert("HIREGRAPH_DATA_DIR".into(), dir.join(format!("app-{ca}")).display().to_string());
        Settings::from_map(&vars).unwrap()
    };
    for (ca, expected) in [("ca.pem", "ok"), ("other-ca.pem", "degraded")] {
        let app = Application::build(start(ca)).await.unwrap();
        let (port, handle) = (app.port(), app.handle());
        let serving = tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        // The API answers either way: an untrusted Redis degrades the cache, it stops nothing.
        assert_answers(port).await;
        let ready: serde_json::Value =
            client.get(format!("http://127.0.0.1:{port}/readyz")).send().await.unwrap().json().await.unwrap();
        assert_eq!(ready["cacheBackend"], "redis", "{ready}");
        assert_eq!(ready["cache"], expected, "with {ca}: {ready}");
        handle.stop(true).await;
        let _ = serving.await;
    }
    // The CA file only applies to rediss://, and must hold a certificate.
    let mut vars = std::collections::HashMap::new();
    vars.insert("REDIS_URL".to_owned(), "redis://127.0.0.1:6379".to_owned());
    vars.insert("HIREGRAPH_REDIS_CA_FILE".to_owned(), dir.join("ca.pem").display().to_string());
    let refused = Settings::from_map(&vars).unwrap_err();
    assert_eq!(refused.name, "HIREGRAPH_REDIS_CA_FILE");
    vars.insert("REDIS_URL".to_owned(), "rediss://127.0.0.1:6379".to_owned());
    vars.insert("HIREGRAPH_REDIS_CA_FILE".to_owned(), dir.join("server.ext").display().to_string());
    assert!(Settings::from_map(&vars).unwrap_err().message.contains("holds no PEM certificate"));
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}
