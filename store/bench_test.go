package store

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

func benchTemplate(b *testing.B) (template.Template, *seal.Key, []byte) {
	tr, err := template.NewTransform(make([]byte, 32), testModel, 128)
	if err != nil {
		b.Fatal(err)
	}
	tp, err := tr.Protect(randUnit(rand.New(rand.NewPCG(1, 1)), 128), 1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	dk, _ := seal.NewKey()
	return tp, dk, seal.AD(seal.KindRecord, make([]byte, 16), "resident/0042", ClassFace, templateName(1))
}

// BenchmarkTemplate measures sealing and opening one 128-d template, with
// plain encoding and decoding as the baseline in the same run.
func BenchmarkTemplate(b *testing.B) {
	tp, dk, ad := benchTemplate(b)
	enc, _ := template.Encode(&tp)
	sealed, _ := dk.Seal(enc, ad)
	b.Run("encode (baseline)", func(b *testing.B) {
		for b.Loop() {
			template.Encode(&tp)
		}
	})
	b.Run("decode (baseline)", func(b *testing.B) {
		for b.Loop() {
			template.Decode(enc)
		}
	})
	b.Run("encode+seal", func(b *testing.B) {
		for b.Loop() {
			e, _ := template.Encode(&tp)
			if _, err := dk.Seal(e, ad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open+decode", func(b *testing.B) {
		for b.Loop() {
			pt, err := dk.Open(sealed, ad)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := template.Decode(pt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAddTemplate measures one enrollment write with its fsync.
func BenchmarkAddTemplate(b *testing.B) {
	s, _ := newStore(b)
	tp := protect(b, s, randUnit(rand.New(rand.NewPCG(1, 1)), 128))
	i := 0
	for b.Loop() {
		if _, err := s.AddTemplate("s"+strconv.Itoa(i), tp); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

var (
	benchDeleted int // subjects of the gallery copy deleted so far

	galleryOnce sync.Once
	galleryPath string
	galleryErr  error
	galleryDir  string
)

// buildGallery makes (once per process) a store of n subjects with one
// 128-d template each, written in batches of 5,000 per transaction.
func buildGallery(b *testing.B, n int) string {
	galleryOnce.Do(func() {
		galleryDir, galleryErr = os.MkdirTemp("", "facegate-bench")
		if galleryErr != nil {
			return
		}
		galleryPath = filepath.Join(galleryDir, "gallery.db")
		began := time.Now()
		s, err := Create(galleryPath, pass("pw"), cheapKDF)
		if err != nil {
			galleryErr = err
			return
		}
		defer s.Close()
		tr, _ := s.Transform(testModel, 128)
		r := rand.New(rand.NewPCG(2, 2))
		for start := 0; start < n && galleryErr == nil; start += 5000 {
			galleryErr = s.Update(func(bt records.Batch) error {
				for i := start; i < min(n, start+5000); i++ {
					tp, err := tr.Protect(randUnit(r, 128), 1, time.Now())
					if err != nil {
						return err
					}
					if _, err := bt.AddTemplate("resident/"+strconv.Itoa(i), tp); err != nil {
						return err
					}
				}
				return nil
			})
		}
		b.Logf("built a %d-subject store in %v", n, time.Since(began).Round(time.Millisecond))
	})
	if galleryErr != nil {
		b.Fatal(galleryErr)
	}
	return galleryPath
}

// BenchmarkOpenGallery opens a store of FACEGATE_BENCH_SUBJECTS subjects
// (default 100,000) and loads every template into memory. It reports time,
// file bytes and heap bytes per subject; the "decode only" sub-benchmark
// decodes the same number of plaintext encodings from memory as a baseline.
func BenchmarkOpenGallery(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("FACEGATE_BENCH_SUBJECTS")); err == nil && v > 0 {
		n = v
	}
	path := buildGallery(b, n)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("open+load", func(b *testing.B) {
		var heap uint64
		for b.Loop() {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			s, err := Open(path, pass("pw"), cheapKDF)
			if err != nil {
				b.Fatal(err)
			}
			gallery := make([]Entry, 0, n)
			if err := s.each(func(e Entry) error { gallery = append(gallery, e); return nil }); err != nil {
				b.Fatal(err)
			}
			s.Close()
			runtime.GC()
			runtime.ReadMemStats(&m1)
			heap = m1.HeapAlloc - m0.HeapAlloc
			if len(gallery) != n {
				b.Fatalf("loaded %d templates, want %d", len(gallery), n)
			}
			runtime.KeepAlive(gallery)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subject")
		b.ReportMetric(float64(fi.Size())/float64(n), "file-B/subject")
		b.ReportMetric(float64(heap)/float64(n), "heap-B/subject")
	})
	b.Run("decode only (baseline)", func(b *testing.B) {
		tr, _ := template.NewTransform(make([]byte, 32), testModel, 128)
		tp, _ := tr.Protect(randUnit(rand.New(rand.NewPCG(1, 1)), 128), 1, time.Now())
		enc, _ := template.Encode(&tp)
		for b.Loop() {
			gallery := make([]template.Template, 0, n)
			for i := 0; i < n; i++ {
				t, err := template.Decode(enc)
				if err != nil {
					b.Fatal(err)
				}
				gallery = append(gallery, t)
			}
			runtime.KeepAlive(gallery)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subject")
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if galleryDir != "" {
		os.RemoveAll(galleryDir)
	}
	os.Exit(code)
}

// BenchmarkMaintenance measures, on a copy of the BenchmarkOpenGallery store,
// one DeleteSubject (crypto-shred plus scrub of the free pages), one KEK
// rotation (re-wrapping every data key) and one transform re-key (moving
// every template). Run with -benchtime 1x for large stores.
func BenchmarkMaintenance(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("FACEGATE_BENCH_SUBJECTS")); err == nil && v > 0 {
		n = v
	}
	src := buildGallery(b, n)
	path := filepath.Join(b.TempDir(), "copy.db")
	benchDeleted = 0
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	data = nil
	s, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("DeleteSubject", func(b *testing.B) {
		for b.Loop() {
			if err := s.DeleteSubject("resident/" + strconv.Itoa(benchDeleted)); err != nil {
				b.Fatal(err)
			}
			benchDeleted++
		}
	})
	b.Run("RotateKEK", func(b *testing.B) {
		for b.Loop() {
			if err := s.RotateKEK(pass("pw"), cheapKDF); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subject")
	})
	b.Run("RekeyTransform", func(b *testing.B) {
		for b.Loop() {
			if err := s.RekeyTransform(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subject")
	})
}

// BenchmarkManifest measures what the manifest costs, against the same
// work with the manifest turned off, in one run, on a copy of the
// BenchmarkOpenGallery store (FACEGATE_BENCH_SUBJECTS, default 100,000):
// opening the store and loading every template, and the one-record write
// an Admit makes (an access event, with its fsync) and the reads it makes.
// Report the ratios "manifest/off".
func BenchmarkManifest(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("FACEGATE_BENCH_SUBJECTS")); err == nil && v > 0 {
		n = v
	}
	src := buildGallery(b, n)
	defer func() { manifestOff = false }()
	for _, off := range []bool{true, false} {
		name := "manifest"
		if off {
			name = "off (baseline)"
		}
		manifestOff = off
		b.Run("open+load/"+name, func(b *testing.B) {
			for b.Loop() {
				s, err := Open(src, pass("pw"), cheapKDF)
				if err != nil {
					b.Fatal(err)
				}
				k := 0
				if err := s.each(func(Entry) error { k++; return nil }); err != nil || k != n {
					b.Fatalf("loaded %d of %d: %v", k, n, err)
				}
				s.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subject")
		})
	}
	for _, off := range []bool{true, false} {
		name := "manifest"
		if off {
			name = "off (baseline)"
		}
		manifestOff = false
		data, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "copy.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		s, err := Open(path, pass("pw"), cheapKDF)
		if err != nil {
			b.Fatal(err)
		}
		manifestOff = off
		event := make([]byte, 120)
		b.Run("admit write (one event, fsync)/"+name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := s.PutRecord("accesslog/2026-12-04", "event", strconv.Itoa(i), event); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("admit reads (one subject's templates)/"+name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := s.Templates("resident/" + strconv.Itoa(i%n)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		s.Close()
	}
}
