//! An upload from bytes to the store: parse, clean, measure and analyse on all cores, hash each
//! conversation's content, and write it all in one transaction.

use powerpulse_shared::{Conversation, Options, ParseError};
use sha2::{Digest, Sha256};

use crate::store::{IngestConversation, IngestOutcome, IngestRequest, Store, StoreError};

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file cannot be read as an export.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The store failed (nothing was written).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of an upload, with what cleaning found.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// What the store did.
    pub outcome: IngestOutcome,
    /// The cleaning report.
    pub report: powerpulse_shared::CleaningReport,
}

/// The hash that decides whether a stored conversation changed: every kept message's id, time,
/// role, agent and text.
pub fn content_hash(c: &Conversation) -> String {
    let mut h = Sha256::new();
    h.update(c.summary.chat_id.as_bytes());
    for m in &c.messages {
        h.update([0u8]);
        h.update(m.id.as_bytes());
        h.update(m.time_ms.to_le_bytes());
        h.update(m.role.as_str().as_bytes());
        h.update(m.agent.as_deref().unwrap_or_default().as_bytes());
        h.update([0u8]);
        h.update(m.text.as_bytes());
    }
    crate::hash::hex(h.finalize().as_slice())
}

/// The settings of one upload.
#[derive(Debug, Clone)]
pub struct UploadMeta {
    /// The new upload's id.
    pub upload_id: String,
    /// The file name given by the client.
    pub file_name: String,
    /// Replace even unchanged conversations.
    pub force: bool,
    /// The AI analyzer label when AI is configured.
    pub ai_analyzer: Option<String>,
}

/// Processes and stores an upload.
pub async fn ingest(
    store: &Store,
    opts: &Options,
    bytes: Vec<u8>,
    meta: UploadMeta,
) -> Result<Ingested, IngestError> {
    let pipeline = opts.clone();
    let len = bytes.len() as u64;
    let (file_hash, dataset, hashes) = tokio::task::spawn_blocking(move || {
        let file_hash = crate::hash::sha256_hex(&bytes);
        let dataset = crate::pipeline::process(&bytes, &pipeline)?;
        drop(bytes);
        let hashes: Vec<String> = dataset.conversations.iter().map(content_hash).collect();
        Ok::<_, ParseError>((file_hash, dataset, hashes))
    })
    .await
    .expect("the ingest task does not panic")?;
    let report = dataset.report.clone();
    let conversations = dataset
        .conversations
        .into_iter()
        .zip(hashes)
        .map(|(conversation, content_hash)| IngestConversation {
            conversation,
            content_hash,
        })
        .collect();
    let req = IngestRequest {
        upload_id: meta.upload_id,
        file_name: meta.file_name,
        file_hash,
        bytes: len,
        report: report.clone(),
        conversations,
        force: meta.force,
        ai_analyzer: meta.ai_analyzer,
    };
    let outcome = store.ingest(&req, opts).await;
    drop(req);
    // On a large heap trimming takes milliseconds: not on a runtime worker.
    tokio::task::spawn_blocking(give_back_memory);
    Ok(Ingested {
        outcome: outcome?,
        report,
    })
}

/// Returns what an upload freed to the system: glibc keeps freed pages in its arenas, so without
/// this a server's resident memory stays at the size of its largest upload.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only releases free pages of the heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A fresh random id with a prefix (`up_3f9c...`).
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("{prefix}_{:032x}", n)
}
