package gate

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

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

// addStored puts one stored template of subject into the gallery, labelled
// with the model that made it. A template of another model than the gate's
// (a store that went through a model change, say) is left out: its vector
// lives in another space and must never be compared with this model's
// probes. It stays in the store and is listed by Templates and Export.
func (g *Gate) addStored(subject string, t storedTemplate) error {
	if t.Model != g.cfg.Model.ID {
		return nil
	}
	return g.cfg.Faces.Add(subject, t.Vector)
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
	Vector template.Protected
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
		out[i] = storedTemplate{infoOf(e.ID, &e.Template), e.Template.Protected}
	}
	return out, nil
}

func infoOf(id uint64, t *template.Template) TemplateInfo {
	tid := t.TransformID()
	return TemplateInfo{
		ID: fmt.Sprintf("%016x", id), Model: t.ModelID(), Transform: hex.EncodeToString(tid[:]),
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
	if err := g.cfg.Faces.Add(subject, t.Protected); err != nil {
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
func (g *Gate) Originals(subject string) ([]template.Protected, error) {
	tmpls, err := g.templates(subject)
	if err != nil {
		return nil, err
	}
	var out []template.Protected
	for _, t := range tmpls {
		if t.Model == g.cfg.Model.ID {
			out = append(out, t.Vector)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("gate: %w: no %s template of %q", facematch.ErrUnknownID, g.cfg.Model.ID, subject)
	}
	return out, nil
}

// ReloadSubject puts subject's stored face templates back into the gallery,
// replacing what it held for them, if their face consent is valid; a
// subject with no valid face consent (withdrawn, say) or no longer in the
// store leaves the gallery with nothing of theirs. Call it after something
// other than this Gate changed the subject's records in the store — the
// sync agent of package compound applying the office's changes.
func (g *Gate) ReloadSubject(subject string) error {
	if g.cfg.Faces == nil {
		return nil
	}
	if err := CheckSubject(subject); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.removeFaces(subject); err != nil {
		return err
	}
	if err := g.exists(subject); errors.Is(err, ErrUnknownSubject) {
		return nil
	} else if err != nil {
		return err
	}
	return g.loadFaces(subject, "reload")
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
