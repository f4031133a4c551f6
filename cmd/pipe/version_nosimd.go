//go:build !goexperiment.simd

package main

// simdExperiment: built without GOEXPERIMENT=simd.
const simdExperiment = false
