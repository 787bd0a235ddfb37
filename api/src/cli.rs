//! The command line: `hiregraph [serve] [--no-migrate]`, `migrate`, `seed-demo`, `print-schema`.

use crate::settings::Settings;
use crate::startup::{self, Application};

pub enum Command {
    Serve { migrate: bool },
    Migrate,
    SeedDemo,
    PrintSchema,
    Help,
}

pub const USAGE: &str = "usage: hiregraph [serve [--no-migrate] | migrate | seed-demo | print-schema | help]\n\
  serve         run the server (the default); applies migrations first unless --no-migrate\n\
  migrate       apply pending migrations and exit\n\
  seed-demo     load the demo data into an empty database and exit\n\
  print-schema  print the GraphQL schema as SDL\n\
Configuration comes from environment variables; see README.md.";

pub fn parse(args: &[String]) -> Result<Command, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["serve"] => Ok(Command::Serve { migrate: true }),
        ["serve", "--no-migrate"] | ["--no-migrate"] => Ok(Command::Serve { migrate: false }),
        ["migrate"] => Ok(Command::Migrate),
        ["seed-demo"] => Ok(Command::SeedDemo),
        ["print-schema"] => Ok(Command::PrintSchema),
        ["help" | "--help" | "-h"] => Ok(Command::Help),
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
