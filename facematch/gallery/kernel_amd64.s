//go:build amd64 && !purego

#include "textflag.h"

// Register use in every kernel:
//   AX  query base          SI  current row pointer   CX  dim
//   DX  rows left           DI  out pointer
//   R8  query pointer       R9  components left in the row
//
// The float32 kernels read 32 components per step into four independent
// accumulators (Y0-Y3), then 8 at a time, then finish the row one scalar at
// a time, so any dim works. The int8 kernels widen 16 row bytes to int16
// (VPMOVSXBW) and multiply-add pairs into int32 (VPMADDWD).

// func l2sqF32AVX2(q, rows *float32, dim, n int, out *float32)
TEXT ·l2sqF32AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), CX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

l2f_row:
	MOVQ   AX, R8
	MOVQ   CX, R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

l2f_32:
	CMPQ        R9, $32
	JLT         l2f_8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VSUBPS      (R8), Y4, Y4
	VSUBPS      32(R8), Y5, Y5
	VSUBPS      64(R8), Y6, Y6
	VSUBPS      96(R8), Y7, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, R8
	SUBQ        $32, R9
	JMP         l2f_32

l2f_8:
	CMPQ        R9, $8
	JLT         l2f_sum
	VMOVUPS     (SI), Y4
	VSUBPS      (R8), Y4, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, R8
	SUBQ        $8, R9
	JMP         l2f_8

l2f_sum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

l2f_tail:
	TESTQ       R9, R9
	JEQ         l2f_store
	VMOVSS      (SI), X4
	VSUBSS      (R8), X4, X4
	VFMADD231SS X4, X4, X0
	ADDQ        $4, SI
	ADDQ        $4, R8
	DECQ        R9
	JMP         l2f_tail

l2f_store:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   DX
	JNE    l2f_row
	VZEROUPPER
	RET

// func dotF32AVX2(q, rows *float32, dim, n int, out *float32)
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), CX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

dotf_row:
	MOVQ   AX, R8
	MOVQ   CX, R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dotf_32:
	CMPQ        R9, $32
	JLT         dotf_8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (R8), Y4, Y0
	VFMADD231PS 32(R8), Y5, Y1
	VFMADD231PS 64(R8), Y6, Y2
	VFMADD231PS 96(R8), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, R8
	SUBQ        $32, R9
	JMP         dotf_32

dotf_8:
	CMPQ        R9, $8
	JLT         dotf_sum
	VMOVUPS     (SI), Y4
	VFMADD231PS (R8), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, R8
	SUBQ        $8, R9
	JMP         dotf_8

dotf_sum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

dotf_tail:
	TESTQ       R9, R9
	JEQ         dotf_store
	VMOVSS      (SI), X4
	VFMADD231SS (R8), X4, X0
	ADDQ        $4, SI
	ADDQ        $4, R8
	DECQ        R9
	JMP         dotf_tail

dotf_store:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   DX
	JNE    dotf_row
	VZEROUPPER
	RET

// func l2sqI8AVX2(q *int16, rows *int8, dim, n int, out *int32)
TEXT ·l2sqI8AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), CX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

l2i_row:
	MOVQ  AX, R8
	MOVQ  CX, R9
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

l2i_32:
	CMPQ      R9, $32
	JLT       l2i_16
	VPMOVSXBW (SI), Y4
	VPMOVSXBW 16(SI), Y5
	VPSUBW    (R8), Y4, Y4
	VPSUBW    32(R8), Y5, Y5
	VPMADDWD  Y4, Y4, Y4
	VPMADDWD  Y5, Y5, Y5
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $64, R8
	SUBQ      $32, R9
	JMP       l2i_32

l2i_16:
	CMPQ      R9, $16
	JLT       l2i_sum
	VPMOVSXBW (SI), Y4
	VPSUBW    (R8), Y4, Y4
	VPMADDWD  Y4, Y4, Y4
	VPADDD    Y4, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $32, R8
	SUBQ      $16, R9

l2i_sum:
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, R10

l2i_tail:
	TESTQ   R9, R9
	JEQ     l2i_store
	MOVBQSX (SI), R11
	MOVWQSX (R8), R12
	SUBQ    R12, R11
	IMULQ   R11, R11
	ADDL    R11, R10
	INCQ    SI
	ADDQ    $2, R8
	DECQ    R9
	JMP     l2i_tail

l2i_store:
	MOVL R10, (DI)
	ADDQ $4, DI
	DECQ DX
	JNE  l2i_row
	VZEROUPPER
	RET

// func dotI8AVX2(q *int16, rows *int8, dim, n int, out *int32)
TEXT ·dotI8AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), CX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

doti_row:
	MOVQ  AX, R8
	MOVQ  CX, R9
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

doti_32:
	CMPQ      R9, $32
	JLT       doti_16
	VPMOVSXBW (SI), Y4
	VPMOVSXBW 16(SI), Y5
	VPMADDWD  (R8), Y4, Y4
	VPMADDWD  32(R8), Y5, Y5
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $64, R8
	SUBQ      $32, R9
	JMP       doti_32

doti_16:
	CMPQ      R9, $16
	JLT       doti_sum
	VPMOVSXBW (SI), Y4
	VPMADDWD  (R8), Y4, Y4
	VPADDD    Y4, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $32, R8
	SUBQ      $16, R9

doti_sum:
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, R10

doti_tail:
	TESTQ   R9, R9
	JEQ     doti_store
	MOVBQSX (SI), R11
	MOVWQSX (R8), R12
	IMULQ   R12, R11
	ADDL    R11, R10
	INCQ    SI
	ADDQ    $2, R8
	DECQ    R9
	JMP     doti_tail

doti_store:
	MOVL R10, (DI)
	ADDQ $4, DI
	DECQ DX
	JNE  doti_row
	VZEROUPPER
	RET

// func memReadAVX2(p *byte, n int) uint64
// Reads n bytes (a multiple of 128) with 32-byte loads into four independent
// XOR accumulators: a memory-read bandwidth probe for the benchmarks.
TEXT ·memReadAVX2(SB), NOSPLIT, $0-24
	MOVQ  p+0(FP), SI
	MOVQ  n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

mem_loop:
	CMPQ  CX, $128
	JLT   mem_done
	VPXOR (SI), Y0, Y0
	VPXOR 32(SI), Y1, Y1
	VPXOR 64(SI), Y2, Y2
	VPXOR 96(SI), Y3, Y3
	ADDQ  $128, SI
	SUBQ  $128, CX
	JMP   mem_loop

mem_done:
	VPXOR        Y1, Y0, Y0
	VPXOR        Y3, Y2, Y2
	VPXOR        Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPXOR        X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPXOR        X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+16(FP)
	VZEROUPPER
	RET
