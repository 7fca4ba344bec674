package probe

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
	"github.com/facegate/facegate/facematch/quality"
)

func TestExplain(t *testing.T) {
	m := quality.Measurement{Faces: 1, InterOcular: 20, Sharpness: 12, Pose: quality.Pose{Yaw: 40}}
	err := quality.Enrollment.Check(m)
	got := Explain(err)
	if !errors.Is(got, quality.TooSmall) || !errors.Is(got, quality.PoseOff) {
		t.Fatalf("Explain lost the reasons: %v", got)
	}
	for _, want := range []string{"inter-ocular 20 px", "yaw=40", "sharpness 12"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	other := errors.New("x")
	if Explain(other) != other || Explain(nil) != nil {
		t.Error("Explain changed a non-quality error")
	}
}

func TestFiles(t *testing.T) {
	if err := Check(DefaultBackend); err != nil {
		t.Fatalf("DefaultBackend %q is not a backend: %v", DefaultBackend, err)
	}
	for _, tc := range []struct {
		name string
		want []string // nil: an unknown backend
	}{
		{"dlib", dlib.ModelFiles},
		{"arcface-faceres", append(slices.Clone(dlib.ModelFiles), arcface.FaceRes.File)},
		{"arcface-mobileface", append(slices.Clone(dlib.ModelFiles), arcface.MobileFace.File)},
		{"arcface-faceres-deep", append(slices.Clone(dlib.ModelFiles), arcface.FaceResDeep.File)},
		{"faceplugin+fr_feature", append(slices.Clone(faceplugin.ModelFiles), arcface.FRFeature.File)},
		{"faceplugin+dlib", nil},      // dlib's descriptors need dlib's front end
		{"dlib+arcface-faceres", nil}, // the dlib front end takes no prefix
		{"arcface-nonesuch", nil},
		{"", nil},
	} {
		if got := Files(tc.name); !slices.Equal(got, tc.want) {
			t.Errorf("Files(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if err := Check(tc.name); (err == nil) != (tc.want != nil) || (err != nil && !errors.Is(err, ErrUnknownBackend)) {
			t.Errorf("Check(%q) = %v", tc.name, err)
		}
	}
	for _, name := range Names() {
		if Files(name) == nil {
			t.Errorf("Files(%q) = nil for a listed backend", name)
		}
	}
}
