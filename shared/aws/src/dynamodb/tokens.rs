//! `TokenStore` over the table.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use gantry_ports::{ApiToken, PortError, PortResult, TokenStore};

use super::schema::*;
use super::{transact, DynamoStore};

fn token_from_item(item: &Item) -> PortResult<ApiToken> {
    Ok(ApiToken {
        name: get_s(item, "name")?.to_owned(),
        subject: get_s(item, "subject")?.to_owned(),
        token_sha256: get_s(item, "token_sha256")?.to_owned(),
        created_at: parse_ts(get_s(item, "created_at")?)?,
        revoked_at: match item.get("revoked_at") {
            Some(_) => Some(parse_ts(get_s(item, "revoked_at")?)?),
            None => None,
        },
    })
}

/// Tokens: the token item under its hash, and a name guard item that exists while a live token
/// has that name, both written in one transaction so that live names stay unique.
#[async_trait]
impl TokenStore for DynamoStore {
    async fn create_token(&self, token: &ApiToken) -> PortResult<()> {
        let mut item = key(keys::token(&token.token_sha256), keys::META);
        item.insert("name".to_owned(), s(token.name.clone()));
        item.insert("subject".to_owned(), s(token.subject.clone()));
        item.insert("token_sha256".to_owned(), s(token.token_sha256.clone()));
        item.insert("created_at".to_owned(), s(ts(token.created_at)));
        let mut guard = key(keys::token_name(&token.name), keys::META);
        guard.insert("token_sha256".to_owned(), s(token.token_sha256.clone()));
        let writes =
            vec![self.put(item, "attribute_not_exists(pk)")?, self.put(guard, "attribute_not_exists(pk)")?];
        transact(&self.client, writes, format!("a token named {:?} already exists", token.name)).await
    }

    async fn find_token(&self, token_sha256: &str) -> PortResult<Option<ApiToken>> {
        self.get_item(key(keys::token(token_sha256), keys::META))
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
    }

    async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> PortResult<bool> {
        let Some(guard) = self.get_item(key(keys::token_name(name), keys::META)).await? else {
            return Ok(false);
        };
        let hash = get_s(&guard, "token_sha256")?.to_owned();
        let revoke = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::token(&hash), keys::META)))
            .update_expression("SET revoked_at = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":at", s(ts(at)));
        let release = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::token_name(name), keys::META)))
            .condition_expression("token_sha256 = :hash")
            .expression_attribute_values(":hash", s(hash));
        let writes = vec![
            TransactWriteItem::builder().update(built(revoke.build())?).build(),
            TransactWriteItem::builder().delete(built(release.build())?).build(),
        ];
        match transact(&self.client, writes, String::new()).await {
            Ok(()) => Ok(true),
            // Someone else revoked it between our read and write.
            Err(PortError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
