package gate

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

// Gallery is the in-memory face matcher the gate keeps in step with the
// store; *facematch.Gallery satisfies it. It holds protected vectors only:
// the store's revocable transform preserves distances, so matching in the
// protected space gives the same answers.
type Gallery interface {
	// Add adds one more protected template for subject id.
	Add(id string, e facematch.Embedding) error
	// Remove drops every template of id (facematch.ErrUnknownID when it
	// holds none).
	Remove(id string) error
	// Identify returns up to k subjects within the match threshold of the
	// protected probe, closest first.
	Identify(e facematch.Embedding, k int) ([]facematch.Match, error)
}

// A Verifier is a Gallery that also compares a protected probe with one
// subject's templates (1:1), as *facematch.Gallery does; Gate.Verify
// needs one.
type Verifier interface {
	Gallery
	// Verify returns the smallest distance between e and id's templates
	// and whether it is within the threshold (facematch.ErrUnknownID when
	// id has none).
	Verify(id string, e facematch.Embedding) (float32, bool, error)
}

// Store layout of the gate's own indexes, under subjects with a "/" that
// no subject ID can contain.
const (
	indexSubject   = "gate/index"
	subjectsClass  = "subjects"
	cardIndexClass = "card"
	qrIndexClass   = "qr"
	qrUsedSubject  = "gate/qr-used"
	qrUsedClass    = "used"
	cardName       = "card"
	pinName        = "pin"
)

// MaxSubjectLen is the longest subject ID.
const MaxSubjectLen = 64

// CheckSubject returns ErrInvalidSubject unless id is 1..MaxSubjectLen
// characters from [A-Za-z0-9._-].
func CheckSubject(id string) error {
	if len(id) == 0 || len(id) > MaxSubjectLen {
		return fmt.Errorf("%w: %d characters, want 1..%d", ErrInvalidSubject, len(id), MaxSubjectLen)
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q holds %q", ErrInvalidSubject, id, c)
		}
	}
	return nil
}

// Config configures a Gate.
type Config struct {
	// Records is the sealed store. Required.
	Records records.Store
	// Keys are the operator's credential and receipt keys. Required.
	Keys Keys
	// Faces is the face gallery; nil runs the gate without faces (cards,
	// PINs and QR codes only).
	Faces Gallery
	// Model is the face model whose descriptors the gate receives (its ID
	// and Dim select the store's transform). Required with Faces.
	Model facematch.Model
	// Log receives every decision; nil keeps no log.
	Log *accesslog.Log
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Policy is the default door policy.
	Policy Policy
	// Doors sets the policy of individual doors by ID.
	Doors map[string]Policy
	// PINParams are the Argon2id parameters of new PINs; zero means
	// DefaultPINParams.
	PINParams PINParams
	// MaxPINFailures locks a PIN after that many failures in a row; zero
	// means DefaultMaxPINFailures.
	MaxPINFailures int
	// QRLifetime is how long issued QR codes live; zero means
	// DefaultQRLifetime.
	QRLifetime time.Duration
	// FaceSlots is how many face templates every subject's fixed slots
	// hold in a store that keeps a shape (see shape.go); zero means
	// DefaultFaceSlots.
	FaceSlots int
}

// Gate is a compound's access control: subjects, their consents and
// credentials, and decisions at the doors. It is safe for concurrent use.
type Gate struct {
	cfg Config
	// strictest is the door policy every enrolled face must have a
	// face-free alternative under.
	strictest Policy

	mu sync.Mutex // serialises changes to subjects and credential state

	// trMu guards tr, the store's transform for cfg.Model, loaded by New
	// and refreshed by ReloadFaces (after a re-key), so that matching a
	// probe does not read the store.
	trMu sync.RWMutex
	tr   *template.Transform

	// damaged lists what New could not load (see Damaged).
	damaged []error
}

