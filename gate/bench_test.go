package gate

import (
	"fmt"
	"testing"

	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/template"
)

// BenchmarkAdmit measures one decision per method on the bbolt store, with
// the access log (one fsync'd write per decision) and without it. The card
// decision without log is the baseline; report the others as ratios to it.
// The PIN decision runs Argon2id with DefaultPINParams.
func BenchmarkAdmit(b *testing.B) {
	for _, logged := range []bool{false, true} {
		b.Run(fmt.Sprint("log=", logged), func(b *testing.B) { benchmarkAdmit(b, logged) })
	}
}

func benchmarkAdmit(b *testing.B, logged bool) {
	st := newStore(b)
	e := newEnv(b, st, func(c *Config) {
		c.PINParams = DefaultPINParams
		if !logged {
			c.Log = nil
		}
	})
	for i := range 100 {
		s := fmt.Sprint("flat-", i)
		e.register(b, s, true)
		if err := e.g.SetCard(s, []byte(s)); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if err := e.g.SetPIN(s, "2580"); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := e.g.EnrollFace(s, vector(uint64(i)), 0.9); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		a    Attempt
	}{
		{"card", Attempt{Door: "d", Card: []byte("flat-0")}},
		{"face", Attempt{Door: "d", Liveness: Live, Face: near(vector(0), 1)}},
		{"pin", Attempt{Door: "d", Subject: "flat-0", PIN: "2580"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if d := e.g.Admit(bc.a); !d.Admit {
					b.Fatal(d.Err)
				}
			}
		})
	}
}

// BenchmarkFaceAdmit compares a face decision on a Float32 gallery (the
// baseline) with one on an Int8 gallery whose Originals is Gate.Originals
// (the bbolt store read back for each shortlisted subject), both without
// the access log, 1,000 enrolled subjects. Report the second as a ratio to
// the first.
func BenchmarkFaceAdmit(b *testing.B) {
	for _, int8 := range []bool{false, true} {
		name := "float32"
		if int8 {
			name = "int8+originals"
		}
		b.Run(name, func(b *testing.B) {
			st := newStore(b)
			var gt *Gate
			e := newEnv(b, st, func(c *Config) {
				c.Log = nil
				if !int8 {
					return
				}
				g, err := gallery.New(testModel, &gallery.Config{
					Precision: gallery.Int8,
					Originals: func(id string) ([]template.Protected, error) { return gt.Originals(id) },
				})
				if err != nil {
					b.Fatal(err)
				}
				c.Faces = g
			})
			gt = e.g
			for i := range 1000 {
				s := fmt.Sprint("flat-", i)
				e.register(b, s, true)
				if err := e.g.SetCard(s, []byte(s)); err != nil {
					b.Fatal(err)
				}
				if _, err := e.g.EnrollFace(s, vector(uint64(i)), 0.9); err != nil {
					b.Fatal(err)
				}
			}
			a := Attempt{Door: "d", Liveness: Live, Face: near(vector(0), 1)}
			for b.Loop() {
				if d := e.g.Admit(a); !d.Admit {
					b.Fatal(d.Err)
				}
			}
		})
	}
}
