// Package exitcode is the one place where the example programs turn the
// typed errors of FaceGate's packages into a process exit code and a hint
// that tells the operator what to do next.
//
// The codes are:
//
//	0  ok
//	1  no match, or access denied
//	2  usage: unknown command, bad or missing flag
//	3  bad input: photo, subject ID, consent, credential the library refused
//	4  store, key or model error: the store cannot be opened or is damaged,
//	   the key is wrong, the model files are missing
package exitcode

import (
	"errors"
	"io/fs"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

// The exit codes of the example programs.
const (
	// OK is success.
	OK = 0
	// Denied is a face that matched nobody, or an attempt the gate denied.
	Denied = 1
	// Usage is a command line that cannot be run as given.
	Usage = 2
	// BadInput is input the library refused: an unusable photo, an invalid
	// subject ID, a missing consent, a malformed credential.
	BadInput = 3
	// Store is a store, key or model error.
	Store = 4
)

// ErrUsage is wrapped by command-line errors (unknown command, bad flag).
var ErrUsage = errors.New("usage")

// ErrDenied is wrapped by outcomes that are a "no": no match, access
// denied. They are not failures of the program.
var ErrDenied = errors.New("denied")

// ErrInput is wrapped by errors about the program's own input (a photo
// that cannot be read, a malformed card UID) that the library never saw.
var ErrInput = errors.New("bad input")

// ErrNoStore is wrapped by the error for a store path where no file exists.
var ErrNoStore = errors.New("no store at that path")

// ErrSetup is wrapped by errors opening the model files or other parts of
// the installation.
var ErrSetup = errors.New("setup")

// rule maps errors matching err (errors.Is) to a code and a hint.
type rule struct {
	err  error
	code int
	hint string
}

// rules are checked in order; the first match wins.
var rules = []rule{
	{ErrUsage, Usage, "run the command with --help to see its flags"},
	{ErrDenied, Denied, ""},

	// Store and key.
	{ErrNoStore, Store, "create the store with `facegate init`, or point --store / FACEGATE_STORE at it"},
	{store.ErrWrongKey, Store, "the passphrase or key does not open this store: check --key-file, FACEGATE_KEY or FACEGATE_PASSPHRASE"},
	{store.ErrTampered, Store, "a record failed authentication: the file was modified; restore the store from a backup"},
	{store.ErrNotStore, Store, "the file is not a FaceGate store: check --store or FACEGATE_STORE (create one with `facegate init`)"},
	{store.ErrTruncated, Store, "the store file is truncated or damaged: restore it from a backup"},
	{store.ErrHeaderTampered, Store, "the store header asks for key-derivation work no FaceGate store is made with: the file was forged or damaged; restore it from a backup"},
	{store.ErrWeakPassphrase, BadInput, "choose a passphrase of at least 12 characters with at least 6 different ones, or use a 32-byte key file"},
	{store.ErrRolledBack, Store, "records were replayed, added or deleted behind the store's back (an older copy put back): run `facegate check`, then re-enroll the flats it names or restore the newest backup"},
	{store.ErrVersion, Store, "the store was written by another FaceGate release: a format-1 or format-2 store must be exported with the release that wrote it and re-enrolled; a newer one needs this program upgraded"},
	{store.ErrExists, Store, "a file already exists there: choose another --store path or remove the old store deliberately"},
	{store.ErrReadOnly, Store, "the store is open read-only (its file may not be written, or the command only reads): make the file writable (chmod u+w) to change it"},
	{store.ErrLocked, Store, "another process holds the store open (a running gate?): stop it or retry"},
	{store.ErrClosed, Store, "the store was closed while in use: retry"},
	{store.ErrNoSecret, Store, "give the store key: --key-file FILE, FACEGATE_KEY (64 hex digits), FACEGATE_PASSPHRASE, or run in a terminal to be prompted"},
	{store.ErrKeyEncoding, Store, "a key file or FACEGATE_KEY must hold 32 raw bytes or 64 hex digits (e.g. `head -c32 /dev/urandom | xxd -p -c64`)"},
	{store.ErrKeySize, Store, "a key must be 32 bytes"},
	{store.ErrKDFParams, Store, "the store header asks for unusable Argon2id parameters: the file is damaged or not a FaceGate store"},
	{ErrSetup, Store, "the model files are missing or unreadable: run `make setup`, or point --models / FACEGATE_MODELS at the model directory"},

	// Consent and subjects.
	{gate.ErrNoConsent, BadInput, "record the subject's consent first: `facegate consent record --id ID --purpose face ...` (face recognition needs its own consent)"},
	{gate.ErrConsentExpired, BadInput, "the consent has expired: renew it with `facegate consent record`"},
	{gate.ErrInvalidConsent, BadInput, "give --how, --birth-year, and --guardian for a subject who may be under 14"},
	{gate.ErrNoAlternative, BadInput, "a face may never be a subject's only way in: add a card or PIN first (`facegate credential card|pin --id ID`)"},
	{gate.ErrUnknownSubject, BadInput, "no such subject: `facegate list` shows who is registered; register with `facegate consent record --purpose entry`"},
	{gate.ErrSubjectExists, BadInput, "the subject is already registered: use `facegate consent record` to add or renew a consent"},
	{gate.ErrInvalidSubject, BadInput, "subject IDs are 1-64 characters of A-Z a-z 0-9 . _ -"},
	{gate.ErrNoFace, BadInput, "the subject has no face template (consent withdrawn, or never enrolled): enroll a photo, or use a card/PIN/QR"},

	// Credentials.
	{gate.ErrWrongCard, BadInput, "a card UID is 1-64 bytes, given as hex digits"},
	{gate.ErrCardInUse, BadInput, "that card belongs to another subject: remove it there first"},
	{gate.ErrInvalidPIN, BadInput, "a PIN is 4 to 12 digits"},
	{gate.ErrLockedOut, Denied, "the PIN is locked after repeated failures: the operator resets it with `facegate credential pin --id ID`"},
	{gate.ErrMalformedQR, BadInput, "the QR code is not one this gate issued: issue a new one with `facegate credential qr --id ID`"},
	{gate.ErrQRExpired, Denied, "the QR code has expired: issue a new one"},
	{gate.ErrReplayed, Denied, "each QR code opens the door once: issue a new one"},
	{gate.ErrWrongPIN, Denied, "wrong PIN: after repeated failures the PIN locks"},
	{gate.ErrNoPIN, Denied, "the subject has no PIN: set one with `facegate credential pin --id ID`"},
	{gate.ErrNotEnoughFactors, Denied, "this door needs the face and a card or PIN (or card and PIN) of the same subject"},
	{gate.ErrConflict, Denied, "the factors presented belong to different subjects"},
	{gate.ErrNoFactor, Usage, "present at least one of a face, card, PIN or QR code"},
	{gate.ErrBadReceipt, BadInput, "the receipt was altered or issued by another gate"},
	{gate.ErrInvalidDescriptor, BadInput, "the face descriptor was refused: check the photo"},
	{gate.ErrCorrupt, Store, "a stored gate record does not decode: the store is damaged"},
	{template.ErrWrongTransform, Store, "the templates were protected under another transform key: reload after `facegate rekey --transform`"},

	// Photos.
	{quality.NoFace, BadInput, "no face was found: use a frontal photo with one face, well lit"},
	{quality.MultipleFaces, BadInput, "more than one face: crop the photo to one person"},
	{quality.TooSmall, BadInput, "the face is too small: use a closer or larger photo"},
	{quality.PoseOff, BadInput, "the head is turned: use a photo looking straight at the camera"},
	{quality.TooDark, BadInput, "the face is too dark: use a better lit photo"},
	{quality.TooBright, BadInput, "the face is over-exposed: use a photo with less light on the face"},
	{quality.Blurred, BadInput, "the face is blurred: use a sharp photo"},
	{facematch.ErrNoFace, BadInput, "no face was found: use a frontal photo with one face, well lit"},
	{facematch.ErrMultipleFaces, BadInput, "more than one face: crop the photo to one person"},
	{facematch.ErrDecode, BadInput, "the file is not a JPEG or PNG image (or is too large)"},
	{capture.ErrOpen, BadInput, "the camera, video or image directory cannot be opened: check the device index or path"},
	{capture.ErrEmpty, BadInput, "the image cannot be decoded"},
	{ErrInput, BadInput, ""},
	{fs.ErrNotExist, BadInput, "check the path"},
	{fs.ErrPermission, BadInput, "check the file's permissions"},
}

// Of returns the exit code for err: OK for nil, the code of the first rule
// err matches, and Store for anything unknown (an I/O error of the store is
// the likeliest cause).
func Of(err error) int {
	if err == nil {
		return OK
	}
	for _, r := range rules {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	return Store
}

// Hint returns what the operator should do next about err, or "" when
// there is nothing to add.
func Hint(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range rules {
		if errors.Is(err, r.err) {
			return r.hint
		}
	}
	return "an unexpected error: check the store file and the disk; `facegate audit` and a backup restore may help"
}
