//! The command line: `hiregraph [serve] [--no-migrate]`, `worker`, `migrate`, `seed-demo`,
//! `print-schema`, `import-posting`, `help`, `--version`.

use crate::settings::Settings;
use crate::startup::{self, Application};

pub enum Command {
    Serve { migrate: bool },
    Worker { migrate: bool },
    Migrate,
    SeedDemo,
    PrintSchema,
    ImportPosting { file: String, company: String },
    Healthcheck { ready: bool },
    Help { topic: Option<&'static str> },
    Version,
}

/// What `hiregraph --version` prints.
pub const VERSION: &str = concat!("hiregraph ", env!("CARGO_PKG_VERSION"));

/// Each command: its name, its synopsis and what it does.
const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "serve",
        "hiregraph [serve] [--no-migrate]",
        "Runs the server (the default command) with its background worker: GraphiQL at /, GraphQL at /graphql,\n\
         probes at /livez and /readyz, Prometheus metrics at /metrics. Applies pending migrations first unless\n\
         --no-migrate (when a migration Job applies them). On SIGTERM /readyz answers 503 at once, requests are\n\
         served for HIREGRAPH_SHUTDOWN_GRACE_SECS, then those in flight finish and the process exits.",
    ),
    (
        "worker",
        "hiregraph worker [--no-migrate]",
        "Runs only the background work (event relay, webhook delivery, pruning), for a deployment that keeps it\n\
         apart from the servers (then set HIREGRAPH_WORKER=false on those).",
    ),
    ("migrate", "hiregraph migrate", "Applies pending migrations and exits."),
    ("seed-demo", "hiregraph seed-demo", "Loads the demo data into an empty database and exits."),
    ("print-schema", "hiregraph print-schema", "Prints the GraphQL schema as SDL."),
    (
        "import-posting",
        "hiregraph import-posting FILE --company SLUG",
        "Creates a DRAFT posting of the company SLUG from a Markdown job description and prints its API id.",
    ),
    (
        "healthcheck",
        "hiregraph healthcheck [--ready]",
        "Asks the server at HIREGRAPH_BIND for /livez (or /readyz with --ready) and exits 0 if it answers 200\n\
         within 2 s, 1 otherwise: a container HEALTHCHECK without curl.",
    ),
    ("help", "hiregraph help [COMMAND]", "Prints this help, or one command's."),
    ("version", "hiregraph --version", "Prints the version."),
];

/// `hiregraph help`.
pub fn usage() -> String {
    let mut out = String::from("usage: hiregraph [COMMAND] [OPTIONS]\n\ncommands:\n");
    for (name, synopsis, about) in COMMANDS {
        let first = about.lines().next().unwrap_or_default();
        out.push_str(&format!("  {name:<15}{first}\n  {:<15}{synopsis}\n", ""));
    }
    out.push_str("\n`hiregraph help COMMAND` or `hiregraph COMMAND --help` says more.\nConfiguration comes from environment variables; see README.md.");
    out
}

/// `hiregraph help COMMAND`.
pub fn command_help(name: &str) -> Option<String> {
    COMMANDS.iter().find(|(n, ..)| *n == name).map(|(_, synopsis, about)| {
        let about: Vec<&str> = about.lines().map(str::trim).collect();
        format!("usage: {synopsis}\n\n{}", about.join("\n"))
    })
}

fn topic(name: &str) -> Option<&'static str> {
    COMMANDS.iter().map(|(n, ..)| *n).find(|n| *n == name)
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["serve"] => Ok(Command::Serve { migrate: true }),
        ["serve", "--no-migrate"] | ["--no-migrate"] => Ok(Command::Serve { migrate: false }),
        ["worker"] => Ok(Command::Worker { migrate: true }),
        ["worker", "--no-migrate"] => Ok(Command::Worker { migrate: false }),
        ["migrate"] => Ok(Command::Migrate),
        ["seed-demo"] => Ok(Command::SeedDemo),
        ["print-schema"] => Ok(Command::PrintSchema),
        ["import-posting", file, "--company", company] | ["import-posting", "--company", company, file]
            if !file.starts_with('-') =>
        {
            Ok(Command::ImportPosting { file: (*file).to_owned(), company: (*company).to_owned() })
        }
        ["healthcheck"] => Ok(Command::Healthcheck { ready: false }),
        ["healthcheck", "--ready"] => Ok(Command::Healthcheck { ready: true }),
        ["help" | "--help" | "-h"] => Ok(Command::Help { topic: None }),
        ["version" | "--version" | "-V"] => Ok(Command::Version),
        ["help", "--help" | "-h"] => Ok(Command::Help { topic: Some("help") }),
        ["help", name] | [name, "--help" | "-h"] => match topic(name) {
            Some(topic) => Ok(Command::Help { topic: Some(topic) }),
            None => Err(format!("no command is called `{name}`\n{}", usage())),
        },
        [name, ..] if topic(name).is_some() => Err(format!(
            "unexpected arguments for {name}: {}\n{}",
            words[1..].join(" "),
            command_help(name).unwrap_or_default()
        )),
        other => Err(format!("unknown arguments: {}\n{}", other.join(" "), usage())),
    }
}

