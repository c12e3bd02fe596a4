mod connection_id;
pub use connection_id::ConnectionId;
mod dialer_id;
pub use dialer_id::DialerId;
mod listener_id;
pub use listener_id::ListenerId;
mod connection_owner;
pub use connection_owner::ConnectionOwner;
mod connector_config;
pub use connector_config::{BackoffConfig, DialerConfig, ListenerConfig};
mod dialer_event;
pub use dialer_event::DialerEvent;
mod transport_request;
pub use transport_request::DialRequest;
mod peer_metadata;
pub use peer_metadata::PeerMetadata;
mod conn_direction;
pub use conn_direction::ConnDirection;
mod connection_event;
pub use connection_event::ConnectionEvent;
mod connection_info;
pub use connection_info::{ConnectionInfo, ConnectionState, PeerDocState};
mod peer_info;
pub use peer_info::PeerInfo;
pub(crate) mod wire_protocol;

/// The document a wire message is about, `None` for messages about no document (handshake,
/// leave, errors, subscriptions), or why the bytes are not a message. Lets a transport refuse
/// messages about documents a peer has no business with before the hub sees them.
pub fn wire_message_document(data: &[u8]) -> Result<Option<crate::DocumentId>, String> {
    use wire_protocol::WireMessage as M;
    match M::decode(data).map_err(|e| e.to_string())? {
        M::Request { document_id, .. }
        | M::Sync { document_id, .. }
        | M::DocUnavailable { document_id, .. }
        | M::Ephemeral { document_id, .. }
        | M::RemoteHeadsChanged { document_id, .. } => Ok(Some(document_id)),
        M::Join { .. }
        | M::Peer { .. }
        | M::Leave { .. }
        | M::Error { .. }
        | M::RemoteSubscriptionChange { .. } => Ok(None),
    }
}
