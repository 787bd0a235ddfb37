//! The `candidate_profiles` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "candidate_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub display_name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub years_experience: Option<i32>,
    pub seniority: Option<String>,
    pub desired_min: Option<i64>,
    pub desired_max: Option<i64>,
    pub desired_currency: Option<String>,
    pub desired_period: Option<String>,
    pub open_onsite: bool,
    pub open_hybrid: bool,
    pub open_remote: bool,
    pub visibility: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub work_history: String,
    pub education: String,
    pub links: String,
    pub applicant_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
