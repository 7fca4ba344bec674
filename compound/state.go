package compound

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/store"
)

// The sync state lives in the store it describes, sealed like any record,
// under a subject no gate subject ID can take (it holds a "/").
const (
	stateSubject = "compound/sync"
	stateClass   = "sync"
	stateName    = "state"
)

// syncState is what a store knows of the compound stream.
type syncState struct {
	// Last is the stream sequence of the last change applied (gates).
	Last uint64
	// Generation is the template transform generation the store is on.
	Generation uint64
}

func (s syncState) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, s.Last)
	return binary.BigEndian.AppendUint64(b, s.Generation)
}

func loadState(st *store.Store) (syncState, error) {
	b, err := st.GetRecord(stateSubject, stateClass, stateName)
	if records.NotFound(err) {
		return syncState{}, nil
	}
	if err != nil {
		return syncState{}, fmt.Errorf("compound: sync state: %w", err)
	}
	if len(b) != 16 {
		return syncState{}, fmt.Errorf("%w: sync state record is %d bytes", ErrFormat, len(b))
	}
	return syncState{Last: binary.BigEndian.Uint64(b), Generation: binary.BigEndian.Uint64(b[8:])}, nil
}

func saveState(st *store.Store, s syncState) error {
	if err := st.PutRecord(stateSubject, stateClass, stateName, s.encode()); err != nil {
		return fmt.Errorf("compound: sync state: %w", err)
	}
	return nil
}

// joinState returns st's sync state; a store that has none joins the
// compound: it adopts the compound's first transform generation (joined
// is true).
func joinState(st *store.Store, k *Key) (s syncState, joined bool, err error) {
	if s, err = loadState(st); err != nil || s.Generation != 0 {
		return s, false, err
	}
	if err := adoptTransform(st, k, 1); err != nil {
		return s, false, err
	}
	s.Generation = 1
	return s, true, saveState(st, s)
}

// adoptTransform re-keys st to the compound's transform generation gen.
func adoptTransform(st *store.Store, k *Key, gen uint64) error {
	sec, err := k.transformSecret(gen)
	if err != nil {
		return err
	}
	defer sec.Wipe()
	if err := st.RekeyTransformTo(sec); err != nil {
		return fmt.Errorf("compound: adopting transform generation %d: %w", gen, err)
	}
	return nil
}

// ignoreNotFound treats a missing record as done: a delete replayed after a
// crash finds nothing left to delete.
func ignoreNotFound(err error) error {
	if records.NotFound(err) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
