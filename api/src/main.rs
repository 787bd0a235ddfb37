use hiregraph_api::{cli, init_tracing, settings::Settings};

/// mimalloc instead of glibc's allocator: a request allocates and frees many small values from
/// several threads, and glibc's arenas spent a quarter of the server's CPU on it (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match (cli::parse(&args), Settings::from_env()) {
        (Err(usage), _) => Err(usage),
        (_, Err(invalid)) => Err(invalid.to_string()),
        (Ok(command), Ok(settings)) => {
            init_tracing(&settings.log_filter);
            cli::run(command, settings).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hiregraph: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
