package gate

import "errors"

// Errors returned by the gate layer; test with errors.Is. A denied
// Decision carries one of them in Decision.Err.
var (
	// ErrUnknownSubject is returned for a subject the gate does not hold,
	// and for a card, QR code or face that belongs to nobody.
	ErrUnknownSubject = errors.New("gate: unknown subject")
	// ErrSubjectExists is returned when registering a subject twice.
	ErrSubjectExists = errors.New("gate: subject already registered")
	// ErrInvalidSubject is returned for a subject ID that is empty, too
	// long, or holds characters outside [A-Za-z0-9._-].
	ErrInvalidSubject = errors.New("gate: invalid subject ID")
	// ErrNoConsent is returned when the consent a step needs was never
	// given or has been withdrawn.
	ErrNoConsent = errors.New("gate: no valid consent for this purpose")
	// ErrConsentExpired is returned when the consent a step needs has
	// expired; it must be renewed.
	ErrConsentExpired = errors.New("gate: consent expired")
	// ErrInvalidConsent is returned for a consent record that cannot be
	// accepted (missing fields, a subject under 14 without a guardian, an
	// expiry before the date given).
	ErrInvalidConsent = errors.New("gate: invalid consent")
	// ErrNoAlternative is returned when a face would become a subject's only
	// way in: enroll a card or PIN first (for high-security doors, both).
	ErrNoAlternative = errors.New("gate: subject has no non-face way in")
	// ErrNoFace is returned when face matching is asked of a gate without a
	// gallery, or when a subject has no face template.
	ErrNoFace = errors.New("gate: no face templates")
	// ErrInvalidDescriptor is returned for a face descriptor the transform
	// or the gallery rejects.
	ErrInvalidDescriptor = errors.New("gate: invalid face descriptor")
	// ErrWrongCard is returned for a card UID that is empty or too long.
	ErrWrongCard = errors.New("gate: invalid card UID")
	// ErrCardInUse is returned when a card is enrolled for two subjects.
	ErrCardInUse = errors.New("gate: card already enrolled for another subject")
	// ErrInvalidPIN is returned for a PIN that is not 4 to 12 digits.
	ErrInvalidPIN = errors.New("gate: PIN must be 4 to 12 digits")
	// ErrWrongPIN is returned for a PIN that does not match.
	ErrWrongPIN = errors.New("gate: wrong PIN")
	// ErrLockedOut is returned once a PIN has failed MaxPINFailures times in
	// a row; the operator lifts it with UnlockPIN or SetPIN.
	ErrLockedOut = errors.New("gate: PIN locked out after repeated failures")
	// ErrNoPIN is returned when a PIN is tried for a subject without one.
	ErrNoPIN = errors.New("gate: subject has no PIN")
	// ErrMalformedQR is returned for a QR code that does not decode or
	// whose MAC does not verify.
	ErrMalformedQR = errors.New("gate: malformed or forged QR code")
	// ErrQRExpired is returned for a QR code past its expiry.
	ErrQRExpired = errors.New("gate: QR code expired")
	// ErrReplayed is returned for a QR code that was already accepted once.
	ErrReplayed = errors.New("gate: QR code already used")
	// ErrClockBackwards is returned for a QR code presented while the
	// gate's clock is behind the newest QR use it recorded: a clock set back
	// could bring used codes back to life, so QR codes are refused until the
	// clock is right again (cards, PINs and faces keep working).
	ErrClockBackwards = errors.New("gate: clock is behind the newest recorded QR use")
	// ErrConflict is returned when the factors of one attempt name
	// different subjects.
	ErrConflict = errors.New("gate: factors belong to different subjects")
	// ErrNotEnoughFactors is returned when an attempt's valid factors do not
	// satisfy the door's policy.
	ErrNotEnoughFactors = errors.New("gate: not enough factors for this door")
	// ErrNoFactor is returned for an attempt that presents nothing.
	ErrNoFactor = errors.New("gate: attempt presents no factor")
	// ErrBadReceipt is returned by VerifyReceipt for a receipt whose MAC
	// does not verify.
	ErrBadReceipt = errors.New("gate: receipt MAC does not verify")
	// ErrCorrupt is returned when a stored gate record does not decode.
	ErrCorrupt = errors.New("gate: corrupt record")
	// ErrConfig is returned by New for an unusable Config.
	ErrConfig = errors.New("gate: invalid configuration")
)
