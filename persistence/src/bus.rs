//! The live bus: committed events fanned out to every replica's subscribers. The outbox relay
//! publishes each batch it relays once; every replica listens. Between replicas it is Redis
//! pub/sub on one channel per deployment prefix; in the embedded default it is an in-process
//! broadcast. Both are behind this one type and both may drop messages (pub/sub keeps nothing
//! for a listener that is away, a slow local listener lags): positions are gapless, so a listener
//! that sees a gap reads it from the outbox, and the outbox stays the only record.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hiregraph_domain::events::Event;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use tokio::sync::broadcast;

use crate::entities::outbox;
use crate::outbox::{from_row, to_row};

/// Batches held for a slow in-process listener before it lags (and catches up from the outbox).
const LOCAL_BUFFER: usize = 256;
/// A Redis call that takes longer has failed.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

pub enum Bus {
    Local(broadcast::Sender<Arc<[Event]>>),
    Redis { client: Box<redis::Client>, publisher: ConnectionManager, channel: String },
}

/// One replica's subscription to the bus.
pub enum Listener {
    Local(broadcast::Receiver<Arc<[Event]>>),
    Redis { sink: PubSubSink, stream: PubSubStream },
}

/// What a listener heard.
pub enum Heard {
    Events(Arc<[Event]>),
    /// Messages were dropped on the way (a lagging local listener); read the outbox.
    Missed,
    /// The connection is gone; listen again.
    Lost,
}

impl Bus {
    pub fn local() -> Self {
        Self::Local(broadcast::channel(LOCAL_BUFFER).0)
    }

    /// Redis pub/sub on `<prefix>:events`. Connects lazily: a Redis that is down at start-up is
    /// waited for, not fatal.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Self::redis_with(redis::Client::open(url)?, prefix)
    }

    /// Redis pub/sub on a client of the caller's (TLS roots of its own).
    pub fn redis_with(client: redis::Client, prefix: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let publisher = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self::Redis { client: Box::new(client), publisher, channel: format!("{prefix}:events") })
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Redis { .. })
    }

    /// Publishes events in position order. A failure loses nothing: listeners find the gap.
    pub async fn publish(&self, events: &[Event]) -> Result<(), String> {
        if events.is_empty() {
            return Ok(());
        }
        match self {
            Self::Local(sender) => {
                // Nobody listening is not a failure.
                let _ = sender.send(events.into());
                Ok(())
            }
            Self::Redis { publisher, channel, .. } => {
                let rows: Vec<outbox::Model> = events.iter().map(to_row).collect();
                let message = serde_json::to_vec(&rows).map_err(|e| e.to_string())?;
                let mut publisher = publisher.clone();
                let mut command = redis::cmd("PUBLISH");
                command.arg(channel).arg(message);
                let publish = command.query_async::<i64>(&mut publisher);
                match tokio::time::timeout(REDIS_TIMEOUT, publish).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err("redis did not answer PUBLISH in time".into()),
                }
            }
        }
    }

    /// Starts listening; what is published from now on is heard.
    pub async fn listen(&self) -> Result<Listener, String> {
        match self {
            Self::Local(sender) => Ok(Listener::Local(sender.subscribe())),
            Self::Redis { client, channel, .. } => {
                let connect = async {
                    let mut pubsub = client.get_async_pubsub().await?;
                    pubsub.subscribe(channel).await?;
                    Ok::<_, redis::RedisError>(pubsub.split())
                };
                match tokio::time::timeout(REDIS_TIMEOUT, connect).await {
                    Ok(Ok((sink, stream))) => Ok(Listener::Redis { sink, stream }),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err("redis did not answer SUBSCRIBE in time".into()),
                }
            }
        }
    }
}

impl Listener {
    pub async fn next(&mut self) -> Heard {
        match self {
            Self::Local(receiver) => match receiver.recv().await {
                Ok(events) => Heard::Events(events),
                Err(broadcast::error::RecvError::Lagged(_)) => Heard::Missed,
                Err(broadcast::error::RecvError::Closed) => Heard::Lost,
            },
            Self::Redis { stream, .. } => {
                let Some(message) = stream.next().await else { return Heard::Lost };
                let decoded = serde_json::from_slice::<Vec<outbox::Model>>(message.get_payload_bytes())
                    .ok()
                    .and_then(|rows| rows.into_iter().map(|row| from_row(row).ok()).collect::<Option<Vec<_>>>());
                match decoded {
                    Some(events) => Heard::Events(events.into()),
                    // Not ours to read (another version's format?): the outbox has it.
                    None => Heard::Missed,
                }
            }
        }
    }

    /// Whether the connection still answers (a paused or unplugged Redis sends no FIN). A
    /// subscribed connection answers PING with `["pong", ""]`, not `PONG`: any answer will do.
    pub async fn alive(&mut self) -> bool {
        match self {
            Self::Local(_) => true,
            Self::Redis { sink, .. } => {
                matches!(tokio::time::timeout(REDIS_TIMEOUT, sink.ping::<redis::Value>()).await, Ok(Ok(_)))
            }
        }
    }
}
