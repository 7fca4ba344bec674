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

// The single writes of records.Store are one-write transactions of
// Update, so that every write is recorded in one place (batchRecorder).

func (r *recorder) PutRecord(subject, class, name string, plaintext []byte) error {
	return r.Update(func(b records.Batch) error { return b.PutRecord(subject, class, name, plaintext) })
}

func (r *recorder) DeleteRecord(subject, class, name string) error {
	return r.Update(func(b records.Batch) error { return b.DeleteRecord(subject, class, name) })
}

func (r *recorder) ShredClass(subject, class string) error {
	return r.Update(func(b records.Batch) error { return b.ShredClass(subject, class) })
}

func (r *recorder) DeleteSubject(subject string) error {
	return r.Update(func(b records.Batch) error { return b.DeleteSubject(subject) })
}

func (r *recorder) AddTemplate(subject string, t template.Template) (id uint64, err error) {
	err = r.Update(func(b records.Batch) error {
		id, err = b.AddTemplate(subject, t)
		return err
	})
	return id, err
}

// Update runs fn in one transaction of the office's store and, while
// recording, notes the writes fn made through the batch once the
// transaction has committed: a rolled-back operation publishes nothing.
func (r *recorder) Update(fn func(records.Batch) error) error {
	var ops []Op
	err := r.Store.Update(func(b records.Batch) error {
		ops = ops[:0]
		return fn(&batchRecorder{Batch: b, ops: &ops})
	})
	if err == nil {
		r.mu.Lock()
		if r.on {
			r.ops = append(r.ops, ops...)
		}
		r.mu.Unlock()
	}
	return err
}

// batchRecorder is a records.Batch that appends each write that succeeded
// to ops, in order.
type batchRecorder struct {
	records.Batch
	ops *[]Op
}

func (b *batchRecorder) note(err error, op Op) error {
	if err == nil {
		*b.ops = append(*b.ops, op)
	}
	return err
}

func (b *batchRecorder) PutRecord(subject, class, name string, plaintext []byte) error {
	return b.note(b.Batch.PutRecord(subject, class, name, plaintext),
		Op{Type: OpPut, Subject: subject, Class: class, Name: name, Data: bytes.Clone(plaintext)})
}

func (b *batchRecorder) DeleteRecord(subject, class, name string) error {
	return b.note(b.Batch.DeleteRecord(subject, class, name), Op{Type: OpDelete, Subject: subject, Class: class, Name: name})
}

func (b *batchRecorder) ShredClass(subject, class string) error {
	return b.note(b.Batch.ShredClass(subject, class), Op{Type: OpShred, Subject: subject, Class: class})
}

func (b *batchRecorder) DeleteSubject(subject string) error {
	return b.note(b.Batch.DeleteSubject(subject), Op{Type: OpDeleteSubject, Subject: subject})
}

func (b *batchRecorder) AddTemplate(subject string, t template.Template) (uint64, error) {
	id, err := b.Batch.AddTemplate(subject, t)
	if err != nil {
		return id, err
	}
	enc, err := template.Encode(&t)
	if err != nil {
		return id, err
	}
	return id, b.note(nil, Op{Type: OpAddTemplate, Subject: subject, TemplateID: id, Data: enc})
}
