package templatetest

import (
	"math"
	"slices"
	"testing"
)

func TestProtected(t *testing.T) {
	v := []float32{0.6, -0.8, 0, 1e-9}
	p := Protected("m", v)
	if p.ModelID() != "m" || p.TransformID() != [8]byte{} || !slices.Equal(p.Vector(), v) {
		t.Fatalf("Protected(m, %v) = %s %x %v", v, p.ModelID(), p.TransformID(), p.Vector())
	}
	for name, f := range map[string]func(){
		"NaN":      func() { Protected("m", []float32{float32(math.NaN())}) },
		"empty":    func() { Protected("m", nil) },
		"no model": func() { Protected("", v) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
