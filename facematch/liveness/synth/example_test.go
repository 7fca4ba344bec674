package synth_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/liveness/synth"
)

// A two-second synthetic live sequence with one blink passes the blink
// challenge; the same sequence without the blink does not. The seeded rng
// makes the sequence, and so the output, the same on every run.
func ExampleBonaFide() {
	h, err := synth.Lift(synth.MeanFace)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := synth.Params{Frames: 30, FPS: 15, Sway: 3, Drift: 2, BlinkAt: 10, BlinkFrames: 3, Noise: 0.5}
	for _, blinkAt := range []int{10, -1} {
		p.BlinkAt = blinkAt
		frames := synth.BonaFide(h, p, rand.New(rand.NewPCG(1, 2)))
		r, err := liveness.DefaultBlink.Check(frames)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("blink at frame %d: %d frames over %v, blinks %.0f, live %v\n",
			blinkAt, len(frames), frames[len(frames)-1].Time, r.Evidence[0].Value, r.Live)
	}
	// Output:
	// blink at frame 10: 30 frames over 1.933333333s, blinks 1, live true
	// blink at frame -1: 30 frames over 1.933333333s, blinks 0, live false
}

// Lift and Project at rest give the detector's landmarks back; turning the
// head moves the nose tip (point 30) toward the image's right.
func ExampleHead_Project() {
	h, err := synth.Lift(synth.MeanFace)
	if err != nil {
		fmt.Println(err)
		return
	}
	rest := h.Project(synth.Pose{})
	same := true
	for i := range rest {
		same = same && rest[i] == synth.MeanFace[i]
	}
	turned := h.Project(synth.Pose{Yaw: 20})
	fmt.Println("at rest equals MeanFace:", same)
	fmt.Println("nose moves right at yaw 20°:", turned[30].X > rest[30].X)
	// Output:
	// at rest equals MeanFace: true
	// nose moves right at yaw 20°: true
}
