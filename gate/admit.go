package gate

import (
	"errors"
	"fmt"

	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records"
)

// Attempt is what a door saw. Any combination of fields may be set; empty
// ones were not presented.
type Attempt struct {
	// Door is the door's ID; it selects the policy and is logged.
	Door string
	// Face is the model descriptor of the face in front of the camera
	// (unprotected; the gate protects it before matching).
	Face []float32
	// Card is the UID read from a card.
	Card []byte
	// Subject is the subject ID typed at the keypad with a PIN. It may be
	// left empty when a face or card of the same attempt names the subject.
	Subject string
	// PIN is the PIN typed at the keypad.
	PIN string
	// QR is the text of a scanned QR code.
	QR string
	// Liveness is the verdict of the liveness check on Face. Unless the
	// door's policy carries FaceWithoutLiveness, a face counts only when it
	// is Live; the verdict is logged with every attempt that has a face.
	Liveness Liveness
}

func (a Attempt) presented() Factors {
	var f Factors
	if a.Face != nil {
		f |= Face
	}
	if a.Card != nil {
		f |= Card
	}
	if a.PIN != "" {
		f |= PIN
	}
	if a.QR != "" {
		f |= QR
	}
	return f
}

// Decision is the gate's answer to an Attempt.
type Decision struct {
	// Admit says whether the door opens.
	Admit bool
	// Method is the set of factors that decided: the valid factors of the
	// admitted subject, or what was presented when denied.
	Method Factors
	// Subject is the subject admitted, or the one the attempt named when
	// it was denied for a reason tied to them (lockout, expiry); "" when
	// nobody was recognised. It is logged only as a daily pseudonym.
	Subject string
	// Reason says why, as a fixed phrase that never holds an ID.
	Reason string
	// Err is nil when admitted; otherwise it matches (errors.Is) the cause
	// of every factor that failed, e.g. ErrLockedOut or ErrReplayed.
	Err error
	// Distance is the face distance when a face was matched.
	Distance float32
	// Liveness is the attempt's liveness verdict when it had a face.
	Liveness Liveness
}

// Admit decides an attempt under the door's policy and logs the decision.
// Every factor presented is checked: a face must match a subject with
// valid face consent; a card must be enrolled; a PIN must be right for the
// subject typed (or named by the other factors); a QR code must be
// authentic, unexpired and unused. All valid factors must name the same
// subject. A QR code is consumed only when it opens the door.
func (g *Gate) Admit(a Attempt) Decision {
	d := g.admit(a)
	if g.cfg.Log != nil {
		reason := d.Reason
		if d.Admit {
			reason = ""
		}
		e := accesslog.Entry{Gate: a.Door, Method: d.Method.String(), Admitted: d.Admit, Reason: reason, Subject: d.Subject}
		if a.Face != nil {
			e.Liveness = a.Liveness.String()
		}
		if err := g.cfg.Log.Append(e); err != nil {
			// A door that cannot log does not open: the log is part of the
			// access control.
			d = Decision{Method: d.Method, Reason: "access log unavailable", Err: fmt.Errorf("gate: access log: %w", err), Liveness: d.Liveness}
		}
	}
	return d
}

type claim struct {
	f       Factors
	subject string
}

func (g *Gate) admit(a Attempt) Decision {
	presented := a.presented()
	if presented == 0 {
		return Decision{Reason: "nothing presented", Err: ErrNoFactor}
	}
	var (
		valid    []claim
		errs     []error
		named    string // a subject tied to a failure, for the log
		distance float32
		qr       QRCode
		taken    bool // qr is marked used and must be released if denied
	)
	fail := func(f Factors, subject string, err error) {
		errs = append(errs, fmt.Errorf("%v: %w", f, err))
		if subject != "" {
			named = subject
		}
	}
	if a.Face != nil {
		// A face without the liveness the door requires is not matched at
		// all: nothing about a presentation attack's match is revealed.
		if err := g.policy(a.Door).liveness(a.Liveness); err != nil {
			fail(Face, "", err)
		} else {
			s, dist, err := g.matchFace(a.Face)
			distance = dist
			if err != nil {
				fail(Face, s, err)
			} else {
				valid = append(valid, claim{Face, s})
			}
		}
	}
	if a.Card != nil {
		if s, err := g.matchCard(a.Card); err != nil {
			fail(Card, s, err)
		} else {
			valid = append(valid, claim{Card, s})
		}
	}
	if a.QR != "" {
		q, s, err := g.takeQR(a.QR)
		if err != nil {
			fail(QR, s, err)
		} else {
			qr, taken = q, true
			valid = append(valid, claim{QR, s})
		}
	}
	if a.PIN != "" {
		s := a.Subject
		if s == "" && len(valid) > 0 {
			s = valid[0].subject
		}
		switch {
		case s == "":
			fail(PIN, "", fmt.Errorf("%w: a PIN needs a subject ID or another factor", ErrUnknownSubject))
		default:
			if err := g.checkPIN(s, a.PIN); err != nil {
				if errors.Is(err, ErrUnknownSubject) {
					s = ""
				}
				fail(PIN, s, err)
			} else {
				valid = append(valid, claim{PIN, s})
			}
		}
	}
	d := g.decide(a, presented, valid, errs, named)
	d.Distance = distance
	if a.Face != nil {
		d.Liveness = a.Liveness
	}
	if taken && !d.Admit {
		if err := g.releaseQR(qr); err != nil {
			d.Err = errors.Join(d.Err, fmt.Errorf("gate: release QR code: %w", err))
		}
	}
	return d
}

