//! sea-orm entities, one per table. They never leave this crate: repositories map them to
//! domain types.

/// `by_index(row, start)`: a `Model` from consecutive columns of a row, from `start` on, in the
/// entity's column order, read by position. sea-orm's derived decoder looks every column up by
/// name, and with a prefix (a joined entity's columns) formats each name first: a tenth of the
/// server's time on an uncached page of 100 postings with their companies. `FIELDS` names the
/// fields in the order read; a test checks it against `Column::iter()`.
macro_rules! by_index {
    ($($field:ident),+ $(,)?) => {
        /// The fields `by_index` reads, in order.
        #[cfg_attr(not(test), allow(dead_code))]
        pub const FIELDS: &[&str] = &[$(stringify!($field)),+];

        /// A model from the columns of `row` from `start` on, in `FIELDS` order.
        #[allow(unused_assignments)]
        pub fn by_index(row: &sea_orm::QueryResult, start: usize) -> Result<Model, sea_orm::DbErr> {
            let mut at = start;
            Ok(Model {
                $($field: {
                    let value = row.try_get_by_index(at)?;
                    at += 1;
                    value
                }),+
            })
        }
    };
}

pub mod api_keys;
pub mod applicant_claims;
pub mod application_events;
pub mod application_notes;
pub mod applications;
pub mod candidate_profiles;
pub mod candidate_skills;
pub mod companies;
pub mod company_members;
pub mod external_ids;
pub mod idempotency_keys;
pub mod outbox;
pub mod partner_apps;
pub mod posting_benefits;
pub mod posting_items;
pub mod posting_locations;
pub mod posting_skills;
pub mod postings;
pub mod refresh_tokens;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    #[test]
    fn models_read_by_index_read_every_column_in_the_entitys_order() {
        let postings: Vec<&str> = super::postings::Column::iter().map(|c| c.as_str()).collect();
        let companies: Vec<&str> = super::companies::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(super::postings::FIELDS, postings);
        assert_eq!(super::companies::FIELDS, companies);
    }
}
