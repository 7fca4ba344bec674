package gate

import (
	"errors"
	"testing"
)

// TestCardStoredOnlyAsMAC checks that a card UID is never stored: only
// its keyed MAC is, and the card still opens the door.
func TestCardStoredOnlyAsMAC(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", false)
	uid := []byte("UID-04A1B2C3D4E5F6")
	if err := e.g.SetCard("s", uid); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Card: uid}), "s")
	if n := e.mem.Opens(uid); n != 0 {
		t.Fatalf("the card UID is stored in %d records", n)
	}
	mustDeny(t, e.g.Admit(Attempt{Card: []byte("UID-04A1B2C3D4E5F7")}), ErrUnknownSubject)
	// Another subject cannot take the card; a new card replaces the old.
	e.register(t, "t", false)
	if err := e.g.SetCard("t", uid); !errors.Is(err, ErrCardInUse) {
		t.Fatalf("second owner: %v", err)
	}
	if err := e.g.SetCard("s", []byte("new card")); err != nil {
		t.Fatal(err)
	}
	mustDeny(t, e.g.Admit(Attempt{Card: uid}), ErrUnknownSubject)
	mustAdmit(t, e.g.Admit(Attempt{Card: []byte("new card")}), "s")
	for _, bad := range [][]byte{{}, make([]byte, MaxCardUID+1)} {
		if err := e.g.SetCard("s", bad); !errors.Is(err, ErrWrongCard) {
			t.Errorf("SetCard(%d bytes) = %v", len(bad), err)
		}
	}
}
