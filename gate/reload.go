package gate

import "errors"

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
