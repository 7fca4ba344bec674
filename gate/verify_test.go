package gate

import (
	"errors"
	"testing"
)

// TestVerify checks 1:1 verification: the enrolled subject matches its own
// face and not another's; consent and templates are checked with typed
// errors.
func TestVerify(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-3", true)
	e.register(t, "flat-4", true)
	e.register(t, "flat-5", false)
	for _, s := range []string{"flat-3", "flat-4", "flat-5"} {
		if err := e.g.SetCard(s, []byte("c"+s)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.g.EnrollFace("flat-3", vector(3), 0.9); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := e.g.Verify("flat-3", near(vector(3), 1)); err != nil || !ok || d <= 0 {
		t.Fatalf("own face: %v %v %v", d, ok, err)
	}
	if _, ok, err := e.g.Verify("flat-3", vector(4)); err != nil || ok {
		t.Fatalf("another face: %v %v", ok, err)
	}
	for _, tc := range []struct {
		subject string
		want    error
	}{
		{"flat-4", ErrNoFace},
		{"flat-5", ErrNoConsent},
		{"nobody", ErrUnknownSubject},
		{"bad id!", ErrInvalidSubject},
	} {
		if _, _, err := e.g.Verify(tc.subject, vector(3)); !errors.Is(err, tc.want) {
			t.Errorf("Verify(%q): %v, want %v", tc.subject, err, tc.want)
		}
	}
	if _, err := e.g.Withdraw("flat-3", PurposeFace); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.g.Verify("flat-3", near(vector(3), 1)); !errors.Is(err, ErrNoConsent) {
		t.Fatalf("after withdrawal: %v, want ErrNoConsent", err)
	}
}

func TestIdentify(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-6", true)
	if err := e.g.SetCard("flat-6", []byte("c6")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.EnrollFace("flat-6", vector(6), 0.9); err != nil {
		t.Fatal(err)
	}
	m, err := e.g.Identify(near(vector(6), 2), 3)
	if err != nil || len(m) != 1 || m[0].ID != "flat-6" {
		t.Fatalf("own face: %+v, %v", m, err)
	}
	if m, err := e.g.Identify(vector(60), 3); err != nil || len(m) != 0 {
		t.Fatalf("stranger: %+v, %v", m, err)
	}
	if _, err := e.g.Identify([]float32{1}, 3); !errors.Is(err, ErrInvalidDescriptor) {
		t.Fatalf("short descriptor: %v", err)
	}
}
