package template

// Protected is a face vector in the protected space of one transform key:
// a descriptor after [Transform.Protect] or [Transform.Apply], moved to a new
// key by a [Rekeyer], or read back from a template [Decode]d from a record
// the store sealed. It carries the model and transform it belongs to, and
// the matching engine (facematch/gallery) and the store accept nothing
// else, so a raw descriptor ([]float32, facematch.Face.Descriptor) passed
// where a protected one belongs is a compile error, not a runtime check.
//
// Why the type lives here: package template is a leaf (it imports no other
// FaceGate package), so facematch/gallery, gate/records, store and gate
// can all import it and imports still point down. Its fields are
// unexported, so outside this package a Protected is made only by the
// transform or by Decode, which is how sealed records come back. Decode
// trusts its input to be such a record: FaceGate's store authenticates
// every record before decoding it. The zero Protected has no model and is
// refused by the gallery (facematch.ErrModelMismatch) and by Encode.
//
// Vector returns a copy; only Wipe changes a Protected.
type Protected struct {
	model     string
	transform [8]byte
	v         []float32
}

// ModelID returns the ID of the network whose descriptor was protected
// (facematch.Model.ID). Vectors of different models never match.
func (p Protected) ModelID() string { return p.model }

// TransformID returns the ID of the transform key the vector is protected
// under ([Transform.ID]); it is not secret.
func (p Protected) TransformID() [8]byte { return p.transform }

// Dim returns the vector's dimension.
func (p Protected) Dim() int { return len(p.v) }

// Vector returns a copy of the protected vector.
func (p Protected) Vector() []float32 { return append([]float32(nil), p.v...) }

// Wipe zeros the vector, in p and in every copy of p: a gate wipes a probe
// once it has been matched.
func (p Protected) Wipe() { clear(p.v) }
