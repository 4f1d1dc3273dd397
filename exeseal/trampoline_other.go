//go:build !amd64

package exeseal

// trampolineELF: none yet for this architecture (the raw init then
// leaves the container to the Go init).
var trampolineELF []byte
