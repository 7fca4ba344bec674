// Package compound keeps the gates of one residential compound in step with
// its management office over NATS JetStream.
//
// The office (the enrolling side) runs a [gate.Gate] on its own store; every
// change it makes there — a subject registered, consent given or withdrawn,
// a card, PIN or QR code set or revoked, a face template added, the
// template transform re-keyed — is published as one message on the
// compound's change stream. Each gate runs an [Agent]: a durable JetStream
// consumer that applies the changes, in stream order and exactly once, to
// the gate's own bbolt store (each gate's source of truth, so it keeps
// working through a network cut) and to its in-memory gallery.
//
// # What the engine sees
//
// Every message body is sealed with XChaCha20-Poly1305 under a key derived
// from the compound [Key], which is provisioned to the office and the gates
// out of band and never travels on the stream. The associated data binds the
// compound, the NATS subject, the change kind and the stream sequence, so a
// message cannot be moved to another compound, subject or position, nor
// replayed. Templates travel only in their protected (transformed) form, a
// card only as its MAC and a PIN only as its Argon2id hash, and all of it
// sealed. NATS subjects name a resident only by a keyed pseudonym.
//
// # Withdrawal
//
// A withdrawal is published like any change; each gate applies it
// (crypto-shredding its local templates), then reports on its ack subject
// the stream sequence it has applied through. [Office.AwaitWithdrawal]
// lists the gates that confirmed and the ones that have not; once all have,
// it securely erases every earlier message of the resident's face channel
// from the stream.
//
// # Stale gates, rollback, bad input
//
// A gate that has not heard from the stream for [AgentConfig.StaleAfter]
// (5 minutes by default) closes its face path — cards, PINs and QR codes
// still work — until it has caught up ([Agent.FaceOpen]). A gate records
// the last sequence it applied in its store and refuses anything older
// ([ErrReplayed]); a store older than what the gate has already
// acknowledged to the server is refused with [ErrRolledBack]. Messages
// that fail to open or decode are refused with a typed error, counted and
// logged; the gate's state is untouched.
//
// # Who may say what
//
// The [Hub] is an embedded NATS server with JetStream. The office and each
// gate connect with their own NKey (a seed file, never a flag); a gate may
// only pull from its own durable consumer on its compound's stream and
// publish on its own ack subject, and only the office may publish changes.
package compound
