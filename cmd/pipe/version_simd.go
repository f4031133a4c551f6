//go:build goexperiment.simd

package main

// simdExperiment: built with GOEXPERIMENT=simd (the build tag is the
// compiler's own record of it, in test binaries too).
const simdExperiment = true
