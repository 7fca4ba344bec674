package probe_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/internal/testenv"
)

// TestPipelinePhoto runs the default backend and the passive check on a
// shared photo: one face with 68 landmarks and a descriptor of the
// backend's model, a quality score, a passive score in [0, 1]; a photo
// with no face and undecodable bytes give typed errors.
func TestPipelinePhoto(t *testing.T) {
	models := testenv.Models(t, append(probe.Files(probe.DefaultBackend), antispoof.FRLiveness.File)...)
	b, err := probe.Open(probe.DefaultBackend, models, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n, err := antispoof.Open(models, antispoof.FRLiveness)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	p := &probe.Pipeline{Backend: b, Quality: quality.Verification, Passive: n}
	data, err := os.ReadFile(filepath.Join(testenv.Faces(t), "obama", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Photo(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Face.Landmarks) != 68 || len(pr.Face.Descriptor) != b.Model().Dim || pr.Score <= 0 || pr.Score > 1 {
		t.Fatalf("probe: %d landmarks, %d-d descriptor, score %v", len(pr.Face.Landmarks), len(pr.Face.Descriptor), pr.Score)
	}
	if pr.Passive < 0 || pr.Passive > 1 {
		t.Fatalf("passive score %v", pr.Passive)
	}
	// Faces: the same face and landmarks, without a descriptor (the
	// default front end finds faces in a Mat)
	fr, err := capture.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	faces, err := b.Faces(fr)
	if err != nil || len(faces) != 1 || faces[0].Box != pr.Face.Box || !slices.Equal(faces[0].Landmarks, pr.Face.Landmarks) || len(faces[0].Descriptor) != 0 {
		t.Fatalf("Faces: %d faces, %v; want box %v and the probe's landmarks, no descriptor", len(faces), err, pr.Face.Box)
	}
	p.Passive = nil
	if pr, err := p.Photo(data); err != nil || pr.Passive != -1 {
		t.Fatalf("without a passive check: %v, %v", pr.Passive, err)
	}
	if _, err := p.Photo([]byte("not a photo")); !errors.Is(err, facematch.ErrDecode) {
		t.Fatalf("garbage: %v, want ErrDecode", err)
	}
	grey := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, grey, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Photo(buf.Bytes()); !errors.Is(err, quality.NoFace) {
		t.Fatalf("no face: %v, want quality.NoFace", err)
	}
}
