//! The brains behind the `Brain` port.
//!
//! The offline brain: rules and templates, no model, no network. Deterministic, so tests can
//! rely on its answers, and useful enough to build a real static app from a conversation. It is
//! the default, and what runs when no model is configured.
//!
//! The model brain (`model`): the same three calls through a large language model, on Amazon
//! Bedrock (Converse) or any OpenAI-compatible chat-completions server.

pub mod architect;
pub mod consultant;
pub mod model;

use async_trait::async_trait;

use gantry_domain::consultation::{Brief, Consultation};
use gantry_domain::mission::TokenUsage;
use gantry_domain::{BuildReport, GantryManifest, Turn};
use gantry_ports::{Brain, ConsultReply, DesignImage, Draft, PortResult};

pub const OFFLINE_MODEL_ID: &str = "gantry-offline-1";

#[derive(Debug, Clone, Default)]
pub struct OfflineBrain;

#[async_trait]
impl Brain for OfflineBrain {
    async fn consult(
        &self,
        current: Option<&Consultation>,
        conversation: &[Turn],
        image: Option<&DesignImage>,
    ) -> PortResult<ConsultReply> {
        let answer = consultant::consult(current, conversation, image.is_some());
        Ok(ConsultReply {
            consultation: answer.consultation,
            response: answer.response,
            speech: answer.speech,
            usage: TokenUsage::default(),
            calls: Vec::new(),
        })
    }

    async fn draft(&self, brief: &Brief, _image: Option<&DesignImage>) -> PortResult<Draft> {
        Ok(Draft {
            manifest: architect::draft(brief),
            model_id: OFFLINE_MODEL_ID.to_owned(),
            usage: TokenUsage::default(),
            calls: Vec::new(),
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
        Ok(Draft {
            manifest,
            model_id: OFFLINE_MODEL_ID.to_owned(),
            usage: TokenUsage::default(),
            calls: Vec::new(),
            notes,
        })
    }

    fn model_id(&self) -> String {
        OFFLINE_MODEL_ID.to_owned()
    }
}
