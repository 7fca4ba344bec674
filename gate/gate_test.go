package gate

import (
	"errors"
	"testing"
	"time"

	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate/records/recordstest"
)

// TestNewRejectsBadConfig checks configuration errors.
func TestNewRejectsBadConfig(t *testing.T) {
	k := testKeys(t)
	st := recordstest.New()
	g, _ := gallery.New(testModel, nil)
	for name, cfg := range map[string]Config{
		"no store":     {Keys: k},
		"short key":    {Records: st, Keys: Keys{Card: k.Card, QR: k.QR, Receipt: k.Receipt[:16]}},
		"no model":     {Records: st, Keys: k, Faces: g},
		"bad policy":   {Records: st, Keys: k, Policy: 9},
		"bad door":     {Records: st, Keys: k, Doors: map[string]Policy{"d": 7}},
		"bad argon2":   {Records: st, Keys: k, PINParams: PINParams{Time: 1}},
		"negative max": {Records: st, Keys: k, MaxPINFailures: -1},
		"long QR":      {Records: st, Keys: k, QRLifetime: 48 * time.Hour},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	if _, err := DeriveKeys([]byte("short")); !errors.Is(err, ErrConfig) {
		t.Errorf("DeriveKeys(short) = %v", err)
	}
}
