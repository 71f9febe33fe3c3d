//! The offline brain: rules and templates, no model, no network. Deterministic, so tests can
//! rely on its answers, and useful enough to build a real static app from a conversation.

pub mod architect;
pub mod consultant;

use async_trait::async_trait;

use gantry_domain::consultation::{Brief, Consultation};
use gantry_domain::mission::TokenUsage;
use gantry_domain::{BuildReport, GantryManifest, Turn};
use gantry_ports::{Brain, ConsultReply, Draft, PortResult};

pub const OFFLINE_MODEL_ID: &str = "gantry-offline-1";

#[derive(Debug, Clone, Default)]
pub struct OfflineBrain;

#[async_trait]
impl Brain for OfflineBrain {
    async fn consult(
        &self,
        current: Option<&Consultation>,
        conversation: &[Turn],
        has_image: bool,
    ) -> PortResult<ConsultReply> {
        let answer = consultant::consult(current, conversation, has_image);
        Ok(ConsultReply {
            consultation: answer.consultation,
            response: answer.response,
            speech: answer.speech,
            usage: TokenUsage::default(),
        })
    }

    async fn draft(&self, brief: &Brief) -> PortResult<Draft> {
        Ok(Draft {
            manifest: architect::draft(brief),
            model_id: OFFLINE_MODEL_ID.to_owned(),
            usage: TokenUsage::default(),
            notes: String::from("drafted from the offline templates"),
        })
    }

    async fn heal(
        &self,
        brief: &Brief,
        previous: &GantryManifest,
        report: &BuildReport,
    ) -> PortResult<Draft> {
        let (manifest, notes) = architect::heal(brief, previous, report);
        Ok(Draft { manifest, model_id: OFFLINE_MODEL_ID.to_owned(), usage: TokenUsage::default(), notes })
    }

    fn model_id(&self) -> String {
        OFFLINE_MODEL_ID.to_owned()
    }
}
