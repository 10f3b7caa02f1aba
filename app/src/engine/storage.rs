//! The worker's IndexedDB (rexie): datasets saved as their processed data (postcard), so
//! reopening one needs no parsing; the last one opened is remembered.

use js_sys::Uint8Array;
use powerpulse_shared::evaluate::{Label, Labels};
use powerpulse_shared::Dataset;
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::protocol::DatasetMeta;

/// What is saved per dataset: the processed data, so reopening needs no parsing.
#[derive(Deserialize)]
pub(super) struct Saved {
    pub meta: DatasetMeta,
    pub dataset: Dataset,
}

/// [`Saved`] by reference, for encoding without a copy.
#[derive(Serialize)]
pub(super) struct SavedRef<'a> {
    pub meta: &'a DatasetMeta,
    pub dataset: &'a Dataset,
}

async fn db() -> Result<Rexie, String> {
    Rexie::builder("powerpulse")
        .version(1)
        .add_object_store(ObjectStore::new("datasets"))
        .add_object_store(ObjectStore::new("blobs"))
        .add_object_store(ObjectStore::new("prefs"))
        .build()
        .await
        .map_err(|e| format!("browser storage is unavailable: {e:?}"))
}

pub(super) async fn list_datasets() -> Result<Vec<DatasetMeta>, String> {
    let db = db().await?;
    let tx = db
        .transaction(&["datasets"], TransactionMode::ReadOnly)
        .map_err(|e| format!("{e:?}"))?;
    let store = tx.store("datasets").map_err(|e| format!("{e:?}"))?;
    let values = store
        .get_all(None, None)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let mut metas: Vec<DatasetMeta> = values
        .into_iter()
        .filter_map(|v| v.as_string().and_then(|s| serde_json::from_str(&s).ok()))
        .collect();
    metas.sort_by(|a, b| b.created_ms.total_cmp(&a.created_ms));
    Ok(metas)
}

/// Explains a storage failure; a full quota gets a clear sentence.
pub fn storage_problem(e: &rexie::Error) -> String {
    let text = format!("{e:?}");
    if text.contains("Quota") {
        "The browser's storage is full: this dataset stays open in this tab but was not saved. Delete older datasets to make room.".into()
    } else {
        format!("The dataset could not be saved in the browser: {e}")
    }
}

pub(super) async fn save(meta: &DatasetMeta, bytes: Vec<u8>) -> Result<(), String> {
    let db = db().await?;
    let tx = db
        .transaction(&["datasets", "blobs", "prefs"], TransactionMode::ReadWrite)
        .map_err(|e| storage_problem(&e))?;
    let key = JsValue::from_str(&meta.id);
    let blob = Uint8Array::from(bytes.as_slice());
    let meta_json = JsValue::from_str(&serde_json::to_string(meta).expect("meta serializes"));
    // No other future is awaited inside the transaction (it would end it early).
    let r = async {
        tx.store("blobs")?.put(&blob, Some(&key)).await?;
        tx.store("datasets")?.put(&meta_json, Some(&key)).await?;
        tx.store("prefs")?
            .put(&key, Some(&JsValue::from_str("last")))
            .await?;
        tx.done().await
    }
    .await;
    r.map(|_| ()).map_err(|e| storage_problem(&e))
}

pub(super) async fn load_saved(id: &str) -> Result<Saved, String> {
    let db = db().await?;
    let tx = db
        .transaction(&["blobs", "prefs"], TransactionMode::ReadWrite)
        .map_err(|e| format!("{e:?}"))?;
    let key = JsValue::from_str(id);
    let value = tx
        .store("blobs")
        .map_err(|e| format!("{e:?}"))?
        .get(key.clone())
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.store("prefs")
        .map_err(|e| format!("{e:?}"))?
        .put(&key, Some(&JsValue::from_str("last")))
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.done().await.map_err(|e| format!("{e:?}"))?;
    let Some(value) = value else {
        return Err(format!(
            "dataset {id} is not in the browser's storage any more"
        ));
    };
    let bytes = Uint8Array::new(&value).to_vec();
    postcard::from_bytes(&bytes).map_err(|e| {
        format!("the saved dataset is unreadable ({e}); delete it and load the file again")
    })
}

pub(super) async fn last_opened() -> Option<String> {
    let db = db().await.ok()?;
    let tx = db.transaction(&["prefs"], TransactionMode::ReadOnly).ok()?;
    let v = tx
        .store("prefs")
        .ok()?
        .get(JsValue::from_str("last"))
        .await
        .ok()??;
    v.as_string()
}

pub(super) async fn delete(id: &str) -> Result<(), String> {
    let db = db().await?;
    let tx = db
        .transaction(&["datasets", "blobs"], TransactionMode::ReadWrite)
        .map_err(|e| format!("{e:?}"))?;
    let key = JsValue::from_str(id);
    tx.store("datasets")
        .map_err(|e| format!("{e:?}"))?
        .delete(key.clone())
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.store("blobs")
        .map_err(|e| format!("{e:?}"))?
        .delete(key)
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.done().await.map_err(|e| format!("{e:?}"))?;
    Ok(())
}

/// Where every review made in this browser is kept, by chat id, beside the datasets: a new
/// import of the same export takes its reviews back from here.
const REVIEWS_KEY: &str = "reviews";

/// Every review kept in this browser (none when the storage cannot be read).
pub(super) async fn kept_reviews() -> Labels {
    async {
        let db = db().await.ok()?;
        let tx = db.transaction(&["prefs"], TransactionMode::ReadOnly).ok()?;
        let v = tx
            .store("prefs")
            .ok()?
            .get(JsValue::from_str(REVIEWS_KEY))
            .await
            .ok()??;
        serde_json::from_str(&v.as_string()?).ok()
    }
    .await
    .unwrap_or_default()
}

/// Keeps reviews (`None`: forgets the chat's) with the others, in one transaction.
pub(super) async fn keep_reviews(changes: Vec<(String, Option<Label>)>) -> Result<(), String> {
    let db = db().await?;
    let tx = db
        .transaction(&["prefs"], TransactionMode::ReadWrite)
        .map_err(|e| storage_problem(&e))?;
    let key = JsValue::from_str(REVIEWS_KEY);
    let r = async {
        let store = tx.store("prefs")?;
        let mut all: Labels = store
            .get(key.clone())
            .await?
            .and_then(|v| v.as_string())
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        for (id, label) in changes {
            match label {
                Some(l) => all.insert(id, l),
                None => all.remove(&id),
            };
        }
        let json = serde_json::to_string(&all).expect("labels serialize");
        store.put(&JsValue::from_str(&json), Some(&key)).await?;
        tx.done().await
    }
    .await;
    r.map(|_| ()).map_err(|e| storage_problem(&e))
}
