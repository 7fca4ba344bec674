package compound

import (
	"bytes"
	"sync"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

// recorder is the office's records.Store: it passes every call to the
// office's store and, while recording, notes each write that succeeded, in
// order. Those writes are the change published for the operation.
type recorder struct {
	*store.Store

	mu  sync.Mutex
	on  bool
	ops []Op
}

var _ records.Store = (*recorder)(nil)

func (r *recorder) start() {
	r.mu.Lock()
	r.on, r.ops = true, nil
	r.mu.Unlock()
}

func (r *recorder) stop() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	ops := r.ops
	r.ops = nil
	return ops
}

func (r *recorder) note(err error, op Op) error {
	if err == nil {
		r.mu.Lock()
		if r.on {
			r.ops = append(r.ops, op)
		}
		r.mu.Unlock()
	}
	return err
}

func (r *recorder) PutRecord(subject, class, name string, plaintext []byte) error {
	return r.note(r.Store.PutRecord(subject, class, name, plaintext),
		Op{Type: OpPut, Subject: subject, Class: class, Name: name, Data: bytes.Clone(plaintext)})
}

func (r *recorder) DeleteRecord(subject, class, name string) error {
	return r.note(r.Store.DeleteRecord(subject, class, name), Op{Type: OpDelete, Subject: subject, Class: class, Name: name})
}

func (r *recorder) ShredClass(subject, class string) error {
	return r.note(r.Store.ShredClass(subject, class), Op{Type: OpShred, Subject: subject, Class: class})
}

func (r *recorder) DeleteSubject(subject string) error {
	return r.note(r.Store.DeleteSubject(subject), Op{Type: OpDeleteSubject, Subject: subject})
}

func (r *recorder) AddTemplate(subject string, t template.Template) (uint64, error) {
	id, err := r.Store.AddTemplate(subject, t)
	if err != nil {
		return id, err
	}
	enc, err := template.Encode(&t)
	if err != nil {
		return id, err
	}
	return id, r.note(nil, Op{Type: OpAddTemplate, Subject: subject, TemplateID: id, Data: enc})
}
