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
    Help,
    Version,
}

/// What `hiregraph --version` prints.
pub const VERSION: &str = concat!("hiregraph ", env!("CARGO_PKG_VERSION"));

pub const USAGE: &str = "usage: hiregraph [serve [--no-migrate] | worker [--no-migrate] | migrate | seed-demo | print-schema | import-posting FILE --company SLUG | help | --version]\n\
  serve         run the server (the default), with its background worker; applies migrations first unless --no-migrate\n\
  worker        run only the background worker (event relay, webhook delivery, pruning)\n\
  migrate       apply pending migrations and exit\n\
  seed-demo     load the demo data into an empty database and exit\n\
  print-schema  print the GraphQL schema as SDL\n\
  import-posting FILE --company SLUG  create a DRAFT posting from a Markdown job description\n\
Configuration comes from environment variables; see README.md.";

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
        ["import-posting", file, "--company", company] | ["import-posting", "--company", company, file] => {
            Ok(Command::ImportPosting { file: (*file).to_owned(), company: (*company).to_owned() })
        }
        ["help" | "--help" | "-h"] => Ok(Command::Help),
        ["version" | "--version" | "-V"] => Ok(Command::Version),
        other => Err(format!("unknown arguments: {}\n{USAGE}", other.join(" "))),
    }
}

/// Runs a command to completion.
pub async fn run(command: Command, mut settings: Settings) -> Result<(), String> {
    match command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
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
            println!("created DRAFT `{}` ({}), slug {}", posting.content.title, posting.id, posting.slug);
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
            app.run_until_stopped().await.map_err(|e| e.to_string())
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
        assert!(matches!(parse(&words("--help")), Ok(Command::Help)));
        assert_eq!(VERSION, format!("hiregraph {}", env!("CARGO_PKG_VERSION")));
        let refused = parse(&words("--versoin")).err().unwrap();
        assert!(refused.contains("unknown arguments: --versoin") && refused.contains("--version"), "{refused}");
    }
}
