package gate

import (
	"fmt"
	"testing"
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
		{"face", Attempt{Door: "d", Face: near(vector(0), 1)}},
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
