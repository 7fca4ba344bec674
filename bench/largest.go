package main

import (
	"fmt"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
)

// pickFace returns the face of a photo that enters the pairs. Without
// largest it is the photo's only face (facematch.One's errors otherwise);
// with largest, a photo with several faces gives the one with the largest
// box (the first of equal ones), as LFW's crops centre the named person and
// often hold smaller background faces. decided reports that the choice was
// made by size among several faces.
func pickFace(faces []facematch.Face, largest bool) (f facematch.Face, decided bool, err error) {
	if !largest || len(faces) < 2 {
		f, err = facematch.One(faces)
		return f, false, err
	}
	best := 0
	for i, g := range faces[1:] {
		if area(g) > area(faces[best]) {
			best = i + 1
		}
	}
	return faces[best], true, nil
}

func area(f facematch.Face) int { return f.Box.Dx() * f.Box.Dy() }

// byLargest lists the photos whose face --largest chose among several.
func byLargest(photos []photo, res []extracted) []report.Skip {
	var out []report.Skip
	for i, r := range res {
		if r.largestOf > 0 {
			out = append(out, report.Skip{Path: photos[i].path, Reason: fmt.Sprintf("largest of %d faces", r.largestOf)})
		}
	}
	return out
}
