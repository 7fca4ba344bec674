package gallery

// ThreadCPU exports threadCPU to the external test package (the go-face
// baseline benchmark).
var ThreadCPU = threadCPU
