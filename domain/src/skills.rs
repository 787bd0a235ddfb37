//! The skills vocabulary: canonical names with the aliases people write ("Postgres" is
//! PostgreSQL, "k8s" is Kubernetes, "Golang" is Go). The importer finds skills with it, search
//! widens a query word to its aliases, and matching counts "Postgres" and "PostgreSQL" as one skill.

/// Skill vocabulary: canonical name, then aliases (lower case, matched as whole words).
pub const VOCABULARY: &[(&str, &[&str])] = &[
    ("Python", &["python"]),
    ("Java", &["java"]),
    ("Go", &["go", "golang"]),
    ("Scala", &["scala"]),
    ("Rust", &["rust"]),
    ("TypeScript", &["typescript"]),
    ("JavaScript", &["javascript"]),
    ("Node.js", &["node.js", "nodejs"]),
    ("React", &["react"]),
    ("Kotlin", &["kotlin"]),
    ("Swift", &["swift"]),
    ("C++", &["c++"]),
    ("C#", &["c#"]),
    ("Ruby", &["ruby", "rails"]),
    ("PHP", &["php"]),
    ("SQL", &["sql"]),
    ("PostgreSQL", &["postgresql", "postgres"]),
    ("MySQL", &["mysql"]),
    ("MongoDB", &["mongodb", "mongo"]),
    ("Redis", &["redis"]),
    ("Cassandra", &["cassandra"]),
    ("DynamoDB", &["dynamodb"]),
    ("Kafka", &["kafka"]),
    ("RabbitMQ", &["rabbitmq"]),
    ("AWS", &["aws", "amazon web services"]),
    ("GCP", &["gcp", "google cloud"]),
    ("Azure", &["azure"]),
    ("Docker", &["docker"]),
    ("Kubernetes", &["kubernetes", "k8s"]),
    ("Terraform", &["terraform"]),
    ("Ansible", &["ansible"]),
    ("GraphQL", &["graphql"]),
    ("Spark", &["spark"]),
    ("Hadoop", &["hadoop"]),
    ("Flink", &["flink"]),
    ("Airflow", &["airflow"]),
    ("dbt", &["dbt"]),
    ("Prometheus", &["prometheus"]),
    ("Grafana", &["grafana"]),
    ("Datadog", &["datadog"]),
    ("OpenTelemetry", &["opentelemetry"]),
    ("Linux", &["linux"]),
    ("CI/CD", &["ci/cd"]),
    ("Microservices", &["microservices"]),
    ("Distributed Systems", &["distributed systems"]),
    ("Machine Learning", &["machine learning"]),
    ("PyTorch", &["pytorch"]),
    ("TensorFlow", &["tensorflow"]),
    ("Figma", &["figma"]),
];

/// The vocabulary entry a skill name or alias stands for, by case-insensitive whole match.
pub fn canonical(name: &str) -> Option<&'static str> {
    let key = name.trim().to_lowercase();
    VOCABULARY
        .iter()
        .find(|(canonical, aliases)| canonical.to_lowercase() == key || aliases.contains(&key.as_str()))
        .map(|(canonical, _)| *canonical)
}

/// The key two skills are compared by: the canonical name's, lower case, or the name's own key
/// when it is not in the vocabulary.
pub fn match_key(name: &str) -> String {
    canonical(name).map_or_else(|| name.trim().to_lowercase(), str::to_lowercase)
}

/// Every stored skill key that means the same skill as `name` (itself included), for finding
/// postings or candidates that list it under another spelling.
pub fn equivalent_keys(name: &str) -> Vec<String> {
    let own = name.trim().to_lowercase();
    let mut keys = vec![own.clone()];
    if let Some((canonical, aliases)) = VOCABULARY.iter().find(|(c, _)| Some(*c) == canonical(name)) {
        for key in std::iter::once(canonical.to_lowercase()).chain(aliases.iter().map(|a| (*a).to_owned())) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_lead_to_the_canonical_skill() {
        assert_eq!(canonical("Postgres"), Some("PostgreSQL"));
        assert_eq!(canonical(" k8s "), Some("Kubernetes"));
        assert_eq!(canonical("GOLANG"), Some("Go"));
        assert_eq!(canonical("Fortran"), None);
        assert_eq!(match_key("postgres"), match_key("PostgreSQL"));
        assert_eq!(match_key("Fortran"), "fortran");
    }

    #[test]
    fn equivalent_keys_cover_every_spelling_once() {
        assert_eq!(equivalent_keys("k8s"), ["k8s", "kubernetes"]);
        assert_eq!(equivalent_keys("Go"), ["go", "golang"]);
        assert_eq!(equivalent_keys("Fortran"), ["fortran"]);
    }
}
