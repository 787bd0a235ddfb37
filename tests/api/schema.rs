/// The checked-in SDL is the contract; regenerate with `cargo run -- print-schema > schema.graphql`.
#[test]
fn the_checked_in_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let on_disk = std::fs::read_to_string(path).expect("schema.graphql at the repository root");
    let from_code = hiregraph_api::graphql::sdl();
    assert!(
        on_disk == from_code,
        "schema.graphql differs from the code; run `cargo run -p hiregraph-api -- print-schema > schema.graphql` and review the diff"
    );
}

/// DESIGN §8: resolvers never call the database, the cache or the outbox; services are the one
/// door for reads and writes. A source check, so a shortcut fails CI rather than review.
#[test]
fn the_graphql_layer_reaches_the_database_and_cache_only_through_services() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/src/graphql");
    let forbidden = ["db.conn", "work_db", ".cache.", "ConnectionTrait", "UnitOfWork", "outbox::", ".write().await"];
    let mut offences = Vec::new();
    for entry in std::fs::read_dir(dir).expect("api/src/graphql") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for pattern in forbidden {
                if line.contains(pattern) {
                    offences.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "the GraphQL layer must go through services:\n{}", offences.join("\n"));
}
