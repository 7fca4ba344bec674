package seal

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func mustKey(t testing.TB) *Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKey(t)
	ad := AD(KindRecord, []byte("store-1"), "alice", "face", "0001")
	for _, n := range []int{0, 1, 31, 32, 1000} {
		pt := bytes.Repeat([]byte{0xA5}, n)
		sealed, err := k.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != n+Overhead {
			t.Errorf("sealed %d bytes into %d, want %d", n, len(sealed), n+Overhead)
		}
		if n >= 8 && bytes.Contains(sealed, pt[:8]) {
			t.Errorf("ciphertext contains plaintext")
		}
		got, err := k.Open(sealed, ad)
		if err != nil {
			t.Fatalf("Open(%d bytes): %v", n, err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("round trip of %d bytes changed the data", n)
		}
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	k := mustKey(t)
	a, _ := k.Seal([]byte("same"), nil)
	b, _ := k.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestOpenRejects(t *testing.T) {
	k := mustKey(t)
	other := mustKey(t)
	store := []byte("store-1")
	ad := AD(KindRecord, store, "alice", "face", "0001")
	sealed, err := k.Seal([]byte("template bytes"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name   string
		key    *Key
		sealed []byte
		ad     []byte
		want   error
	}{
		{"wrong key", other, sealed, ad, ErrAuth},
		{"other subject", k, sealed, AD(KindRecord, store, "bob", "face", "0001"), ErrAuth},
		{"other class", k, sealed, AD(KindRecord, store, "alice", "consent", "0001"), ErrAuth},
		{"other name", k, sealed, AD(KindRecord, store, "alice", "face", "0002"), ErrAuth},
		{"other store", k, sealed, AD(KindRecord, []byte("store-2"), "alice", "face", "0001"), ErrAuth},
		{"other kind", k, sealed, AD(KindDataKey, store, "alice", "face", "0001"), ErrAuth},
		{"flipped nonce", k, flip(3), ad, ErrAuth},
		{"flipped ciphertext", k, flip(Overhead - 16 + 1), ad, ErrAuth},
		{"flipped tag", k, flip(len(sealed) - 1), ad, ErrAuth},
		{"flipped version", k, flip(0), ad, ErrFormat},
		{"truncated", k, sealed[:Overhead-1], ad, ErrFormat},
		{"empty", k, nil, ad, ErrFormat},
		{"truncated tag", k, sealed[:len(sealed)-1], ad, ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.key.Open(tc.sealed, tc.ad)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestADFieldsDoNotCollide(t *testing.T) {
	// Length prefixes keep ("ab","c") and ("a","bc") apart.
	a := AD(KindRecord, nil, "ab", "c", "")
	b := AD(KindRecord, nil, "a", "bc", "")
	if bytes.Equal(a, b) {
		t.Fatal("AD is ambiguous")
	}
}

func TestWrapUnwrap(t *testing.T) {
	kek, dk := mustKey(t), mustKey(t)
	ad := AD(KindDataKey, []byte("s"), "alice", "face", "")
	w, err := kek.Wrap(dk, ad)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != WrappedSize {
		t.Fatalf("wrapped key is %d bytes, want %d", len(w), WrappedSize)
	}
	if bytes.Contains(w, dk.Bytes()) {
		t.Fatal("wrapped key contains the key")
	}
	got, err := kek.Unwrap(w, ad)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(dk) {
		t.Fatal("unwrapped key differs")
	}
	if _, err := mustKey(t).Unwrap(w, ad); !errors.Is(err, ErrAuth) {
		t.Errorf("Unwrap with wrong KEK: %v, want ErrAuth", err)
	}
	if _, err := kek.Unwrap(w[:len(w)-1], ad); !errors.Is(err, ErrFormat) {
		t.Errorf("Unwrap of short value: %v, want ErrFormat", err)
	}
	// A sealed value of another length is not a wrapped key.
	s, _ := kek.Seal(make([]byte, 16), ad)
	if _, err := kek.Unwrap(s, ad); !errors.Is(err, ErrFormat) {
		t.Errorf("Unwrap of 16-byte payload: %v, want ErrFormat", err)
	}
}

func TestWipe(t *testing.T) {
	k := mustKey(t)
	c, _ := KeyFromBytes(k.Bytes())
	if !k.Equal(c) {
		t.Fatal("copy differs")
	}
	b := k.Bytes()
	k.Wipe()
	if !bytes.Equal(b, make([]byte, KeySize)) {
		t.Error("Wipe left key bytes")
	}
	if k.Equal(c) || k.Equal(k) {
		t.Error("wiped key compares equal")
	}
	if _, err := k.Seal(nil, nil); !errors.Is(err, ErrWiped) {
		t.Errorf("Seal after Wipe: %v", err)
	}
	if _, err := k.Open(make([]byte, 64), nil); !errors.Is(err, ErrWiped) {
		t.Errorf("Open after Wipe: %v", err)
	}
	if _, err := c.Wrap(k, nil); !errors.Is(err, ErrWiped) {
		t.Errorf("Wrap of wiped key: %v", err)
	}
	var nilKey *Key
	nilKey.Wipe() // must not panic
}

func TestKeyFromBytesSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := KeyFromBytes(make([]byte, n)); !errors.Is(err, ErrKeySize) {
			t.Errorf("KeyFromBytes(%d bytes): %v, want ErrKeySize", n, err)
		}
	}
}

// sealWithNonce returns the value Seal would return for plaintext and ad
// had it drawn the nonce of 24 bytes of n.
func sealWithNonce(tb testing.TB, k *Key, n byte, plaintext, ad []byte) []byte {
	tb.Helper()
	aead, err := chacha20poly1305.NewX(k.b[:])
	if err != nil {
		tb.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{n}, chacha20poly1305.NonceSizeX)
	v := aead.Seal(append([]byte{FormatVersion}, nonce...), nonce, plaintext, ad)
	if pt, err := k.Open(v, ad); err != nil || !bytes.Equal(pt, plaintext) {
		tb.Fatalf("Open of a value in Seal's format: %q, %v", pt, err)
	}
	return v
}

func FuzzOpen(f *testing.F) {
	k, _ := KeyFromBytes(bytes.Repeat([]byte{7}, KeySize))
	ad := []byte("ad")
	// good is made with a fixed nonce, in the format Seal writes: each
	// fuzzing worker runs this setup again, and a value from Seal (random
	// nonce) would differ from the seed the coordinator handed it.
	good := sealWithNonce(f, k, 5, []byte("hello"), ad)
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(good[:Overhead])
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := k.Open(b, ad)
		if err != nil {
			if bytes.Equal(b, good) {
				t.Fatalf("Open rejected the value Seal made: %v", err)
			}
			if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrFormat) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Forging a tag is infeasible; any accepted input must be our own,
		// byte for byte (an unauthenticated byte such as the version would
		// otherwise still open to "hello").
		if !bytes.Equal(b, good) || !bytes.Equal(pt, []byte("hello")) {
			t.Fatalf("Open accepted %x as %q", b, pt)
		}
	})
}

func FuzzUnwrap(f *testing.F) {
	k, _ := KeyFromBytes(bytes.Repeat([]byte{9}, KeySize))
	dk, _ := KeyFromBytes(bytes.Repeat([]byte{3}, KeySize))
	ad := []byte("ad")
	good := sealWithNonce(f, k, 6, dk.b[:], ad) // what Wrap(dk, ad) writes, nonce fixed as in FuzzOpen
	f.Add(good)
	f.Add(good[:WrappedSize-1])
	f.Add(append(bytes.Clone(good), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := k.Unwrap(b, ad)
		if err == nil {
			// Only the bytes Wrap made may unwrap, and only to dk: a
			// changed byte that still unwraps to dk is a forgery too.
			if !bytes.Equal(b, good) || !got.Equal(dk) {
				t.Fatalf("Unwrap accepted a forged value: %x", b)
			}
			return
		}
		if bytes.Equal(b, good) {
			t.Fatalf("Unwrap rejected the value Wrap made: %v", err)
		}
		if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrFormat) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func BenchmarkSeal512(b *testing.B) {
	k := mustKey(b)
	pt := make([]byte, 512+32+5*128-512) // roughly a 128-d encoded template
	ad := AD(KindRecord, []byte("store"), "subject", "face", "0001")
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := k.Seal(pt, ad); err != nil {
			b.Fatal(err)
		}
	}
}