// decide applies the door's policy to the factors checked.
func (g *Gate) decide(a Attempt, presented Factors, valid []claim, errs []error, named string) Decision {
	d := Decision{Method: presented}
	if len(valid) == 0 {
		d.Subject = named
		d.Err = errors.Join(errs...)
		d.Reason = reason(errs)
		return d
	}
	subject := valid[0].subject
	var f Factors
	for _, c := range valid {
		if c.subject != subject {
			d.Err = fmt.Errorf("%w: %v names one subject, %v another", ErrConflict, valid[0].f, c.f)
			d.Reason = "factors name different subjects"
			return d
		}
		f |= c.f
	}
	d.Subject = subject
	pol := g.policy(a.Door)
	if !pol.Accepts(f) {
		d.Err = errors.Join(append([]error{fmt.Errorf("%w: %v is not enough under %v", ErrNotEnoughFactors, f, pol)}, errs...)...)
		d.Reason = "not enough factors for this door"
		// A face refused for liveness is why there are not enough: say so.
		if r := reason(errs); r == "liveness check failed" || r == "liveness not checked" {
			d.Reason = r
		}
		return d
	}
	d.Admit, d.Method, d.Reason = true, f, "admitted by "+f.String()
	return d
}

// reasons are the fixed phrases Decision.Reason and the access log use:
// never an error's text, which may hold a subject ID.
var reasons = []struct {
	err    error
	phrase string
}{
	{ErrLockedOut, "PIN locked out"},
	{ErrNotLive, "liveness check failed"},
	{ErrLivenessUnchecked, "liveness not checked"},
	{ErrReplayed, "QR code already used"},
	{ErrClockBackwards, "gate clock set back"},
	{ErrConsentExpired, "consent expired"},
	{ErrNoConsent, "no consent"},
	{ErrQRExpired, "QR code expired"},
	{ErrMalformedQR, "invalid QR code"},
	{ErrWrongPIN, "wrong PIN"},
	{ErrNoPIN, "no PIN set"},
	{ErrInvalidPIN, "wrong PIN"},
	{ErrWrongCard, "unreadable card"},
	{ErrInvalidDescriptor, "unusable face probe"},
	{ErrNoFace, "face recognition not available"},
	{ErrInvalidSubject, "unknown subject"},
	{ErrUnknownSubject, "not recognised"},
}

// reason picks the most telling failure, as a fixed phrase.
func reason(errs []error) string {
	for _, r := range reasons {
		for _, e := range errs {
			if errors.Is(e, r.err) {
				return r.phrase
			}
		}
	}
	return "denied"
}

// matchFace identifies a face probe and checks its subject's consents.
func (g *Gate) matchFace(descriptor []float32) (string, float32, error) {
	if g.cfg.Faces == nil {
		return "", 0, fmt.Errorf("%w: the gate has no gallery", ErrNoFace)
	}
	probe, err := g.transform().Apply(descriptor)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	matches, err := g.cfg.Faces.Identify(probe, 1)
	probe.Wipe()
	if errors.Is(err, ErrNoFace) {
		return "", 0, err // the gallery is switched off (a stale compound gate)
	}
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	if len(matches) == 0 {
		return "", 0, fmt.Errorf("%w: no face within the threshold", ErrUnknownSubject)
	}
	id, dist := matches[0].ID, matches[0].Distance
	if err := g.consentValid(id, PurposeFace); err != nil {
		return id, dist, err
	}
	return id, dist, nil
}

// matchCard looks a card up by its MAC.
func (g *Gate) matchCard(uid []byte) (string, error) {
	m, err := cardMAC(g.cfg.Keys.Card, uid)
	if err != nil {
		return "", err
	}
	owner, err := g.cfg.Records.GetRecord(indexSubject, cardIndexClass, hexString(m))
	if records.NotFound(err) {
		return "", fmt.Errorf("%w: card not enrolled", ErrUnknownSubject)
	}
	if err != nil {
		return "", err
	}
	s := string(owner)
	return s, g.consentValid(s, PurposeEntry)
}