// New returns a Gate on cfg. With a gallery it loads into it every face
// template of every subject whose face consent is valid. A subject whose
// records cannot be trusted (records.ErrDamaged: modified, replayed or
// deleted behind the store's back, or on a damaged page) is left out of
// the gallery and listed by Damaged, instead of keeping the gate from
// starting: everyone else's faces, and every card, PIN and QR code whose
// own records are sound, keep working.
func New(cfg Config) (*Gate, error) {
	if cfg.Records == nil {
		return nil, fmt.Errorf("%w: no record store", ErrConfig)
	}
	if err := cfg.Keys.check(); err != nil {
		return nil, err
	}
	if cfg.Faces != nil && (cfg.Model.ID == "" || cfg.Model.Dim < 1) {
		return nil, fmt.Errorf("%w: a gallery needs a model ID and dimension", ErrConfig)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.PINParams == (PINParams{}) {
		cfg.PINParams = DefaultPINParams
	}
	if err := cfg.PINParams.check(); err != nil {
		return nil, err
	}
	if cfg.MaxPINFailures == 0 {
		cfg.MaxPINFailures = DefaultMaxPINFailures
	}
	if cfg.MaxPINFailures < 1 {
		return nil, fmt.Errorf("%w: MaxPINFailures %d", ErrConfig, cfg.MaxPINFailures)
	}
	if cfg.QRLifetime == 0 {
		cfg.QRLifetime = DefaultQRLifetime
	}
	if cfg.QRLifetime < time.Second || cfg.QRLifetime > 24*time.Hour {
		return nil, fmt.Errorf("%w: QR lifetime %v, want 1s..24h", ErrConfig, cfg.QRLifetime)
	}
	if cfg.FaceSlots == 0 {
		cfg.FaceSlots = DefaultFaceSlots
	}
	g := &Gate{cfg: cfg, strictest: cfg.Policy.rule()}
	g.setShape()
	for door, p := range cfg.Doors {
		if !p.Valid() {
			return nil, fmt.Errorf("%w: door %q has %v", ErrConfig, door, p)
		}
		g.strictest = max(g.strictest, p.rule())
	}
	if !cfg.Policy.Valid() {
		return nil, fmt.Errorf("%w: default %v", ErrConfig, cfg.Policy)
	}
	if cfg.Faces != nil {
		if err := g.loadTransform(); err != nil {
			return nil, err
		}
		if err := g.loadGallery(); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// loadTransform fetches the store's current transform for the gate's
// model.
func (g *Gate) loadTransform() error {
	tr, err := g.cfg.Records.Transform(g.cfg.Model.ID, g.cfg.Model.Dim)
	if err != nil {
		return err
	}
	g.trMu.Lock()
	g.tr = tr
	g.trMu.Unlock()
	return nil
}

// transform returns the transform loaded by New or the last ReloadFaces.
func (g *Gate) transform() *template.Transform {
	g.trMu.RLock()
	defer g.trMu.RUnlock()
	return g.tr
}

func (g *Gate) now() time.Time { return g.cfg.Clock().UTC() }

func (g *Gate) loadGallery() error {
	subjects, err := g.Subjects()
	if errors.Is(err, records.ErrDamaged) {
		g.damaged = append(g.damaged, fmt.Errorf("gate: subject list: %w", err))
		return nil
	}
	if err != nil {
		return err
	}
	for _, s := range subjects {
		err := g.loadFaces(s, "load")
		if errors.Is(err, records.ErrDamaged) {
			g.removeFaces(s)
			g.damaged = append(g.damaged, fmt.Errorf("gate: faces of %q not loaded: %w", s, err))
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Damaged returns one error per subject whose faces New left out of the
// gallery because their records could not be trusted (each matches
// records.ErrDamaged and names the record), or nil. Log it at start-up and
// run the store's check; the subjects it names still get in by card, PIN
// or QR code if those records are sound.
func (g *Gate) Damaged() []error { return g.damaged }

// loadFaces adds subject's stored templates to the gallery if their face
// consent is valid; verb names the operation in the error of a failed add.
// A consent that cannot be read because it is damaged is an error (a
// missing or lapsed one is not).
func (g *Gate) loadFaces(subject, verb string) error {
	if err := g.consentValid(subject, PurposeFace); err != nil {
		if errors.Is(err, records.ErrDamaged) {
			return err
		}
		return nil
	}
	tmpls, err := g.templates(subject)
	if err != nil {
		return err
	}
	for _, t := range tmpls {
		if err := g.addStored(subject, t); err != nil {
			return fmt.Errorf("gate: %s %s into the gallery: %w", verb, subject, err)
		}
	}
	return nil
}

// Subjects returns every registered subject ID in ascending order.
func (g *Gate) Subjects() ([]string, error) {
	names, err := g.cfg.Records.ListRecords(indexSubject, subjectsClass)
	if records.NotFound(err) {
		return nil, nil
	}
	return names, err
}

// addStored puts one stored template of subject into the gallery, labelled
// with the model that made it. A template of another model than the gate's
// (a store that went through a model change, say) is left out: its vector
// lives in another space and must never be compared with this model's
// probes. It stays in the store and is listed by Templates and Export.
func (g *Gate) addStored(subject string, t storedTemplate) error {
	if t.Model != g.cfg.Model.ID {
		return nil
	}
	return g.cfg.Faces.Add(subject, facematch.Embedding{Model: t.Model, Vector: t.Vector})
}

func (g *Gate) embedding(v []float32) facematch.Embedding {
	return facematch.Embedding{Model: g.cfg.Model.ID, Vector: v}
}

// removeFaces drops subject from the gallery; a subject it does not hold
// is not an error.
func (g *Gate) removeFaces(subject string) error {
	if g.cfg.Faces == nil {
		return nil
	}
	if err := g.cfg.Faces.Remove(subject); err != nil && !errors.Is(err, facematch.ErrUnknownID) {
		return fmt.Errorf("gate: remove %q from the gallery: %w", subject, err)
	}
	return nil
}

func (g *Gate) exists(subject string) error {
	if err := CheckSubject(subject); err != nil {
		return err
	}
	_, err := g.cfg.Records.GetRecord(indexSubject, subjectsClass, subject)
	if records.NotFound(err) {
		return fmt.Errorf("%w: %q", ErrUnknownSubject, subject)
	}
	return err
}

// Register adds a subject with their consent to compound entry
// (PurposeEntry), which lets the gate hold their cards, PINs and QR codes.
func (g *Gate) Register(subject string, entry Consent) error {
	if err := CheckSubject(subject); err != nil {
		return err
	}
	if entry.Purpose != PurposeEntry {
		return fmt.Errorf("%w: registration needs %s consent, got %q", ErrInvalidConsent, PurposeEntry, entry.Purpose)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err == nil {
		return fmt.Errorf("%w: %q", ErrSubjectExists, subject)
	} else if !errors.Is(err, ErrUnknownSubject) {
		return err
	}
	// One transaction: a crash leaves the subject registered with its
	// consent, or not at all.
	return g.cfg.Records.Update(func(b records.Batch) error {
		if err := g.putConsent(b, subject, entry); err != nil {
			return err
		}
		for _, c := range []string{cardIndexClass, qrIndexClass} {
			if err := putPlaceholder(b, c, subject); err != nil {
				return err
			}
		}
		return b.PutRecord(indexSubject, subjectsClass, subject, nil)
	})
}

// GiveConsent records (or renews) a consent of a registered subject.
// Renewing face consent after it expired lets face matching resume.
func (g *Gate) GiveConsent(subject string, c Consent) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return err
	}
	if err := g.cfg.Records.Update(func(b records.Batch) error { return g.putConsent(b, subject, c) }); err != nil {
		return err
	}
	if c.Purpose == PurposeFace && g.cfg.Faces != nil {
		// Templates kept through an expiry are matched again.
		if err := g.removeFaces(subject); err != nil {
			return err
		}
		tmpls, err := g.templates(subject)
		if err != nil {
			return err
		}
		for _, t := range tmpls {
			if err := g.addStored(subject, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// putConsent writes a consent record, moving the one it replaces to the
// history, in the batch b.
func (g *Gate) putConsent(b records.Batch, subject string, c Consent) error {
	now := g.now()
	if c.Given.IsZero() {
		c.Given = now
	}
	c.Given = c.Given.UTC()
	if err := c.validate(now); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	// The consent being replaced moves to the history, so the operator can
	// show which consent covered any past processing.
	old, err := b.GetRecord(subject, records.ClassConsent, string(c.Purpose))
	switch {
	case err == nil:
		prev, err := DecodeConsent(old)
		if err != nil {
			return err
		}
		if err := b.PutRecord(subject, records.ClassConsent, historyName(prev), old); err != nil {
			return err
		}
	case !records.NotFound(err):
		return err
	}
	return b.PutRecord(subject, records.ClassConsent, string(c.Purpose), data)
}

// historyPrefix starts the names of replaced consent records.
const historyPrefix = "history/"

func historyName(c Consent) string {
	return historyPrefix + string(c.Purpose) + "/" + c.Given.UTC().Format("20060102T150405.000000000Z")
}

// ConsentHistory returns the subject's replaced consent records (renewed
// or withdrawn and then given again), oldest first within each purpose.
func (g *Gate) ConsentHistory(subject string) ([]Consent, error) {
	if err := g.exists(subject); err != nil {
		return nil, err
	}
	names, err := g.cfg.Records.ListRecords(subject, records.ClassConsent)
	if err != nil {
		return nil, err
	}
	var out []Consent
	for _, n := range names {
		if !strings.HasPrefix(n, historyPrefix) {
			continue
		}
		data, err := g.cfg.Records.GetRecord(subject, records.ClassConsent, n)
		if err != nil {
			return nil, err
		}
		c, err := DecodeConsent(data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Consent returns the subject's consent record for purpose, or
// ErrNoConsent when there is none.
func (g *Gate) Consent(subject string, purpose Purpose) (Consent, error) {
	if err := CheckSubject(subject); err != nil {
		return Consent{}, err
	}
	if !purpose.Valid() {
		return Consent{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, purpose)
	}
	data, err := g.cfg.Records.GetRecord(subject, records.ClassConsent, string(purpose))
	if records.NotFound(err) {
		return Consent{}, fmt.Errorf("%w: %q has no %s consent", ErrNoConsent, subject, purpose)
	}
	if err != nil {
		return Consent{}, err
	}
	return DecodeConsent(data)
}

// consentValid returns nil when the subject holds a valid consent for
// purpose now; face recognition also needs a valid entry consent.
func (g *Gate) consentValid(subject string, purpose Purpose) error {
	c, err := g.Consent(subject, purpose)
	if err != nil {
		return err
	}
	if err := c.ValidAt(g.now()); err != nil {
		return err
	}
	if purpose == PurposeFace {
		return g.consentValid(subject, PurposeEntry)
	}
	return nil
}

// held returns the non-face credentials a subject holds.
func (g *Gate) held(subject string) (Factors, error) {
	var f Factors
	for _, c := range []struct {
		name string
		f    Factors
	}{{cardName, Card}, {pinName, PIN}} {
		_, err := g.cfg.Records.GetRecord(subject, records.ClassCredential, c.name)
		switch {
		case err == nil:
			f |= c.f
		case !records.NotFound(err):
			return 0, err
		}
	}
	return f, nil
}

func (g *Gate) policy(door string) Policy {
	if p, ok := g.cfg.Doors[door]; ok {
		return p
	}
	return g.cfg.Policy
}

// TemplateInfo describes a stored face template without its vector.
type TemplateInfo struct {
	// ID names the template within its subject.
	ID string `json:"id"`
	// Model is the face model that produced it.
	Model string `json:"model"`
	// Transform is the hex ID of the transform key that protects it.
	Transform string `json:"transform"`
	// Dim is the vector's dimension.
	Dim int `json:"dim"`
	// Quality is the capture quality score.
	Quality float32 `json:"quality"`
	// Created is when it was enrolled.
	Created time.Time `json:"created"`
}

type storedTemplate struct {
	TemplateInfo
	Vector []float32
}

func (g *Gate) templates(subject string) ([]storedTemplate, error) {
	entries, err := g.cfg.Records.Templates(subject)
	if records.NotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gate: face templates of %q: %w", subject, err)
	}
	out := make([]storedTemplate, len(entries))
	for i, e := range entries {
		out[i] = storedTemplate{infoOf(e.ID, &e.Template), e.Template.Vector}
	}
	return out, nil
}

func infoOf(id uint64, t *template.Template) TemplateInfo {
	return TemplateInfo{
		ID: fmt.Sprintf("%016x", id), Model: t.ModelID, Transform: hex.EncodeToString(t.TransformID[:]),
		Dim: t.Dim(), Quality: t.Quality, Created: t.Created.UTC(),
	}
}

// EnrollFace stores a face template for subject and adds it to the
// gallery. The descriptor is protected by the transform first; the raw
// descriptor is never stored. It fails with ErrNoConsent or
// ErrConsentExpired without a valid face consent, and with
// ErrNoAlternative unless the subject already holds a face-free way in
// under the strictest door policy.
func (g *Gate) EnrollFace(subject string, descriptor []float32, quality float32) (TemplateInfo, error) {
	if g.cfg.Faces == nil {
		return TemplateInfo{}, fmt.Errorf("%w: the gate has no gallery", ErrNoFace)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return TemplateInfo{}, err
	}
	if err := g.consentValid(subject, PurposeFace); err != nil {
		return TemplateInfo{}, err
	}
	held, err := g.held(subject)
	if err != nil {
		return TemplateInfo{}, err
	}
	if _, ok := g.strictest.Alternative(held); !ok {
		return TemplateInfo{}, fmt.Errorf("%w: %q holds %v, doors under %v need more", ErrNoAlternative, subject, held, g.strictest)
	}
	tr, err := g.cfg.Records.Transform(g.cfg.Model.ID, g.cfg.Model.Dim)
	if err != nil {
		return TemplateInfo{}, err
	}
	t, err := tr.Protect(descriptor, quality, g.now())
	if err != nil {
		return TemplateInfo{}, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	if err := g.cfg.Faces.Add(subject, g.embedding(t.Vector)); err != nil {
		return TemplateInfo{}, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	id, err := g.cfg.Records.AddTemplate(subject, t)
	if err != nil {
		g.removeFaces(subject)
		g.reloadFaces(subject)
		return TemplateInfo{}, err
	}
	return infoOf(id, &t), nil
}

// reloadFaces puts a subject's stored templates back in the gallery after
// a failed change. g.mu must be held.
func (g *Gate) reloadFaces(subject string) {
	tmpls, err := g.templates(subject)
	if err != nil {
		return
	}
	for _, t := range tmpls {
		g.addStored(subject, t)
	}
}

// ReloadFaces fetches the store's current transform and puts every
// subject's stored templates back into the gallery, replacing what it held
// for them. Call it after store.RekeyTransform: the gallery still holds
// vectors under the old transform key, and the gate protects probes with
// the old transform, until then.
func (g *Gate) ReloadFaces() error {
	if g.cfg.Faces == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.loadTransform(); err != nil {
		return err
	}
	subjects, err := g.Subjects()
	if err != nil {
		return err
	}
	for _, s := range subjects {
		if err := g.removeFaces(s); err != nil {
			return err
		}
		if err := g.loadFaces(s, "reload"); err != nil {
			return err
		}
	}
	return nil
}

// Templates lists a subject's face templates, without their vectors.
func (g *Gate) Templates(subject string) ([]TemplateInfo, error) {
	if err := g.exists(subject); err != nil {
		return nil, err
	}
	tmpls, err := g.templates(subject)
	if err != nil {
		return nil, err
	}
	infos := make([]TemplateInfo, len(tmpls))
	for i, t := range tmpls {
		infos[i] = t.TemplateInfo
	}
	return infos, nil
}

// Originals returns the stored (protected) face templates of subject
// under the gate's model, read back from the sealed store: the vectors the
// gate put into its gallery. It is meant as the GalleryConfig.Originals of
// an Int8 facematch.Gallery, which then takes its decisions on these
// rather than on its 8-bit copies while keeping only those in memory (see
// the Int8 gallery example). A subject with no such template, or not
// registered, is an error wrapping facematch.ErrUnknownID.
func (g *Gate) Originals(subject string) ([]facematch.Embedding, error) {
	tmpls, err := g.templates(subject)
	if err != nil {
		return nil, err
	}
	var out []facematch.Embedding
	for _, t := range tmpls {
		if t.Model == g.cfg.Model.ID {
			out = append(out, facematch.Embedding{Model: t.Model, Vector: t.Vector})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("gate: %w: no %s template of %q", facematch.ErrUnknownID, g.cfg.Model.ID, subject)
	}
	return out, nil
}

// Withdraw withdraws a subject's consent for purpose and deletes what it
// covered, returning a receipt. Withdrawing PurposeFace crypto-shreds every
// face template of the subject at once and drops them from the gallery;
// cards, PINs and QR codes keep working. Withdrawing PurposeEntry erases
// the subject altogether (see Erase).
func (g *Gate) Withdraw(subject string, purpose Purpose) (Receipt, error) {
	switch purpose {
	case PurposeEntry:
		return g.Erase(subject)
	case PurposeFace:
	default:
		return Receipt{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, purpose)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return Receipt{}, err
	}
	now := g.now()
	c, err := g.Consent(subject, PurposeFace)
	if err != nil {
		return Receipt{}, err
	}
	names, err := g.templates(subject)
	if err != nil {
		return Receipt{}, err
	}
	// Out of the gallery first, so nothing matches from here on; then the
	// consent marked withdrawn and the templates shredded in one
	// transaction, so a crash cannot leave one without the other.
	if err := g.removeFaces(subject); err != nil {
		return Receipt{}, err
	}
	err = g.cfg.Records.Update(func(b records.Batch) error {
		if c.Withdrawn.IsZero() {
			c.Withdrawn = now
			data, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := b.PutRecord(subject, records.ClassConsent, string(PurposeFace), data); err != nil {
				return err
			}
		}
		if err := b.ShredClass(subject, records.ClassFace); err != nil && !records.NotFound(err) {
			return fmt.Errorf("gate: shred face templates of %q: %w", subject, err)
		}
		return nil
	})
	if err != nil {
		g.reloadFaces(subject)
		return Receipt{}, err
	}
	return g.receipt(subject, PurposeFace, len(names), []string{
		fmt.Sprintf("face templates: %d (data key destroyed)", len(names)),
		"face gallery entries",
		"face-recognition consent: marked withdrawn",
	}), nil
}

func (g *Gate) receipt(subject string, p Purpose, n int, deleted []string) Receipt {
	r := Receipt{Subject: subject, Purpose: p, Deleted: deleted, Templates: n, At: g.now()}
	r.MAC = r.mac(g.cfg.Keys.Receipt)
	return r
}

// Erase deletes everything held about a subject — consents, face
// templates, card, PIN, QR handle — by crypto-shredding every class of the
// subject, and returns a receipt. Access events stay in the log under their
// daily pseudonyms, which become unlinkable at the end of the retention
// window like everyone else's.
func (g *Gate) Erase(subject string) (Receipt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return Receipt{}, err
	}
	names, err := g.templates(subject)
	if err != nil {
		return Receipt{}, err
	}
	if err := g.removeFaces(subject); err != nil {
		return Receipt{}, err
	}
	var deleted []string
	// One transaction: a crash leaves the subject whole or gone, never an
	// index entry pointing at shredded data.
	err = g.cfg.Records.Update(func(b records.Batch) error {
		deleted = []string{fmt.Sprintf("face templates: %d", len(names)), "consent records"}
		if data, err := b.GetRecord(subject, records.ClassCredential, cardName); err == nil {
			if r, err := decodeCardRecord(data); err == nil {
				if err := b.DeleteRecord(indexSubject, cardIndexClass, hex.EncodeToString(r.MAC)); err != nil && !records.NotFound(err) {
					return err
				}
			}
			deleted = append(deleted, "card")
		}
		if _, err := b.GetRecord(subject, records.ClassCredential, pinName); err == nil {
			deleted = append(deleted, "PIN")
		}
		h := qrHandleOf(g.cfg.Keys.QR, subject)
		if err := b.DeleteRecord(indexSubject, qrIndexClass, hex.EncodeToString(h[:])); err != nil && !records.NotFound(err) {
			return err
		}
		for _, c := range []string{cardIndexClass, qrIndexClass} {
			if err := dropPlaceholder(b, c, subject); err != nil {
				return err
			}
		}
		if err := b.DeleteSubject(subject); err != nil && !records.NotFound(err) {
			return fmt.Errorf("gate: shred %q: %w", subject, err)
		}
		return b.DeleteRecord(indexSubject, subjectsClass, subject)
	})
	if err != nil {
		g.reloadFaces(subject)
		return Receipt{}, err
	}
	return g.receipt(subject, PurposeEntry, len(names), append(deleted, "subject (all data keys destroyed)")), nil
}
