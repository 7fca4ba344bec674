package records_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/gate/records/recordstest"
	"github.com/facegate/facegate/store"
)

// Records are sealed per (subject, class): shredding the credential class
// destroys its data key and records, and the consent class survives. The
// in-memory recordstest.Store behaves like the encrypted store.Store here.
func ExampleSealed() {
	var db records.Sealed = recordstest.New()
	for _, r := range []struct{ class, name, text string }{
		{records.ClassConsent, "face", "granted 2026-11-24"},
		{records.ClassCredential, "card", "card MAC"},
	} {
		if err := db.PutRecord("flat-12a", r.class, r.name, []byte(r.text)); err != nil {
			fmt.Println(err)
			return
		}
	}

	if err := db.ShredClass("flat-12a", records.ClassCredential); err != nil {
		fmt.Println(err)
		return
	}
	_, err := db.GetRecord("flat-12a", records.ClassCredential, "card")
	fmt.Println("card gone:", records.NotFound(err))
	consent, err := db.GetRecord("flat-12a", records.ClassConsent, "face")
	fmt.Printf("consent kept: %s %v\n", consent, err)
	// Output:
	// card gone: true
	// consent kept: granted 2026-11-24 <nil>
}

// A face template is protected by the store's revocable transform before it
// is added; the raw descriptor is never stored.
func ExampleStore() {
	var db records.Store = recordstest.New()
	tr, err := db.Transform("demo-model", 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := tr.Protect([]float32{0.5, 0.5, 0.5, 0.5}, 0.9, time.Unix(0, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	id, err := db.AddTemplate("flat-12a", t)
	if err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := db.Templates("flat-12a")
	fmt.Println(len(entries), entries[0].ID == id, entries[0].Template.ModelID())

	// Generic record calls refuse the face class.
	_, err = db.GetRecord("flat-12a", records.ClassFace, "x")
	fmt.Println(errors.Is(err, store.ErrReservedClass))
	// Output:
	// 1 true demo-model
	// true
}

// NotFound tells a missing subject, class or record from a real failure.
func ExampleNotFound() {
	db := recordstest.New()
	_, err := db.GetRecord("nobody", records.ClassConsent, "face")
	fmt.Println(records.NotFound(err))
	// Output: true
}
