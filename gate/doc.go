// Package gate is FaceGate's privacy policy layer and gate decision API.
//
// A Gate keeps, per subject (a resident or other person allowed in):
//
//   - consent records, one per purpose, sealed apart from everything else.
//     Face recognition is its own purpose (PurposeFace), never bundled with
//     compound entry (PurposeEntry); a subject under 14 needs a named
//     guardian's consent, judged from the birth year alone;
//   - face templates, only while face consent is valid, protected by the
//     revocable transform before they are stored;
//   - credentials that work without a face: a card UID kept only as a keyed
//     MAC, a PIN kept only as an Argon2id hash with lockout, and one-time QR
//     codes that expire within minutes and are accepted once.
//
// Gate.Admit turns what a door saw into a Decision under the door's Policy.
// Every policy has a path in that does not use the face, and a face can be
// enrolled only for a subject who already has that path (ErrNoAlternative).
//
// Withdrawing face consent crypto-shreds every face template of the subject
// at once, drops them from the in-memory gallery and returns a Receipt the
// operator can verify with VerifyReceipt; the subject's other credentials
// are untouched. Export answers a subject's right of access with everything
// held about them, as JSON, with no biometric vector in it.
//
// Access events go to an accesslog.Log, which stores the subject only as a
// per-day pseudonym whose key is destroyed after the retention window.
//
// The gate builds on two narrow interfaces: records.Store for sealed storage
// (FaceGate's bbolt store) and Gallery for matching (gallery.Gallery).
package gate
