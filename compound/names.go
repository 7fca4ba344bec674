package compound

// Names on the NATS server, per compound C:
//
//	stream  FG_C       subjects fg.C.chg.>      the change stream (file storage)
//	        fg.C.chg.<token>.face                 a resident's face channel: face consent, templates
//	        fg.C.chg.<token>.entry                everything else about the resident
//	        fg.C.chg._.compound                   transform re-keys
//	stream  FG_C_ACK   subjects fg.C.ack.*      gates' progress, last report per gate
//	        fg.C.ack.<gate>
//	consumer FG_C/<gate>                         each gate's durable pull consumer
//
// <token> is a keyed pseudonym of the resident ID (Key.token).
type names struct {
	compound string
}

func (n names) stream() string      { return "FG_" + n.compound }
func (n names) ackStream() string   { return "FG_" + n.compound + "_ACK" }
func (n names) changes() string     { return "fg." + n.compound + ".chg.>" }
func (n names) acks() string        { return "fg." + n.compound + ".ack.*" }
func (n names) ack(g string) string { return "fg." + n.compound + ".ack." + g }
func (n names) rekey() string       { return "fg." + n.compound + ".chg._.compound" }

// channel returns the NATS subject of a change about a resident whose
// pseudonym is token: their face channel (face consent and templates) or
// their entry channel (everything else).
func (n names) channel(token string, face bool) string {
	if face {
		return "fg." + n.compound + ".chg." + token + ".face"
	}
	return "fg." + n.compound + ".chg." + token + ".entry"
}

// channels is the wildcard subject of both of a resident's channels.
func (n names) channels(token string) string { return "fg." + n.compound + ".chg." + token + ".*" }

// gateInbox is the inbox prefix of a gate's connection: the only subjects
// it may subscribe to.
func (n names) gateInbox(g string) string { return "_FG_IN." + n.compound + "." + g }

// officeInbox is the inbox prefix of the office's connection.
func (n names) officeInbox() string { return "_FG_OFFICE." + n.compound }
