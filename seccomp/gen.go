package seccomp

//go:generate go run ./internal/gen -o zsyscalls.go

// sysEntry is one syscall name and its number on each of tableArches.
type sysEntry struct {
	name string
	nr   [len(tableArches)]int32
}
