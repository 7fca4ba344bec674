package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// TestHighSecurityDoor checks FaceAndCardOrPIN factor by factor.
func TestHighSecurityDoor(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) { c.Doors = map[string]Policy{"vault": FaceAndCardOrPIN} })
	e.register(t, "s", true)
	e.register(t, "u", true)
	e.g.SetCard("s", []byte("cs"))
	e.g.SetPIN("s", "1234")
	e.g.SetCard("u", []byte("cu"))
	e.g.SetPIN("u", "5678")
	e.g.EnrollFace("s", vector(1), 0.9)
	e.g.EnrollFace("u", vector(2), 0.9)
	face := near(vector(1), 9)
	tests := []struct {
		name string
		a    Attempt
		want error
	}{
		{"face only", Attempt{Liveness: Live, Face: face}, ErrNotEnoughFactors},
		{"card only", Attempt{Card: []byte("cs")}, ErrNotEnoughFactors},
		{"PIN only", Attempt{Subject: "s", PIN: "1234"}, ErrNotEnoughFactors},
		{"face+card", Attempt{Liveness: Live, Face: face, Card: []byte("cs")}, nil},
		{"face+PIN, subject from face", Attempt{Liveness: Live, Face: face, PIN: "1234"}, nil},
		{"card+PIN, no face", Attempt{Card: []byte("cs"), PIN: "1234"}, nil},
		{"face+other's card", Attempt{Liveness: Live, Face: face, Card: []byte("cu")}, ErrConflict},
		{"face+wrong PIN", Attempt{Liveness: Live, Face: face, PIN: "9999"}, ErrNotEnoughFactors},
		{"nothing", Attempt{}, ErrNoFactor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.a.Door = "vault"
			d := e.g.Admit(tt.a)
			if tt.want == nil {
				mustAdmit(t, d, "s")
			} else {
				mustDeny(t, d, tt.want)
			}
			e.g.UnlockPIN("s")
		})
	}
	// The same attempts at an ordinary door.
	mustAdmit(t, e.g.Admit(Attempt{Door: "lobby", Liveness: Live, Face: face}), "s")
	mustDeny(t, e.g.Admit(Attempt{Door: "lobby", Liveness: Live, Face: face, Card: []byte("cu")}), ErrConflict)
}

// TestAdmitLogsPseudonymsOnly checks that decisions reach the access log
// with the subject as a pseudonym.
func TestAdmitLogsPseudonymsOnly(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-77", false)
	e.g.SetCard("flat-77", []byte("c"))
	e.g.SetPIN("flat-77", "1234")
	e.g.Admit(Attempt{Door: "north", Card: []byte("c")})
	e.g.Admit(Attempt{Door: "north", Card: []byte("unknown")})
	// IDs typed at a keypad never reach the log, not even in a reason.
	e.g.Admit(Attempt{Door: "north", Subject: "flat-99-typed", PIN: "1234"})
	ev, err := e.log.Events(t0)
	if err != nil || len(ev) != 3 {
		t.Fatalf("events %v %v", ev, err)
	}
	if n := e.mem.Opens([]byte("flat-99-typed")); n != 0 {
		t.Fatalf("a typed subject ID is stored in %d records", n)
	}
	p, _ := e.log.Pseudonym("flat-77", t0)
	var admitted, denied int
	for _, x := range ev {
		if x.Admitted {
			admitted++
			if x.Pseudonym != p || x.Method != "card" || x.Gate != "north" {
				t.Fatalf("event %+v", x)
			}
		} else {
			denied++
			if x.Pseudonym != "" {
				t.Fatalf("unknown card logged with a pseudonym: %+v", x)
			}
		}
	}
	if admitted != 1 || denied != 2 {
		t.Fatalf("%d admitted, %d denied", admitted, denied)
	}
	if n := e.mem.Opens([]byte("flat-77")); n == 0 {
		t.Fatal("the subject is not stored at all; the check below is blind")
	}
	for _, x := range ev {
		b, _ := json.Marshal(x)
		if bytes.Contains(b, []byte("flat-77")) {
			t.Fatal("an event names the subject")
		}
	}
}

// TestConcurrentAdmit exercises the gate from many goroutines (run with
// -race).
func TestConcurrentAdmit(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 4 {
		s := fmt.Sprint("s", i)
		e.register(t, s, true)
		e.g.SetCard(s, []byte(s))
		e.g.SetPIN(s, "1234")
		e.g.EnrollFace(s, vector(uint64(i)), 0.9)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := fmt.Sprint("s", i)
			for j := range 10 {
				if d := e.g.Admit(Attempt{Liveness: Live, Face: near(vector(uint64(i)), uint64(j))}); !d.Admit {
					t.Error(d.Err)
				}
				if d := e.g.Admit(Attempt{Card: []byte(s), PIN: "1234"}); !d.Admit {
					t.Error(d.Err)
				}
				code, _, _ := e.g.IssueQR(s)
				if d := e.g.Admit(Attempt{QR: code}); !d.Admit {
					t.Error(d.Err)
				}
			}
		}()
	}
	wg.Wait()
}
