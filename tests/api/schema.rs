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
