//! `MissionStore` (and `AttachedImages`) over the table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use gantry_domain::{Mission, MissionId, MissionStatus, StepName, StepRecord, Subject, Turn};
use gantry_ports::{AttachedImages, MissionPage, MissionStore, PortError, PortResult};

use crate::error::{corrupt, port_error};

use super::schema::*;
use super::{transact, DynamoStore, SERVICE};

#[async_trait]
impl MissionStore for DynamoStore {
    async fn create(&self, mission: &Mission, turns: &[Turn]) -> PortResult<()> {
        if turns.len() > MAX_TURNS_PER_WRITE {
            return Err(PortError::Invalid(format!("at most {MAX_TURNS_PER_WRITE} turns per write")));
        }
        let mut writes =
            vec![self.put(mission_item(mission, turns.len() as u64)?, "attribute_not_exists(pk)")?];
        writes.extend(self.image_mark(mission)?);
        writes.extend(self.turn_puts(&mission.id, 0, turns)?);
        transact(&self.client, writes, format!("mission {} already exists", mission.id)).await
    }

    async fn get(&self, id: &MissionId) -> PortResult<Option<Mission>> {
        self.get_item(key(keys::mission(id.as_str()), keys::META))
            .await?
            .as_ref()
            .map(mission_from_item)
            .transpose()
    }

    /// The write is one transaction. Appending turns needs the stored turn count first, to
    /// number them; a save without turns (every pipeline step's) is that one call alone.
    async fn save(&self, mission: &mut Mission, turns: &[Turn]) -> PortResult<()> {
        if turns.len() > MAX_TURNS_PER_WRITE {
            return Err(PortError::Invalid(format!("at most {MAX_TURNS_PER_WRITE} turns per write")));
        }
        let changed = format!("mission {} changed since it was read", mission.id);
        let first_seq = if turns.is_empty() {
            0
        } else {
            let stored = self.get_item(key(keys::mission(mission.id.as_str()), keys::META)).await?;
            match stored {
                Some(stored) if get_n(&stored, "version")? == mission.version => {
                    get_n(&stored, "turn_count")?
                }
                _ => return Err(PortError::Conflict(changed)),
            }
        };

        let mut next = mission.clone();
        next.version = mission.version + 1;
        let mut writes = vec![self.mission_update(&next, mission.version, turns.len())?];
        writes.extend(self.image_mark(&next)?);
        writes.extend(self.turn_puts(&mission.id, first_seq, turns)?);
        transact(&self.client, writes, changed).await?;
        *mission = next;
        Ok(())
    }

    async fn turns(&self, id: &MissionId) -> PortResult<Vec<Turn>> {
        let items = self.partition(keys::mission(id.as_str()), keys::TURN_PREFIX).await?;
        items.iter().map(turn_from_item).collect()
    }

    async fn list(&self, owner: &Subject, cursor: Option<&str>, limit: usize) -> PortResult<MissionPage> {
        let limit = limit.clamp(1, 100);
        let start = cursor.map(|c| decode_cursor(c, owner)).transpose()?;
        // One more than a page, so that a cursor is given only when another page exists.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :owner")
            .expression_attribute_values(":owner", s(keys::owner(owner.as_str())))
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        let mut items = output.items.unwrap_or_default();
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(encode_cursor).transpose()?
        } else {
            // A short page with a LastEvaluatedKey was cut by DynamoDB's 1 MB page limit.
            match (&output.last_evaluated_key, items.last()) {
                (Some(_), Some(last)) => Some(encode_cursor(last)?),
                _ => None,
            }
        };
        let missions = items.iter().map(mission_from_item).collect::<PortResult<_>>()?;
        Ok(MissionPage { missions, next_cursor })
    }

    async fn latest(&self, owner: &Subject) -> PortResult<Option<Mission>> {
        Ok(self.list(owner, None, 1).await?.missions.into_iter().next())
    }

    async fn active_consultation(
        &self,
        owner: &Subject,
        since: DateTime<Utc>,
    ) -> PortResult<Option<Mission>> {
        let awaiting = self.by_status(MissionStatus::AwaitingInput, Some((">=", since))).await?;
        Ok(awaiting.into_iter().filter(|m| m.owner == *owner).max_by_key(|m| m.updated_at))
    }

    async fn in_flight(&self) -> PortResult<Vec<Mission>> {
        self.by_statuses(MissionStatus::ALL.into_iter().filter(|s| s.is_in_flight()), None).await
    }

    async fn awaiting_input_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.by_statuses([MissionStatus::AwaitingInput].into_iter(), Some(("<", before))).await
    }

    async fn final_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>> {
        self.by_statuses(MissionStatus::ALL.into_iter().filter(|s| s.is_final()), Some(("<", before))).await
    }

    async fn record_step(&self, id: &MissionId, step: &StepRecord) -> PortResult<()> {
        let mut item = key(keys::mission(id.as_str()), &keys::step(step.name.as_str(), step.attempt));
        item.insert("body".to_owned(), s(serde_json::to_string(step).map_err(corrupt)?));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }

    /// In the order the steps started (the SQLite store keeps insertion order; a step's record is
    /// inserted when it starts), ties broken by pipeline order and attempt.
    async fn steps(&self, id: &MissionId) -> PortResult<Vec<StepRecord>> {
        let items = self.partition(keys::mission(id.as_str()), keys::STEP_PREFIX).await?;
        let mut steps: Vec<StepRecord> = items
            .iter()
            .map(|item| serde_json::from_str(get_s(item, "body")?).map_err(corrupt))
            .collect::<PortResult<_>>()?;
        let order = |name: StepName| StepName::ALL.iter().position(|n| *n == name);
        steps.sort_by_key(|step| (step.started_at, order(step.name), step.attempt));
        Ok(steps)
    }
}

#[async_trait]
impl AttachedImages for DynamoStore {
    async fn is_attached(&self, image_key: &str) -> PortResult<bool> {
        Ok(self.get_item(key(keys::image(image_key), keys::META)).await?.is_some())
    }
}
