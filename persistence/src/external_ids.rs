//! External ids: a company's (or its partner's) own reference for an object, unique per company
//! and kind, one per object.

use std::collections::{HashMap, HashSet};

use hiregraph_domain::CompanyId;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::external_ids as table;
use crate::error::StoreError;

/// What an external id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalKind {
    Posting,
    /// An application a partner submitted, named in the partner's company.
    Application,
}

impl ExternalKind {
    fn as_str(self) -> &'static str {
        match self {
            ExternalKind::Posting => "posting",
            ExternalKind::Application => "application",
        }
    }
}

/// The object a company's external id names.
pub async fn find(
    company: CompanyId,
    kind: ExternalKind,
    external_id: &str,
    conn: &impl ConnectionTrait,
) -> Result<Option<Uuid>, StoreError> {
    let row =
        table::Entity::find_by_id((company.0, kind.as_str().to_owned(), external_id.to_owned())).one(conn).await?;
    Ok(row.map(|r| r.object_id))
}

/// The objects several of a company's external ids name, in one statement.
pub async fn find_many(
    company: CompanyId,
    kind: ExternalKind,
    external_ids: &[&str],
    conn: &impl ConnectionTrait,
) -> Result<HashMap<String, Uuid>, StoreError> {
    if external_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = table::Entity::find()
        .filter(table::Column::CompanyId.eq(company.0))
        .filter(table::Column::Kind.eq(kind.as_str()))
        .filter(table::Column::ExternalId.is_in(external_ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.external_id, r.object_id)).collect())
}

/// Names each object by its external id where the company does not use that id yet, in one
/// INSERT (rows in the order given, so concurrent callers that sort their ids never wait on each
/// other in a cycle) and one read; returns the external ids taken here. The others already name
/// something else, and nothing of them is written: the transaction stays usable.
pub async fn insert_all_absent(
    company: CompanyId,
    kind: ExternalKind,
    names: &[(&str, Uuid)],
    conn: &impl ConnectionTrait,
) -> Result<HashSet<String>, StoreError> {
    use sea_orm::sea_query::OnConflict;
    if names.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = names.iter().map(|(external_id, object)| table::ActiveModel {
        company_id: Set(company.0),
        kind: Set(kind.as_str().to_owned()),
        external_id: Set((*external_id).to_owned()),
        object_id: Set(*object),
    });
    let inserted = table::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([table::Column::CompanyId, table::Column::Kind, table::Column::ExternalId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await;
    match inserted {
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
        Err(e) => return Err(e.into()),
    }
    let wanted: HashMap<&str, Uuid> = names.iter().copied().collect();
    let external_ids: Vec<&str> = wanted.keys().copied().collect();
    let stored = find_many(company, kind, &external_ids, conn).await?;
    Ok(stored
        .into_iter()
        .filter(|(ext, object)| wanted.get(ext.as_str()) == Some(object))
        .map(|(ext, _)| ext)
        .collect())
}

/// The external ids of some objects, by object; only those `company` gave them, when it is set.
pub async fn of_objects(
    company: Option<CompanyId>,
    kind: ExternalKind,
    objects: &[Uuid],
    conn: &impl ConnectionTrait,
) -> Result<HashMap<Uuid, String>, StoreError> {
    if objects.is_empty() {
        return Ok(HashMap::new());
    }
    let mut select = table::Entity::find()
        .filter(table::Column::Kind.eq(kind.as_str()))
        .filter(table::Column::ObjectId.is_in(objects.iter().copied()));
    if let Some(company) = company {
        select = select.filter(table::Column::CompanyId.eq(company.0));
    }
    let rows = select.all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.object_id, r.external_id)).collect())
}

/// Names `object` by `external_id`; `Duplicate` when the company already uses that id.
pub async fn insert(
    company: CompanyId,
    kind: ExternalKind,
    external_id: &str,
    object: Uuid,
    conn: &impl ConnectionTrait,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        company_id: Set(company.0),
        kind: Set(kind.as_str().to_owned()),
        external_id: Set(external_id.to_owned()),
        object_id: Set(object),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await
        .map_err(|e| StoreError::on_write(e, "external id"))?;
    Ok(())
}
