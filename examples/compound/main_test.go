package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestWalkthrough runs the whole walkthrough on loopback: enroll, admit at
// every gate, withdraw, refused at every gate, card still works.
func TestWalkthrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, t.TempDir(), 4, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{
		"admitted all 4 by face",
		"confirmed by [north-gate car-barrier lobby-b], not yet by []",
		"face: refused (not recognised)",
		"card: admitted by card",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
