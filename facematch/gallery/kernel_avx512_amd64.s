//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 (F + BW) kernels. Registers as in kernel_amd64.s. The float32
// kernels take 64 components per step into four 16-wide accumulators, then
// 16 at a time, and finish the row with one masked load (K1 selects the last
// 1-15 components; masked-off lanes read as zero and never fault). The int8
// kernels widen 32 bytes to 32 int16 per step, likewise finishing with a
// masked step.

// func l2sqF32AVX512(q, rows *float32, dim, n int, out *float32)
TEXT ·l2sqF32AVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

	// K1 = (1 << (dim % 16)) - 1
	MOVQ  BX, CX
	ANDQ  $15, CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVW R10, K1

l2f5_row:
	MOVQ   AX, R8
	MOVQ   BX, R9
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

l2f5_64:
	CMPQ        R9, $64
	JLT         l2f5_16
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VSUBPS      (R8), Z4, Z4
	VSUBPS      64(R8), Z5, Z5
	VSUBPS      128(R8), Z6, Z6
	VSUBPS      192(R8), Z7, Z7
	VFMADD231PS Z4, Z4, Z0
	VFMADD231PS Z5, Z5, Z1
	VFMADD231PS Z6, Z6, Z2
	VFMADD231PS Z7, Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, R8
	SUBQ        $64, R9
	JMP         l2f5_64

l2f5_16:
	CMPQ        R9, $16
	JLT         l2f5_tail
	VMOVUPS     (SI), Z4
	VSUBPS      (R8), Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, R8
	SUBQ        $16, R9
	JMP         l2f5_16

l2f5_tail:
	TESTQ       R9, R9
	JEQ         l2f5_sum
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (R8), K1, Z5
	VSUBPS      Z5, Z4, Z4
	VFMADD231PS Z4, Z4, Z1
	LEAQ        (SI)(R9*4), SI

l2f5_sum:
	VADDPS         Z1, Z0, Z0
	VADDPS         Z3, Z2, Z2
	VADDPS         Z2, Z0, Z0
	VEXTRACTF64X4  $1, Z0, Y1
	VADDPS         Y1, Y0, Y0
	VEXTRACTF128   $1, Y0, X1
	VADDPS         X1, X0, X0
	VHADDPS        X0, X0, X0
	VHADDPS        X0, X0, X0
	VMOVSS         X0, (DI)
	ADDQ           $4, DI
	DECQ           DX
	JNE            l2f5_row
	VZEROUPPER
	RET

// func dotF32AVX512(q, rows *float32, dim, n int, out *float32)
TEXT ·dotF32AVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

	MOVQ  BX, CX
	ANDQ  $15, CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVW R10, K1

dotf5_row:
	MOVQ   AX, R8
	MOVQ   BX, R9
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

dotf5_64:
	CMPQ        R9, $64
	JLT         dotf5_16
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (R8), Z4, Z0
	VFMADD231PS 64(R8), Z5, Z1
	VFMADD231PS 128(R8), Z6, Z2
	VFMADD231PS 192(R8), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, R8
	SUBQ        $64, R9
	JMP         dotf5_64

dotf5_16:
	CMPQ        R9, $16
	JLT         dotf5_tail
	VMOVUPS     (SI), Z4
	VFMADD231PS (R8), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, R8
	SUBQ        $16, R9
	JMP         dotf5_16

dotf5_tail:
	TESTQ       R9, R9
	JEQ         dotf5_sum
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (R8), K1, Z5
	VFMADD231PS Z5, Z4, Z1
	LEAQ        (SI)(R9*4), SI

dotf5_sum:
	VADDPS         Z1, Z0, Z0
	VADDPS         Z3, Z2, Z2
	VADDPS         Z2, Z0, Z0
	VEXTRACTF64X4  $1, Z0, Y1
	VADDPS         Y1, Y0, Y0
	VEXTRACTF128   $1, Y0, X1
	VADDPS         X1, X0, X0
	VHADDPS        X0, X0, X0
	VHADDPS        X0, X0, X0
	VMOVSS         X0, (DI)
	ADDQ           $4, DI
	DECQ           DX
	JNE            dotf5_row
	VZEROUPPER
	RET