/// What `help` prints.
pub fn help_text(topic: Option<&str>) -> String {
    topic.and_then(command_help).unwrap_or_else(usage)
}

/// `hiregraph healthcheck`: whether the server at `bind` answers `path` with 200 within 2 s.
pub async fn healthcheck(bind: std::net::SocketAddr, ready: bool) -> Result<(), String> {
    let mut target = bind;
    if target.ip().is_unspecified() {
        target.set_ip(if bind.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let path = if ready { "/readyz" } else { "/livez" };
    let url = format!("http://{target}{path}");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("{url} answered {}", response.status())),
        Err(e) if e.is_timeout() => Err(format!("{url} did not answer within 2 s")),
        Err(e) => Err(format!("cannot reach {url}: {e}")),
    }
}

/// Runs a command to completion.
pub async fn run(command: Command, mut settings: Settings) -> Result<(), String> {
    match command {
        Command::Help { topic } => {
            println!("{}", help_text(topic));
            Ok(())
        }
        Command::Healthcheck { ready } => healthcheck(settings.bind, ready).await,
        Command::Version => {
            println!("{VERSION}");
            Ok(())
        }
        Command::PrintSchema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db = startup::connect(&settings).await.map_err(|e| e.to_string())?;
            startup::migrate(&db).await.map_err(|e| e.to_string())?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::SeedDemo => {
            let db = startup::connect(&settings).await.map_err(|e| e.to_string())?;
            startup::migrate(&db).await.map_err(|e| e.to_string())?;
            let loaded = crate::demo::load_if_empty(&db).await.map_err(|e| format!("{e:?}"))?;
            if !loaded {
                tracing::info!("the database already holds companies; demo data not loaded");
            }
            Ok(())
        }
        Command::ImportPosting { file, company } => {
            let markdown = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
            let db = startup::connect(&settings).await.map_err(|e| e.to_string())?;
            startup::migrate(&db).await.map_err(|e| e.to_string())?;
            let company_id = hiregraph_persistence::companies::find_id_by_slug(&company, &db.conn)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no company has the slug `{company}`"))?;
            let jwt = crate::auth::JwtKeys::new(b"unused by the command line, never signs", settings.access_token_ttl);
            let state = crate::state::AppState::new(
                db,
                hiregraph_persistence::cache::Cache::off(),
                hiregraph_persistence::limiter::Limiter::local("cli"),
                jwt,
                settings,
            );
            // The operator at the command line acts with the platform's authority.
            let operator = crate::state::Viewer::new(hiregraph_domain::Principal::User {
                id: hiregraph_domain::UserId(uuid::Uuid::nil()),
                role: hiregraph_domain::accounts::PlatformRole::Admin,
            });
            let (posting, warnings) = crate::services::postings::import(&state, &operator, company_id, &markdown)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let id = crate::graphql::ids::encode(crate::graphql::ids::Kind::Posting, posting.id.0);
            println!("created DRAFT `{}`: id {}, slug {}", posting.content.title, id.as_str(), posting.slug);
            for warning in warnings {
                println!("warning: {warning}");
            }
            Ok(())
        }
        Command::Worker { migrate } => {
            settings.migrate_on_start &= migrate;
            startup::run_worker(settings).await.map_err(|e| e.to_string())
        }
        Command::Serve { migrate } => {
            settings.migrate_on_start &= migrate;
            let app = Application::build(settings).await.map_err(|e| e.to_string())?;
            tracing::info!(
                port = app.port(),
                "GraphiQL at http://{}/ , GraphQL at /graphql",
                app.state().settings.bind
            );
            app.run_until_signalled().await.map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn version_and_help_are_commands_of_their_own() {
        for line in ["--version", "-V", "version"] {
            assert!(matches!(parse(&words(line)), Ok(Command::Version)), "{line}");
        }
        assert!(matches!(parse(&words("--help")), Ok(Command::Help { topic: None })));
        assert_eq!(VERSION, format!("hiregraph {}", env!("CARGO_PKG_VERSION")));
        let refused = parse(&words("--versoin")).err().unwrap();
        assert!(refused.contains("unknown arguments: --versoin") && refused.contains("--version"), "{refused}");
    }

    #[test]
    fn every_command_has_help_of_its_own() {
        for (name, synopsis, _) in COMMANDS {
            for line in [format!("help {name}"), format!("{name} --help")] {
                let Ok(Command::Help { topic }) = parse(&words(&line)) else { panic!("{line}") };
                let text = help_text(topic);
                assert!(text.starts_with(&format!("usage: {synopsis}")), "{line}: {text}");
            }
            assert!(usage().contains(synopsis), "{name} is missing from the overview");
        }
        assert!(parse(&words("help nothing")).err().unwrap().contains("no command is called `nothing`"));
        let refused = parse(&words("migrate --now")).err().unwrap();
        assert!(
            refused.contains("unexpected arguments for migrate: --now") && refused.contains("usage: hiregraph migrate")
        );
        assert!(matches!(parse(&words("healthcheck --ready")), Ok(Command::Healthcheck { ready: true })));
    }
}
