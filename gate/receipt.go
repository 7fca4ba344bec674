package gate

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// Receipt is the proof of a deletion the gate hands back when consent is
// withdrawn or a subject is erased. Its MAC, under the operator's receipt
// key, lets the operator (or an auditor holding the key) check later that
// the receipt was issued by this gate and not altered.
type Receipt struct {
	// Subject is whose data was deleted.
	Subject string `json:"subject"`
	// Purpose is the consent withdrawn: PurposeFace deletes face templates,
	// PurposeEntry erases the subject altogether.
	Purpose Purpose `json:"purpose"`
	// Deleted lists what was deleted, one item per kind of data.
	Deleted []string `json:"deleted"`
	// Templates is how many face templates were deleted.
	Templates int `json:"templates"`
	// At is when the deletion completed.
	At time.Time `json:"at"`
	// MAC is HMAC-SHA256 over all the fields above.
	MAC []byte `json:"mac"`
}

func (r *Receipt) mac(key []byte) []byte {
	parts := [][]byte{[]byte("receipt v1"), []byte(r.Subject), []byte(r.Purpose),
		binary.BigEndian.AppendUint32(nil, uint32(len(r.Deleted)))}
	for _, d := range r.Deleted {
		parts = append(parts, []byte(d))
	}
	parts = append(parts, []byte(strconv.Itoa(r.Templates)), []byte(r.At.UTC().Format(time.RFC3339Nano)))
	return mac(key, parts...)
}

// VerifyReceipt checks r's MAC under the receipt key (Keys.Receipt). It
// returns nil or an error matching ErrBadReceipt.
func VerifyReceipt(key []byte, r Receipt) error {
	if len(key) < KeySize {
		return fmt.Errorf("%w: receipt key is %d bytes", ErrBadReceipt, len(key))
	}
	if !hmac.Equal(r.MAC, r.mac(key)) {
		return fmt.Errorf("%w: subject %q at %v", ErrBadReceipt, r.Subject, r.At)
	}
	return nil
}
