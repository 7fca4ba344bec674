package capture_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/quality"
)

// A gate's capture loop: frames from a camera, extraction from pixels,
// the verification quality gate with its screen message, and a liveness
// decision over the last two seconds of frames. (Not run: it needs a
// camera and the models.)
func Example() {
	var ext facematch.Extractor // e.g. dlib.Open(modelDir, dlib.Config{})
	cam, err := capture.OpenCamera(0)
	if err != nil {
		log.Fatal(err)
	}
	defer cam.Close()
	live := liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}
	var window []liveness.Frame
	for {
		f, err := cam.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		img, err := capture.Image(f.Mat)
		if err != nil {
			log.Fatal(err)
		}
		faces, err := ext.ExtractImage(img)
		capture.Wipe(img)
		if err != nil {
			log.Fatal(err)
		}
		q, err := capture.Measure(f.Mat, faces)
		f.Close() // the pixels are zeroed and released here
		if err != nil {
			log.Fatal(err)
		}
		var rej *quality.Rejection
		if errors.As(quality.Verification.Check(q), &rej) {
			fmt.Println(rej.Message()) // e.g. "move closer"
			window = window[:0]
			continue
		}
		window = append(window, liveness.Frame{Time: f.Time, Landmarks: faces[0].Landmarks})
		if len(window) == 0 || window[len(window)-1].Time-window[0].Time < 2*time.Second {
			continue
		}
		r, err := live.Check(window)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("live:", r.Live, r.Evidence)
		// ... match faces[0].Descriptor against the gallery, then clear it.
		return
	}
}