// func l2sqI8AVX512(q *int16, rows *int8, dim, n int, out *int32)
TEXT ·l2sqI8AVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

	// K1 = (1 << (dim % 32)) - 1
	MOVQ  BX, CX
	ANDQ  $31, CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVD R10, K1

l2i5_row:
	MOVQ  AX, R8
	MOVQ  BX, R9
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1

l2i5_64:
	CMPQ      R9, $64
	JLT       l2i5_32
	VPMOVSXBW (SI), Z4
	VPMOVSXBW 32(SI), Z5
	VPSUBW    (R8), Z4, Z4
	VPSUBW    64(R8), Z5, Z5
	VPMADDWD  Z4, Z4, Z4
	VPMADDWD  Z5, Z5, Z5
	VPADDD    Z4, Z0, Z0
	VPADDD    Z5, Z1, Z1
	ADDQ      $64, SI
	ADDQ      $128, R8
	SUBQ      $64, R9
	JMP       l2i5_64

l2i5_32:
	CMPQ      R9, $32
	JLT       l2i5_tail
	VPMOVSXBW (SI), Z4
	VPSUBW    (R8), Z4, Z4
	VPMADDWD  Z4, Z4, Z4
	VPADDD    Z4, Z0, Z0
	ADDQ      $32, SI
	ADDQ      $64, R8
	SUBQ      $32, R9

l2i5_tail:
	TESTQ       R9, R9
	JEQ         l2i5_sum
	VPMOVSXBW.Z (SI), K1, Z4
	VMOVDQU16.Z (R8), K1, Z5
	VPSUBW      Z5, Z4, Z4
	VPMADDWD    Z4, Z4, Z4
	VPADDD      Z4, Z1, Z1
	ADDQ        R9, SI

l2i5_sum:
	VPADDD        Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4E, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xB1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, (DI)
	ADDQ          $4, DI
	DECQ          DX
	JNE           l2i5_row
	VZEROUPPER
	RET

// func dotI8AVX512(q *int16, rows *int8, dim, n int, out *int32)
TEXT ·dotI8AVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), AX
	MOVQ rows+8(FP), SI
	MOVQ dim+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ out+32(FP), DI

	MOVQ  BX, CX
	ANDQ  $31, CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVD R10, K1

doti5_row:
	MOVQ  AX, R8
	MOVQ  BX, R9
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1

doti5_64:
	CMPQ      R9, $64
	JLT       doti5_32
	VPMOVSXBW (SI), Z4
	VPMOVSXBW 32(SI), Z5
	VPMADDWD  (R8), Z4, Z4
	VPMADDWD  64(R8), Z5, Z5
	VPADDD    Z4, Z0, Z0
	VPADDD    Z5, Z1, Z1
	ADDQ      $64, SI
	ADDQ      $128, R8
	SUBQ      $64, R9
	JMP       doti5_64

doti5_32:
	CMPQ      R9, $32
	JLT       doti5_tail
	VPMOVSXBW (SI), Z4
	VPMADDWD  (R8), Z4, Z4
	VPADDD    Z4, Z0, Z0
	ADDQ      $32, SI
	ADDQ      $64, R8
	SUBQ      $32, R9

doti5_tail:
	TESTQ       R9, R9
	JEQ         doti5_sum
	VPMOVSXBW.Z (SI), K1, Z4
	VMOVDQU16.Z (R8), K1, Z5
	VPMADDWD    Z5, Z4, Z4
	VPADDD      Z4, Z1, Z1
	ADDQ        R9, SI

doti5_sum:
	VPADDD        Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4E, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xB1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, (DI)
	ADDQ          $4, DI
	DECQ          DX
	JNE           doti5_row
	VZEROUPPER
	RET
