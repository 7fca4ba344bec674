package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestExportHoldsNoBiometricVectors checks that the right-of-access export
// lists the subject's templates (count, dates, model) and credentials, and
// that no vector component — raw or protected — appears in it.
func TestExportHoldsNoBiometricVectors(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-5", true)
	e.g.SetCard("flat-5", []byte{9, 9, 9, 9})
	e.g.SetPIN("flat-5", "2468")
	raw := [][]float32{vector(5), near(vector(5), 1)}
	for _, v := range raw {
		if _, err := e.g.EnrollFace("flat-5", v, 0.75); err != nil {
			t.Fatal(err)
		}
	}
	e.g.IssueQR("flat-5")
	mustAdmit(t, e.g.Admit(Attempt{Door: "lobby", Card: []byte{9, 9, 9, 9}}), "flat-5")

	data, err := e.g.ExportJSON("flat-5")
	if err != nil {
		t.Fatal(err)
	}
	var ex SubjectExport
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.FaceTemplates) != 2 || ex.FaceTemplates[0].Model != testModel.ID || ex.FaceTemplates[0].Dim != 128 ||
		!ex.FaceTemplates[0].Created.Equal(t0) {
		t.Fatalf("templates = %+v", ex.FaceTemplates)
	}
	if len(ex.Consents) != 2 || ex.Card == nil || ex.PIN == nil || ex.QRHandle == "" || len(ex.AccessEvents) != 1 {
		t.Fatalf("export misses data: %s", data)
	}
	// Every number in the export, anywhere.
	var doc any
	json.Unmarshal(data, &doc)
	numbers := map[float64]bool{}
	collectNumbers(doc, numbers)
	tmpls, _ := e.st.Templates("flat-5")
	vectors := append([][]float32{}, raw...)
	for _, tp := range tmpls {
		vectors = append(vectors, tp.Template.Vector())
	}
	for _, v := range vectors {
		for _, x := range v {
			if x != 0 && numbers[float64(x)] {
				t.Fatalf("export holds the vector component %v", x)
			}
			if str := fmt.Sprint(x); len(str) >= 6 && strings.Contains(string(data), str) {
				t.Fatalf("export text holds the vector component %v", x)
			}
		}
	}
	if bytes.Contains(data, []byte("2468")) || bytes.Contains(data, []byte{9, 9, 9, 9}) {
		t.Fatal("export holds the PIN or the card UID")
	}
}

func collectNumbers(v any, into map[float64]bool) {
	switch v := v.(type) {
	case float64:
		into[v] = true
	case []any:
		for _, x := range v {
			collectNumbers(x, into)
		}
	case map[string]any:
		for _, x := range v {
			collectNumbers(x, into)
		}
	}
}
