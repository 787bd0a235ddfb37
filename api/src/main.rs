use hiregraph_api::{cli, init_tracing, settings::Settings};

/// mimalloc instead of glibc's allocator: a request allocates and frees many small values from
/// several threads, and glibc's arenas spent a quarter of the server's CPU on it (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match cli::parse(&args) {
        Err(usage) => Err(usage),
        // Neither reads the configuration: they answer on a machine that has none yet.
        Ok(cli::Command::Help { topic }) => {
            println!("{}", cli::help_text(topic));
            Ok(())
        }
        Ok(cli::Command::Version) => {
            println!("{}", cli::VERSION);
            Ok(())
        }
        Ok(command) => match Settings::from_env() {
            Err(invalid) => Err(invalid.to_string()),
            Ok(settings) => match init_tracing(&settings) {
                Err(e) => Err(e),
                Ok(telemetry) => {
                    let result = cli::run(command, settings).await;
                    if let Some(telemetry) = telemetry {
                        // The exporter's client blocks: off the async workers.
                        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
                    }
                    result
                }
            },
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hiregraph: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
